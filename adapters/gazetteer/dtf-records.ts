import { isAscii } from 'buffer';
import fs from 'fs';
import { HubError } from '../errors';

/**
 * The records of a DTF 7.3 file, split here rather than by csv-parse: DTF records of each
 * type have their own width, and csv-parse built an error object for every record whose
 * width differed from the first one's (most of them), which was half of a county's load time.
 * The rules are csv-parse's defaults: fields separated by commas, a field in double quotes
 * may hold commas and line ends, "" inside quotes is one quote, lines end in CRLF, LF or CR,
 * empty lines are skipped (but counted), a byte-order mark at the start is dropped.
 */

/**
 * Takes one record: its fields and the line it ends on (1 is the first line, as csv-parse's
 * info.lines). Returning false stops the reading. Called as the text is split, so that a
 * record's strings are garbage before the next piece is read (a batch of them would outlive
 * the young generation and cost the garbage collector a third of the load).
 */
export type OnRecord = (fields: string[], line: number) => boolean | void;

/**
 * A quoting fault: the file cannot be split into records from here on. `lines` as csv-parse's
 * errors have it; the reader makes it a problem of the file (GazetteerLoadError), as a
 * quoting fault found by csv-parse was.
 */
export class CsvQuotingError extends HubError {
  constructor(readonly lines: number, message: string) {
    super('GAZETTEER_MALFORMED', message, { transient: true });
    this.name = 'CsvQuotingError';
  }
}

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** Splits text into records, carrying an unfinished record (a quoted field open at the end) over to the next piece. */
export class CsvSplitter {
  /** Lines consumed so far. */
  private line = 0;
  private rest = '';
  private started = false;

  /**
   * Hands each complete record of the text to `onRecord`. Without `final`, a record not yet
   * ended by a line end is kept for the next call; with it, the end of the text ends it.
   * False when `onRecord` stopped the reading.
   */
  split(piece: string, final: boolean, onRecord: OnRecord): boolean {
    const text = this.rest ? this.rest + piece : piece;
    this.rest = '';
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === LF || c === CR) {
        // an empty line: skipped, counted
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        this.line++;
        continue;
      }
      const recordStart = i;
      const lineAtStart = this.line;
      const fields: string[] = [];
      let ended = false;
      while (!ended) {
        if (text.charCodeAt(i) === QUOTE) {
          let j = i + 1;
          let escaped = false;
          let closed = -1;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === QUOTE) {
              if (text.charCodeAt(j + 1) === QUOTE) {
                escaped = true;
                j += 2;
                continue;
              }
              if (j + 1 === n && !final) break; // the next piece may start with the second quote of ""
              closed = j;
              break;
            }
            if (d === LF || (d === CR && text.charCodeAt(j + 1) !== LF)) this.line++;
            j++;
          }
          if (closed < 0) {
            if (!final) {
              this.line = lineAtStart;
              this.rest = text.slice(recordStart);
              return true;
            }
            throw new CsvQuotingError(lineAtStart + 1, `field ${fields.length + 1} opens a quote that is never closed (the file ends inside it)`);
          }
          const value = text.slice(i + 1, closed);
          fields.push(escaped ? value.replace(/""/g, '"') : value);
          i = closed + 1;
          const after = i < n ? text.charCodeAt(i) : -1;
          if (after === COMMA) {
            i++;
            continue;
          }
          if (after !== CR && after !== LF && after !== -1) {
            throw new CsvQuotingError(this.line + 1, `field ${fields.length} has "${text[i]}" after its closing quote, expected a comma or the end of the line`);
          }
        } else {
          let j = i;
          let d = -1;
          while (j < n) {
            d = text.charCodeAt(j);
            if (d === COMMA || d === LF || d === CR) break;
            if (d === QUOTE) {
              throw new CsvQuotingError(this.line + 1, `field ${fields.length + 1} has a quote inside it but does not start with one: ${text.slice(i, j + 1)}`);
            }
            j++;
          }
          fields.push(text.slice(i, j));
          i = j;
          if (j < n && d === COMMA) {
            i++;
            if (i === n) {
              // a comma ends the text: an empty last field
              if (final) fields.push('');
              else {
                this.line = lineAtStart;
                this.rest = text.slice(recordStart);
                return true;
              }
            } else continue;
          }
        }
        // a line end, or the end of the text
        if (i < n) {
          if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
          else i++;
        } else if (!final) {
          this.line = lineAtStart;
          this.rest = text.slice(recordStart);
          return true;
        }
        ended = true;
      }
      this.line++;
      if (onRecord(fields, this.line) === false) return false;
    }
    return true;
  }
}

/**
 * Streams the file's records to `onRecord`, a piece (a megabyte) at a time: the file is never
 * held whole. Rejects with the fs error for a file that cannot be read, with CsvQuotingError
 * for a quoting fault.
 */
export async function readCsvRecords(file: string, onRecord: OnRecord, pieceBytes = 1 << 20): Promise<void> {
  const splitter = new CsvSplitter();
  await readLines(file, pieceBytes, (lines, final) => splitter.split(decode(lines), final, onRecord));
}

/** How many records of a type (e.g. "24") a file holds, from the start of each line, not checked: room to make before reading it. */
export async function countRecords(file: string, type: string): Promise<number> {
  const [first, second] = [type.charCodeAt(0), type.charCodeAt(1)];
  let count = 0;
  await readLines(file, 1 << 20, (lines) => {
    for (let at = 0; at < lines.length; ) {
      const quote = lines[at] === QUOTE ? 1 : 0;
      if (lines[at + quote] === first && lines[at + quote + 1] === second && lines[at + quote + 2] === (quote ? QUOTE : COMMA)) count++;
      const lf = lines.indexOf(LF, at);
      if (lf < 0) break;
      at = lf + 1;
    }
  });
  return count;
}

/**
 * Reads the file into one buffer, reused: each call of `onLines` has whole lines (up to the
 * last LF read, which is never inside a UTF-8 character), the last call the rest. Reusing the
 * buffer keeps a county's load from leaving hundreds of freed megabyte buffers in the heap.
 * `onLines` returning false stops the reading.
 */
async function readLines(file: string, pieceBytes: number, onLines: (lines: Buffer, final: boolean) => boolean | void): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    let buffer = Buffer.allocUnsafe(pieceBytes);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        // a line longer than the buffer
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, filled);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      const cut = buffer.lastIndexOf(LF, filled - 1) + 1;
      if (cut === 0) continue;
      if (onLines(buffer.subarray(0, cut), false) === false) return;
      buffer.copyWithin(0, cut, filled);
      filled -= cut;
    }
    onLines(buffer.subarray(0, filled), true);
  } finally {
    await handle.close();
  }
}

/** UTF-8; ASCII (most of an English LLPG) decodes the same as Latin-1, which is several times faster. */
function decode(bytes: Buffer): string {
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

/** A DTF volume's header (record 10): whose gazetteer, when, which volume, full or changes only. */
export interface DtfVolume {
  custodianName: string;
  custodianCode: string;
  /** YYYY-MM-DD */
  processDate: string;
  volumeNumber: number;
  fileType: 'F' | 'C';
}
