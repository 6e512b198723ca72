import { createHash } from 'crypto';
import { Readable } from 'stream';

/**
 * Cash receipting payment files, CONTRACTS.md "Payments (cash receipting)": the payments
 * system (telephone, web, counter, kiosk) writes payments/out/PAY_<yyyyMMdd>_<nnn>.txt,
 * fixed-width ASCII, LF or CRLF line ends:
 *
 *   header   H date(8) sequence(3) source id(10)                                    22 chars
 *   detail   D transaction ref(12) date(8) time(6) fund(3) account ref(15)
 *            amount pence(11) channel(1) auth code(8)                                65 chars
 *   trailer  T detail count(7) total pence(13)                                       21 chars
 *
 * A file with any fault is rejected whole, so readPaymentFile checks all of it and collects
 * every problem with its line number (a person fixes a file once, not once per problem).
 * It reads the file as a stream of bytes, never holding it whole: only the current line is
 * kept, and of a line longer than maxLineLength only its first bytes, so a huge or
 * newline-free file cannot exhaust memory. Widths are in bytes, as the contract is ASCII.
 *
 * What it cannot see, the hub's store checks: a file sequence or transaction ref already
 * seen in an earlier file (the reading carries the header's sequence and every ref).
 */
export type PaymentChannel = 'T' | 'W' | 'C' | 'K';

export interface CashPayment {
  transactionRef: string;
  /** YYYY-MM-DD */
  date: string;
  /** HH:mm:ss */
  time: string;
  fund: string;
  accountRef: string;
  amountPence: number;
  channel: PaymentChannel;
  authCode: string;
  /** 1-based line number in the file */
  line: number;
}

export interface PaymentFileProblem {
  /** 1-based line; 0 = the file as a whole */
  line: number;
  message: string;
}

export interface PaymentFileHeader {
  /** YYYY-MM-DD */
  fileDate: string;
  sequence: number;
  sourceId: string;
}

export interface PaymentFileReading {
  name: string;
  header?: PaymentFileHeader;
  trailer?: { count: number; totalPence: number };
  payments: CashPayment[];
  /** sum of the payments' amounts */
  totalPence: number;
  problems: PaymentFileProblem[];
  /** problems found beyond maxProblems (counted, not listed) */
  moreProblems: number;
  /** hex sha256 of the bytes read */
  sha256: string;
  bytes: number;
  lines: number;
}

export interface ReadPaymentFileOptions {
  name: string;
  /** the funds a payment may be for (CONTRACTS.md: CTX, NDR, HRA, SUN) */
  funds: readonly string[];
  /** problems listed at most (default 10000); the rest are counted in moreProblems */
  maxProblems?: number;
  /** bytes per line at most, line end not counted (default 1000) */
  maxLineLength?: number;
}

const HEADER_WIDTH = 22;
const DETAIL_WIDTH = 65;
const TRAILER_WIDTH = 21;
const CHANNELS: readonly PaymentChannel[] = ['T', 'W', 'C', 'K'];
const LF = 0x0a;
const CR = 0x0d;

/** yyyyMMdd -> YYYY-MM-DD if it is a real calendar date (no 30 February). */
function calendarDate(compact: string): string | undefined {
  if (!/^\d{8}$/.test(compact)) return undefined;
  const iso = `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso ? iso : undefined;
}

/** HHmmss -> HH:mm:ss if it is a time of day. */
function clockTime(compact: string): string | undefined {
  const m = /^([01]\d|2[0-3])([0-5]\d)([0-5]\d)$/.exec(compact);
  return m ? `${m[1]}:${m[2]}:${m[3]}` : undefined;
}

/** `PAY_<yyyyMMdd>_<nnn>.txt` -> { fileDate: 'YYYY-MM-DD', sequence } or undefined */
export function paymentFileNameParts(name: string): { fileDate: string; sequence: number } | undefined {
  const m = /^PAY_(\d{8})_(\d{3})\.txt$/.exec(name);
  if (!m) return undefined;
  const fileDate = calendarDate(m[1]);
  const sequence = Number(m[2]);
  return fileDate && sequence >= 1 ? { fileDate, sequence } : undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The text of <name>.reason.txt: first line `REJECTED <name>: <n> problem(s)` (n counts the
 * unlisted ones too), then one line per problem `line <n>: <message>` (line 0 written as
 * `file: <message>`), then `... and <k> more problems` if any.
 */
export function refusalReason(name: string, problems: readonly PaymentFileProblem[], moreProblems = 0): string {
  const lines = [`REJECTED ${name}: ${plural(problems.length + moreProblems, 'problem')}`];
  for (const p of problems) lines.push(`${p.line === 0 ? 'file' : `line ${p.line}`}: ${p.message}`);
  if (moreProblems > 0) lines.push(`... and ${plural(moreProblems, 'more problem')}`);
  return lines.join('\n') + '\n';
}

/** One line as read: its first bytes (at most maxLineLength + 1) and its true length. */
interface RawLine {
  number: number;
  /** the line's bytes without its line end, cut at maxLineLength + 1 when longer */
  bytes: Buffer;
  /** the line's full length in bytes, line end not counted */
  length: number;
}

/**
 * Splits a byte stream into lines on LF, dropping a CR before it (so LF, CRLF and a mix of
 * them read the same). Keeps at most limit + 1 bytes of a line: enough to know it is too long.
 */
class LineSplitter {
  private readonly kept: Buffer;
  private keptLength = 0;
  private length = 0;
  private lastByte = -1;
  private number = 0;

  constructor(private readonly limit: number) {
    this.kept = Buffer.alloc(limit + 2);
  }

  *push(chunk: Buffer): Generator<RawLine> {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(LF, start);
      const stop = end === -1 ? chunk.length : end;
      this.append(chunk, start, stop);
      if (end === -1) break;
      yield this.take();
      start = end + 1;
    }
  }

  /** The last line, if the file does not end with a line end. */
  *end(): Generator<RawLine> {
    if (this.length > 0) yield this.take();
  }

  get lines(): number {
    return this.number;
  }

  private append(chunk: Buffer, start: number, stop: number): void {
    if (stop <= start) return;
    const room = this.kept.length - this.keptLength;
    if (room > 0) this.keptLength += chunk.copy(this.kept, this.keptLength, start, Math.min(stop, start + room));
    this.length += stop - start;
    this.lastByte = chunk[stop - 1];
  }

  private take(): RawLine {
    this.number++;
    const crEnd = this.lastByte === CR ? 1 : 0;
    const length = this.length - crEnd;
    const bytes = Buffer.from(this.kept.subarray(0, Math.min(this.keptLength, length, this.limit + 1)));
    this.keptLength = 0;
    this.length = 0;
    this.lastByte = -1;
    return { number: this.number, bytes, length };
  }
}

/**
 * Reads a payment file (a stream, or a Buffer or string) and checks all of it. Never throws
 * for the file's content: every fault is a problem in the reading; only a failing stream
 * rejects. Detail records with a problem are not in `payments`.
 */
export async function readPaymentFile(input: NodeJS.ReadableStream | Buffer | string, options: ReadPaymentFileOptions): Promise<PaymentFileReading> {
  const { name, funds } = options;
  const maxProblems = options.maxProblems ?? 10000;
  const maxLineLength = options.maxLineLength ?? 1000;
  const stream: NodeJS.ReadableStream = typeof input === 'string' || Buffer.isBuffer(input) ? Readable.from([Buffer.from(input)]) : input;

  const problems: PaymentFileProblem[] = [];
  let moreProblems = 0;
  const problem = (line: number, message: string) => {
    if (problems.length < maxProblems) problems.push({ line, message });
    else moreProblems++;
  };

  const payments: CashPayment[] = [];
  let totalPence = 0;
  let header: (PaymentFileHeader & { line: number }) | undefined;
  let headerLine = 0;
  let trailer: { count: number; totalPence: number } | undefined;
  let trailerLine = 0;
  let firstRecordSeen = false;
  /** every detail record up to the trailer, good or bad, is counted against it */
  let detailCount = 0;
  let detailSum = 0;
  /** a detail whose amount cannot be read makes the trailer's total uncheckable */
  let detailSumKnown = true;
  const firstLineOfRef = new Map<string, number>();

  const fileNameParts = paymentFileNameParts(name);
  if (!fileNameParts) problem(0, `file name "${name}" is not PAY_<yyyyMMdd>_<nnn>.txt with a real date and a sequence 001-999`);

  const readHeader = (n: number, text: string) => {
    const fileDate = calendarDate(text.slice(1, 9));
    if (!fileDate) problem(n, `header file date "${text.slice(1, 9)}" is not a real date yyyyMMdd`);
    const sequenceText = text.slice(9, 12);
    const sequence = /^\d{3}$/.test(sequenceText) ? Number(sequenceText) : 0;
    if (sequence < 1) problem(n, `header file sequence "${sequenceText}" is not 001-999`);
    const sourceField = text.slice(12, 22);
    if (!sourceField.trim()) problem(n, `header source id "${sourceField}" is blank`);
    else if (sourceField.startsWith(' ')) problem(n, `header source id "${sourceField}" is not left-aligned`);
    if (fileDate && sequence >= 1 && fileNameParts) {
      if (fileDate !== fileNameParts.fileDate) problem(n, `header file date ${fileDate} is not the file name's ${fileNameParts.fileDate}`);
      if (sequence !== fileNameParts.sequence) problem(n, `header file sequence ${sequence} is not the file name's ${fileNameParts.sequence}`);
    }
    return fileDate && sequence >= 1 && sourceField.trim() ? { fileDate, sequence, sourceId: sourceField.trim(), line: n } : undefined;
  };

  const readDetail = (n: number, text: string): CashPayment | undefined => {
    const before = problems.length + moreProblems;
    const refField = text.slice(1, 13);
    const transactionRef = refField.trimEnd();
    if (!transactionRef) problem(n, 'transaction ref is blank');
    else if (!/^\S+$/.test(transactionRef)) problem(n, `transaction ref "${refField}" must be left-aligned without spaces inside`);
    else {
      const first = firstLineOfRef.get(transactionRef);
      if (first !== undefined) problem(n, `transaction ref "${transactionRef}" is repeated (first on line ${first})`);
      else firstLineOfRef.set(transactionRef, n);
    }
    const date = calendarDate(text.slice(13, 21));
    if (!date) problem(n, `date "${text.slice(13, 21)}" is not a real date yyyyMMdd`);
    const time = clockTime(text.slice(21, 27));
    if (!time) problem(n, `time "${text.slice(21, 27)}" is not a time HHmmss`);
    const fund = text.slice(27, 30);
    if (!funds.includes(fund)) problem(n, `fund "${fund}" is not one of ${funds.join(', ')}`);
    const accountField = text.slice(30, 45);
    const accountRef = accountField.trimEnd();
    if (!accountRef) problem(n, 'account ref is blank');
    else if (accountField.startsWith(' ')) problem(n, `account ref "${accountField}" is not left-aligned`);
    const amountText = text.slice(45, 56);
    const amountPence = /^\d{11}$/.test(amountText) ? Number(amountText) : undefined;
    if (amountPence === undefined) {
      problem(n, `amount "${amountText}" is not 11 digits of pence`);
      detailSumKnown = false;
    } else {
      detailSum += amountPence;
      if (amountPence === 0) problem(n, `amount "${amountText}" is not above 0`);
    }
    const channel = text.slice(56, 57);
    if (!(CHANNELS as readonly string[]).includes(channel)) problem(n, `channel "${channel}" is not one of ${CHANNELS.join(', ')}`);
    const authField = text.slice(57, 65);
    if (!/^\S* *$/.test(authField)) problem(n, `auth code "${authField}" must be left-aligned without spaces inside`);
    if (problems.length + moreProblems > before) return undefined;
    return { transactionRef, date: date!, time: time!, fund, accountRef, amountPence: amountPence!, channel: channel as PaymentChannel, authCode: authField.trimEnd(), line: n };
  };

  const readTrailer = (n: number, text: string) => {
    const countText = text.slice(1, 8);
    const totalText = text.slice(8, 21);
    const countOk = /^\d{7}$/.test(countText);
    const totalOk = /^\d{13}$/.test(totalText);
    if (!countOk) problem(n, `trailer detail count "${countText}" is not 7 digits`);
    if (!totalOk) problem(n, `trailer total "${totalText}" is not 13 digits of pence`);
    if (countOk && Number(countText) !== detailCount) problem(n, `trailer detail count ${Number(countText)} is not the ${plural(detailCount, 'detail record')} in the file`);
    if (totalOk && detailSumKnown && Number(totalText) !== detailSum) problem(n, `trailer total ${Number(totalText)} is not the detail records' total ${detailSum}`);
    return countOk && totalOk ? { count: Number(countText), totalPence: Number(totalText) } : undefined;
  };

  const readLine = (raw: RawLine) => {
    const n = raw.number;
    if (raw.length === 0 || (raw.length <= maxLineLength && raw.bytes.every((b) => b === 0x20))) {
      // The file's final line end makes no line, so any blank line here is one too many.
      problem(n, 'blank line');
      return;
    }
    const problemsBefore = problems.length + moreProblems;

    const type = String.fromCharCode(raw.bytes[0]);
    const tooLong = raw.length > maxLineLength;
    if (tooLong) problem(n, `line is ${raw.length} characters, longer than the limit of ${maxLineLength}`);
    const text = raw.bytes.toString('latin1');
    const odd = raw.bytes.findIndex((b) => b < 0x20 || b > 0x7e);
    if (odd !== -1) {
      const b = raw.bytes[odd];
      problem(n, `${b > 0x7e ? 'non-ASCII byte' : 'control character'} 0x${b.toString(16).toUpperCase().padStart(2, '0')} at column ${odd + 1}`);
    }

    // Where the record sits: a header first, a trailer last, one of each.
    if (!firstRecordSeen && type !== 'H') problem(n, `the first record is "${type}", not a header (H)`);
    if (type === 'T' && trailer !== undefined) problem(n, `a second trailer record (the first is on line ${trailerLine})`);
    else if (trailerLine) problem(n, `a record after the trailer (line ${trailerLine})`);
    if (type === 'H' && headerLine) problem(n, `a second header record (the first is on line ${headerLine})`);
    else if (type === 'H' && firstRecordSeen) problem(n, 'the header record is not the first record');
    firstRecordSeen = true;

    const widths: Record<string, [number, string]> = { H: [HEADER_WIDTH, 'header'], D: [DETAIL_WIDTH, 'detail'], T: [TRAILER_WIDTH, 'trailer'] };
    const kind = widths[type];
    if (!kind) {
      problem(n, `unknown record type "${type}" (expected H, D or T)`);
      return;
    }
    if (type === 'D' && !trailerLine) detailCount++;
    // A wrong-width record's fields cannot be found: say so once, not once per shifted field.
    const rightWidth = raw.length === kind[0];
    if (!rightWidth && !tooLong) problem(n, `${kind[1]} record is ${raw.length} characters, expected ${kind[0]}`);
    if (type === 'H') {
      if (!headerLine) headerLine = n;
      if (!rightWidth) return;
      const read = readHeader(n, text);
      if (headerLine === n) header = read;
    } else if (type === 'D') {
      if (!rightWidth) {
        if (!trailerLine) detailSumKnown = false;
        return;
      }
      const payment = readDetail(n, text);
      // Any problem on the line (a stray byte, a record out of place) keeps the payment out.
      if (payment && problems.length + moreProblems === problemsBefore) {
        payments.push(payment);
        totalPence += payment.amountPence;
      }
    } else if (type === 'T') {
      if (trailerLine) return;
      trailerLine = n;
      if (rightWidth) trailer = readTrailer(n, text);
    }
  };

  const hash = createHash('sha256');
  let bytes = 0;
  const splitter = new LineSplitter(maxLineLength);
  for await (const chunk of stream) {
    // A stream with an encoding set gives strings: back to bytes (its decoding already happened).
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(data);
    bytes += data.length;
    for (const raw of splitter.push(data)) readLine(raw);
  }
  for (const raw of splitter.end()) readLine(raw);

  if (bytes === 0) problem(0, 'the file is empty');
  else {
    if (!headerLine) problem(0, 'no header record (H)');
    if (!trailerLine) problem(0, 'no trailer record (T)');
  }
  // Listed in line order (the file's own problems first), as a person reads the file.
  problems.sort((a, b) => a.line - b.line);

  const reading: PaymentFileReading = { name, payments, totalPence, problems, moreProblems, sha256: hash.digest('hex'), bytes, lines: splitter.lines };
  if (header) reading.header = { fileDate: header.fileDate, sequence: header.sequence, sourceId: header.sourceId };
  if (trailer) reading.trailer = trailer;
  return reading;
}
