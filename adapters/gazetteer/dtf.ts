import { normalisePostcode } from '../address/postcode';
import { countRecords, readCsvRecords, type OnRecord } from './dtf-records';
import { GazetteerLoadError, ProblemList, normaliseUprn, readFailure, type LogicalStatus } from './extract';
import { Llpg, type Blpu, type Kind, type Lpi, type StreetDescriptor, type Value } from './llpg';

export { Llpg } from './llpg';

/**
 * The council's LLPG as its gazetteer system exports it: NLPG DTF 7.3 (CONTRACTS.md,
 * "Gazetteer: LLPG extracts in DTF 7.3"). A full file (F) builds a new LLPG; a
 * change-only file (C) is staged beside the LLPG in use and applied to it in one
 * synchronous step only once the whole file has passed every check, so a lookup never sees
 * half a volume and a refused file changes nothing.
 */

/** Fields per record type, the three leading ones included (the trailer has five). */
const WIDTHS: Record<string, number> = { '10': 11, '11': 20, '15': 9, '21': 23, '24': 30, '99': 5 };

import type { DtfVolume } from './dtf-records';
export type { DtfVolume };

/** "5990/2026-12-01/12": custodian, process date, volume. */
export function volumeId(volume: DtfVolume): string {
  return `${volume.custodianCode}/${volume.processDate}/${volume.volumeNumber}`;
}

/** Volumes apply in order of process date, then volume number. */
export function compareVolumes(a: DtfVolume, b: DtfVolume): number {
  if (a.processDate !== b.processDate) return a.processDate < b.processDate ? -1 : 1;
  return a.volumeNumber - b.volumeNumber;
}

/**
 * The records of one file on top of the LLPG in use. A full file writes straight into a new
 * Llpg (nobody else sees it yet); a change-only file stages its records here, each key's
 * final value with the line that set it, and commit() writes them into the LLPG in use.
 */
class Draft {
  private readonly staged = new Map<string, { value: Value | undefined; line: number }>();
  /** Staged descriptor languages per USRN (true: there after this file, false: deleted by it). */
  private readonly stagedDescriptors = new Map<string, Map<string, boolean>>();
  /** Staged LPI keys per UPRN they name. */
  private readonly stagedLpis = new Map<string, Set<string>>();

  constructor(readonly llpg: Llpg, private readonly overlay: boolean) {}

  get(kind: Kind, key: string): Value | undefined {
    if (!this.overlay) return this.llpg.get(kind, key);
    const staged = this.staged.get(`${kind}:${key}`);
    return staged ? staged.value : this.llpg.get(kind, key);
  }

  has(kind: Kind, key: string): boolean {
    if (!this.overlay) return this.llpg.has(kind, key);
    const staged = this.staged.get(`${kind}:${key}`);
    return staged ? staged.value !== undefined : this.llpg.has(kind, key);
  }

  set(kind: Kind, key: string, value: Value | undefined, line: number): void {
    if (!this.overlay) {
      this.llpg.set(kind, key, value);
      return;
    }
    this.staged.set(`${kind}:${key}`, { value, line });
    if (kind === 'descriptor') {
      const [usrn, language] = key.split('|');
      const languages = this.stagedDescriptors.get(usrn) ?? new Map<string, boolean>();
      languages.set(language, value !== undefined);
      this.stagedDescriptors.set(usrn, languages);
    }
    if (kind === 'lpi' && value) {
      const { uprn } = value as Lpi;
      const keys = this.stagedLpis.get(uprn) ?? new Set<string>();
      keys.add(key);
      this.stagedLpis.set(uprn, keys);
    }
  }

  lpi(key: string): Lpi | undefined {
    return this.get('lpi', key) as Lpi | undefined;
  }

  /** A street is there when it has its record (11) and a descriptor (15) in some language. */
  hasStreet(usrn: string): boolean {
    if (!this.overlay) return this.llpg.hasStreet(usrn);
    if (!this.has('street', usrn)) return false;
    const staged = this.stagedDescriptors.get(usrn);
    const languages = new Set(this.llpg.descriptorLanguages(usrn));
    for (const [language, there] of staged ?? []) {
      if (there) languages.add(language);
      else languages.delete(language);
    }
    return languages.size > 0;
  }

  /** LPIs that refer to the property after this file. */
  lpisOf(uprn: string): string[] {
    const keys = new Set([...this.llpg.lpiKeysOf(uprn), ...(this.stagedLpis.get(uprn) ?? [])]);
    return [...keys].filter((key) => this.lpi(key)?.uprn === uprn);
  }

  /** LPI keys, after this file, on any of these streets (a full pass: streets are rarely deleted). */
  lpisOnStreets(usrns: Set<string>): string[] {
    const keys = new Set<string>();
    for (const key of this.llpg.lpiKeysOnStreets(usrns)) {
      if (usrns.has(this.lpi(key)?.usrn ?? '')) keys.add(key);
    }
    for (const staged of this.stagedLpis.values()) {
      for (const key of staged) if (usrns.has(this.lpi(key)?.usrn ?? '')) keys.add(key);
    }
    return [...keys];
  }

  commit(): void {
    for (const [id, { value }] of this.staged) {
      const colon = id.indexOf(':');
      this.llpg.set(id.slice(0, colon) as Kind, id.slice(colon + 1), value);
    }
  }
}

const DIGITS = /^\d{1,12}$/;
const NUMBER = /^-?\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Start number and suffix, "-" end number and suffix when there is one, then the text. */
export function addressableObject(startNumber: string, startSuffix: string, endNumber: string, endSuffix: string, text: string): string {
  let numbers = startNumber ? `${startNumber}${startSuffix}` : '';
  if (endNumber) numbers += `-${endNumber}${endSuffix}`;
  return [numbers, text].filter(Boolean).join(' ');
}

export interface DtfLoad {
  volume: DtfVolume;
  /** Makes the file the LLPG in use, in one synchronous step: a full file's new Llpg, or the one in use with the changes. */
  apply(): Llpg;
}

/** Reads the header (first record) only: what volume a file is, for ordering a folder's files. */
export async function readDtfVolume(file: string): Promise<DtfVolume> {
  const problems = new ProblemList();
  let volume: DtfVolume | undefined;
  try {
    await readCsvRecords(file, (fields, line) => {
      volume = headerOf(fields, line, problems);
      return false;
    }, 64 * 1024);
  } catch (err) {
    readFailure(file, err, problems);
  }
  if (!volume && problems.count === 0) problems.add(1, 'the file is empty (no header record 10)');
  problems.throwIfAny(file);
  return volume!;
}

function headerOf(fields: string[], line: number, problems: ProblemList): DtfVolume | undefined {
  const f = fields.map((x) => x.trim());
  if (f[0] !== '10') {
    problems.add(line, `the first record is "${f[0]}", expected the header (10)`);
    return undefined;
  }
  if (f.length !== WIDTHS['10']) {
    problems.add(line, `record 10 has ${f.length} fields, expected ${WIDTHS['10']}`);
    return undefined;
  }
  const [, , , custodianName, custodianCode, processDate, volume, , , version, fileType] = f;
  const wrong: string[] = [];
  if (!/^\d{1,4}$/.test(custodianCode)) wrong.push(`LOCAL_CUSTODIAN_CODE "${custodianCode}" is not a number`);
  if (!DATE.test(processDate)) wrong.push(`PROCESS_DATE "${processDate}" is not YYYY-MM-DD`);
  if (!/^\d+$/.test(volume)) wrong.push(`VOLUME_NUMBER "${volume}" is not a number`);
  if (version !== '7.3') wrong.push(`VERSION is "${version}", expected 7.3`);
  if (fileType !== 'F' && fileType !== 'C') wrong.push(`FILE_TYPE is "${fileType}", expected F or C`);
  if (wrong.length) {
    problems.add(line, wrong.join(', '));
    return undefined;
  }
  return { custodianName, custodianCode, processDate, volumeNumber: Number(volume), fileType: fileType as 'F' | 'C' };
}

/** Refuses a volume that cannot follow the one in use (CONTRACTS.md: volumes apply in order). */
export function checkOrder(file: string, volume: DtfVolume, inUse: DtfVolume | undefined): void {
  const refuse = (reason: string) => {
    throw new GazetteerLoadError(file, [], 0, `line 1: ${reason}`, 'GAZETTEER_VOLUME_REFUSED');
  };
  if (volume.fileType === 'C' && !inUse) refuse(`change-only volume ${volumeId(volume)} has no full DTF extract to apply to`);
  if (!inUse) return;
  if (volume.fileType === 'C' && volume.custodianCode !== inUse.custodianCode) {
    refuse(`change-only volume ${volumeId(volume)} is for custodian ${volume.custodianCode}, the gazetteer in use is ${inUse.custodianCode}'s`);
  }
  const order = compareVolumes(volume, inUse);
  if (order === 0) refuse(`volume ${volumeId(volume)} is the one in use (a repeated volume)`);
  if (order < 0) refuse(`volume ${volumeId(volume)} is older than the one in use (${volumeId(inUse)})`);
}

/**
 * Streams a DTF 7.3 file and checks all of it against the LLPG in use (`inUse`, needed for a
 * change-only file). Resolves with the volume and apply(); rejects with GazetteerLoadError
 * naming every problem by line, and then nothing has changed.
 */
export async function readDtf(file: string, inUse?: Llpg): Promise<DtfLoad> {
  const capacity = await fullFileProperties(file, inUse?.volume);
  const problems = new ProblemList();
  let volume: DtfVolume | undefined;
  let draft: Draft | undefined;
  let records = 0;
  let lastLine = 0;
  let trailerLine = 0;
  /** LPIs whose street or BLPU was not there when read (checked again at the end). */
  const unresolved: Array<{ key: string; line: number }> = [];
  /** BLPUs and streets deleted: no LPI may still refer to them at the end. */
  const deletedBlpus: Array<{ uprn: string; line: number }> = [];
  const deletedStreets = new Map<string, number>();

  const onRecord: OnRecord = (fields, line) => {
    lastLine = line;
    records++;
    if (records === 1) {
      volume = headerOf(fields, line, problems);
      if (!volume) return false;
      checkOrder(file, volume, inUse?.volume);
      draft = volume.fileType === 'F' ? new Draft(new Llpg(volume, capacity), false) : new Draft(inUse!, true);
      return;
    }
    const type = fields[0].trim();
    if (trailerLine) {
      problems.add(line, `record ${type} comes after the trailer (line ${trailerLine})`);
      return;
    }
    if (!/^\d{2}$/.test(type)) {
      problems.add(line, `"${type}" is not a record identifier`);
      return;
    }
    const width = WIDTHS[type];
    if (width === undefined) return; // other record types are not needed for addresses
    if (fields.length !== width) {
      problems.add(line, `record ${type} has ${fields.length} fields, expected ${width}`);
      return;
    }
    const f = fields.map((x) => x.trim());
    if (type === '10') {
      problems.add(line, 'a second header record (10)');
      return;
    }
    if (type === '99') {
      trailerLine = line;
      const [, , count] = f;
      if (!/^\d+$/.test(count)) problems.add(line, `RECORD_COUNT "${count}" is not a number`);
      else if (Number(count) !== records) problems.add(line, `the trailer counts ${count} records, the file has ${records}`);
      return;
    }
    const change = f[1];
    if (change !== 'I' && change !== 'U' && change !== 'D') {
      problems.add(line, `CHANGE_TYPE "${change}" is not I, U or D`);
      return;
    }
    const parsed = parseRecord(type, f);
    if (typeof parsed === 'string') {
      problems.add(line, parsed);
      return;
    }
    const { kind, key, value, label } = parsed;
    const exists = draft!.has(kind, key);
    if (change === 'I' && exists) {
      problems.add(line, `I for ${label}, which already exists`);
      return;
    }
    if (change !== 'I' && !exists) {
      problems.add(line, `${change} for ${label}, which does not exist`);
      return;
    }
    if (change === 'D') {
      draft!.set(kind, key, undefined, line);
      if (kind === 'blpu') deletedBlpus.push({ uprn: key, line });
      if (kind === 'street' || kind === 'descriptor') deletedStreets.set(key.split('|')[0], line);
      return;
    }
    draft!.set(kind, key, value, line);
    if (kind === 'lpi') {
      const lpi = value as Lpi;
      if (!draft!.hasStreet(lpi.usrn) || !draft!.has('blpu', lpi.uprn)) unresolved.push({ key, line });
    }
  };
  try {
    await readCsvRecords(file, onRecord);
  } catch (err) {
    if (err instanceof GazetteerLoadError) throw err;
    readFailure(file, err, problems);
  }
  if (records === 0) problems.add(1, 'the file is empty (no header record 10)');
  else if (volume && !trailerLine && problems.count === 0) problems.add(lastLine, 'there is no trailer (99): the file is cut short');

  if (draft && problems.count === 0) {
    // Whatever was still missing when read must be there once the whole file is.
    for (const { key, line } of unresolved) {
      const lpi = draft.lpi(key);
      if (!lpi) continue;
      if (!draft.hasStreet(lpi.usrn)) problems.add(line, `LPI ${key} is on street USRN ${lpi.usrn}, which is not in the gazetteer (no street record 11 or descriptor 15)`);
      if (!draft.has('blpu', lpi.uprn)) problems.add(line, `LPI ${key} is for UPRN ${lpi.uprn}, which has no BLPU (21)`);
    }
    for (const { uprn, line } of deletedBlpus) {
      if (draft.has('blpu', uprn)) continue;
      const left = draft.lpisOf(uprn);
      if (left.length) problems.add(line, `D for BLPU UPRN ${uprn} leaves its LPI ${left.join(', ')} without a BLPU`);
    }
    const gone = new Set([...deletedStreets.keys()].filter((usrn) => !draft!.hasStreet(usrn)));
    if (gone.size) {
      for (const key of draft.lpisOnStreets(gone)) {
        const usrn = draft.lpi(key)!.usrn;
        problems.add(deletedStreets.get(usrn)!, `D for street USRN ${usrn} leaves LPI ${key} without its street`);
      }
    }
  }
  problems.throwIfAny(file);
  const ready = draft!;
  const loaded = volume!;
  return {
    volume: loaded,
    apply: () => {
      ready.commit();
      ready.llpg.volume = loaded;
      return ready.llpg;
    },
  };
}

/**
 * How many properties (LPIs, which are at least as many as BLPUs) a full file that will be
 * read holds, counted from the start of its lines before it is read: the LLPG's columns are
 * then made the right size at once, rather than grown (a column grown holds its old and new
 * copies at once, which was most of the peak memory). 0 for anything else: what is wrong
 * with a file is reported by the reading itself.
 */
async function fullFileProperties(file: string, inUse?: DtfVolume): Promise<number> {
  try {
    const volume = await readDtfVolume(file);
    if (volume.fileType !== 'F' || (inUse && compareVolumes(volume, inUse) <= 0)) return 0;
    return await countRecords(file, '24');
  } catch {
    return 0;
  }
}

type Parsed = { kind: Kind; key: string; value: Value; label: string };

function status(text: string, allowed: LogicalStatus[]): LogicalStatus | undefined {
  const n = Number(text) as LogicalStatus;
  return /^\d$/.test(text) && allowed.includes(n) ? n : undefined;
}

/** One data record (11, 15, 21, 24) checked: its key and value, or what is wrong with it. */
function parseRecord(type: string, f: string[]): Parsed | string {
  const wrong: string[] = [];
  const digits = (name: string, value: string) => {
    if (!DIGITS.test(value)) wrong.push(`${name} "${value}" is not 1-12 digits`);
    return normaliseUprn(value);
  };
  const number = (name: string, value: string) => {
    if (value && !NUMBER.test(value)) wrong.push(`${name} "${value}" is not a number`);
    return value ? Number(value) : undefined;
  };
  const deleting = f[1] === 'D';
  let parsed: Parsed;
  switch (type) {
    case '11': {
      const usrn = digits('USRN', f[3]);
      parsed = { kind: 'street', key: usrn, value: true, label: `street USRN ${usrn}` };
      break;
    }
    case '15': {
      const usrn = digits('USRN', f[3]);
      const language = f[8].toUpperCase();
      if (!/^[A-Z]{3}$/.test(language)) wrong.push(`LANGUAGE "${f[8]}" is not a language code such as ENG or CYM`);
      if (!f[4] && !deleting) wrong.push('STREET_DESCRIPTOR is blank');
      const descriptor: StreetDescriptor = { street: f[4], locality: f[5], town: f[6] };
      parsed = { kind: 'descriptor', key: `${usrn}|${language}`, value: { [language]: descriptor }, label: `street descriptor USRN ${usrn} ${language}` };
      break;
    }
    case '21': {
      const uprn = digits('UPRN', f[3]);
      const logical = status(f[4], [1, 6, 8, 9]);
      if (logical === undefined && !deleting) wrong.push(`LOGICAL_STATUS "${f[4]}" is not 1, 6, 8 or 9`);
      const blpu: Blpu = { status: logical ?? 8 };
      const x = number('X', f[9]);
      const y = number('Y', f[10]);
      if (x !== undefined) blpu.x = x;
      if (y !== undefined) blpu.y = y;
      parsed = { kind: 'blpu', key: uprn, value: blpu, label: `BLPU UPRN ${uprn}` };
      break;
    }
    default: {
      const key = f[4];
      if (!key) wrong.push('LPI_KEY is blank');
      const uprn = digits('UPRN', f[3]);
      const usrn = digits('USRN', f[21]);
      const logical = status(f[6], [1, 3, 6, 8, 9]);
      if (logical === undefined && !deleting) wrong.push(`LOGICAL_STATUS "${f[6]}" is not 1, 3, 6, 8 or 9`);
      for (const [name, value] of [['SAO_START_NUMBER', f[11]], ['SAO_END_NUMBER', f[13]], ['PAO_START_NUMBER', f[16]], ['PAO_END_NUMBER', f[18]]]) {
        if (value && !/^\d+$/.test(value)) wrong.push(`${name} "${value}" is not a number`);
      }
      let postcode = '';
      if (f[24] && !deleting) {
        try {
          postcode = normalisePostcode(f[24]);
        } catch {
          wrong.push(`POSTCODE "${f[24]}" is not a UK postcode`);
        }
      }
      const lpi: Lpi = {
        uprn,
        usrn,
        language: f[5].toUpperCase(),
        status: logical ?? 8,
        saon: addressableObject(f[11], f[12], f[13], f[14], f[15]),
        paon: addressableObject(f[16], f[17], f[18], f[19], f[20]),
        postcode,
        postTown: f[25],
      };
      parsed = { kind: 'lpi', key, value: lpi, label: `LPI ${key}` };
    }
  }
  return wrong.length ? wrong.join(', ') : parsed;
}
