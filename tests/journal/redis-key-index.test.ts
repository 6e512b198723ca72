import assert from 'assert';
import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { RedisJournalStore } from '../../hub/journal/redis-store';
import type { MessageRecord } from '../../hub/journal/types';
import { defaultRetryPolicy } from '../../hub/journal/retry';
import { REDIS_URL, deletePrefix, uniquePrefix } from './stores';

function message(key: string | undefined, receivedAt: number, over: Partial<MessageRecord> = {}): MessageRecord {
  const id = randomUUID();
  return { id, source: 'crm', key, payload: { eventId: id }, receivedAt, status: 'routed', entry: { nodeId: 'j', how: 'send', msg: { payload: {} } }, instance: 'hub-a', version: 1, ...over };
}

/** The Redis journal's messages-by-key index (mk:<key>): a person's messages without reading everyone's. */
describe('Redis journal: messages by key', () => {
  const redis = new Redis(REDIS_URL);
  const prefixes: string[] = [];
  const open = () => {
    const prefix = uniquePrefix('key-index');
    prefixes.push(prefix);
    return { prefix, store: new RedisJournalStore(redis, { prefix }) };
  };
  after(async () => {
    for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });

  it('indexes each message under its key, newest first, and never reads the time index for it', async () => {
    const { prefix, store } = open();
    const older = message('C1', 100);
    const newer = message('C1', 300);
    await store.insertMessage(older);
    await store.insertMessages([newer, message('C2', 200), message(undefined, 250)]);
    assert.deepStrictEqual(await redis.zrange(`${prefix}mk:C1`, 0, -1), [older.id, newer.id]);
    assert.strictEqual((await store.listMessages({ key: 'C1' })).total, 2);
    // Were the key index not used, a message only in the time index would be listed.
    const stray = message('C1', 400);
    await redis.set(`${prefix}m:${stray.id}`, JSON.stringify(stray));
    await redis.zadd(`${prefix}mt`, 400, stray.id);
    assert.deepStrictEqual((await store.listMessages({ key: 'C1' })).items.map((m) => m.id), [newer.id, older.id]);
  });

  it('indexes, once, a journal written before the index existed', async () => {
    const { prefix, store } = open();
    const a = message('C7', 100);
    const b = message('C7', 200);
    await store.insertMessages([a, b, message('C8', 150)]);
    await redis.del(`${prefix}mk:C7`, `${prefix}mk:C8`, `${prefix}mk-built`);
    const later = new RedisJournalStore(redis, { prefix });
    assert.deepStrictEqual((await later.listMessages({ key: 'C7' })).items.map((m) => m.id), [b.id, a.id]);
    assert.strictEqual(await redis.get(`${prefix}mk-built`), '1');
    assert.strictEqual(await redis.zcard(`${prefix}mk:C8`), 1);
  });

  it('drops the index entry when a pruned or erased message goes', async () => {
    const { prefix, store } = open();
    const pruned = message('C3', 10);
    await store.insertMessage(pruned);
    await store.commit({ deliveries: [{ id: randomUUID(), messageId: pruned.id, target: 'planning', key: 'C3', order: 1, seq: 1, status: 'delivered', idempotencyKey: 'i', attempts: 1, retry: defaultRetryPolicy, createdAt: 10, updatedAt: 10, settledAt: 10, version: 1 }] });
    assert.strictEqual(await store.prune(1_000), 1);
    assert.strictEqual(await redis.exists(`${prefix}mk:C3`), 0);

    const erased = message('C4', 10);
    await store.insertMessage(erased);
    await store.erase({ id: 'er-1', at: 20, actor: 'dpo', reason: 'request', subject: 'pseudonym', messageIds: [erased.id], deliveryIds: [], crossReferences: 0 }, []);
    assert.strictEqual(await redis.exists(`${prefix}mk:C4`), 0);
  });

  it('answers for a key in an empty journal (nothing to index)', async () => {
    const { store } = open();
    assert.deepStrictEqual(await store.listMessages({ key: 'C9' }), { total: 0, items: [] });
  });
});
