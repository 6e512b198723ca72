import fs from 'fs';
import path from 'path';
import { parse } from 'csv-parse/sync';
import { FolderSystem, FolderSystemOptions, listFiles, moveInto, writeFileWhole } from './files';
import { isIsoDate } from './validate';
import { ActionInputError } from './control';

/**
 * Finance (general ledger): takes finance/in/GL_*.csv once GL_*.ctl exists beside it,
 * checks the control line (data line count, total debit, total credit) and that every
 * journal and the file balance. A good file's journals are posted and both files move to
 * finance/in/processed/. A bad file is refused whole: nothing is posted, both files move
 * to finance/in/rejected/ with <base>.rej beside them (first line the reason, then one
 * line per problem found). A journal_ref already posted is not posted again. The action
 * refuse-next-files makes it refuse the next files whatever they hold (a closed period).
 */
export const JOURNAL_COLUMNS = ['journal_ref', 'transaction_date', 'cost_centre', 'account_code', 'debit_pence', 'credit_pence', 'description', 'source_ref'] as const;

export interface LedgerLine {
  journalRef: string;
  transactionDate: string;
  costCentre: string;
  accountCode: string;
  debitPence: number;
  creditPence: number;
  description: string;
  sourceRef: string;
}

export interface Posting {
  file: string;
  journalRef: string;
  lines: LedgerLine[];
  postedAt: string;
}

export interface FinanceFileOutcome {
  file: string;
  outcome: 'POSTED' | 'REFUSED';
  journals: number;
  duplicates: string[];
  problems: string[];
}

const PENCE = /^\d{1,15}$/;

export class FinanceSimulator extends FolderSystem {
  readonly system = 'finance';
  readonly actions: FolderSystem['actions'];
  private readonly postings = new Map<string, Posting>();
  private readonly outcomes: FinanceFileOutcome[] = [];
  /** Files still to refuse whatever they hold (a ledger period closed, a cost centre frozen), with the reason. */
  private refusals: string[] = [];

  constructor(options: FolderSystemOptions) {
    super('finance', options);
    fs.mkdirSync(path.join(this.root, 'finance', 'in'), { recursive: true });
    this.actions = {
      process: () => this.processNow(),
      'refuse-next-files': (input: { count?: number; reason?: string }) => {
        const count = input?.count ?? 1;
        if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ActionInputError('count must be a whole number from 1 to 1000');
        const reason = input?.reason?.trim() || 'the ledger period is closed for posting';
        this.refusals.push(...Array.from({ length: count }, () => reason));
        return { refusing: this.refusals.length };
      },
    };
  }

  private get inbox(): string {
    return path.join(this.root, 'finance', 'in');
  }

  protected async pending(): Promise<string[]> {
    const names = await listFiles(this.inbox, /^GL_.*\.(csv|ctl)$/);
    const present = new Set(names);
    return names.filter((n) => n.endsWith('.csv') && present.has(n.replace(/\.csv$/, '.ctl')));
  }

  protected async handle(name: string): Promise<void> {
    const base = name.replace(/\.csv$/, '');
    const csvFile = path.join(this.inbox, name);
    const ctlFile = path.join(this.inbox, `${base}.ctl`);
    const problems: string[] = [];
    const refusal = this.refusals.shift();
    if (refusal) problems.push(refusal);
    const lines = this.read(await fs.promises.readFile(csvFile), problems);
    this.checkControl((await fs.promises.readFile(ctlFile, 'utf8')).trim(), lines, problems);
    const journals = new Map<string, LedgerLine[]>();
    for (const line of lines) journals.set(line.journalRef, [...(journals.get(line.journalRef) ?? []), line]);
    for (const [ref, journal] of journals) {
      const debit = journal.reduce((sum, l) => sum + l.debitPence, 0);
      const credit = journal.reduce((sum, l) => sum + l.creditPence, 0);
      if (debit !== credit) problems.push(`journal ${ref} does not balance: debit ${debit}, credit ${credit}`);
    }
    const debit = lines.reduce((sum, l) => sum + l.debitPence, 0);
    const credit = lines.reduce((sum, l) => sum + l.creditPence, 0);
    if (debit !== credit) problems.push(`the file does not balance: debit ${debit}, credit ${credit}`);

    if (problems.length) {
      const rejected = path.join(this.inbox, 'rejected');
      await moveInto(csvFile, rejected);
      await moveInto(ctlFile, rejected);
      await writeFileWhole(path.join(rejected, `${base}.rej`), [`REFUSED ${name}: ${problems[0]}`, ...problems.slice(1)].join('\n') + '\n');
      this.outcomes.push({ file: name, outcome: 'REFUSED', journals: journals.size, duplicates: [], problems });
      return;
    }
    const duplicates: string[] = [];
    const postedAt = new Date().toISOString();
    for (const [journalRef, journal] of journals) {
      if (this.postings.has(journalRef)) duplicates.push(journalRef);
      else this.postings.set(journalRef, { file: name, journalRef, lines: journal, postedAt });
    }
    const processed = path.join(this.inbox, 'processed');
    await moveInto(csvFile, processed);
    await moveInto(ctlFile, processed);
    this.outcomes.push({ file: name, outcome: 'POSTED', journals: journals.size, duplicates, problems: [] });
  }

  private read(content: Buffer, problems: string[]): LedgerLine[] {
    let rows: string[][];
    try {
      rows = parse(content, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (err) {
      problems.push(`not a CSV file: ${(err as Error).message}`);
      return [];
    }
    const header = rows.shift()?.map((h) => h.trim());
    if (!header || header.join(',') !== JOURNAL_COLUMNS.join(',')) {
      problems.push(`the header is not ${JOURNAL_COLUMNS.join(',')}`);
      return [];
    }
    const lines: LedgerLine[] = [];
    rows.forEach((cells, i) => {
      const at = `line ${i + 2}`;
      if (cells.length !== JOURNAL_COLUMNS.length) return problems.push(`${at}: expected ${JOURNAL_COLUMNS.length} columns, found ${cells.length}`);
      const [journalRef, transactionDate, costCentre, accountCode, debit, credit, description, sourceRef] = cells.map((c) => c.trim());
      if (!journalRef || !costCentre || !accountCode) return problems.push(`${at}: journal_ref, cost_centre and account_code are required`);
      if (!isIsoDate(transactionDate)) return problems.push(`${at}: transaction_date "${transactionDate}" is not YYYY-MM-DD`);
      if (!PENCE.test(debit) || !PENCE.test(credit)) return problems.push(`${at}: debit_pence and credit_pence must be whole pence`);
      if ((Number(debit) > 0) === (Number(credit) > 0)) return problems.push(`${at}: a line is either a debit or a credit`);
      lines.push({ journalRef, transactionDate, costCentre, accountCode, debitPence: Number(debit), creditPence: Number(credit), description, sourceRef });
    });
    return lines;
  }

  private checkControl(control: string, lines: LedgerLine[], problems: string[]): void {
    const match = /^(\d+),(\d+),(\d+)$/.exec(control);
    if (!match) {
      problems.push(`the control file does not hold "<line count>,<total debit pence>,<total credit pence>": "${control.slice(0, 80)}"`);
      return;
    }
    const [count, debit, credit] = match.slice(1).map(Number);
    const actualDebit = lines.reduce((sum, l) => sum + l.debitPence, 0);
    const actualCredit = lines.reduce((sum, l) => sum + l.creditPence, 0);
    if (count !== lines.length) problems.push(`the control file says ${count} lines, the file has ${lines.length}`);
    if (debit !== actualDebit) problems.push(`the control file says debit ${debit}, the lines add up to ${actualDebit}`);
    if (credit !== actualCredit) problems.push(`the control file says credit ${credit}, the lines add up to ${actualCredit}`);
  }

  /** Every journal posted, in order. */
  ledger(): Posting[] {
    return [...this.postings.values()];
  }

  state() {
    return { files: this.outcomes, postings: this.ledger(), lastError: this.lastError };
  }
}
