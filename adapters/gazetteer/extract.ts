import { createHash } from 'crypto';
import fs from 'fs';
import { parse } from 'csv-parse';
import { normalisePostcode } from '../address/postcode';
import { HubError } from '../errors';
import type { Bs7666Address } from '../canonical/types';

/**
 * Reads the LLPG extract (CSV, header
 * uprn,usrn,saon,paon,street_description,locality,town_name,post_town,postcode,x,y,logical_status)
 * as a stream. Every row is checked; a malformed row is reported with its line number and
 * the whole load fails (GazetteerLoadError): a half-read extract would make addresses that
 * exist look missing, so the hub keeps the extract it had until a good one arrives.
 */

export const EXTRACT_COLUMNS = [
  'uprn', 'usrn', 'saon', 'paon', 'street_description', 'locality', 'town_name', 'post_town', 'postcode', 'x', 'y', 'logical_status',
] as const;

/** 1 approved, 3 alternative (DTF LPIs only), 6 provisional, 8 historic, 9 rejected (DTF only). */
export type LogicalStatus = 1 | 3 | 6 | 8 | 9;
export const LOGICAL_STATUS_NAMES: Record<LogicalStatus, string> = { 1: 'approved', 3: 'alternative', 6: 'provisional', 8: 'historic', 9: 'rejected' };

/** One gazetteer address. Postcode, town and post town may be blank for a non-postal record. */
export interface GazetteerRecord extends Bs7666Address {
  usrn: string;
  x?: number;
  y?: number;
  logicalStatus: LogicalStatus;
}

export interface ExtractProblem {
  /** Line number in the file (1 is the header). */
  line: number;
  message: string;
}

/** How many problems a failed load lists (the count is always complete). */
const MAX_PROBLEMS_LISTED = 50;

/**
 * The extract did not load: GAZETTEER_UNREADABLE (the file cannot be read),
 * GAZETTEER_MALFORMED (rows are wrong) or GAZETTEER_VOLUME_REFUSED (a DTF volume that is
 * older than, or the same as, the one in use, or a change-only volume with nothing to apply to). Transient: a message meets it only while the
 * gazetteer has no extract at all, and the fault is in the hub's reference data, not in
 * the message; the gazetteer watches the file and loads the next good extract by itself,
 * so a retry after that succeeds without anyone replaying (past the retries, dead letters).
 */
export class GazetteerLoadError extends HubError {
  /** `problems` empty with a `reason`: the file could not be read at all. */
  constructor(readonly file: string, readonly problems: ExtractProblem[], readonly problemCount: number, readonly reason?: string, code = 'GAZETTEER_UNREADABLE') {
    const listed = problems.map((p) => `line ${p.line}: ${p.message}`).join('; ');
    const more = problemCount > problems.length ? ` (and ${problemCount - problems.length} more)` : '';
    super(reason ? code : 'GAZETTEER_MALFORMED', reason
      ? `gazetteer extract ${file} was not loaded: ${reason}`
      : `gazetteer extract ${file} was not loaded: ${problemCount} malformed row${problemCount === 1 ? '' : 's'}: ${listed}${more}`, { transient: true });
    this.name = 'GazetteerLoadError';
  }

  /** The first reason, short enough for a node's status: "line 7: ..." or the reason. */
  get summary(): string {
    if (this.reason) return this.reason;
    const first = this.problems[0];
    const more = this.problemCount > 1 ? ` (+${this.problemCount - 1} more)` : '';
    return first ? `line ${first.line}: ${first.message}${more}` : 'refused';
  }
}

/** Collects a load's problems: every one counted, the first MAX_PROBLEMS_LISTED kept. */
export class ProblemList {
  readonly listed: ExtractProblem[] = [];
  count = 0;

  add(line: number, message: string): void {
    this.count++;
    if (this.listed.length < MAX_PROBLEMS_LISTED) this.listed.push({ line, message });
  }

  throwIfAny(file: string): void {
    if (this.count > 0) throw new GazetteerLoadError(file, this.listed, this.count);
  }
}

const DIGITS = /^\d{1,12}$/;

/** UPRNs are numbers: "000100023336956"-style padding is dropped so that lookups agree. */
export function normaliseUprn(uprn: string): string {
  return uprn.trim().replace(/^0+(?=\d)/, '');
}
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Checks one data row; returns the record, or the problems with it. */
function toRecord(fields: string[]): GazetteerRecord | string[] {
  if (fields.length !== EXTRACT_COLUMNS.length) {
    return [`has ${fields.length} fields, expected ${EXTRACT_COLUMNS.length}`];
  }
  const [uprn, usrn, saon, paon, street, locality, townName, postTown, postcode, x, y, status] = fields.map((f) => f.trim());
  const problems: string[] = [];
  if (!DIGITS.test(uprn)) problems.push(`uprn "${uprn}" is not 1-12 digits`);
  if (!DIGITS.test(usrn)) problems.push(`usrn "${usrn}" is not 1-12 digits`);
  if (!paon) problems.push('paon is blank');
  if (!street) problems.push('street_description is blank');
  let normalisedPostcode = '';
  if (postcode) {
    try {
      normalisedPostcode = normalisePostcode(postcode);
    } catch {
      problems.push(`postcode "${postcode}" is not a UK postcode`);
    }
  }
  if (x && !NUMBER.test(x)) problems.push(`x "${x}" is not a number`);
  if (y && !NUMBER.test(y)) problems.push(`y "${y}" is not a number`);
  if (status !== '1' && status !== '6' && status !== '8') problems.push(`logical_status "${status}" is not 1, 6 or 8`);
  if (problems.length) return problems;
  const record: GazetteerRecord = {
    uprn: normaliseUprn(uprn),
    usrn,
    paon,
    streetDescription: street,
    townName,
    postTown,
    postcode: normalisedPostcode,
    logicalStatus: Number(status) as LogicalStatus,
  };
  if (saon) record.saon = saon;
  if (locality) record.locality = locality;
  if (x) record.x = Number(x);
  if (y) record.y = Number(y);
  return record;
}

/** Streams the extract and returns its records, or throws GazetteerLoadError. */
export async function readExtract(file: string): Promise<GazetteerRecord[]> {
  return (await readCsvExtract(file)).records;
}

/** The records, and the file's checksum (the version of a CSV extract, which has no volume number). */
export async function readCsvExtract(file: string): Promise<{ records: GazetteerRecord[]; checksum: string }> {
  const records: GazetteerRecord[] = [];
  const problems = new ProblemList();
  const report = (line: number, message: string) => problems.add(line, message);
  const seen = new Map<string, number>();
  let headerSeen = false;

  const { input, parser, checksum } = openCsv(file);
  try {
    for await (const { record: fields, info } of parser) {
      if (!headerSeen) {
        headerSeen = true;
        const header = fields.map((f) => f.trim().toLowerCase()).join(',');
        if (header !== EXTRACT_COLUMNS.join(',')) {
          report(info.lines, `header is "${fields.join(',')}", expected "${EXTRACT_COLUMNS.join(',')}"`);
          break;
        }
        continue;
      }
      const result = toRecord(fields);
      if (Array.isArray(result)) {
        report(info.lines, result.join(', '));
        continue;
      }
      const earlier = seen.get(result.uprn);
      if (earlier !== undefined) {
        report(info.lines, `uprn ${result.uprn} is already on line ${earlier}`);
        continue;
      }
      seen.set(result.uprn, info.lines);
      records.push(result);
    }
  } catch (err) {
    readFailure(file, err, problems);
  } finally {
    input.destroy();
  }
  if (!headerSeen) report(1, 'the extract is empty (no header row)');
  problems.throwIfAny(file);
  return { records, checksum: `sha256:${checksum.digest('hex').slice(0, 16)}` };
}

/** A streaming CSV reader of the file (quoted fields, line numbers), hashing what it reads. */
export function openCsv(file: string) {
  const input = fs.createReadStream(file);
  const checksum = createHash('sha256');
  input.on('data', (chunk) => checksum.update(chunk));
  const parser = input.pipe(parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }));
  input.on('error', (err) => parser.destroy(err));
  return { input, parser: parser as AsyncIterable<{ record: string[]; info: { lines: number } }>, checksum };
}

/** A file that cannot be read throws at once; a CSV fault becomes a problem with its line. */
export function readFailure(file: string, err: unknown, problems: ProblemList): void {
  const e = err as NodeJS.ErrnoException & { lines?: number };
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') {
    throw new GazetteerLoadError(file, [], 0, `cannot read the file (${e.code})`);
  }
  // csv-parse stops at a quoting fault; it says on which line.
  problems.add(e.lines ?? 0, e.message);
}
