import assert from 'assert';
import { Journal } from '../../hub/journal/journal';
import { permanentError } from '../../adapters/errors';
import type { JournalStore } from '../../hub/journal/types';
import { storeFixtures } from './stores';

/**
 * A target that answers later (Revenues' ack files): deliveries handed over are
 * awaiting-answer until the answer comes, or their time limit passes. On both stores.
 */
for (const fixture of storeFixtures()) {
  describe(`deliveries awaiting a target's answer (${fixture.name} journal)`, () => {
    after(() => fixture.close());

    async function started(journal: Journal, key: string, order?: number) {
      const { message } = await journal.record({ source: 'crm', sourceMessageId: `${key}-${order ?? 0}-${Math.random()}`, key, payload: {}, entry: { nodeId: 'j', how: 'send', msg: {} } });
      return (await journal.startDelivery({ messageId: message.id, target: 'revenues', key, nodeId: 'd', msg: {}, order, mode: { answersLater: true } })).delivery;
    }

    it('does not let a newer change supersede one being retried (the target may have it already): it waits, then goes after it', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'test' });
      const runs: string[] = [];
      journal.on('run', (task) => runs.push(task.delivery?.id));
      const first = await started(journal, 'C7', 1);
      // e.g. the hub was killed after the file was written: recovery made it failed, to retry
      await journal.fail(first.id, Object.assign(new Error('the hub stopped'), { transient: true }), {}, first.resume!);
      const second = await started(journal, 'C7', 2);
      assert.strictEqual(second.status, 'pending', 'held behind the change Revenues may have');
      assert.strictEqual((await journal.store.getDelivery(first.id))?.status, 'failed', 'not superseded');
      // The first file's ack comes: Revenues had it. Then the newer change goes, from the address Revenues now holds.
      await journal.answer(first.id, { outcome: 'delivered' });
      assert.deepStrictEqual(runs, [second.id]);
      assert.strictEqual((await journal.store.getDelivery(second.id))?.status, 'in-flight');
    });

    it('settles a failed delivery only when asked to accept that status, and cancels its retry', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'test' });
      const delivery = await started(journal, 'C1');
      const failed = await journal.fail(delivery.id, Object.assign(new Error('SFTP refused'), { transient: true }), {}, delivery.resume!);
      assert.strictEqual(failed?.status, 'failed');

      const refused = await journal.settle(delivery.id, 'delivered');
      assert.strictEqual(refused.changed, false, 'by default only an in-flight delivery is settled');

      const late = await journal.answer(delivery.id, { outcome: 'delivered' });
      assert.strictEqual(late.changed, true);
      assert.strictEqual(late.delivery?.status, 'delivered');
      assert.strictEqual(late.delivery?.nextAttemptAt, undefined, 'no retry left scheduled');
      assert.deepStrictEqual(await journal.store.dueDeliveries(Date.now() + 3_600_000, 10), []);
    });

    it('leaves a delivery the target has (awaiting its answer) waiting through a restart, and resends one it has not', async () => {
      const store = fixture.open();
      const before = new Journal({ store, instance: 'hub-1' });
      const sent = await started(before, 'C1');
      const notSent = await started(before, 'C2');
      assert.strictEqual(await before.awaitAnswer(sent.id), true);
      assert.strictEqual((await store.getDelivery(sent.id))?.status, 'awaiting-answer');
      // kill -9, then the same instance starts again
      const after = new Journal({ store, instance: 'hub-1' });
      await after.recover();
      assert.strictEqual((await after.store.getDelivery(sent.id))?.status, 'awaiting-answer', 'waits for the ack');
      assert.strictEqual((await after.store.getDelivery(notSent.id))?.status, 'failed', 'sent again');
      const acked = await after.answer(sent.id, { outcome: 'delivered' });
      assert.strictEqual(acked.delivery?.status, 'delivered');
    });

    it('a REJECTED answer for a delivery waiting for a retry makes it dead at once: the row is not sent again', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'test' });
      const delivery = await started(journal, 'C3');
      await journal.fail(delivery.id, Object.assign(new Error('SFTP refused'), { transient: true }), {}, delivery.resume!);
      const rejected = await journal.answer(delivery.id, { outcome: 'rejected', error: permanentError('REJECTED', 'revenues rejected the change: no such account'), where: { nodeId: 'ack' } });
      assert.strictEqual(rejected.changed, true);
      assert.strictEqual(rejected.delivery?.status, 'dead');
      assert.strictEqual(rejected.delivery?.lastError?.code, 'REJECTED');
      assert.strictEqual(rejected.delivery?.lastError?.classification, 'permanent');
      assert.deepStrictEqual(await journal.claimDue(), [], 'no retry runs for it');
    });

    it('holds a newer change for the same person until the answer comes, then sends it', async () => {
      const journal = new Journal({ store: fixture.open(), instance: 'test' });
      const runs: string[] = [];
      journal.on('run', (task) => runs.push(task.delivery?.id));
      const first = await started(journal, 'C4', 1);
      await journal.awaitAnswer(first.id);
      const second = await started(journal, 'C4', 2);
      assert.strictEqual(second.status, 'pending', 'held behind the change Revenues has');
      await journal.answer(first.id, { outcome: 'skipped', reason: 'revenues: no council tax account' });
      assert.deepStrictEqual(runs, [second.id]);
      assert.strictEqual((await journal.store.getDelivery(second.id))?.status, 'in-flight');
    });

    it('needs attention once the target has not answered within its time limit (per delivery, else the hub default)', async () => {
      let now = Date.now();
      const store: JournalStore = fixture.open();
      const journal = new Journal({ store, instance: 'test', answerTimeoutMs: 60_000, now: () => now });
      const byDefault = await started(journal, 'C5');
      const { message } = await journal.record({ source: 'crm', sourceMessageId: 'C6', key: 'C6', payload: {}, entry: { nodeId: 'j', how: 'send', msg: {} } });
      const ownLimit = (await journal.startDelivery({ messageId: message.id, target: 'revenues', key: 'C6', nodeId: 'd', msg: {}, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10, unclassified: 'transient', answerWithinMs: 3_600_000 } })).delivery;
      await journal.awaitAnswer(byDefault.id);
      await journal.awaitAnswer(ownLimit.id);
      now += 30_000;
      await journal.claimDue();
      assert.strictEqual((await store.getDelivery(byDefault.id))?.status, 'awaiting-answer', 'not yet');
      now += 60_000;
      await journal.claimDue();
      const overdue = await store.getDelivery(byDefault.id);
      assert.strictEqual(overdue?.status, 'needs-attention');
      assert.match(overdue?.reason ?? '', /no answer from revenues within/);
      assert.strictEqual((await store.getDelivery(ownLimit.id))?.status, 'awaiting-answer', 'its own limit is an hour');
      const late = await journal.answer(byDefault.id, { outcome: 'delivered' });
      assert.strictEqual(late.changed, true, 'the answer, late as it is, settles it');
      assert.strictEqual(late.delivery?.status, 'delivered');
    });
  });
}
