import fs from 'fs';
import { EventEmitter } from 'events';
import { normalisePostcode } from '../address/postcode';
import { checkSchema } from '../canonical/schemas';
import { transientError } from '../errors';
import type { Bs7666Address } from '../canonical/types';
import { EMPTY_BOOK, CsvAddressBook, type AddressBook, type AddressName } from './address-book';
import { Llpg, compareVolumes, readDtf, readDtfVolume, volumeId, type DtfVolume } from './dtf';
import { GazetteerLoadError, LOGICAL_STATUS_NAMES, normaliseUprn, readCsvExtract, type GazetteerRecord, type LogicalStatus } from './extract';
import { comparable, parseFreeTextHouse, type ParsedHouse } from './free-text';

/**
 * The council's gazetteer (LLPG) in memory, indexed by UPRN and by postcode. It validates a
 * UPRN (exists, approved) and turns an address typed as free text into a BS7666 address:
 * by its UPRN when it has one, else by postcode and house (SAON and PAON read from the
 * lines). One match enriches; none or several need a person (reason and candidates).
 *
 * It reads the simple CSV extract or NLPG DTF 7.3 (full or change-only), told apart by
 * their content, from one file or from a folder of DTF volumes (docs/gazetteer.md).
 */

/** An address to resolve: free text (CRM lines or canonical `lines`), or BS7666 fields, with or without a UPRN. */
export interface AddressToResolve {
  uprn?: string | number;
  lines?: string[];
  line1?: string;
  line2?: string;
  line3?: string;
  town?: string;
  saon?: string;
  paon?: string;
  streetDescription?: string;
  postcode?: string;
}

/** A gazetteer address offered to a person choosing, with its status. */
export type GazetteerCandidate = Bs7666Address & { logicalStatus: LogicalStatus };

export type AddressResolution =
  | { status: 'enriched'; address: Bs7666Address; matchedBy: 'uprn' | 'postcode-and-house' }
  | { status: 'attention'; reason: string; candidates: GazetteerCandidate[] };

export type UprnCheck = { valid: true; record: GazetteerRecord } | { valid: false; reason: string; record?: GazetteerRecord };

export interface GazetteerLoadReport {
  /** The file or folder the gazetteer was opened on. */
  file: string;
  /** The file read last. */
  read: string;
  format: 'csv' | 'dtf';
  /** What is in use: a DTF volume "custodian/process date/volume", or a CSV file's "sha256:..." */
  version: string;
  /** DTF: the last volume applied. */
  volume?: DtfVolume;
  records: number;
  postcodes: number;
  loadedAt: Date;
}

/** DTF starts with its header record (10); the simple CSV with its column names. */
export async function detectFormat(file: string): Promise<'csv' | 'dtf'> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    const start = buffer.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '').trimStart();
    return /^"?10"?,/.test(start) ? 'dtf' : 'csv';
  } catch (err) {
    throw new GazetteerLoadError(file, [], 0, `cannot read the file (${(err as NodeJS.ErrnoException).code})`);
  } finally {
    await handle?.close();
  }
}

/** Files a gazetteer system drops into a folder; a name starting with "." or ending in .part/.tmp is still being written. */
async function folderFiles(folder: string): Promise<Array<{ path: string; signature: string }>> {
  const entries = await fs.promises.readdir(folder, { withFileTypes: true });
  const files: Array<{ path: string; signature: string }> = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.') || /\.(part|tmp)$/i.test(entry.name)) continue;
    const full = `${folder}/${entry.name}`;
    const stat = await fs.promises.stat(full).catch(() => undefined);
    if (stat) files.push({ path: full, signature: `${stat.size}:${stat.mtimeMs}` });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

function toAddress(record: GazetteerRecord): Bs7666Address {
  const { uprn, saon, paon, streetDescription, locality, townName, postTown, postcode } = record;
  return {
    uprn,
    ...(saon ? { saon } : {}),
    paon,
    streetDescription,
    ...(locality ? { locality } : {}),
    townName,
    postTown,
    postcode,
  };
}

const toCandidate = (record: GazetteerRecord): GazetteerCandidate => ({ ...toAddress(record), logicalStatus: record.logicalStatus });

/** The distinct properties named, in order. */
const properties = (names: AddressName[]) => [...new Set(names.map((n) => n.uprn))];

function quoted(house: ParsedHouse): string {
  return `PAON "${house.paon}"${house.saon ? ` and SAON "${house.saon}"` : ' and no SAON'}`;
}

/** Events: 'loaded' (GazetteerLoadReport), 'load-failed' (Error; the previous extract stays in use). */
export class Gazetteer extends EventEmitter {
  private book: AddressBook = EMPTY_BOOK;
  private report?: GazetteerLoadReport;
  private loading?: Promise<GazetteerLoadReport>;
  private watching = false;
  private poller?: NodeJS.Timeout;
  /** Folder mode: each file's size and mtime when it was applied, skipped or refused. */
  private readonly judged = new Map<string, string>();
  /** Folder mode: a change-only volume that was refused; later ones wait until it is replaced by a good one, or a newer full file arrives. */
  private heldAt?: DtfVolume;
  /** Folder mode: the folder as the last load saw it; the poller loads again when it differs. */
  private listed?: string;

  constructor(readonly file: string) {
    super();
  }

  /** True once an extract has loaded (a later failed reload keeps it). */
  get loaded(): boolean {
    return this.report !== undefined;
  }

  get lastLoad(): GazetteerLoadReport | undefined {
    return this.report;
  }

  get size(): number {
    return this.book.size;
  }

  /**
   * Reads the extract and swaps it in whole. On a malformed extract it rejects with
   * GazetteerLoadError (every problem with its line number) and keeps what it had.
   * Calls made while a load runs share it.
   */
  load(): Promise<GazetteerLoadReport> {
    this.loading ??= this.readAndSwap().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async readAndSwap(): Promise<GazetteerLoadReport> {
    const stat = await fs.promises.stat(this.file).catch(() => undefined);
    if (stat?.isDirectory()) return this.loadFolder();
    try {
      (await this.read(this.file))();
      return this.report!;
    } catch (err) {
      this.emit('load-failed', err);
      throw err;
    }
  }

  /** Reads and checks one file; resolves with the step that puts it in use (synchronous: lookups see before or after, never between). */
  private async read(file: string): Promise<() => void> {
    if ((await detectFormat(file)) === 'csv') {
      const { records, checksum } = await readCsvExtract(file);
      return () => this.swap(new CsvAddressBook(records), { read: file, format: 'csv', version: checksum });
    }
    const loaded = await readDtf(file, this.book instanceof Llpg ? this.book : undefined);
    return () => this.swap(loaded.apply(), { read: file, format: 'dtf', version: volumeId(loaded.volume), volume: loaded.volume });
  }

  private swap(book: AddressBook, what: Pick<GazetteerLoadReport, 'read' | 'format' | 'version' | 'volume'>): void {
    this.book = book;
    this.report = { file: this.file, ...what, records: book.size, postcodes: book.postcodes, loadedAt: new Date() };
    this.emit('loaded', this.report);
  }

  /**
   * A folder of DTF files: the first time, the newest full extract and the change-only
   * volumes after it; then each new file, in volume order. A refused file is reported once
   * ('load-failed') and not read again until it changes; load() then rejects with the first.
   * Change-only volumes after a broken one wait for it to be fixed.
   */
  private async loadFolder(): Promise<GazetteerLoadReport> {
    const refused: Error[] = [];
    const refuse = (err: unknown) => {
      refused.push(err as Error);
      this.emit('load-failed', err);
    };
    const fresh: Array<{ path: string; signature: string; volume: DtfVolume }> = [];
    const files = await folderFiles(this.file);
    this.listed = JSON.stringify(files);
    for (const file of files) {
      if (this.judged.get(file.path) === file.signature) continue;
      try {
        fresh.push({ ...file, volume: await readDtfVolume(file.path) });
      } catch (err) {
        this.judged.set(file.path, file.signature);
        refuse(err);
      }
    }
    fresh.sort((a, b) => compareVolumes(a.volume, b.volume));
    let queue = fresh;
    if (!(this.book instanceof Llpg)) {
      const full = fresh.map((f) => f.volume.fileType).lastIndexOf('F');
      if (full < 0) {
        if (fresh.length) refuse(new GazetteerLoadError(this.file, [], 0, 'the folder has no full DTF extract (FILE_TYPE F) to start from'));
      } else {
        // older volumes are history, not refusals
        for (const older of fresh.slice(0, full)) this.judged.set(older.path, older.signature);
        queue = fresh.slice(full);
      }
    }
    if (this.book instanceof Llpg || queue !== fresh) {
      for (const file of queue) {
        // Changes after a refused volume wait for it: applying them without it would leave the gazetteer half updated.
        if (this.heldAt && file.volume.fileType === 'C' && compareVolumes(file.volume, this.heldAt) > 0) continue;
        this.judged.set(file.path, file.signature);
        try {
          (await this.read(file.path))();
          if (this.heldAt && compareVolumes(file.volume, this.heldAt) >= 0) this.heldAt = undefined;
        } catch (err) {
          refuse(err);
          const outOfOrder = (err as GazetteerLoadError).code === 'GAZETTEER_VOLUME_REFUSED';
          if (file.volume.fileType === 'C' && !outOfOrder) this.heldAt = file.volume;
        }
      }
    }
    if (refused.length) throw refused[0];
    if (!this.report) throw new GazetteerLoadError(this.file, [], 0, 'the folder has no gazetteer files');
    return this.report;
  }

  /**
   * Loads again whenever the file changes (size or mtime, polled every `intervalMs`), or, for
   * a folder, whenever a file in it is added or changes. fs.watchFile rather than fs.watch:
   * it survives the file being replaced by a rename, which is how extracts are usually dropped.
   */
  watch(intervalMs = 2000): void {
    if (this.watching) return;
    this.watching = true;
    const reload = () => {
      const after = this.loading ?? Promise.resolve();
      after.catch(() => undefined).then(() => this.load()).catch(() => {
        // reported through 'load-failed'; what was in use stays in use
      });
    };
    if (fs.statSync(this.file, { throwIfNoEntry: false })?.isDirectory()) {
      const poll = async () => {
        const listing = JSON.stringify(await folderFiles(this.file).catch(() => []));
        if (listing !== this.listed && !this.loading) reload();
      };
      this.poller = setInterval(() => void poll(), intervalMs);
      this.poller.unref();
      return;
    }
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
      if (now.nlink === 0 && now.size === 0) return; // removed: keep what we have
      reload();
    });
  }

  close(): void {
    if (this.poller) clearInterval(this.poller);
    else if (this.watching) fs.unwatchFile(this.file);
    this.watching = false;
    this.removeAllListeners();
  }

  lookupUprn(uprn: string | number): GazetteerRecord | undefined {
    return this.book.address(normaliseUprn(String(uprn)));
  }

  /** Every record at a postcode (any status); the postcode in any case and spacing. */
  atPostcode(postcode: string): GazetteerRecord[] {
    try {
      return this.book.atPostcode(normalisePostcode(postcode));
    } catch {
      return [];
    }
  }

  /** A UPRN is valid when the gazetteer has it and it is approved (logical status 1). */
  validateUprn(uprn: string | number): UprnCheck {
    this.assertLoaded();
    const text = String(uprn ?? '').trim();
    if (!/^\d{1,12}$/.test(text)) return { valid: false, reason: `UPRN "${text}" is not 1-12 digits` };
    const record = this.lookupUprn(text);
    if (!record) return { valid: false, reason: `UPRN ${text} is not in the gazetteer` };
    if (record.logicalStatus !== 1) {
      const name = LOGICAL_STATUS_NAMES[record.logicalStatus];
      return { valid: false, record, reason: `UPRN ${record.uprn} is ${name} in the gazetteer (logical status ${record.logicalStatus}), not an approved address` };
    }
    return { valid: true, record };
  }

  /** Resolves an address to BS7666, or says why a person must look at it. */
  resolve(address: AddressToResolve): AddressResolution {
    this.assertLoaded();
    if (!address || typeof address !== 'object') return { status: 'attention', reason: 'there is no address', candidates: [] };
    const uprn = address.uprn === undefined || address.uprn === null ? '' : String(address.uprn).trim();
    if (uprn) return this.resolveByUprn(uprn);
    return this.resolveByPostcodeAndHouse(address);
  }

  private resolveByUprn(uprn: string): AddressResolution {
    const check = this.validateUprn(uprn);
    if (!check.valid) return { status: 'attention', reason: check.reason, candidates: check.record ? [toCandidate(check.record)] : [] };
    return this.enriched(check.record, 'uprn');
  }

  private resolveByPostcodeAndHouse(address: AddressToResolve): AddressResolution {
    if (!address.postcode || !String(address.postcode).trim()) {
      return { status: 'attention', reason: 'the address has no UPRN and no postcode to match on', candidates: [] };
    }
    let postcode: string;
    try {
      postcode = normalisePostcode(address.postcode);
    } catch {
      return { status: 'attention', reason: `the address has no UPRN and "${address.postcode}" is not a UK postcode`, candidates: [] };
    }
    const atPostcode = this.book.atPostcode(postcode);
    const approved = atPostcode.filter((r) => r.logicalStatus === 1);
    if (approved.length === 0) {
      return { status: 'attention', reason: `the gazetteer has no approved address at ${postcode}`, candidates: atPostcode.map(toCandidate) };
    }
    const house: ParsedHouse = address.paon
      ? { paon: address.paon, saon: address.saon, street: address.streetDescription }
      : parseFreeTextHouse(address.lines ?? [address.line1, address.line2, address.line3].filter((l): l is string => typeof l === 'string'));
    if (!house.paon) {
      return { status: 'attention', reason: `no house number or name found in the address lines to match at ${postcode}`, candidates: approved.map(toCandidate) };
    }
    // A property may be known by several names (alternative LPIs): match any, then count properties.
    const names = this.book.namesAt(postcode);
    const samePaon = names.filter((n) => comparable(n.paon) === comparable(house.paon));
    let matches = samePaon.filter((n) => comparable(n.saon) === comparable(house.saon));
    if (properties(matches).length > 1 && house.street) {
      // Two streets can share a postcode and a house number: the street decides, if it can.
      const onStreet = matches.filter((n) => comparable(n.streetDescription) === comparable(house.street));
      if (onStreet.length >= 1) matches = onStreet;
    }
    const found = this.records(properties(matches));
    if (found.length === 1) return this.enriched(found[0], 'postcode-and-house');
    if (found.length === 0) {
      return {
        status: 'attention',
        reason: `no approved gazetteer address at ${postcode} has ${quoted(house)}`,
        candidates: (samePaon.length ? this.records(properties(samePaon)) : approved).map(toCandidate),
      };
    }
    return {
      status: 'attention',
      reason: `${found.length} approved gazetteer addresses at ${postcode} have ${quoted(house)}: not guessing`,
      candidates: found.map(toCandidate),
    };
  }

  private records(uprns: string[]): GazetteerRecord[] {
    return uprns.map((uprn) => this.book.address(uprn)).filter((r): r is GazetteerRecord => r !== undefined);
  }

  private enriched(record: GazetteerRecord, matchedBy: 'uprn' | 'postcode-and-house'): AddressResolution {
    const address = toAddress(record);
    const check = checkSchema('bs7666-address', address);
    if (!check.valid) {
      const missing = check.problems.map((p) => `${p.instancePath || 'address'} ${p.message}`).join(', ');
      return { status: 'attention', reason: `gazetteer record UPRN ${record.uprn} is not a complete postal address (${missing})`, candidates: [toCandidate(record)] };
    }
    return { status: 'enriched', address, matchedBy };
  }

  private assertLoaded(): void {
    if (!this.report) throw transientError('GAZETTEER_NOT_LOADED', `the gazetteer extract ${this.file} has not loaded`);
  }
}

interface SharedEntry {
  gazetteer: Gazetteer;
  users: number;
  ready: Promise<GazetteerLoadReport>;
}

const shared = new Map<string, SharedEntry>();

export interface GazetteerHandle {
  gazetteer: Gazetteer;
  /** Settles when the first load has finished (rejects with GazetteerLoadError if it failed). */
  ready: Promise<GazetteerLoadReport>;
  /** Gives the gazetteer back; the last user to release it stops watching and frees it. */
  release(): void;
}

/**
 * One loaded, watched gazetteer per extract file, shared by every user of that file (a
 * 300,000-row extract is loaded once, not once per node).
 */
export function openSharedGazetteer(file: string, options: { watchIntervalMs?: number } = {}): GazetteerHandle {
  let entry = shared.get(file);
  if (!entry) {
    const gazetteer = new Gazetteer(file);
    const ready = gazetteer.load();
    ready.catch(() => undefined); // each user awaits `ready` and sees the failure
    gazetteer.watch(options.watchIntervalMs);
    entry = { gazetteer, users: 0, ready };
    shared.set(file, entry);
  }
  entry.users++;
  const current = entry;
  let released = false;
  return {
    gazetteer: current.gazetteer,
    ready: current.ready,
    release: () => {
      if (released) return;
      released = true;
      current.users--;
      if (current.users === 0 && shared.get(file) === current) {
        shared.delete(file);
        current.gazetteer.close();
      }
    },
  };
}
