import type { AddressBook, AddressName } from './address-book';
import type { GazetteerRecord, LogicalStatus } from './extract';
import type { DtfVolume } from './dtf-records';

/**
 * The council's LLPG in memory, compact enough for a county (a million properties in about
 * 100 bytes each rather than the 1.5 KB of a few objects per property): columns of typed
 * arrays, one row per property (UPRN) and one per LPI, found through open-addressing hash
 * tables; texts (SAONs and PAONs, LPI keys, postcodes) kept once each as UTF-8, a buffer for
 * each kind; post towns, languages and streets numbered. A property's address is built only when asked
 * for. The answers, and their order, are those of the object-per-record LLPG it replaced:
 * the LPIs of a property and at a postcode are kept in the order they were written (an
 * update moves an LPI to the end), so ties and lists come out as before.
 */

export interface StreetDescriptor {
  street: string;
  locality: string;
  town: string;
}

export interface Blpu {
  status: LogicalStatus;
  x?: number;
  y?: number;
}

/** One LPI, its SAO and PAO already written out ("Flat 2", "12A", "12-14"). */
export interface Lpi {
  uprn: string;
  usrn: string;
  language: string;
  status: LogicalStatus;
  saon: string;
  paon: string;
  postcode: string;
  postTown: string;
}

export type Kind = 'street' | 'descriptor' | 'blpu' | 'lpi';
export type Value = true | Record<string, StreetDescriptor> | Blpu | Lpi;

/** Which LPI is a property's address: approved before provisional, alternative, historic; English before other languages. */
const STATUS_RANK: Record<number, number> = { 1: 0, 6: 1, 3: 2, 8: 3, 9: 4 };
/** The LPIs by which free text may find a property (CONTRACTS.md): approved, alternative, provisional. Never historic. */
const NAMING = (status: number) => status === 1 || status === 3 || status === 6;

const NONE = -1;
/** UPRNs and USRNs are kept as numbers: 1-12 digits fit a double exactly, and "0012" was normalised to "12" when read. */
const CANONICAL_NUMBER = /^(0|[1-9]\d{0,14})$/;

/** A copy that holds no reference to the megabyte of file text a field was sliced from (V8 slices of 13 characters or more do). */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

function grown<T extends Int32Array | Float64Array | Uint8Array>(array: T, capacity: number, fill?: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array);
  if (fill !== undefined) next.fill(fill, array.length);
  return next;
}

/** Room for `needed` rows: an eighth more, so that a change-only volume's few new rows do not double a county's columns. */
function roomFor(needed: number): number {
  return needed + (needed >> 3) + 1024;
}

function tableSize(entries: number): number {
  let size = 1024;
  while (size < entries * 2) size *= 2;
  return size;
}

/** Small sets of repeated texts (post towns, languages): a number each. */
class Numbered {
  private readonly ids = new Map<string, number>();
  readonly texts: string[] = [];

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.texts.length;
      const own = ownCopy(text);
      this.ids.set(own, id);
      this.texts.push(own);
    }
    return id;
  }
}

/**
 * Texts kept once each as UTF-8 in one growing buffer, numbered in the order first seen;
 * an open-addressing table (linear probing, FNV-1a of the bytes) finds a text's number.
 */
class TextPool {
  private bytes: Buffer;
  private used = 0;
  /** Text n is bytes[starts[n], starts[n + 1]). */
  private starts = new Int32Array(1024);
  count = 0;
  private slots: Int32Array;
  private mask: number;

  /** `expected` texts of about `bytesEach`, room made at once. */
  constructor(expected = 0, bytesEach = 8) {
    this.bytes = Buffer.allocUnsafe(Math.max(1 << 16, expected * bytesEach));
    this.slots = new Int32Array(tableSize(expected)).fill(NONE);
    this.mask = this.slots.length - 1;
    if (expected > this.starts.length) this.starts = new Int32Array(expected + 1);
  }

  /** The text's number, adding it when `add` (else NONE when it is not there). */
  id(text: string, add = true): number {
    const room = this.used + text.length * 3;
    if (room > this.bytes.length) {
      const next = Buffer.allocUnsafe(roomFor(room));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    // Written where the next text would go: kept only if it is new.
    const start = this.used;
    const length = this.bytes.write(text, start, 'utf8');
    let hash = 0x811c9dc5;
    for (let i = start; i < start + length; i++) hash = Math.imul(hash ^ this.bytes[i], 0x01000193);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.slots[slot];
      if (id === NONE) {
        if (!add) return NONE;
        if (this.count + 2 > this.starts.length) this.starts = grown(this.starts, roomFor(this.count + 2));
        this.slots[slot] = this.count;
        this.starts[this.count] = start;
        this.count++;
        this.used = start + length;
        this.starts[this.count] = this.used;
        if (this.count * 2 > this.slots.length) this.rehash();
        return this.count - 1;
      }
      if (this.same(id, start, length)) return id;
    }
  }

  text(id: number): string {
    return this.bytes.toString('utf8', this.starts[id], this.starts[id + 1]);
  }

  private same(id: number, start: number, length: number): boolean {
    const at = this.starts[id];
    if (this.starts[id + 1] - at !== length) return false;
    for (let i = 0; i < length; i++) if (this.bytes[at + i] !== this.bytes[start + i]) return false;
    return true;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(NONE);
    this.mask = this.slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let hash = 0x811c9dc5;
      for (let i = this.starts[id]; i < this.starts[id + 1]; i++) hash = Math.imul(hash ^ this.bytes[i], 0x01000193);
      let slot = hash & this.mask;
      while (this.slots[slot] !== NONE) slot = (slot + 1) & this.mask;
      this.slots[slot] = id;
    }
  }
}

function numberHash(n: number): number {
  const low = n % 4294967296;
  const high = (n - low) / 4294967296;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) ^ (h >>> 16);
}

/**
 * Properties by UPRN: a row each, made when a BLPU or an LPI first names the UPRN. The row
 * holds the BLPU (status 0: none) and the first of the property's LPIs.
 */
class Properties {
  uprn: Float64Array;
  blpuStatus: Uint8Array;
  /** Made when the first coordinates come (NaN: none): 16 MB a million that a file without them does not need. */
  private x = new Float64Array(0);
  private y = new Float64Array(0);
  firstLpi: Int32Array;
  count = 0;
  private slots: Int32Array;
  private mask: number;

  constructor(capacity: number) {
    this.uprn = new Float64Array(capacity);
    this.blpuStatus = new Uint8Array(capacity);
    this.firstLpi = new Int32Array(capacity).fill(NONE);
    this.slots = new Int32Array(tableSize(capacity)).fill(NONE);
    this.mask = this.slots.length - 1;
  }

  find(uprn: number): number {
    for (let slot = numberHash(uprn) & this.mask; ; slot = (slot + 1) & this.mask) {
      const row = this.slots[slot];
      if (row === NONE || this.uprn[row] === uprn) return row;
    }
  }

  row(uprn: number): number {
    let slot = numberHash(uprn) & this.mask;
    for (; ; slot = (slot + 1) & this.mask) {
      const row = this.slots[slot];
      if (row === NONE) break;
      if (this.uprn[row] === uprn) return row;
    }
    if (this.count === this.uprn.length) {
      const capacity = roomFor(this.count);
      this.uprn = grown(this.uprn, capacity);
      this.blpuStatus = grown(this.blpuStatus, capacity);
      if (this.x.length) {
        this.x = grown(this.x, capacity, NaN);
        this.y = grown(this.y, capacity, NaN);
      }
      this.firstLpi = grown(this.firstLpi, capacity, NONE);
    }
    const row = this.count++;
    this.uprn[row] = uprn;
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = row;
    return row;
  }

  /** NaN when the property has no coordinates. */
  xOf(row: number): number {
    return this.x.length ? this.x[row] : NaN;
  }

  yOf(row: number): number {
    return this.y.length ? this.y[row] : NaN;
  }

  setCoordinates(row: number, x: number, y: number): void {
    if (!this.x.length) {
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      this.x = new Float64Array(this.uprn.length).fill(NaN);
      this.y = new Float64Array(this.uprn.length).fill(NaN);
    }
    this.x[row] = x;
    this.y[row] = y;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(NONE);
    this.mask = this.slots.length - 1;
    for (let row = 0; row < this.count; row++) {
      let slot = numberHash(this.uprn[row]) & this.mask;
      while (this.slots[slot] !== NONE) slot = (slot + 1) & this.mask;
      this.slots[slot] = row;
    }
  }
}

/** LPIs: a row each, numbered as their LPI_KEY in the key pool. Status 0: deleted (the row stays for the key). */
class Lpis {
  readonly keys: TextPool;
  property: Int32Array;
  street: Int32Array;
  language: Int32Array;
  status: Uint8Array;
  saon: Int32Array;
  paon: Int32Array;
  postcode: Int32Array;
  postTown: Int32Array;
  /** The next LPI of the same property, and at the same postcode, in the order written. */
  nextOfProperty: Int32Array;
  nextAtPostcode: Int32Array;

  constructor(capacity: number) {
    this.keys = new TextPool(capacity, 18);
    this.property = new Int32Array(capacity);
    this.street = new Int32Array(capacity);
    this.language = new Int32Array(capacity);
    this.status = new Uint8Array(capacity);
    this.saon = new Int32Array(capacity);
    this.paon = new Int32Array(capacity);
    this.postcode = new Int32Array(capacity);
    this.postTown = new Int32Array(capacity);
    this.nextOfProperty = new Int32Array(capacity);
    this.nextAtPostcode = new Int32Array(capacity);
  }

  row(key: string): number {
    const row = this.keys.id(key);
    if (row >= this.status.length) {
      const capacity = roomFor(row);
      this.property = grown(this.property, capacity);
      this.street = grown(this.street, capacity);
      this.language = grown(this.language, capacity);
      this.status = grown(this.status, capacity);
      this.saon = grown(this.saon, capacity);
      this.paon = grown(this.paon, capacity);
      this.postcode = grown(this.postcode, capacity);
      this.postTown = grown(this.postTown, capacity);
      this.nextOfProperty = grown(this.nextOfProperty, capacity);
      this.nextAtPostcode = grown(this.nextAtPostcode, capacity);
    }
    return row;
  }

  find(key: string): number {
    const row = this.keys.id(key, false);
    return row !== NONE && this.status[row] !== 0 ? row : NONE;
  }
}

/** Streets by USRN: whether its record (11) is there and its descriptors (15) by language. Few enough to be objects. */
interface Street {
  usrn: string;
  record: boolean;
  descriptors: Record<string, StreetDescriptor>;
}

/** The LLPG in memory: streets, descriptors, BLPUs and LPIs by key, and what the lookups need. */
export class Llpg implements AddressBook {
  private readonly streets: Street[] = [];
  private readonly streetIds = new Map<string, number>();
  private readonly properties: Properties;
  private readonly lpis: Lpis;
  private readonly names: TextPool;
  private readonly languages = new Numbered();
  private readonly postTowns = new Numbered();
  private readonly postcodeIds = new TextPool(4096);
  /** Per postcode: the first and last LPI there, and how many. */
  private postcodeFirst = new Int32Array(1024);
  private postcodeLast = new Int32Array(1024);
  private postcodeLpis = new Int32Array(1024);
  private withLpis = 0;
  private usedPostcodes = 0;
  private readonly english: number;

  /** `expectedProperties`: room made at once (a full file's size tells roughly), so that the columns seldom grow. */
  constructor(public volume: DtfVolume, expectedProperties = 0) {
    // A sixty-fourth more than the file holds: room for the properties later volumes add.
    const capacity = expectedProperties + (expectedProperties >> 6) + 1024;
    this.properties = new Properties(capacity);
    this.lpis = new Lpis(capacity);
    this.names = new TextPool(Math.min(expectedProperties, 65536));
    this.english = this.languages.id('ENG');
  }

  get size(): number {
    return this.withLpis;
  }

  get postcodes(): number {
    return this.usedPostcodes;
  }

  private propertyOf(uprn: string): number {
    return CANONICAL_NUMBER.test(uprn) ? this.properties.find(Number(uprn)) : NONE;
  }

  has(kind: Kind, key: string): boolean {
    switch (kind) {
      case 'street':
        return this.streets[this.streetIds.get(key) ?? NONE]?.record ?? false;
      case 'descriptor': {
        const [usrn, language] = key.split('|');
        return this.streets[this.streetIds.get(usrn) ?? NONE]?.descriptors[language] !== undefined;
      }
      case 'blpu': {
        const row = this.propertyOf(key);
        return row !== NONE && this.properties.blpuStatus[row] !== 0;
      }
      case 'lpi':
        return this.lpis.find(key) !== NONE;
    }
  }

  get(kind: Kind, key: string): Value | undefined {
    switch (kind) {
      case 'street':
        return this.has('street', key) ? true : undefined;
      case 'descriptor': {
        const [usrn, language] = key.split('|');
        const descriptor = this.streets[this.streetIds.get(usrn) ?? NONE]?.descriptors[language];
        return descriptor && { [language]: descriptor };
      }
      case 'blpu': {
        const row = this.propertyOf(key);
        return row === NONE || this.properties.blpuStatus[row] === 0 ? undefined : this.blpu(row);
      }
      case 'lpi': {
        const row = this.lpis.find(key);
        return row === NONE ? undefined : this.lpi(row);
      }
    }
  }

  /** Writes one record (undefined removes it), keeping the indexes right. */
  set(kind: Kind, key: string, value: Value | undefined): void {
    switch (kind) {
      case 'street': {
        if (value) this.street(key).record = true;
        else if (this.streetIds.has(key)) this.street(key).record = false;
        return;
      }
      case 'descriptor': {
        const [usrn, language] = key.split('|');
        const street = this.street(usrn);
        if (!value) {
          delete street.descriptors[language];
          return;
        }
        const { street: name, locality, town } = (value as Record<string, StreetDescriptor>)[language];
        street.descriptors[ownCopy(language)] = { street: ownCopy(name), locality: ownCopy(locality), town: ownCopy(town) };
        return;
      }
      case 'blpu': {
        const { properties } = this;
        if (!value) {
          const row = this.propertyOf(key);
          if (row !== NONE) properties.blpuStatus[row] = 0;
          return;
        }
        const blpu = value as Blpu;
        const row = properties.row(Number(key));
        properties.blpuStatus[row] = blpu.status;
        properties.setCoordinates(row, blpu.x ?? NaN, blpu.y ?? NaN);
        return;
      }
      case 'lpi': {
        const before = this.lpis.find(key);
        if (before !== NONE) this.unlink(before);
        if (!value) return;
        const lpi = value as Lpi;
        const { lpis } = this;
        const row = before !== NONE ? before : lpis.row(key);
        lpis.property[row] = this.properties.row(Number(lpi.uprn));
        lpis.street[row] = this.streetId(lpi.usrn);
        lpis.language[row] = this.languages.id(lpi.language);
        lpis.status[row] = lpi.status;
        lpis.saon[row] = this.names.id(lpi.saon);
        lpis.paon[row] = this.names.id(lpi.paon);
        lpis.postcode[row] = lpi.postcode ? this.postcodeIds.id(lpi.postcode) : NONE;
        lpis.postTown[row] = this.postTowns.id(lpi.postTown);
        this.link(row);
      }
    }
  }

  private street(usrn: string): Street {
    return this.streets[this.streetId(usrn)];
  }

  /** The street's number, made when a record first names the USRN (an LPI may come before its street). */
  private streetId(usrn: string): number {
    let id = this.streetIds.get(usrn);
    if (id === undefined) {
      id = this.streets.length;
      const own = ownCopy(usrn);
      this.streets.push({ usrn: own, record: false, descriptors: {} });
      this.streetIds.set(own, id);
    }
    return id;
  }

  /** Puts the LPI last among its property's and its postcode's. */
  private link(row: number): void {
    const { lpis, properties } = this;
    const property = lpis.property[row];
    lpis.nextOfProperty[row] = NONE;
    let at = properties.firstLpi[property];
    if (at === NONE) {
      properties.firstLpi[property] = row;
      this.withLpis++;
    } else {
      while (lpis.nextOfProperty[at] !== NONE) at = lpis.nextOfProperty[at];
      lpis.nextOfProperty[at] = row;
    }
    const postcode = lpis.postcode[row];
    lpis.nextAtPostcode[row] = NONE;
    if (postcode === NONE) return;
    if (postcode >= this.postcodeFirst.length) {
      const capacity = roomFor(postcode);
      this.postcodeFirst = grown(this.postcodeFirst, capacity);
      this.postcodeLast = grown(this.postcodeLast, capacity);
      this.postcodeLpis = grown(this.postcodeLpis, capacity);
    }
    if (this.postcodeLpis[postcode]++ === 0) {
      this.postcodeFirst[postcode] = row;
      this.usedPostcodes++;
    } else lpis.nextAtPostcode[this.postcodeLast[postcode]] = row;
    this.postcodeLast[postcode] = row;
  }

  /** Takes the LPI out of its property's and its postcode's lists; its row stays for its key (status 0). */
  private unlink(row: number): void {
    const { lpis, properties } = this;
    const property = lpis.property[row];
    if (properties.firstLpi[property] === row) {
      properties.firstLpi[property] = lpis.nextOfProperty[row];
      if (properties.firstLpi[property] === NONE) this.withLpis--;
    } else {
      let at = properties.firstLpi[property];
      while (lpis.nextOfProperty[at] !== row) at = lpis.nextOfProperty[at];
      lpis.nextOfProperty[at] = lpis.nextOfProperty[row];
    }
    const postcode = lpis.postcode[row];
    if (postcode !== NONE) {
      let previous = NONE;
      let at = this.postcodeFirst[postcode];
      while (at !== row) {
        previous = at;
        at = lpis.nextAtPostcode[at];
      }
      if (previous === NONE) this.postcodeFirst[postcode] = lpis.nextAtPostcode[row];
      else lpis.nextAtPostcode[previous] = lpis.nextAtPostcode[row];
      if (this.postcodeLast[postcode] === row) this.postcodeLast[postcode] = previous;
      if (--this.postcodeLpis[postcode] === 0) this.usedPostcodes--;
    }
    lpis.status[row] = 0;
  }

  descriptorLanguages(usrn: string): string[] {
    return Object.keys(this.streets[this.streetIds.get(usrn) ?? NONE]?.descriptors ?? {});
  }

  /** LPI keys of a property, in the order written. */
  lpiKeysOf(uprn: string): readonly string[] {
    const keys: string[] = [];
    const property = this.propertyOf(uprn);
    if (property === NONE) return keys;
    for (let row = this.properties.firstLpi[property]; row !== NONE; row = this.lpis.nextOfProperty[row]) keys.push(this.lpis.keys.text(row));
    return keys;
  }

  /** Keys of the LPIs on any of these streets, for the rare check of a street removed by a change-only volume. */
  lpiKeysOnStreets(usrns: Set<string>): string[] {
    const streets = new Set<number>();
    for (const usrn of usrns) {
      const id = this.streetIds.get(usrn);
      if (id !== undefined) streets.add(id);
    }
    const keys: string[] = [];
    const { lpis } = this;
    for (let row = 0; row < lpis.keys.count; row++) {
      if (lpis.status[row] !== 0 && streets.has(lpis.street[row])) keys.push(lpis.keys.text(row));
    }
    return keys;
  }

  hasStreet(usrn: string): boolean {
    const street = this.streets[this.streetIds.get(usrn) ?? NONE];
    if (!street?.record) return false;
    for (const _ in street.descriptors) return true;
    return false;
  }

  address(uprn: string): GazetteerRecord | undefined {
    const property = this.propertyOf(uprn);
    if (property === NONE) return undefined;
    const best = this.addressLpi(property);
    return best === NONE ? undefined : this.record(property, best);
  }

  /** The LPI that is the property's address (NONE when it has no BLPU or no LPI): the best ranked, the first written of equals. */
  private addressLpi(property: number): number {
    if (this.properties.blpuStatus[property] === 0) return NONE;
    const { lpis } = this;
    let best = NONE;
    let bestRank = Infinity;
    for (let row = this.properties.firstLpi[property]; row !== NONE; row = lpis.nextOfProperty[row]) {
      const rank = STATUS_RANK[lpis.status[row]] * 2 + (lpis.language[row] === this.english ? 0 : 1);
      if (rank < bestRank) {
        best = row;
        bestRank = rank;
      }
    }
    return best;
  }

  /** A property is approved only when its BLPU is and its address LPI is. */
  private statusOf(property: number, lpi: number): LogicalStatus {
    const blpu = this.properties.blpuStatus[property];
    return (blpu === 1 ? this.lpis.status[lpi] : blpu) as LogicalStatus;
  }

  atPostcode(postcode: string): GazetteerRecord[] {
    const out: GazetteerRecord[] = [];
    const id = this.postcodeIds.id(postcode, false);
    if (id === NONE || !this.postcodeLpis[id]) return out;
    const seen = new Set<number>();
    const { lpis } = this;
    for (let row = this.postcodeFirst[id]; row !== NONE; row = lpis.nextAtPostcode[row]) {
      const property = lpis.property[row];
      if (seen.has(property)) continue;
      seen.add(property);
      const best = this.addressLpi(property);
      if (best !== NONE && lpis.postcode[best] === id) out.push(this.record(property, best));
    }
    return out;
  }

  namesAt(postcode: string): AddressName[] {
    const names: AddressName[] = [];
    const id = this.postcodeIds.id(postcode, false);
    if (id === NONE || !this.postcodeLpis[id]) return names;
    const { lpis } = this;
    for (let row = this.postcodeFirst[id]; row !== NONE; row = lpis.nextAtPostcode[row]) {
      const property = lpis.property[row];
      if (!NAMING(lpis.status[row])) continue;
      const best = this.addressLpi(property);
      if (best === NONE || this.statusOf(property, best) !== 1) continue;
      const saon = this.names.text(lpis.saon[row]);
      names.push({ uprn: this.uprnText(property), ...(saon ? { saon } : {}), paon: this.names.text(lpis.paon[row]), streetDescription: this.descriptor(row)?.street ?? '' });
    }
    return names;
  }

  private uprnText(property: number): string {
    return String(this.properties.uprn[property]);
  }

  private blpu(property: number): Blpu {
    const { properties } = this;
    const blpu: Blpu = { status: properties.blpuStatus[property] as LogicalStatus };
    const x = properties.xOf(property);
    const y = properties.yOf(property);
    if (!Number.isNaN(x)) blpu.x = x;
    if (!Number.isNaN(y)) blpu.y = y;
    return blpu;
  }

  private lpi(row: number): Lpi {
    const { lpis } = this;
    return {
      uprn: this.uprnText(lpis.property[row]),
      usrn: this.streets[lpis.street[row]].usrn,
      language: this.languages.texts[lpis.language[row]],
      status: lpis.status[row] as LogicalStatus,
      saon: this.names.text(lpis.saon[row]),
      paon: this.names.text(lpis.paon[row]),
      postcode: lpis.postcode[row] === NONE ? '' : this.postcodeIds.text(lpis.postcode[row]),
      postTown: this.postTowns.texts[lpis.postTown[row]],
    };
  }

  /** The street descriptor in the LPI's language, else the English one, else any. */
  private descriptor(row: number): StreetDescriptor | undefined {
    const languages = this.streets[this.lpis.street[row]].descriptors;
    return languages[this.languages.texts[this.lpis.language[row]]] ?? languages.ENG ?? Object.values(languages)[0];
  }

  private record(property: number, row: number): GazetteerRecord {
    const { lpis, properties } = this;
    const descriptor = this.descriptor(row);
    const saon = this.names.text(lpis.saon[row]);
    const record: GazetteerRecord = {
      uprn: this.uprnText(property),
      usrn: this.streets[lpis.street[row]].usrn,
      paon: this.names.text(lpis.paon[row]),
      streetDescription: descriptor?.street ?? '',
      townName: descriptor?.town ?? '',
      postTown: this.postTowns.texts[lpis.postTown[row]],
      postcode: lpis.postcode[row] === NONE ? '' : this.postcodeIds.text(lpis.postcode[row]),
      logicalStatus: this.statusOf(property, row),
    };
    if (saon) record.saon = saon;
    if (descriptor?.locality) record.locality = descriptor.locality;
    const x = properties.xOf(property);
    const y = properties.yOf(property);
    if (!Number.isNaN(x)) record.x = x;
    if (!Number.isNaN(y)) record.y = y;
    return record;
  }
}
