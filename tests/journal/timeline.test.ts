import assert from 'assert';
import { Journal } from '../../hub/journal/journal';
import { storeFixtures } from './stores';

/**
 * A timeline (case updates, payments): every entry is delivered, one at a time in the order
 * they happened, and none is superseded; one that arrives late is still delivered. On both stores.
 */
for (const fixture of storeFixtures()) {
  describe(`timeline deliveries (${fixture.name} journal)`, () => {
    after(() => fixture.close());

    function setup() {
      const journal = new Journal({ store: fixture.open(), instance: 'test' });
      const runs: string[] = [];
      journal.on('run', (task) => runs.push(task.delivery!.id));
      const update = async (key: string, order: number, answersLater = false) => {
        const { message } = await journal.record({ source: 'planning', sourceMessageId: `${key}-${order}`, key, payload: { order }, entry: { nodeId: 'j', how: 'send', msg: {} } });
        const retry = { maxAttempts: 3, initialDelayMs: 0, maxDelayMs: 0, unclassified: 'transient' as const };
        return (await journal.startDelivery({ messageId: message.id, target: answersLater ? 'finance' : 'crm', key, nodeId: 'd', msg: {}, order, retry, mode: { timeline: true, answersLater } })).delivery;
      };
      return { journal, runs, update };
    }

    it('holds later entries while one is in flight and sends them oldest first, superseding none', async () => {
      const { journal, runs, update } = setup();
      const first = await update('planning:26/00001/FUL', 10);
      const third = await update('planning:26/00001/FUL', 30);
      const second = await update('planning:26/00001/FUL', 20);
      assert.deepStrictEqual([first.status, third.status, second.status], ['in-flight', 'pending', 'pending']);
      await journal.settle(first.id, 'delivered');
      assert.deepStrictEqual(runs, [second.id], 'the oldest waiting entry goes next');
      assert.strictEqual((await journal.store.getDelivery(third.id))?.status, 'pending', 'the other waits its turn');
      await journal.settle(second.id, 'delivered');
      assert.deepStrictEqual(runs, [second.id, third.id]);
      await journal.settle(third.id, 'delivered');
      const statuses = await Promise.all([first, second, third].map(async (d) => (await journal.store.getDelivery(d.id))!.status));
      assert.deepStrictEqual(statuses, ['delivered', 'delivered', 'delivered']);
    });

    it('still delivers an entry that arrives after a newer one was delivered', async () => {
      const { journal, update } = setup();
      const newer = await update('housing:J1', 20);
      await journal.settle(newer.id, 'delivered');
      const late = await update('housing:J1', 10);
      assert.strictEqual(late.status, 'in-flight', 'not superseded: a timeline keeps every entry');
    });

    it('keeps the order while an entry is retried, and lets the next ones go once it is dead (it waits for a person)', async () => {
      const { journal, runs, update } = setup();
      const first = await update('planning:26/00002/FUL', 10);
      const second = await update('planning:26/00002/FUL', 20);
      await journal.fail(first.id, Object.assign(new Error('CRM unavailable'), { transient: true }), {}, first.resume!);
      assert.strictEqual((await journal.store.getDelivery(first.id))?.status, 'failed');
      assert.strictEqual((await journal.store.getDelivery(second.id))?.status, 'pending', 'waits behind the retry');
      assert.deepStrictEqual(runs, []);
      const third = await update('planning:26/00002/FUL', 30);
      assert.strictEqual(third.status, 'pending', 'a new entry waits too, and supersedes nothing');
      const claimed = await journal.claimDue(10);
      assert.deepStrictEqual(claimed.map((d) => d.id), [first.id], 'only the entry being retried runs again');
      assert.deepStrictEqual(runs, [first.id]);
      const dead = await journal.fail(first.id, Object.assign(new Error('CaseNotFound'), { transient: false }), {}, first.resume!);
      assert.strictEqual(dead?.status, 'dead', 'dead, not superseded');
      assert.deepStrictEqual(runs, [first.id, second.id], 'the next entry goes');
      assert.strictEqual((await journal.store.getDelivery(third.id))?.status, 'pending');
    });

    it('can replay an old entry although newer ones exist (nothing in a timeline is overwritten)', async () => {
      const { journal, update } = setup();
      const old = await update('housing:J2', 10);
      await journal.fail(old.id, Object.assign(new Error('bad status'), { transient: false }), {}, old.resume!);
      const newer = await update('housing:J2', 20);
      await journal.settle(newer.id, 'delivered');
      const replayed = await journal.replay(old.id, { from: 'failed-node', actor: 'support', reason: 'CRM fixed' });
      assert.strictEqual(replayed.runs, old.id);
    });

    it('at a target that answers later, keeps the next entries waiting behind a dead one until a person replays or discards it', async () => {
      const { journal, runs, update } = setup();
      const payment = await update('pay-1', 10, true);
      const refund = await update('pay-1', 20, true);
      assert.strictEqual(refund.status, 'pending');
      // Finance refused the payment's file: dead, and the refund must not go before it.
      await journal.answer(payment.id, { outcome: 'rejected', error: Object.assign(new Error('REFUSED GL_1.csv: period closed'), { transient: false }) });
      assert.strictEqual((await journal.store.getDelivery(payment.id))?.status, 'dead');
      assert.strictEqual((await journal.store.getDelivery(refund.id))?.status, 'pending', 'the refund waits for its payment');
      const later = await update('pay-1', 30, true);
      assert.strictEqual(later.status, 'pending', 'a new entry waits too');
      assert.deepStrictEqual(runs, []);
      // A replay is not stopped by the entries waiting behind it; they go once it is delivered.
      const replayed = await journal.replay(payment.id, { from: 'failed-node', actor: 'support', reason: 'period reopened' });
      assert.strictEqual(replayed.runs, payment.id);
      await journal.settle(payment.id, 'delivered');
      assert.deepStrictEqual(runs, [payment.id, refund.id]);

      const other = await update('pay-2', 10, true);
      const otherRefund = await update('pay-2', 20, true);
      await journal.answer(other.id, { outcome: 'rejected', error: Object.assign(new Error('refused'), { transient: false }) });
      await journal.discard(other.id, { actor: 'support', reason: 'taken by hand in the ledger' });
      assert.deepStrictEqual(runs.slice(-1), [otherRefund.id], 'discarding the dead one lets the next go');
    });
  });
}
