import fs from 'fs';
import path from 'path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { isPostcode, normalisePostcode } from '../adapters/address/postcode';
import { FolderSystem, FolderSystemOptions, listFiles, moveInto, writeFileWhole } from './files';
import { CouncilTaxAccountRecord, Population } from './population';
import { isIsoDate, isUprn } from './validate';

/**
 * Revenues (council tax): takes change-of-address requests from revenues/in/ADDR_*.csv,
 * matches each row on surname, date of birth and previous UPRN against its council tax
 * accounts, answers in revenues/ack/<base>.ack.csv (written whole: temp name, rename),
 * and moves the request to revenues/in/processed/. A file it cannot read as a request
 * file at all (wrong header, not CSV) goes to revenues/in/failed/ with <name>.reason.txt.
 */
export const ADDRESS_REQUEST_COLUMNS = ['request_id', 'forename', 'surname', 'date_of_birth', 'previous_uprn', 'uprn', 'address_line_1', 'address_line_2', 'address_line_3', 'address_line_4', 'postcode', 'effective_date'] as const;
export const ACK_COLUMNS = ['request_id', 'outcome', 'reason'];

export type RevenuesOutcome = 'ACCEPTED' | 'REJECTED' | 'NO_MATCH';

export interface RevenuesAnswer {
  request_id: string;
  outcome: RevenuesOutcome;
  reason: string;
}

export interface RevenuesOptions extends FolderSystemOptions {
  population: Population;
}

type Row = Record<(typeof ADDRESS_REQUEST_COLUMNS)[number], string>;

export class RevenuesSimulator extends FolderSystem {
  readonly system = 'revenues';
  readonly actions: FolderSystem['actions'];
  private readonly accounts = new Map<string, CouncilTaxAccountRecord>();
  /** answers already given, by request_id: a repeated request gets the same answer */
  private readonly answers = new Map<string, RevenuesAnswer>();
  private readonly files: { name: string; rows: number; ack?: string; failed?: string }[] = [];

  constructor(options: RevenuesOptions) {
    super('revenues', options);
    for (const account of options.population.councilTaxAccounts) this.accounts.set(account.accountRef, structuredClone(account));
    for (const folder of ['in', 'ack']) fs.mkdirSync(path.join(this.root, 'revenues', folder), { recursive: true });
    this.actions = { process: () => this.processNow() };
  }

  protected pending(): Promise<string[]> {
    return listFiles(path.join(this.root, 'revenues', 'in'), /^ADDR_.*\.csv$/);
  }

  protected async handle(name: string): Promise<void> {
    const file = path.join(this.root, 'revenues', 'in', name);
    let rows: string[][];
    try {
      rows = parse(await fs.promises.readFile(file), { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
      const header = rows.shift()?.map((h) => h.trim());
      if (!header || header.join(',') !== ADDRESS_REQUEST_COLUMNS.join(',')) throw new Error(`the header is not ${ADDRESS_REQUEST_COLUMNS.join(',')}`);
    } catch (err) {
      const reason = `${name} is not a change-of-address request file: ${(err as Error).message}`;
      const failed = path.join(this.root, 'revenues', 'in', 'failed');
      await moveInto(file, failed);
      await writeFileWhole(path.join(failed, `${name}.reason.txt`), `${reason}\n`);
      this.files.push({ name, rows: 0, failed: reason });
      return;
    }
    const answers = rows.map((cells, i) => this.answer(cells, i + 2));
    const base = name.replace(/\.csv$/, '');
    const ack = path.join(this.root, 'revenues', 'ack', `${base}.ack.csv`);
    await writeFileWhole(ack, stringify(answers.map((a) => [a.request_id, a.outcome, a.reason]), { header: true, columns: ACK_COLUMNS, record_delimiter: 'windows' }));
    await moveInto(file, path.join(this.root, 'revenues', 'in', 'processed'));
    this.files.push({ name, rows: rows.length, ack: path.basename(ack) });
  }

  private answer(cells: string[], line: number): RevenuesAnswer {
    const requestId = (cells[0] ?? '').trim();
    const reject = (reason: string): RevenuesAnswer => ({ request_id: requestId, outcome: 'REJECTED', reason });
    if (!requestId) return reject(`line ${line} has no request_id`);
    const earlier = this.answers.get(requestId);
    if (earlier) return earlier;
    const result = this.decide(cells, reject);
    this.answers.set(requestId, result);
    return result;
  }

  private decide(cells: string[], reject: (reason: string) => RevenuesAnswer): RevenuesAnswer {
    if (cells.length !== ADDRESS_REQUEST_COLUMNS.length) return reject(`expected ${ADDRESS_REQUEST_COLUMNS.length} columns, found ${cells.length}`);
    const row = Object.fromEntries(ADDRESS_REQUEST_COLUMNS.map((c, i) => [c, cells[i].trim()])) as Row;
    for (const required of ['forename', 'surname', 'date_of_birth', 'previous_uprn', 'address_line_1', 'postcode', 'effective_date'] as const) if (!row[required]) return reject(`${required} is missing`);
    if (!isIsoDate(row.date_of_birth)) return reject(`date_of_birth "${row.date_of_birth}" is not YYYY-MM-DD`);
    if (!isIsoDate(row.effective_date)) return reject(`effective_date "${row.effective_date}" is not YYYY-MM-DD`);
    if (!isUprn(row.previous_uprn)) return reject(`previous_uprn "${row.previous_uprn}" is not a UPRN`);
    if (row.uprn && !isUprn(row.uprn)) return reject(`uprn "${row.uprn}" is not a UPRN`);
    if (!isPostcode(row.postcode)) return reject(`postcode "${row.postcode}" is not a UK postcode`);
    const surname = row.surname.toUpperCase();
    const matches = [...this.accounts.values()].filter((a) => a.uprn === row.previous_uprn && a.holders.some((h) => h.surname.toUpperCase() === surname && h.dateOfBirth === row.date_of_birth));
    if (matches.length === 0) return { request_id: row.request_id, outcome: 'NO_MATCH', reason: 'no council tax account for this person at the previous address' };
    if (matches.length > 1) return reject(`${matches.length} council tax accounts match; not applied`);
    const rejected = this.faults.rejection(row);
    if (rejected) return reject(rejected);
    const account = matches[0];
    account.uprn = row.uprn || '';
    account.addressLines = [row.address_line_1, row.address_line_2, row.address_line_3, row.address_line_4].filter(Boolean);
    account.postcode = normalisePostcode(row.postcode);
    return { request_id: row.request_id, outcome: 'ACCEPTED', reason: '' };
  }

  getAccount(accountRef: string): CouncilTaxAccountRecord | undefined {
    const account = this.accounts.get(accountRef);
    return account && structuredClone(account);
  }

  state() {
    return { accounts: this.accounts.size, files: this.files, answers: [...this.answers.values()], lastError: this.lastError };
  }
}
