import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { FinanceJournal } from '../../adapters/canonical/types';
import { HubError } from '../../adapters/errors';
import { LEDGER_COLUMNS, buildLedgerFile, controlFileNameOf, ledgerFileName, ledgerFileOf, parseRefusal } from '../../adapters/finance/ledger-file';
import { FinanceSimulator, JOURNAL_COLUMNS } from '../../simulators/finance';
import { writeFileWhole } from '../../simulators/files';

type Line = FinanceJournal['lines'][number];

/** A cash receipt as the hub posts it: debit the bank, credit the fund's income account. */
const receipt = (ref: string, pence: number, description = 'Council tax payment 5000000001', over: Partial<Line>[] = []): FinanceJournal => ({
  journalRef: ref,
  lines: [
    { journal_ref: ref, transaction_date: '2026-03-02', cost_centre: 'CC100', account_code: '1000', debit_pence: pence, credit_pence: 0, description, source_ref: 'PAY_20260302_001.txt:2', ...over[0] },
    { journal_ref: ref, transaction_date: '2026-03-02', cost_centre: 'CC100', account_code: '4100', debit_pence: 0, credit_pence: pence, description, source_ref: 'PAY_20260302_001.txt:2', ...over[1] },
  ],
});

/** The permanent hub error with this code (and a message matching), as the journal would see it. */
const refused = (code: string, message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof HubError, `a HubError, got ${String(err)}`);
  assert.strictEqual(err.code, code);
  assert.strictEqual(err.transient, false);
  assert.match(err.message, message);
  return true;
};

describe('finance ledger files', () => {
  it('LEDGER_COLUMNS are the columns Finance reads', () => {
    assert.deepStrictEqual([...LEDGER_COLUMNS], [...JOURNAL_COLUMNS]);
  });

  describe('names', () => {
    it('GL_<yyyyMMdd>_<nnnn>.csv, the date in UTC', () => {
      assert.strictEqual(ledgerFileName(new Date('2026-03-02T09:00:00Z'), 1), 'GL_20260302_0001.csv');
      assert.strictEqual(ledgerFileName(new Date('2026-03-02T23:30:00-02:00'), 9999), 'GL_20260303_9999.csv', '23:30 at UTC-2 is the next day in UTC');
    });

    it('refuses a sequence outside 1-9999 and an invalid date', () => {
      for (const sequence of [0, 10000, 1.5, -1, NaN]) assert.throws(() => ledgerFileName(new Date('2026-03-02T09:00:00Z'), sequence), refused('INVALID_LEDGER_FILE_NAME', /sequence is 1-9999/));
      assert.throws(() => ledgerFileName(new Date('not a date'), 1), refused('INVALID_LEDGER_FILE_NAME', /valid date/));
    });

    it('the control file beside a ledger file, and the ledger file of a control or refusal file', () => {
      assert.strictEqual(controlFileNameOf('GL_20260302_0001.csv'), 'GL_20260302_0001.ctl');
      assert.strictEqual(ledgerFileOf('GL_20260302_0001.ctl'), 'GL_20260302_0001.csv');
      assert.strictEqual(ledgerFileOf('GL_20260302_0001.rej'), 'GL_20260302_0001.csv');
      for (const bad of ['GL_20260302_0001.ctl', 'ADDR_20260302090000_0001.csv', 'GL_20260302_1.csv', 'finance/in/GL_20260302_0001.csv']) {
        assert.throws(() => controlFileNameOf(bad), refused('INVALID_LEDGER_FILE_NAME', /is not a ledger file name/), bad);
      }
      for (const bad of ['GL_20260302_0001.csv', 'GL_20260302_0001.ctl.part', 'PAY_20260302_001.txt']) {
        assert.throws(() => ledgerFileOf(bad), refused('INVALID_LEDGER_FILE_NAME', /is not a ledger control or refusal file name/), bad);
      }
    });
  });

  describe('building', () => {
    it('writes the header row, one row per line, CRLF, quotes where needed, and the control line', () => {
      const built = buildLedgerFile([receipt('PAY-260302000001', 12345), receipt('PAY-260302000002', 500, 'Rent, "Flat 2" Seacole Court')]);
      assert.strictEqual(
        built.csv,
        'journal_ref,transaction_date,cost_centre,account_code,debit_pence,credit_pence,description,source_ref\r\n' +
          'PAY-260302000001,2026-03-02,CC100,1000,12345,0,Council tax payment 5000000001,PAY_20260302_001.txt:2\r\n' +
          'PAY-260302000001,2026-03-02,CC100,4100,0,12345,Council tax payment 5000000001,PAY_20260302_001.txt:2\r\n' +
          'PAY-260302000002,2026-03-02,CC100,1000,500,0,"Rent, ""Flat 2"" Seacole Court",PAY_20260302_001.txt:2\r\n' +
          'PAY-260302000002,2026-03-02,CC100,4100,0,500,"Rent, ""Flat 2"" Seacole Court",PAY_20260302_001.txt:2\r\n',
      );
      assert.strictEqual(built.control, '4,12845,12845\r\n');
      assert.strictEqual(built.lineCount, 4);
      assert.strictEqual(built.debitPence, 12845);
      assert.strictEqual(built.creditPence, 12845);
      assert.deepStrictEqual(built.journalRefs, ['PAY-260302000001', 'PAY-260302000002']);
    });

    it('a journal of more than two lines balances on its totals', () => {
      const split: FinanceJournal = {
        journalRef: 'J1',
        lines: [
          { ...receipt('J1', 300).lines[0] },
          { ...receipt('J1', 100).lines[1] },
          { ...receipt('J1', 200).lines[1], account_code: '4200' },
        ],
      };
      assert.strictEqual(buildLedgerFile([split]).control, '3,300,300\r\n');
    });

    it('refuses an empty batch', () => {
      assert.throws(() => buildLedgerFile([]), refused('EMPTY_LEDGER_FILE', /at least one journal/));
    });

    it('refuses a journal that does not balance, naming it and both sides', () => {
      assert.throws(() => buildLedgerFile([receipt('J1', 100), receipt('J2', 100, 'x', [{}, { credit_pence: 99 }])]), refused('UNBALANCED_JOURNAL', /journal J2 does not balance: debit 100, credit 99/));
    });

    it('refuses a journal_ref twice in one file', () => {
      assert.throws(() => buildLedgerFile([receipt('J1', 100), receipt('J2', 5), receipt('J1', 100)]), refused('DUPLICATE_JOURNAL_REF', /journal J1 appears twice/));
    });

    it("refuses a line whose journal_ref is not its journal's", () => {
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{}, { journal_ref: 'J9' }])]), refused('INVALID_JOURNAL', /journal J1 line 2 has journal_ref "J9"/));
    });

    it('refuses a line that is both a debit and a credit, or neither', () => {
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{ credit_pence: 100 }, { debit_pence: 100 }])]), refused('INVALID_JOURNAL', /journal J1 line 1 is both a debit and a credit/));
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{ debit_pence: 0 }, { credit_pence: 0 }])]), refused('INVALID_JOURNAL', /journal J1 line 1 is neither a debit nor a credit/));
    });

    it('refuses pence that are not whole, or negative', () => {
      for (const bad of [1.5, -100, NaN, Infinity, '100' as unknown as number]) {
        assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{ debit_pence: bad }, {}])]), refused('INVALID_JOURNAL', /journal J1 line 1: debit_pence .* must be whole pence, not negative/), String(bad));
      }
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{}, { credit_pence: -100, debit_pence: 0 }])]), refused('INVALID_JOURNAL', /line 2: debit_pence 0 and credit_pence -100/));
    });

    it('refuses what Finance would: a one-line journal, a bad transaction_date, a missing account code', () => {
      assert.throws(() => buildLedgerFile([{ journalRef: 'J1', lines: [receipt('J1', 100).lines[0]] }]), refused('INVALID_JOURNAL', /journal J1 has 1 lines, a journal needs at least 2/));
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{ transaction_date: '2026-02-30' }, {}])]), refused('INVALID_JOURNAL', /transaction_date "2026-02-30"/));
      assert.throws(() => buildLedgerFile([receipt('J1', 100, 'x', [{}, { account_code: ' ' }])]), refused('INVALID_JOURNAL', /journal J1 line 2: cost_centre and account_code are required/));
      assert.throws(() => buildLedgerFile([receipt('', 100)]), refused('INVALID_JOURNAL', /no journalRef/));
    });
  });

  describe('refusals Finance writes', () => {
    it('the file and every problem', () => {
      assert.deepStrictEqual(parseRefusal('REFUSED GL_20260302_0001.csv: the control file says 3 lines, the file has 4\nthe control file says debit 1, the lines add up to 12845\n'), {
        file: 'GL_20260302_0001.csv',
        problems: ['the control file says 3 lines, the file has 4', 'the control file says debit 1, the lines add up to 12845'],
      });
      assert.deepStrictEqual(parseRefusal('\uFEFFREFUSED GL_20260302_0002.csv: journal J2 does not balance: debit 100, credit 99\r\n'), {
        file: 'GL_20260302_0002.csv',
        problems: ['journal J2 does not balance: debit 100, credit 99'],
      });
    });

    it('a malformed refusal is one problem holding all its text, never an exception', () => {
      assert.deepStrictEqual(parseRefusal('Finance could not read the file\nsecond line\n'), { problems: ['Finance could not read the file\nsecond line'] });
      assert.deepStrictEqual(parseRefusal('REFUSED GL_20260302_0001.csv:\n'), { problems: ['REFUSED GL_20260302_0001.csv:'] });
      assert.deepStrictEqual(parseRefusal(''), { problems: ['the refusal file is empty'] });
      assert.deepStrictEqual(parseRefusal(undefined as unknown as string), { problems: ['the refusal file is empty'] });
    });
  });

  describe('contract: the real Finance system (simulators/finance.ts) takes what is built', () => {
    let root: string;
    let finance: FinanceSimulator;
    const inbox = () => path.join(root, 'finance', 'in');

    /** As the hub writes: the csv whole, then its control file. */
    const deliver = async (name: string, csv: string, control: string) => {
      await writeFileWhole(path.join(inbox(), name), csv);
      await writeFileWhole(path.join(inbox(), controlFileNameOf(name)), control);
    };

    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-file-'));
      finance = new FinanceSimulator({ root, pollMs: 0 });
    });
    afterEach(async () => {
      await finance.stop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('posts every journal of a built file, field for field, and moves the pair to processed/', async () => {
      const journals = [receipt('PAY-260302000001', 12345), receipt('PAY-260302000002', 500, 'Rent, "Flat 2"\r\nSeacole Court')];
      const built = buildLedgerFile(journals);
      const name = ledgerFileName(new Date('2026-03-02T09:00:00Z'), 1);
      await deliver(name, built.csv, built.control);
      const pass = await finance.processNow();
      assert.deepStrictEqual(pass.processed, [name]);
      assert.deepStrictEqual(finance.state().files, [{ file: name, outcome: 'POSTED', journals: 2, duplicates: [], problems: [] }]);
      assert.deepStrictEqual(
        finance.ledger().map((p) => ({ journalRef: p.journalRef, file: p.file, lines: p.lines })),
        journals.map((j) => ({
          journalRef: j.journalRef,
          file: name,
          lines: j.lines.map((l) => ({
            journalRef: l.journal_ref,
            transactionDate: l.transaction_date,
            costCentre: l.cost_centre,
            accountCode: l.account_code,
            debitPence: l.debit_pence,
            creditPence: l.credit_pence,
            description: l.description,
            sourceRef: l.source_ref,
          })),
        })),
      );
      assert.deepStrictEqual(fs.readdirSync(path.join(inbox(), 'processed')).sort(), [name, controlFileNameOf(name)]);
    });

    it('a bad control line is REFUSED; parseRefusal of its .rej gives the file and the problems', async () => {
      const built = buildLedgerFile([receipt('PAY-260302000001', 12345)]);
      const name = ledgerFileName(new Date('2026-03-02T09:00:00Z'), 2);
      await deliver(name, built.csv, '3,1,12345\r\n');
      await finance.processNow();
      assert.strictEqual(finance.state().files[0].outcome, 'REFUSED');
      assert.deepStrictEqual(finance.ledger(), [], 'nothing of a refused file is posted');
      const rejected = path.join(inbox(), 'rejected');
      const rej = fs.readdirSync(rejected).find((f) => f.endsWith('.rej'))!;
      assert.strictEqual(ledgerFileOf(rej), name);
      assert.deepStrictEqual(parseRefusal(fs.readFileSync(path.join(rejected, rej), 'utf8')), {
        file: name,
        problems: ['the control file says 3 lines, the file has 2', 'the control file says debit 1, the lines add up to 12345'],
      });
    });
  });
});
