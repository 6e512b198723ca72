import assert from 'assert';
import helper from 'node-red-node-test-helper';
import paymentFileNode from '../../nodes/payment-file/payment-file';
import { detailRecord, headerRecord, trailerRecord, type Payment } from '../../simulators/payments';
import { eachTestPort, type testPort } from '../support/test-port';

helper.init(require.resolve('node-red'));
const catchNode = require('@node-red/nodes/core/common/25-catch');

/** The payment-file node with the hub's port over real stores (journal and register in SQLite). */
describe('payment-file node (journal and payment register in SQLite)', function () {
  this.timeout(30000);
  let hub: ReturnType<typeof testPort>;
  eachTestPort(helper, (port) => (hub = port));

  const payment = (n: number, over: Partial<Payment> = {}): Payment => ({
    transactionRef: `TX${String(n).padStart(8, '0')}`, date: '2026-12-01', time: '10:15:00', fund: 'CTX', accountRef: `60${String(n).padStart(6, '0')}`, amountPence: 1000 + n, channel: 'T', authCode: 'AB12CD', ...over,
  });
  const fileOf = (sequence: number, payments: Payment[], trailerTotal?: number) =>
    Buffer.from([headerRecord('2026-12-01', sequence, 'CASHRCPT01'), ...payments.map(detailRecord), trailerRecord(payments.length, trailerTotal ?? payments.reduce((s, p) => s + p.amountPence, 0))].join('\n') + '\n');
  const name = (sequence: number) => `PAY_20261201_${String(sequence).padStart(3, '0')}.txt`;

  async function load() {
    await helper.load([paymentFileNode as any, catchNode], [
      { id: 'file', type: 'payment-file', window: '10', wires: [['each'], ['report']] },
      { id: 'each', type: 'helper' },
      { id: 'report', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['file'], wires: [['failed']] },
      { id: 'failed', type: 'helper' },
    ]);
  }

  /** Sends a file in; resolves with its report, the payments sent on, and the error if it failed. */
  function take(filename: string, payload: Buffer, recovered = false, expectPayments = 0): Promise<{ report: any; payments: any[]; error?: any }> {
    return new Promise((resolve) => {
      const payments: any[] = [];
      let report: any;
      let error: any;
      const finish = () => {
        if (report && (error || payments.length >= expectPayments)) resolve({ report, payments, error });
      };
      helper.getNode('each').on('input', (m: any) => {
        payments.push(m);
        finish();
      });
      helper.getNode('report').once('input', (m: any) => {
        report = m.payload;
        setTimeout(finish, expectPayments ? 0 : 100);
      });
      helper.getNode('failed').once('input', (m: any) => {
        error = m.error;
        finish();
      });
      helper.getNode('file').receive({ payload: payload, filename, sftp: { name: filename, recovered } });
    });
  }

  it('stores every payment of a good file, remembers the file, and sends each payment on', async () => {
    await load();
    const payments = Array.from({ length: 25 }, (_, i) => payment(i + 1));
    const { report, payments: sent, error } = await take(name(1), fileOf(1, payments), false, 25);
    assert.strictEqual(error, undefined);
    assert.strictEqual(report.outcome, 'accepted');
    assert.strictEqual(report.payments, 25);
    assert.strictEqual(report.totalPence, payments.reduce((s, p) => s + p.amountPence, 0));
    assert.deepStrictEqual(sent.map((m) => m.payload.transactionRef), payments.map((p) => p.transactionRef));
    assert.deepStrictEqual(sent[0].payload, {
      eventType: 'payment.received', source: 'cash-receipting', transactionRef: 'TX00000001', receivedAt: '2026-12-01T10:15:00+00:00', fund: 'CTX', accountRef: '60000001', amountPence: 1001, channel: 'T', authCode: 'AB12CD', file: { name: name(1), line: 2 },
    });
    assert.ok(await hub.port.journal!.isStored(sent[3].journal.messageId));
    const register = hub.port.payments!;
    assert.strictEqual((await register.fileWithSequence({ sourceId: 'CASHRCPT01', fileDate: '2026-12-01', sequence: 1 }))?.payments, 25);
    assert.strictEqual((await register.knownTransactionRefs(['TX00000025'])).get('TX00000025'), name(1));
  });

  it('refuses a faulty file whole: every problem by line in the reason, nothing stored, a dead letter for the console', async () => {
    await load();
    const payments = [payment(1), payment(2, { fund: 'XXX' as never }), payment(3, { amountPence: 5 })];
    const { report, payments: sent, error } = await take(name(2), fileOf(2, payments, 1), false);
    assert.strictEqual(report.outcome, 'refused');
    assert.strictEqual(sent.length, 0);
    assert.match(error.message, /^(HubError: )?PAY_20261201_002\.txt refused whole, nothing posted: 2 problems \(line 3: fund "XXX"/);
    const dead = await hub.journal.store.listDeliveries({ status: ['dead'] });
    assert.strictEqual(dead.total, 1);
    assert.strictEqual(dead.items[0].lastError?.code, 'PAYMENT_FILE_REFUSED');
    const kept = await hub.journal.store.getMessage(dead.items[0].messageId);
    assert.deepStrictEqual((kept?.payload as any).problems.map((p: any) => p.line), [3, 5]);
    assert.strictEqual((await hub.journal.store.listMessages({ source: 'cash-receipting' })).total, 1, 'only the refusal is kept');
    assert.strictEqual((await hub.port.payments!.knownTransactionRefs(['TX00000001'])).size, 0);
  });

  /** The problems the console keeps for the refused file of that name (the newest refusal). */
  async function keptProblems(file: string): Promise<string[]> {
    const kept = (await hub.journal.store.listMessages({ source: 'cash-receipting', key: file })).items[0];
    return ((kept?.payload as any)?.problems ?? []).map((p: any) => `line ${p.line}: ${p.message}`);
  }

  it('refuses a file whose sequence or transaction refs an earlier file had, naming it', async () => {
    await load();
    await take(name(3), fileOf(3, [payment(1), payment(2)]), false, 2);
    const repeatedRef = await take(name(4), fileOf(4, [payment(9), payment(2)]), false);
    assert.strictEqual(repeatedRef.report.outcome, 'refused');
    assert.deepStrictEqual(await keptProblems(name(4)), ['line 3: transaction ref TX00000002 was already posted from PAY_20261201_003.txt']);
    const repeatedSequence = await take(name(3), fileOf(3, [payment(11)]), false);
    assert.strictEqual(repeatedSequence.report.outcome, 'refused');
    assert.match((await keptProblems(name(3)))[0], /^line 1: file sequence 003 of 2026-12-01 from CASHRCPT01 was already taken: another file, PAY_20261201_003\.txt/);
    // The same bytes dropped again by a person (not a recovery) are a repeat too.
    const again = await take(name(3), fileOf(3, [payment(1), payment(2)]), false);
    assert.strictEqual(again.report.outcome, 'refused');
    assert.strictEqual((await hub.journal.store.listDeliveries({ status: ['dead'] })).total, 3);
  });

  it('knows a file it accepted when a restart offers it again from processing/, and posts nothing twice', async () => {
    await load();
    const bytes = fileOf(5, [payment(21), payment(22)]);
    await take(name(5), bytes, false, 2);
    const offeredAgain = await take(name(5), bytes, true);
    assert.strictEqual(offeredAgain.error, undefined);
    assert.strictEqual(offeredAgain.report.outcome, 'already-posted');
    assert.strictEqual(offeredAgain.payments.length, 0);
    assert.strictEqual((await hub.journal.store.listMessages({ source: 'cash-receipting' })).total, 2);
  });

  it('says what is missing when the message carries no file', async () => {
    await load();
    const failed = new Promise<any>((resolve) => helper.getNode('failed').once('input', resolve));
    helper.getNode('file').receive({ filename: name(6), sftp: { name: name(6) } });
    assert.match((await failed).error.message, /has no content here; the hub does not keep a file's bytes/);
  });
});
