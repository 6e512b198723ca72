import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { Journal } from '../../hub/journal/journal';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';

/** A target's late answer (a Revenues ack) for a delivery that is waiting to be retried. */
describe('settling a delivery from a target’s late answer (SQLite journal)', () => {
  it('settles a failed delivery only when asked to accept that status, and cancels its retry', async () => {
    const db = new Database(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'late-')), 'hub.db'));
    const journal = new Journal({ store: new SqliteJournalStore(db), instance: 'test' });
    const { message } = await journal.record({ source: 'crm', sourceMessageId: 'e1', key: 'C1', payload: {}, entry: { nodeId: 'j', how: 'send', msg: {} } });
    const { delivery } = await journal.startDelivery({ messageId: message.id, target: 'revenues', key: 'C1', nodeId: 'd', msg: {} });
    const failed = await journal.fail(delivery.id, Object.assign(new Error('SFTP refused'), { transient: true }), {}, delivery.resume!);
    assert.strictEqual(failed?.status, 'failed');

    const refused = await journal.settle(delivery.id, 'delivered');
    assert.strictEqual(refused.changed, false, 'by default only an in-flight delivery is settled');

    const late = await journal.settle(delivery.id, 'delivered', {}, ['in-flight', 'failed']);
    assert.strictEqual(late.changed, true);
    assert.strictEqual(late.delivery.status, 'delivered');
    assert.strictEqual(late.delivery.nextAttemptAt, undefined, 'no retry left scheduled');
    assert.deepStrictEqual(await journal.store.dueDeliveries(Date.now() + 3_600_000, 10), []);
  });

  it('leaves a delivery the target has (awaiting its answer) in flight through a restart, and resends one it has not', async () => {
    const db = new Database(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'late-')), 'hub.db'));
    const before = new Journal({ store: new SqliteJournalStore(db), instance: 'hub-1' });
    const start = async (key: string) => {
      const { message } = await before.record({ source: 'crm', sourceMessageId: key, key, payload: {}, entry: { nodeId: 'j', how: 'send', msg: {} } });
      return (await before.startDelivery({ messageId: message.id, target: 'revenues', key, nodeId: 'd', msg: {} })).delivery;
    };
    const sent = await start('C1');
    const notSent = await start('C2');
    assert.strictEqual(await before.markSent(sent.id), true);
    // kill -9, then the same instance starts again
    const after = new Journal({ store: new SqliteJournalStore(db), instance: 'hub-1' });
    await after.recover();
    assert.strictEqual((await after.store.getDelivery(sent.id))?.status, 'in-flight', 'waits for the ack');
    assert.strictEqual((await after.store.getDelivery(notSent.id))?.status, 'failed', 'sent again');
    const acked = await after.settle(sent.id, 'delivered');
    assert.strictEqual(acked.delivery.status, 'delivered');
  });
});
