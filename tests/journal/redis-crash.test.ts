import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type Redis from 'ioredis';
import { transientError } from '../../adapters/errors';
import { openStores, type HubStores } from '../../hub/composition';
import { loadConfig } from '../../hub/config';
import type { DeliveryRecord, DeliveryStatus, MessageRecord } from '../../hub/journal/types';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';
import { uniquePrefix } from './stores';

/**
 * What the hub acknowledged survives Redis being killed: the journal is opened as the hub
 * opens it (openStores, so the hub's own ioredis client and its options), on a redis-server
 * of the test's own with AOF and appendfsync always. Workers write through the Journal as the
 * nodes do before acknowledging (record, startDelivery, journey complete, settle or fail)
 * while Redis is killed with SIGKILL and started again on the same folder; the client
 * reconnects and the workers carry on. Then Redis is killed once more, so what was written
 * after the first restart is read back from the AOF too. Every write whose promise resolved
 * must be there, and every index must agree with the records.
 */

type Step = 'record' | 'start' | 'routed' | 'delivered' | 'failed';

/** One item's chain of writes: the steps acknowledged, and the one tried when Redis failed it (if any). */
interface Item {
  i: number;
  messageId?: string;
  deliveryId?: string;
  acked: Step[];
  ackedAt: number[];
  unanswered?: Step;
}

const INSTANCE = 'redis-crash-test';
const TARGET = 'planning';

/** Message and delivery statuses after a step. */
function statusesAfter(steps: Step[]): { message?: MessageRecord['status']; delivery?: DeliveryStatus } {
  const out: { message?: MessageRecord['status']; delivery?: DeliveryStatus } = {};
  for (const step of steps) {
    if (step === 'record') out.message = 'received';
    if (step === 'start') out.delivery = 'in-flight';
    if (step === 'routed') out.message = 'routed';
    if (step === 'delivered') out.delivery = 'delivered';
    if (step === 'failed') out.delivery = 'failed';
  }
  return out;
}

/** Every key under the prefix by its kind, read raw (SCAN), to check the indexes against the records. */
async function rawJournal(redis: Redis, p: string) {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  const docs = async <T>(prefix: string): Promise<T[]> => {
    const ks = keys.filter((k) => k.startsWith(prefix));
    return ks.length ? ((await redis.mget(ks)) as string[]).map((d) => JSON.parse(d) as T) : [];
  };
  return { keys, messages: await docs<MessageRecord>(`${p}m:`), deliveries: await docs<DeliveryRecord>(`${p}d:`) };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('Redis journal: Redis killed (SIGKILL) and restarted with AOF loses nothing the hub acknowledged', function () {
  this.timeout(120000);
  let server: OwnRedis;
  let stores: HubStores;
  let dataDir: string;
  const prefix = uniquePrefix('crash');

  before(async () => {
    server = await startOwnRedis({ appendonly: 'yes', appendfsync: 'always' });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-crash-'));
    stores = openStores(loadConfig({ HUB_STORE: 'redis', REDIS_URL: server.url, HUB_JOURNAL_PREFIX: prefix, HUB_INSTANCE_ID: INSTANCE, HUB_DATA_DIR: dataDir }));
  });
  after(async () => {
    await stores?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged message and delivery, with consistent indexes, and the hub client writes on after the restart', async () => {
    const journal = stores.journal;
    const redis = stores.redis!;
    const items: Item[] = [];
    const errors: string[] = [];
    let next = 0;
    let running = true;
    let acks = 0;

    /** One item's writes, in the order the nodes make them; stops at the first that fails. */
    const runItem = async (item: Item) => {
      const step = async (name: Step, write: () => Promise<unknown>) => {
        item.unanswered = name;
        await write();
        item.unanswered = undefined;
        item.acked.push(name);
        item.ackedAt.push(Date.now());
        acks += 1;
      };
      const msg = { payload: { i: item.i } };
      await step('record', async () => {
        const { message } = await journal.record({ source: 'crash-test', sourceMessageId: `event-${item.i}`, key: `person-${item.i}`, payload: msg.payload, entry: { nodeId: 'in', how: 'send', msg } });
        item.messageId = message.id;
      });
      await step('start', async () => {
        const started = await journal.startDelivery({ messageId: item.messageId!, target: TARGET, key: `person-${item.i}`, nodeId: 'deliver', msg });
        assert.strictEqual(started.action, 'send');
        item.deliveryId = started.delivery.id;
      });
      await step('routed', async () => assert.ok(await journal.journeyComplete(item.messageId!)));
      // A third are delivered, a third fail (to be retried), a third stay in flight.
      if (item.i % 3 === 0) await step('delivered', async () => assert.ok((await journal.settle(item.deliveryId!, 'delivered')).changed));
      if (item.i % 3 === 1) {
        await step('failed', async () => {
          const failed = await journal.fail(item.deliveryId!, transientError('TARGET_DOWN', 'the target is down'), { nodeId: 'send' }, { nodeId: 'send', how: 'receive', msg });
          assert.strictEqual(failed?.status, 'failed');
        });
      }
    };
    const worker = async () => {
      while (running) {
        const item: Item = { i: next++, acked: [], ackedAt: [] };
        items.push(item);
        try {
          await runItem(item);
        } catch (err) {
          errors.push(`${item.i} ${item.unanswered}: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const until = async (what: string, check: () => boolean, ms = 30000) => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${acks} acks; errors: ${errors.slice(-3).join(' | ')})\n${server.output().slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    const workers = Array.from({ length: 4 }, () => worker());
    await until('writes before the crash', () => acks >= 300);
    await server.crash();
    const crashedAt = Date.now();
    const ackedBeforeCrash = acks;
    await new Promise((r) => setTimeout(r, 300)); // long enough for the client to notice and writes to fail
    await server.restart();
    const restartedAt = Date.now();
    await until('writes after the restart', () => items.filter((it) => it.ackedAt.some((t) => t > restartedAt)).length >= 100);
    running = false;
    await Promise.all(workers);

    // Kill it once more: what the client wrote after reconnecting must be in the AOF too.
    await server.crash();
    await server.restart();
    await until('the client to reconnect', () => redis.status === 'ready', 15000);

    const afterRestart = items.filter((it) => it.ackedAt.some((t) => t > restartedAt));
    assert.ok(ackedBeforeCrash >= 300 && afterRestart.length >= 100, `acks before the crash ${ackedBeforeCrash}, items written after the restart ${afterRestart.length}`);
    assert.ok(
      afterRestart.some((it) => it.acked.includes('record') && it.acked.length === (it.i % 3 === 2 ? 3 : 4)),
      'items made wholly after the restart: the same client carried on',
    );
    assert.ok(items.some((it) => it.ackedAt.some((t) => t <= crashedAt)), 'some were acknowledged before the crash');

    // Every acknowledged write is there, as acknowledged (or one step further, if the step
    // Redis did not answer had been applied before it was killed).
    const acked = items.filter((it) => it.acked.length);
    for (const item of acked) {
      const want = statusesAfter(item.acked);
      const further = item.unanswered ? statusesAfter([...item.acked, item.unanswered]) : want;
      const message = await stores.journalStore.getMessage(item.messageId!);
      assert.ok(message, `message of item ${item.i} (acknowledged: ${item.acked.join(', ')}) is there`);
      assert.deepStrictEqual(message.payload, { i: item.i });
      assert.ok([want.message, further.message].includes(message.status), `item ${item.i}: message ${message.status}, acknowledged ${want.message}`);
      if (item.deliveryId) {
        const delivery = await stores.journalStore.getDelivery(item.deliveryId);
        assert.ok(delivery, `delivery of item ${item.i} is there`);
        assert.strictEqual(delivery.messageId, item.messageId);
        assert.ok([want.delivery, further.delivery].includes(delivery.status), `item ${item.i}: delivery ${delivery.status}, acknowledged ${want.delivery}`);
      }
      // The (source, source id) index too: the same event again is a duplicate of the stored one.
      const again = await journal.record({ source: 'crash-test', sourceMessageId: `event-${item.i}`, payload: {}, entry: { nodeId: 'in', how: 'send', msg: {} } });
      assert.deepStrictEqual([again.duplicate, again.message.id], [true, item.messageId]);
    }

    // Every index agrees with the records, including for writes Redis never answered.
    const raw = await rawJournal(redis, prefix);
    const byStatus = new Map<string, string[]>();
    const counts: Record<string, string> = {};
    for (const d of raw.deliveries) {
      byStatus.set(d.status, [...(byStatus.get(d.status) ?? []), d.id]);
      counts[`${d.status}\n${d.target}`] = String(Number(counts[`${d.status}\n${d.target}`] ?? 0) + 1);
      assert.ok(await redis.sismember(`${prefix}dk:${d.target}\n${d.key}`, d.id), `dk index has ${d.id}`);
      assert.ok(await redis.sismember(`${prefix}dm:${d.messageId}`, d.id), `dm index has ${d.id}`);
    }
    for (const status of ['pending', 'in-flight', 'delivered', 'failed', 'dead'] as const) {
      assert.deepStrictEqual(sorted(await redis.zrange(`${prefix}ds:${status}`, 0, -1)), sorted(byStatus.get(status) ?? []), `ds:${status} index`);
    }
    assert.deepStrictEqual(sorted(await redis.zrange(`${prefix}dt`, 0, -1)), sorted(raw.deliveries.map((d) => d.id)), 'dt index');
    assert.deepStrictEqual(sorted(await redis.zrange(`${prefix}due`, 0, -1)), sorted(raw.deliveries.filter((d) => d.status === 'failed').map((d) => d.id)), 'due index');
    assert.deepStrictEqual(sorted(await redis.smembers(`${prefix}dinf:${INSTANCE}`)), sorted(byStatus.get('in-flight') ?? []), 'in-flight index');
    const liveCounts = Object.fromEntries(Object.entries(await redis.hgetall(`${prefix}cnt`)).filter(([, n]) => n !== '0'));
    assert.deepStrictEqual(liveCounts, counts, 'counts hash');
    assert.deepStrictEqual(sorted(await redis.zrange(`${prefix}mt`, 0, -1)), sorted(raw.messages.map((m) => m.id)), 'mt index');
    assert.deepStrictEqual(
      sorted(await redis.smembers(`${prefix}mrecv:${INSTANCE}`)),
      sorted(raw.messages.filter((m) => m.status === 'received').map((m) => m.id)),
      'not-yet-routed index',
    );

    // And through the journal's own reads, as the console shows them.
    const shown = await stores.journalStore.counts();
    for (const status of ['delivered', 'failed', 'in-flight'] as const) {
      const acknowledged = acked.filter((it) => statusesAfter(it.acked).delivery === status).length;
      assert.strictEqual(shown.byTarget[TARGET]?.[status] ?? 0, byStatus.get(status)?.length ?? 0, `counts of ${status}`);
      const listed = await stores.journalStore.listDeliveries({ status: [status], target: TARGET, limit: 1 });
      assert.strictEqual(listed.total, byStatus.get(status)?.length ?? 0, `listing of ${status}`);
      // Delivered and failed are final here, so none acknowledged can be missing from them.
      if (status !== 'in-flight') assert.ok(listed.total >= acknowledged, `${status}: ${listed.total} listed, ${acknowledged} acknowledged`);
    }
    assert.deepStrictEqual(
      sorted((await stores.journalStore.dueDeliveries(Date.now() + 24 * 60 * 60 * 1000, 100000)).map((d) => d.id)),
      sorted(byStatus.get('failed') ?? []),
      'failed deliveries are due for their retry',
    );
  });
});
