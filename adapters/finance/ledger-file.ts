import type { FinanceJournal } from '../canonical/types';
import { stringify } from 'csv-stringify/sync';
import { permanentError } from '../errors';

/**
 * Finance (general ledger) files, CONTRACTS.md "Finance (general ledger)": the hub writes
 * finance/in/GL_<yyyyMMdd>_<nnnn>.csv (header row, one row per journal line), then, once
 * the csv is complete, GL_<yyyyMMdd>_<nnnn>.ctl holding `<line count>,<total debit
 * pence>,<total credit pence>`; Finance takes a file only once its .ctl exists. Finance
 * answers by moving the pair to finance/in/processed/ (posted) or finance/in/rejected/ with
 * GL_<...>.rej beside it (refused, nothing posted).
 *
 * Finance refuses a whole file for one bad journal, so buildLedgerFile refuses here first
 * what Finance would: the error is permanent (the same journals fail the same way), and it
 * names the journal, so the delivery that carries it can be dead-lettered, not the batch.
 *
 * Errors (all permanent): INVALID_LEDGER_FILE_NAME, EMPTY_LEDGER_FILE, DUPLICATE_JOURNAL_REF,
 * UNBALANCED_JOURNAL, INVALID_JOURNAL.
 */
export const LEDGER_COLUMNS = ['journal_ref', 'transaction_date', 'cost_centre', 'account_code', 'debit_pence', 'credit_pence', 'description', 'source_ref'] as const;

export type LedgerFileErrorCode = 'INVALID_LEDGER_FILE_NAME' | 'EMPTY_LEDGER_FILE' | 'DUPLICATE_JOURNAL_REF' | 'UNBALANCED_JOURNAL' | 'INVALID_JOURNAL';

const LEDGER_NAME = /^GL_\d{8}_\d{4}\.csv$/;
const ANSWER_NAME = /^GL_\d{8}_\d{4}\.(ctl|rej)$/;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** GL_<yyyyMMdd>_<nnnn>.csv, the date in UTC (as every other file name the hub writes); sequence 1-9999 (else permanent error) */
export function ledgerFileName(day: Date, sequence: number): string {
  if (!(day instanceof Date) || Number.isNaN(day.getTime())) throw permanentError('INVALID_LEDGER_FILE_NAME', `a ledger file name needs a valid date, got ${String(day)}`);
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > 9999) throw permanentError('INVALID_LEDGER_FILE_NAME', `a ledger file sequence is 1-9999, got ${sequence}`);
  return `GL_${pad(day.getUTCFullYear(), 4)}${pad(day.getUTCMonth() + 1, 2)}${pad(day.getUTCDate(), 2)}_${pad(sequence, 4)}.csv`;
}

/** GL_x.csv -> GL_x.ctl ; throws permanent INVALID_LEDGER_FILE_NAME for other names */
export function controlFileNameOf(csvName: string): string {
  if (!LEDGER_NAME.test(csvName)) throw permanentError('INVALID_LEDGER_FILE_NAME', `"${csvName}" is not a ledger file name GL_<yyyyMMdd>_<nnnn>.csv`);
  return csvName.replace(/\.csv$/, '.ctl');
}

/** GL_x.ctl or GL_x.rej -> GL_x.csv ; throws permanent INVALID_LEDGER_FILE_NAME for other names */
export function ledgerFileOf(name: string): string {
  if (!ANSWER_NAME.test(name)) throw permanentError('INVALID_LEDGER_FILE_NAME', `"${name}" is not a ledger control or refusal file name GL_<yyyyMMdd>_<nnnn>.ctl or .rej`);
  return name.replace(/\.(ctl|rej)$/, '.csv');
}

/** yyyy-MM-dd and a real calendar date, as Finance checks transaction_date. */
function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const isPence = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

export interface LedgerFile {
  csv: string;
  /** the .ctl file's content: the control line with its line end */
  control: string;
  /** data lines (the header row not counted) */
  lineCount: number;
  debitPence: number;
  creditPence: number;
  journalRefs: string[];
}

/**
 * Builds the csv (header row, CRLF, quoting where needed, via csv-stringify) and the control
 * line `<line count>,<total debit>,<total credit>` (line count = data lines). Refuses
 * (permanent error: UNBALANCED_JOURNAL, DUPLICATE_JOURNAL_REF, EMPTY_LEDGER_FILE,
 * INVALID_JOURNAL) a journal that does not balance, a journal_ref twice in one file, lines
 * whose journal_ref differs from the journal's journalRef, a line both debit and credit or
 * neither, non-integer or negative pence, an empty batch; and, as Finance would refuse them,
 * a journal of fewer than two lines, a missing cost_centre or account_code and a
 * transaction_date that is not a real YYYY-MM-DD.
 */
export function buildLedgerFile(journals: readonly FinanceJournal[]): LedgerFile {
  if (!journals.length) throw permanentError('EMPTY_LEDGER_FILE', 'a ledger file needs at least one journal');
  const journalRefs: string[] = [];
  const seen = new Set<string>();
  let debitPence = 0;
  let creditPence = 0;
  let lineCount = 0;
  for (const journal of journals) {
    const ref = journal.journalRef;
    if (typeof ref !== 'string' || !ref.trim()) throw permanentError('INVALID_JOURNAL', 'a journal has no journalRef');
    if (seen.has(ref)) throw permanentError('DUPLICATE_JOURNAL_REF', `journal ${ref} appears twice in one ledger file`);
    seen.add(ref);
    if (!Array.isArray(journal.lines) || journal.lines.length < 2) throw permanentError('INVALID_JOURNAL', `journal ${ref} has ${journal.lines?.length ?? 0} lines, a journal needs at least 2`);
    let debit = 0;
    let credit = 0;
    journal.lines.forEach((line, i) => {
      const at = `journal ${ref} line ${i + 1}`;
      if (line.journal_ref !== ref) throw permanentError('INVALID_JOURNAL', `${at} has journal_ref "${line.journal_ref}", not the journal's ${ref}`);
      if (!isPence(line.debit_pence) || !isPence(line.credit_pence)) throw permanentError('INVALID_JOURNAL', `${at}: debit_pence ${line.debit_pence} and credit_pence ${line.credit_pence} must be whole pence, not negative`);
      if (line.debit_pence > 0 === line.credit_pence > 0) throw permanentError('INVALID_JOURNAL', `${at} is ${line.debit_pence > 0 ? 'both a debit and a credit' : 'neither a debit nor a credit'}: a line is one or the other`);
      if (typeof line.transaction_date !== 'string' || !isCalendarDate(line.transaction_date)) throw permanentError('INVALID_JOURNAL', `${at}: transaction_date "${line.transaction_date}" is not a YYYY-MM-DD date`);
      if (!line.cost_centre?.trim() || !line.account_code?.trim()) throw permanentError('INVALID_JOURNAL', `${at}: cost_centre and account_code are required`);
      debit += line.debit_pence;
      credit += line.credit_pence;
    });
    if (debit !== credit) throw permanentError('UNBALANCED_JOURNAL', `journal ${ref} does not balance: debit ${debit}, credit ${credit}`);
    debitPence += debit;
    creditPence += credit;
    lineCount += journal.lines.length;
    journalRefs.push(ref);
  }
  const rows = journals.flatMap((journal) => journal.lines);
  const csv = stringify(rows, { header: true, columns: [...LEDGER_COLUMNS], record_delimiter: '\r\n', quoted_match: /[",\r\n]/ });
  return { csv, control: `${lineCount},${debitPence},${creditPence}\r\n`, lineCount, debitPence, creditPence, journalRefs };
}

/**
 * Finance's .rej: first line `REFUSED <name>: <first problem>`, then one line per further
 * problem. Returns {file, problems}; a malformed .rej gives file undefined and the whole
 * text as one problem (never throws: a refusal must still reach a person, however written).
 */
export function parseRefusal(text: string): { file?: string; problems: string[] } {
  const content = String(text ?? '').replace(/^\uFEFF/, '');
  const lines = content.split(/\r?\n/);
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const first = /^REFUSED (\S+): (.*\S.*)$/.exec(lines[0] ?? '');
  if (!first) return { problems: [content.trim() || 'the refusal file is empty'] };
  return { file: first[1], problems: [first[2].trim(), ...lines.slice(1).map((l) => l.trim()).filter((l) => l)] };
}
