import assert from 'assert';
import { createHash } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Readable } from 'stream';
import { CashPayment, PaymentFileProblem, paymentFileNameParts, readPaymentFile, refusalReason } from '../../adapters/payments/cash-receipting';
import { Payment, PaymentsSimulator, detailRecord, headerRecord, trailerRecord } from '../../simulators/payments';
import { generatePopulation } from '../../simulators/population';

const FUNDS = ['CTX', 'NDR', 'HRA', 'SUN'] as const;
const NAME = 'PAY_20260302_001.txt';

const read = (content: NodeJS.ReadableStream | Buffer | string, options: { name?: string; maxProblems?: number; maxLineLength?: number } = {}) =>
  readPaymentFile(content, { name: NAME, funds: FUNDS, ...options });

/** The problems as `<line>: <message>`, so a failing test shows the whole list. */
const problemsOf = (reading: { problems: PaymentFileProblem[] }) => reading.problems.map((p) => `${p.line}: ${p.message}`);

const payment = (n: number, over: Partial<Payment> = {}): Payment => ({
  transactionRef: `26030200000${n}`.slice(-12),
  date: '2026-03-02',
  time: '09:15:30',
  fund: 'CTX',
  accountRef: `50000000${String(n).padStart(2, '0')}`,
  amountPence: 1000 * n + 23,
  channel: 'T',
  authCode: 'AB12CD',
  ...over,
});

/** A good file's records: header, one detail per payment, a trailer that matches. */
const records = (payments: Payment[], date = '2026-03-02', sequence = 1) => [
  headerRecord(date, sequence, 'CASHRCPT01'),
  ...payments.map(detailRecord),
  trailerRecord(
    payments.length,
    payments.reduce((sum, p) => sum + p.amountPence, 0),
  ),
];
const file = (lines: string[], eol = '\n') => lines.join(eol) + eol;
/** A record with `text` written over it from `at` (0-based), same width. */
const overwrite = (record: string, at: number, text: string) => record.slice(0, at) + text + record.slice(at + text.length);
const withoutLine = (payments: CashPayment[]) => payments.map(({ line: _line, ...rest }) => rest);

describe('cash receipting payment files', () => {
  describe('files written by the payments system (simulators/payments.ts)', function () {
    this.timeout(20000);
    const population = generatePopulation({ seed: 'cash-receipting-tests', properties: 2000 });
    let root: string;
    let system: PaymentsSimulator;

    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'cash-receipting-'));
      system = new PaymentsSimulator({ root, population });
    });
    afterEach(async () => {
      await system.stop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('reads a good file: every payment with its fields and line, the header, the trailer, the totals and the hash', async () => {
      const written = await system.writeFile({ date: '2026-03-02', count: 25 });
      const bytes = fs.readFileSync(written.path);
      const reading = await read(fs.createReadStream(written.path), { name: written.name });
      assert.deepStrictEqual(reading.problems, []);
      assert.strictEqual(reading.moreProblems, 0);
      assert.strictEqual(reading.name, 'PAY_20260302_001.txt');
      assert.deepStrictEqual(reading.header, { fileDate: '2026-03-02', sequence: 1, sourceId: 'CASHRCPT01' });
      assert.deepStrictEqual(reading.trailer, { count: 25, totalPence: written.totalPence });
      assert.deepStrictEqual(withoutLine(reading.payments), written.payments);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        Array.from({ length: 25 }, (_, i) => i + 2),
      );
      assert.strictEqual(reading.totalPence, written.totalPence);
      assert.strictEqual(reading.bytes, bytes.length);
      assert.strictEqual(reading.lines, 27);
      assert.strictEqual(reading.sha256, createHash('sha256').update(bytes).digest('hex'));
    });

    it('reads a CRLF file as the same payments', async () => {
      const written = await system.writeFile({ date: '2026-03-02', count: 8, lineEnding: 'CRLF' });
      const bytes = fs.readFileSync(written.path);
      assert.ok(bytes.includes('\r\n'), 'the system wrote CRLF');
      const reading = await read(bytes, { name: written.name });
      assert.deepStrictEqual(reading.problems, []);
      assert.deepStrictEqual(withoutLine(reading.payments), written.payments);
      assert.strictEqual(reading.lines, 10);
    });

    it('bad-record: names the malformed record and its bad fields, and leaves that payment out', async () => {
      const written = await system.writeFile({ date: '2026-03-02', count: 5, fault: 'bad-record' });
      const reading = await read(fs.createReadStream(written.path), { name: written.name });
      assert.deepStrictEqual(problemsOf(reading), ['3: fund "XXX" is not one of CTX, NDR, HRA, SUN', '3: amount "000000000A0" is not 11 digits of pence']);
      assert.deepStrictEqual(withoutLine(reading.payments), written.payments.filter((_, i) => i !== 1));
    });

    it('wrong-count: the trailer count against the detail records', async () => {
      const written = await system.writeFile({ date: '2026-03-02', count: 5, fault: 'wrong-count' });
      const reading = await read(fs.createReadStream(written.path), { name: written.name });
      assert.deepStrictEqual(problemsOf(reading), ['7: trailer detail count 6 is not the 5 detail records in the file']);
      assert.deepStrictEqual(reading.trailer, { count: 6, totalPence: written.totalPence });
    });

    it('wrong-total: the trailer total against the detail records', async () => {
      const written = await system.writeFile({ date: '2026-03-02', count: 5, fault: 'wrong-total' });
      const reading = await read(fs.createReadStream(written.path), { name: written.name });
      assert.deepStrictEqual(problemsOf(reading), [`7: trailer total ${written.totalPence + 1} is not the detail records' total ${written.totalPence}`]);
      assert.strictEqual(reading.totalPence, written.totalPence);
    });

    it('repeated-sequence: the file itself is clean and carries the header sequence for the store to check', async () => {
      const first = await system.writeFile({ date: '2026-03-02', count: 3 });
      const again = await system.writeFile({ date: '2026-03-02', count: 3, fault: 'repeated-sequence' });
      assert.strictEqual(again.sequence, first.sequence);
      const reading = await read(fs.createReadStream(again.path), { name: again.name });
      assert.deepStrictEqual(reading.problems, []);
      assert.strictEqual(reading.header?.sequence, first.sequence);
      assert.deepStrictEqual(withoutLine(reading.payments), again.payments);
    });

    it('repeated-transaction: the file itself is clean and carries the refs for the store to check', async () => {
      const first = await system.writeFile({ date: '2026-03-02', count: 3 });
      const again = await system.writeFile({ date: '2026-03-02', count: 3, fault: 'repeated-transaction' });
      const reading = await read(fs.createReadStream(again.path), { name: again.name });
      assert.deepStrictEqual(reading.problems, []);
      assert.strictEqual(reading.payments[0].transactionRef, first.payments[2].transactionRef, 'the earlier file’s last ref, repeated');
      assert.deepStrictEqual(
        reading.payments.map((p) => p.transactionRef),
        again.payments.map((p) => p.transactionRef),
      );
    });
  });

  describe('line ends', () => {
    const payments = [payment(1), payment(2, { fund: 'HRA', channel: 'C', authCode: '' }), payment(3)];
    const expected: CashPayment[] = [
      { transactionRef: '260302000001', date: '2026-03-02', time: '09:15:30', fund: 'CTX', accountRef: '5000000001', amountPence: 1023, channel: 'T', authCode: 'AB12CD', line: 2 },
      { transactionRef: '260302000002', date: '2026-03-02', time: '09:15:30', fund: 'HRA', accountRef: '5000000002', amountPence: 2023, channel: 'C', authCode: '', line: 3 },
      { transactionRef: '260302000003', date: '2026-03-02', time: '09:15:30', fund: 'CTX', accountRef: '5000000003', amountPence: 3023, channel: 'T', authCode: 'AB12CD', line: 4 },
    ];
    const lines = records(payments);

    for (const [label, content] of [
      ['LF', file(lines, '\n')],
      ['CRLF', file(lines, '\r\n')],
      ['mixed LF and CRLF', `${lines[0]}\r\n${lines[1]}\n${lines[2]}\r\n${lines[3]}\n${lines[4]}\r\n`],
      ['no final line end', lines.join('\r\n')],
    ]) {
      it(`${label}: the same payments, exact fields`, async () => {
        const reading = await read(content);
        assert.deepStrictEqual(reading.problems, []);
        assert.deepStrictEqual(reading.payments, expected);
        assert.strictEqual(reading.totalPence, 6069);
        assert.deepStrictEqual(reading.trailer, { count: 3, totalPence: 6069 });
        assert.strictEqual(reading.lines, 5);
        assert.strictEqual(reading.bytes, Buffer.byteLength(content));
      });
    }
  });

  describe('every problem, with its line, naming the field and the value', () => {
    it('a file name that is not PAY_<yyyyMMdd>_<nnn>.txt is a problem of the file', async () => {
      const reading = await read(file(records([payment(1)])), { name: 'payments.txt' });
      assert.deepStrictEqual(problemsOf(reading), ['0: file name "payments.txt" is not PAY_<yyyyMMdd>_<nnn>.txt with a real date and a sequence 001-999']);
      assert.strictEqual(reading.payments.length, 1, 'the records themselves are fine');
    });

    it("the file name's date and sequence must be the header's", async () => {
      const reading = await read(file(records([payment(1)])), { name: 'PAY_20260303_002.txt' });
      assert.deepStrictEqual(problemsOf(reading), ["1: header file date 2026-03-02 is not the file name's 2026-03-03", "1: header file sequence 1 is not the file name's 2"]);
    });

    it('header fields: a real date, a sequence 001-999, a source id', async () => {
      const lines = records([payment(1)]);
      lines[0] = 'H20260230000          ';
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['1: header file date "20260230" is not a real date yyyyMMdd', '1: header file sequence "000" is not 001-999', '1: header source id "          " is blank']);
      assert.strictEqual(reading.header, undefined);
    });

    it('a header of the wrong width says the width expected and found', async () => {
      const lines = records([payment(1)]);
      lines[0] = 'H20260302001CASH';
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['1: header record is 16 characters, expected 22']);
    });

    it('detail fields, each on its own line', async () => {
      const good = (n: number) => detailRecord(payment(n));
      const lines = [
        headerRecord('2026-03-02', 1, 'CASHRCPT01'),
        overwrite(good(1), 1, '            '), // 2: transaction ref blank
        overwrite(good(2), 1, 'AB CD       '), // 3: inner space
        overwrite(good(3), 13, '20260230'), // 4: no 30 February
        overwrite(good(4), 21, '246000'), // 5: no hour 24
        overwrite(good(5), 27, 'XXX'), // 6: fund
        overwrite(good(6), 30, '               '), // 7: account ref blank
        overwrite(good(7), 30, ' 5000000007    '), // 8: account ref not left-aligned
        overwrite(good(8), 45, '00000000000'), // 9: amount 0
        overwrite(good(9), 45, '0000001234 '), // 10: amount not digits
        overwrite(good(10), 56, 'X'), // 11: channel
        overwrite(good(11), 57, '  AB12CD'), // 12: auth code not left-aligned
        good(12), // 13: good
      ];
      const goodTotal = Array.from({ length: 12 }, (_, i) => payment(i + 1).amountPence).reduce((a, b) => a + b, 0);
      // The trailer counts every detail record; line 10's amount cannot be read, so its total is not checked.
      lines.push(trailerRecord(12, goodTotal));
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), [
        '2: transaction ref is blank',
        '3: transaction ref "AB CD       " must be left-aligned without spaces inside',
        '4: date "20260230" is not a real date yyyyMMdd',
        '5: time "246000" is not a time HHmmss',
        '6: fund "XXX" is not one of CTX, NDR, HRA, SUN',
        '7: account ref is blank',
        '8: account ref " 5000000007    " is not left-aligned',
        '9: amount "00000000000" is not above 0',
        '10: amount "0000001234 " is not 11 digits of pence',
        '11: channel "X" is not one of T, W, C, K',
        '12: auth code "  AB12CD" must be left-aligned without spaces inside',
      ]);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [13],
        'only the good record is a payment',
      );
      assert.strictEqual(reading.totalPence, payment(12).amountPence);
    });

    it('the funds are the ones given', async () => {
      const reading = await readPaymentFile(file(records([payment(1), payment(2, { fund: 'NDR' })])), { name: NAME, funds: ['NDR'] });
      assert.deepStrictEqual(problemsOf(reading), ['2: fund "CTX" is not one of NDR']);
    });

    it('detail records of the wrong width say the width expected and found', async () => {
      const lines = records([payment(1), payment(2), payment(3)]);
      lines[1] = lines[1].slice(0, 64);
      lines[3] = `${lines[3]}X`;
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['2: detail record is 64 characters, expected 65', '4: detail record is 66 characters, expected 65']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [3],
      );
    });

    it('trailer fields and width', async () => {
      const badFields = records([payment(1)]);
      badFields[2] = 'T00000x1000000000102 ';
      assert.deepStrictEqual(problemsOf(await read(file(badFields))), ['3: trailer detail count "00000x1" is not 7 digits', '3: trailer total "000000000102 " is not 13 digits of pence']);
      const narrow = records([payment(1)]);
      narrow[2] = 'T0000001';
      assert.deepStrictEqual(problemsOf(await read(file(narrow))), ['3: trailer record is 8 characters, expected 21']);
    });

    it('no header, and a detail first', async () => {
      const lines = records([payment(1), payment(2)]).slice(1);
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['0: no header record (H)', '1: the first record is "D", not a header (H)']);
      assert.strictEqual(reading.header, undefined);
    });

    it('no trailer', async () => {
      const lines = records([payment(1), payment(2)]).slice(0, -1);
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['0: no trailer record (T)']);
      assert.strictEqual(reading.trailer, undefined);
    });

    it('a header after the first record, and a second header', async () => {
      const notFirst = records([payment(1)]);
      [notFirst[0], notFirst[1]] = [notFirst[1], notFirst[0]];
      assert.deepStrictEqual(problemsOf(await read(file(notFirst))), ['1: the first record is "D", not a header (H)', '2: the header record is not the first record']);
      const twice = records([payment(1), payment(2)]);
      twice.splice(2, 0, headerRecord('2026-03-02', 1, 'CASHRCPT01'));
      assert.deepStrictEqual(problemsOf(await read(file(twice))), ['3: a second header record (the first is on line 1)']);
    });

    it('records after the trailer, and a second trailer', async () => {
      const lines = [...records([payment(1)]), detailRecord(payment(2)), trailerRecord(2, payment(1).amountPence + payment(2).amountPence)];
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['4: a record after the trailer (line 3)', '5: a second trailer record (the first is on line 3)']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [2],
        'a payment after the trailer is not taken',
      );
      assert.deepStrictEqual(reading.trailer, { count: 1, totalPence: payment(1).amountPence });
    });

    it('an unknown record type', async () => {
      const lines = records([payment(1), payment(2)]);
      lines.splice(2, 0, 'X' + ' '.repeat(20));
      assert.deepStrictEqual(problemsOf(await read(file(lines))), ['3: unknown record type "X" (expected H, D or T)']);
    });

    it('blank lines: in the middle and at the end (LF and CRLF); one final line end is fine', async () => {
      const lines = records([payment(1), payment(2)]);
      const content = `${lines[0]}\n\n${lines[1]}\r\n   \r\n${lines[2]}\n${lines[3]}\r\n\r\n`;
      const reading = await read(content);
      assert.deepStrictEqual(problemsOf(reading), ['2: blank line', '4: blank line', '7: blank line']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [3, 5],
      );
      assert.strictEqual(reading.lines, 7);
    });

    it('non-ASCII bytes and control characters, by column; the payment is left out', async () => {
      const lines = records([payment(1), payment(2), payment(3)]);
      const bytes = Buffer.from(file(lines), 'latin1');
      const detail2 = lines[0].length + 1 + lines[1].length + 1;
      bytes[detail2 + 60] = 0xe9; // é in latin1, inside the auth code
      const detail3 = detail2 + lines[2].length + 1;
      bytes[detail3 + 41] = 0x09; // a tab inside the account ref's padding
      const reading = await read(bytes);
      assert.deepStrictEqual(problemsOf(reading), ['3: non-ASCII byte 0xE9 at column 61', '4: control character 0x09 at column 42']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [2],
      );
    });

    it('UTF-8 text is non-ASCII (and makes the record too wide)', async () => {
      const lines = records([payment(1, { accountRef: 'Siân' })]);
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['2: non-ASCII byte 0xC3 at column 33', '2: detail record is 66 characters, expected 65']);
    });

    it('a transaction ref repeated within the file names the line of its first appearance', async () => {
      const lines = records([payment(1), payment(2), payment(1, { accountRef: '5000000099' }), payment(1, { amountPence: 5 })]);
      const reading = await read(file(lines));
      assert.deepStrictEqual(problemsOf(reading), ['4: transaction ref "260302000001" is repeated (first on line 2)', '5: transaction ref "260302000001" is repeated (first on line 2)']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [2, 3],
      );
    });

    it('an empty file', async () => {
      for (const empty of ['', Buffer.alloc(0), Readable.from([])]) {
        const reading = await read(empty);
        assert.deepStrictEqual(problemsOf(reading), ['0: the file is empty']);
        assert.strictEqual(reading.bytes, 0);
        assert.strictEqual(reading.lines, 0);
        assert.strictEqual(reading.sha256, createHash('sha256').digest('hex'));
      }
    });

    it('a line longer than maxLineLength is a problem, and only it', async () => {
      const lines = records([payment(1), payment(2)]);
      lines.splice(2, 0, 'D' + '9'.repeat(4999));
      lines[4] = trailerRecord(3, payment(1).amountPence + payment(2).amountPence);
      const reading = await read(file(lines, '\r\n'), { maxLineLength: 100 });
      assert.deepStrictEqual(problemsOf(reading), ['3: line is 5000 characters, longer than the limit of 100']);
      assert.deepStrictEqual(
        reading.payments.map((p) => p.line),
        [2, 4],
      );
    });

    it('a 256 MB line without a line end is measured, never held', async function () {
      this.timeout(60000);
      const chunk = Buffer.alloc(64 * 1024, 'D');
      const chunks = 4096;
      const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const start = memory();
      let peak = start;
      const stream = Readable.from(
        (function* () {
          for (let i = 0; i < chunks; i++) {
            if (i % 128 === 0) peak = Math.max(peak, memory());
            yield chunk;
          }
        })(),
      );
      const reading = await read(stream);
      assert.deepStrictEqual(problemsOf(reading), ['0: no header record (H)', '0: no trailer record (T)', '1: line is 268435456 characters, longer than the limit of 1000', '1: the first record is "D", not a header (H)']);
      assert.strictEqual(reading.bytes, chunk.length * chunks);
      assert.ok(peak - start < 64 * 1024 * 1024, `memory grew by ${Math.round((peak - start) / 1048576)} MB reading one long line`);
    });
  });

  it('a 100,000-record file fed in odd-sized chunks, split mid-line, gives every payment and the right total', async function () {
    this.timeout(60000);
    const parts: string[] = [headerRecord('2026-03-02', 1, 'CASHRCPT01')];
    let total = 0;
    for (let i = 1; i <= 100000; i++) {
      const p = payment(i, { transactionRef: `T${String(i).padStart(11, '0')}`, amountPence: (i % 49999) + 1, fund: FUNDS[i % 4], accountRef: `ACC${i}` });
      total += p.amountPence;
      parts.push(detailRecord(p));
    }
    parts.push(trailerRecord(100000, total));
    const bytes = Buffer.from(file(parts, '\r\n'));
    const sizes = [1, 7, 66, 4093, 13, 65537, 2];
    const stream = Readable.from(
      (function* () {
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length];
          yield bytes.subarray(at, at + size);
          at += size;
        }
      })(),
    );
    const reading = await read(stream);
    assert.deepStrictEqual(reading.problems, []);
    assert.strictEqual(reading.payments.length, 100000);
    assert.strictEqual(reading.totalPence, total);
    assert.deepStrictEqual(reading.trailer, { count: 100000, totalPence: total });
    assert.strictEqual(reading.lines, 100002);
    assert.strictEqual(reading.sha256, createHash('sha256').update(bytes).digest('hex'));
    const last = reading.payments[99999];
    assert.deepStrictEqual(last, { transactionRef: 'T00000100000', date: '2026-03-02', time: '09:15:30', fund: 'CTX', accountRef: 'ACC100000', amountPence: (100000 % 49999) + 1, channel: 'T', authCode: 'AB12CD', line: 100001 });
  });

  it('20,000 bad lines with maxProblems 100: lists the first 100 and counts the rest', async function () {
    this.timeout(30000);
    const payments = Array.from({ length: 20000 }, (_, i) => payment(i + 1, { transactionRef: `T${String(i + 1).padStart(11, '0')}`, fund: 'XXX' as Payment['fund'] }));
    const reading = await read(file(records(payments)), { maxProblems: 100 });
    assert.strictEqual(reading.problems.length, 100);
    assert.strictEqual(reading.moreProblems, 19900);
    assert.deepStrictEqual(
      reading.problems.map((p) => p.line),
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
    assert.ok(reading.problems.every((p) => p.message === 'fund "XXX" is not one of CTX, NDR, HRA, SUN'));
    assert.strictEqual(reading.payments.length, 0);
    const reason = refusalReason(reading.name, reading.problems, reading.moreProblems).split('\n');
    assert.strictEqual(reason[0], `REJECTED ${NAME}: 20000 problems`);
    assert.strictEqual(reason[101], '... and 19900 more problems');
    assert.strictEqual(reason.length, 103, 'the first line, 100 problems, the count of the rest, a final line end');
  });

  it('refusalReason: the count, one line per problem (line 0 as file:), the rest counted', () => {
    const problems = [
      { line: 0, message: 'no trailer record (T)' },
      { line: 3, message: 'fund "XXX" is not one of CTX, NDR, HRA, SUN' },
    ];
    assert.strictEqual(refusalReason(NAME, problems), `REJECTED ${NAME}: 2 problems\nfile: no trailer record (T)\nline 3: fund "XXX" is not one of CTX, NDR, HRA, SUN\n`);
    assert.strictEqual(refusalReason(NAME, problems.slice(1)), `REJECTED ${NAME}: 1 problem\nline 3: fund "XXX" is not one of CTX, NDR, HRA, SUN\n`);
    assert.strictEqual(refusalReason(NAME, problems, 5), `REJECTED ${NAME}: 7 problems\nfile: no trailer record (T)\nline 3: fund "XXX" is not one of CTX, NDR, HRA, SUN\n... and 5 more problems\n`);
  });

  it('paymentFileNameParts: PAY_<yyyyMMdd>_<nnn>.txt with a real date and a sequence 001-999', () => {
    assert.deepStrictEqual(paymentFileNameParts('PAY_20260302_001.txt'), { fileDate: '2026-03-02', sequence: 1 });
    assert.deepStrictEqual(paymentFileNameParts('PAY_20240229_999.txt'), { fileDate: '2024-02-29', sequence: 999 });
    for (const bad of ['PAY_20250229_001.txt', 'PAY_20260302_000.txt', 'PAY_20260302_01.txt', 'PAY_20260302_001.TXT', 'payments/out/PAY_20260302_001.txt', 'PAY_20260302_001.txt.part', 'PAY_2026032_001.txt']) {
      assert.strictEqual(paymentFileNameParts(bad), undefined, bad);
    }
  });
});
