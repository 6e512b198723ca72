import assert from 'assert';
import { permanentError } from '../../adapters/errors';
import { Journal } from '../../hub/journal/journal';
import { storeFixtures } from './stores';

/** Many messages in one commit (a payment file's payments), and a refusal kept for the console, on both stores. */
for (const fixture of storeFixtures()) {
  describe(`journal: recording many at once and refusals (${fixture.name})`, () => {
    after(() => fixture.close());

    it('records many messages, each a duplicate or not by itself, in input order', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'hub-a' });
      const input = (ref: string) => ({ source: 'cash-receipting', sourceMessageId: ref, key: `CTX:${ref}`, payload: { transactionRef: ref }, entry: { nodeId: 'file', how: 'send' as const, msg: { payload: { transactionRef: ref } } } });
      const first = await journal.recordMany(Array.from({ length: 1203 }, (_, i) => input(`T${i}`)));
      assert.strictEqual(first.length, 1203);
      assert.ok(first.every((r) => !r.duplicate));
      assert.deepStrictEqual(first.slice(0, 3).map((r) => r.message.sourceMessageId), ['T0', 'T1', 'T2']);
      assert.strictEqual((first[5].message.entry.msg.journal as { messageId: string }).messageId, first[5].message.id);
      const again = await journal.recordMany([input('T7'), input('NEW'), input('T1202')]);
      assert.deepStrictEqual(again.map((r) => r.duplicate), [true, false, true]);
      assert.strictEqual(again[0].message.id, first[7].message.id);
      assert.strictEqual((await journal.store.receivedMessages('hub-a')).length, 1204);
      assert.deepStrictEqual(await journal.recordMany([]), []);
    });

    it('keeps a refused file as a dead letter with its reason, once however often it is refused', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'hub-a' });
      const refusal = {
        source: 'cash-receipting',
        sourceMessageId: 'file:PAY_20261201_004.txt:abc',
        key: 'PAY_20261201_004.txt',
        payload: { file: 'PAY_20261201_004.txt', problems: [{ line: 3, message: 'fund "XXX" is not one of CTX, NDR, HRA, SUN' }] },
        entry: { nodeId: 'file', how: 'receive' as const, msg: { filename: 'PAY_20261201_004.txt' } },
        error: permanentError('PAYMENT_FILE_REFUSED', 'PAY_20261201_004.txt refused whole, nothing posted: 1 problem'),
        where: { nodeId: 'file', nodeType: 'payment-file', nodeName: 'PAY_20261201_004.txt' },
      };
      const first = await journal.refuse(refusal);
      assert.strictEqual(first.duplicate, false);
      assert.strictEqual(first.delivery?.status, 'dead');
      assert.strictEqual(first.delivery?.target, 'hub');
      assert.strictEqual(first.delivery?.lastError?.code, 'PAYMENT_FILE_REFUSED');
      assert.strictEqual(first.delivery?.lastError?.nodeType, 'payment-file');
      const again = await journal.refuse(refusal);
      assert.strictEqual(again.duplicate, true);
      assert.strictEqual(again.message.id, first.message.id);
      const dead = await journal.store.listDeliveries({ status: ['dead'] });
      assert.strictEqual(dead.total, 1);
    });
  });
}
