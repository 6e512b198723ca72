import type { RevenuesAddressChangeRow } from '../canonical/types';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { HubError } from '../errors';

/**
 * Revenues (council tax) change-of-address files, CONTRACTS.md "Revenues": the hub writes
 * request files to revenues/in/ and reads Revenues' answers from revenues/ack/.
 */
export const REQUEST_COLUMNS = [
  'request_id',
  'forename',
  'surname',
  'date_of_birth',
  'previous_uprn',
  'uprn',
  'address_line_1',
  'address_line_2',
  'address_line_3',
  'address_line_4',
  'postcode',
  'effective_date',
] as const;

/** One row of a request file: the canonical type, generated from its schema. */
export type RevenuesRequestRow = RevenuesAddressChangeRow;

// The columns above are the schema's properties, in file order: a column missing from either fails to compile.
type SameKeys<A, B> = [Exclude<keyof A, B>, Exclude<B, keyof A>] extends [never, never] ? true : never;
const columnsMatchSchema: SameKeys<RevenuesAddressChangeRow, (typeof REQUEST_COLUMNS)[number]> = true;
void columnsMatchSchema;

/** A request row from any object: every column as text, empty where the object has nothing. */
export function requestRow(values: Record<string, unknown>): RevenuesRequestRow {
  const row = {} as Record<string, string>;
  for (const column of REQUEST_COLUMNS) row[column] = values[column] === undefined || values[column] === null ? '' : String(values[column]);
  return row as unknown as RevenuesRequestRow;
}

export const ACK_OUTCOMES = ['ACCEPTED', 'REJECTED', 'NO_MATCH'] as const;
export type AckOutcome = (typeof ACK_OUTCOMES)[number];

export interface AckRow {
  requestId: string;
  outcome: AckOutcome;
  reason: string;
}

/**
 * INVALID_ACK_FILE_NAME, EMPTY_REQUEST_FILE, MISSING_REQUEST_ID, DUPLICATE_REQUEST_ID (a
 * request file the hub would write), INVALID_ACK_FILE (an ack file Revenues wrote).
 */
export type RevenuesFileErrorCode = 'INVALID_ACK_FILE_NAME' | 'EMPTY_REQUEST_FILE' | 'MISSING_REQUEST_ID' | 'DUPLICATE_REQUEST_ID' | 'INVALID_ACK_FILE';

/** A request or ack file that breaks CONTRACTS.md: permanent, the same rows or file fail the same way. */
export class RevenuesFileError extends HubError {
  declare readonly code: RevenuesFileErrorCode;

  constructor(
    code: RevenuesFileErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(code, line ? `${message} (line ${line})` : message, { transient: false });
    this.name = 'RevenuesFileError';
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** ADDR_<yyyyMMddHHmmss>_<nnnn>.csv, in UTC so that names sort in time order everywhere. */
export function requestFileName(at: Date, sequence: number): string {
  const stamp =
    pad(at.getUTCFullYear(), 4) +
    pad(at.getUTCMonth() + 1, 2) +
    pad(at.getUTCDate(), 2) +
    pad(at.getUTCHours(), 2) +
    pad(at.getUTCMinutes(), 2) +
    pad(at.getUTCSeconds(), 2);
  return `ADDR_${stamp}_${pad(sequence % 10000, 4)}.csv`;
}

/** The ack file Revenues writes for a request file: the same base name, `.ack.csv`. */
export function ackFileName(requestFile: string): string {
  return requestFile.replace(/\.csv$/, '.ack.csv');
}

export function requestFileForAck(ackFile: string): string {
  if (!/^ADDR_\d{14}_\d{4}\.ack\.csv$/.test(ackFile)) throw new RevenuesFileError('INVALID_ACK_FILE_NAME', `"${ackFile}" is not a Revenues ack file name`);
  return ackFile.replace(/\.ack\.csv$/, '.csv');
}

/** UTF-8, CRLF line ends, header row, every row with every column (missing ones empty). */
export function buildRequestFile(rows: RevenuesRequestRow[]): string {
  if (!rows.length) throw new RevenuesFileError('EMPTY_REQUEST_FILE', 'a request file needs at least one row');
  const ids = new Set<string>();
  rows.forEach((row, i) => {
    if (!row.request_id) throw new RevenuesFileError('MISSING_REQUEST_ID', `row ${i + 1} has no request_id`);
    if (ids.has(row.request_id)) throw new RevenuesFileError('DUPLICATE_REQUEST_ID', `request_id ${row.request_id} appears twice in one file`);
    ids.add(row.request_id);
  });
  return stringify(rows, { header: true, columns: [...REQUEST_COLUMNS], record_delimiter: '\r\n', quoted_match: /[",\r\n]/ });
}

/**
 * Parses an ack file. Any fault (wrong header, unknown outcome, a REJECTED row without a
 * reason, a duplicate request id) rejects the whole file: a half-read ack would settle
 * some deliveries and silently leave others.
 */
export function parseAckFile(content: string | Buffer): AckRow[] {
  let records: string[][];
  try {
    records = parse(content, { bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw new RevenuesFileError('INVALID_ACK_FILE', `ack file is not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header || header.join(',') !== 'request_id,outcome,reason') {
    throw new RevenuesFileError('INVALID_ACK_FILE', `ack file header must be request_id,outcome,reason, got "${header?.join(',') ?? ''}"`, 1);
  }
  const seen = new Set<string>();
  return rows.map(([requestId, outcome, reason], i) => {
    const line = i + 2;
    if (!requestId) throw new RevenuesFileError('INVALID_ACK_FILE', 'ack row has no request_id', line);
    if (!(ACK_OUTCOMES as readonly string[]).includes(outcome)) throw new RevenuesFileError('INVALID_ACK_FILE', `ack row outcome "${outcome}" is not one of ${ACK_OUTCOMES.join(', ')}`, line);
    if (outcome === 'REJECTED' && !reason) throw new RevenuesFileError('INVALID_ACK_FILE', `REJECTED row for ${requestId} gives no reason`, line);
    if (seen.has(requestId)) throw new RevenuesFileError('INVALID_ACK_FILE', `request_id ${requestId} is acknowledged twice`, line);
    seen.add(requestId);
    return { requestId, outcome: outcome as AckOutcome, reason: reason ?? '' };
  });
}
