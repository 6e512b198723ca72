import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { InstanceLease } from '../../adapters/redis/lease';
import { sharedSequence } from '../../adapters/redis/sequence';
import { RedisCursors, SqliteCursors } from '../../hub/cursors';
import { Instances } from '../../hub/instances';
import { openSqlite } from '../../hub/store';
import { Journal, RunTask } from '../../hub/journal/journal';
import { RedisJournalStore } from '../../hub/journal/redis-store';
import type { RetryPolicy } from '../../hub/journal/types';
import { deletePrefix, REDIS_URL, storeFixtures, uniquePrefix } from './stores';

const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 4000, unclassified: 'transient' };
const entry = { nodeId: 'journal-node', how: 'send' as const, msg: { payload: 'stored' } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const fixture of storeFixtures()) {
  describe(`journal takeover and fencing (${fixture.name})`, () => {
    after(() => fixture.close());

    it('moves a lapsed instance\'s in-flight deliveries to retries and its unfinished messages to the taker; the old owner\'s writes are refused', async () => {
      let now = 5_000_000;
      const store = fixture.open();
      const a = new Journal({ store, instance: 'hub-a', now: () => now });
      const b = new Journal({ store, instance: 'hub-b', now: () => now });
      const runsOnB: RunTask[] = [];
      b.on('run', (t: RunTask) => runsOnB.push(t));
      const fenced: unknown[] = [];
      a.on('fenced', (f) => fenced.push(f));

      const routedOnA = (await a.record({ source: 'crm', sourceMessageId: 'evt-1', key: 'C1', payload: {}, entry })).message;
      const started = await a.startDelivery({ messageId: routedOnA.id, target: 'housing', key: 'C1', retry: policy, nodeId: 'delivery', msg: { payload: 1 } });
      assert.strictEqual(started.action, 'send');
      const unfinished = (await a.record({ source: 'crm', sourceMessageId: 'evt-2', key: 'C2', payload: {}, entry })).message;

      const taken = await b.recover('hub-a');
      assert.deepStrictEqual(taken, { deliveries: 1, messages: 2 }, 'both messages were still on their journey');
      const d = (await store.getDelivery(started.delivery.id))!;
      assert.strictEqual(d.status, 'failed');
      assert.strictEqual(d.owner, undefined);
      assert.match(d.lastError!.message, /hub-a stopped renewing its lease while this delivery was in flight; hub-b took it over/);
      assert.deepStrictEqual((await store.receivedMessages('hub-a')).map((m) => m.id), []);
      assert.deepStrictEqual((await store.receivedMessages('hub-b')).map((m) => m.id).sort(), [routedOnA.id, unfinished.id].sort());
      assert.deepStrictEqual(runsOnB.map((t) => t.message?.id).sort(), [routedOnA.id, unfinished.id].sort(), 'the taker runs them');

      now += 2000;
      const [claimed] = await b.claimDue();
      assert.strictEqual(claimed.id, d.id);
      assert.strictEqual(claimed.owner, 'hub-b');
      assert.strictEqual(claimed.attempts, 2);

      // hub-a wakes up (it was paused) and finishes what it was doing: refused.
      const settled = await a.settle(d.id, 'delivered');
      assert.strictEqual(settled.changed, false);
      assert.strictEqual(await a.fail(d.id, new Error('late timeout'), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: {} }, 1), undefined, 'an old attempt');
      assert.strictEqual(await a.fail(d.id, new Error('late timeout'), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: {} }), undefined, 'a failure without its attempt (a Catch node)');
      assert.strictEqual(await a.awaitAnswer(d.id), false);
      assert.strictEqual(fenced.length, 3);
      assert.deepStrictEqual(fenced[0], { deliveryId: d.id, owner: 'hub-b', what: 'settle as delivered' });
      const still = (await store.getDelivery(d.id))!;
      assert.strictEqual(still.status, 'in-flight');
      assert.strictEqual(still.version, claimed.version, 'nothing hub-a did was written');
      assert.strictEqual((await b.settle(d.id, 'delivered')).changed, true);
      assert.deepStrictEqual(await b.recover('hub-a'), { deliveries: 0, messages: 0 }, 'nothing is taken twice');
    });
  });
}

describe('instance leases and takeover (real Redis)', function () {
  this.timeout(20000);
  const redis = new Redis(REDIS_URL);
  const prefixes: string[] = [];
  const running: Array<{ stop(): Promise<void> }> = [];
  const log = { info: () => undefined, warn: () => undefined };
  after(async () => {
    for (const r of running.splice(0)) await r.stop().catch(() => undefined);
    for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });
  const newPrefix = () => {
    const p = uniquePrefix('instances');
    prefixes.push(p);
    return p;
  };

  it('takes over a dead instance\'s work once its lease lapses, exactly once among several survivors, and records it', async () => {
    const prefix = newPrefix();
    const store = new RedisJournalStore(redis, { prefix });
    const leaseMs = 600;
    // hub-a has its own connection: cutting it is its death (no more renewals).
    const aRedis = new Redis(REDIS_URL);
    const aJournal = new Journal({ store: new RedisJournalStore(aRedis, { prefix }), instance: 'hub-a' });
    const stepDowns: string[] = [];
    const a = new Instances({ redis: aRedis, prefix, journal: aJournal, leaseMs, stepDown: (r) => stepDowns.push(r), log });
    const survivors = ['hub-b', 'hub-c'].map((instance) => {
      const journal = new Journal({ store, instance });
      const runs: RunTask[] = [];
      journal.on('run', (t: RunTask) => runs.push(t));
      const instances = new Instances({ redis, prefix, journal, leaseMs, stepDown: () => assert.fail(`${instance} must keep its lease`), log });
      running.push(instances);
      return { instances, runs };
    });
    await a.start();
    for (const s of survivors) await s.instances.start();
    assert.match(await survivors[0].instances.describe(), /live: hub-a, hub-b, hub-c/);

    const m = (await aJournal.record({ source: 'crm', sourceMessageId: 'evt-9', key: 'C9', payload: {}, entry })).message;
    const started = await aJournal.startDelivery({ messageId: m.id, target: 'planning', key: 'C9', retry: policy, nodeId: 'delivery', msg: { payload: 1 } });
    assert.strictEqual(started.delivery.owner, 'hub-a');

    assert.deepStrictEqual(await survivors[0].instances.sweep(), [], 'a live lease is left alone');
    const diedAt = Date.now();
    aRedis.disconnect();
    let taken: Array<{ instance: string; by: string; deliveries: number; messages: number }> = [];
    for (let i = 0; i < 40 && !taken.length; i++) {
      await sleep(100);
      taken = await survivors[0].instances.takeovers();
    }
    const tookMs = Date.now() - diedAt;
    assert.strictEqual(taken.length, 1, 'exactly one takeover');
    assert.strictEqual(taken[0].instance, 'hub-a');
    assert.ok(['hub-b', 'hub-c'].includes(taken[0].by));
    assert.strictEqual(taken[0].deliveries, 1);
    assert.strictEqual(taken[0].messages, 1);
    assert.ok(tookMs < leaseMs * 4, `taken over in ${tookMs} ms`);
    const runs = survivors.flatMap((s) => s.runs).filter((t) => t.message?.id === m.id);
    assert.strictEqual(runs.length, 1, 'the message runs on one survivor only');
    await sleep(leaseMs);
    assert.strictEqual((await survivors[0].instances.takeovers()).length, 1, 'and never again');
    assert.strictEqual((await store.getDelivery(started.delivery.id))!.status, 'failed');
    const described = await survivors[1].instances.describe();
    assert.match(described, /live: hub-b, hub-c;/, 'a dead instance taken over is forgotten');
    assert.match(described, /took over hub-a at .* \(1 deliveries, 1 messages\)/);

    // hub-a reaches Redis again (the partition heals): its renewal finds the lease lapsed, and it steps down.
    await aRedis.connect();
    await (a as unknown as { lease: InstanceLease }).lease.renew();
    assert.strictEqual(stepDowns.length, 1);
    assert.match(stepDowns[0], /longer than its 600 ms .*and has lapsed/);
    await a.stop();
  });

  it('keeps its lease when a renewal comes late but Redis still has its token (CPU starved, Redis restarting); steps down once Redis let it lapse', async () => {
    const prefix = newPrefix();
    let now = 1_000_000;
    const lost: string[] = [];
    const lease = new InstanceLease({ redis, prefix, instance: 'hub-p', ttlMs: 10_000, onLost: (r) => lost.push(r), now: () => now });
    running.push({ stop: () => lease.release() });
    await lease.acquire();
    now += 12_000; // the timer ran late, but the lease is still in Redis: nobody could have taken over
    assert.strictEqual(await lease.renew(), true);
    assert.deepStrictEqual(lost, []);
    now += 10_001; // SIGSTOP longer than the lease: Redis let it lapse meanwhile
    await redis.pexpire(`${prefix}lease:hub-p`, 1);
    await sleep(20);
    assert.strictEqual(await lease.renew(), false);
    assert.match(lost[0], /last renewed 10001 ms ago, longer than its 10000 ms .*and has lapsed/);
    assert.strictEqual(await redis.exists(`${prefix}lease:hub-p`), 0, 'a renewal never re-creates the lease');
    assert.strictEqual(await lease.renew(), false, 'stays lost');
    assert.strictEqual(lost.length, 1, 'told once');
    await lease.release();
  });

  it('loses the lease when another process takes the instance name (its token is replaced), and when the lease expired in Redis', async () => {
    const prefix = newPrefix();
    const lost: string[] = [];
    const old = new InstanceLease({ redis, prefix, instance: 'hub-x', ttlMs: 5_000, onLost: (r) => lost.push(`old: ${r}`) });
    await old.acquire();
    const fresh = new InstanceLease({ redis, prefix, instance: 'hub-x', ttlMs: 5_000, onLost: (r) => lost.push(`fresh: ${r}`) });
    await fresh.acquire();
    assert.strictEqual(await old.renew(), false);
    assert.match(lost[0], /^old: the lease is no longer this process's/);
    assert.strictEqual(await fresh.renew(), true);
    await redis.del(`${prefix}lease:hub-x`); // expired while the process could not renew
    assert.strictEqual(await fresh.renew(), false);
    assert.strictEqual(await redis.exists(`${prefix}lease:hub-x`), 0, 'a renewal never re-creates the lease');
    assert.strictEqual(lost.length, 2);
    await fresh.release();
    await old.release();
  });

  it('numbers files of one second uniquely across instances (the revenues request file sequence), and forgets the counter later', async () => {
    const prefix = newPrefix();
    const other = new Redis(REDIS_URL);
    const key = `${prefix}revenues-request:ADDR_20261202210000_0000.csv`;
    const numbers = await Promise.all(Array.from({ length: 20 }, (_, i) => sharedSequence(i % 2 ? other : redis, key)));
    other.disconnect();
    assert.deepStrictEqual([...numbers].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    const ttl = await redis.ttl(key);
    assert.ok(ttl > 0 && ttl <= 120, `expires (ttl ${ttl})`);
  });

  it('hands its lease back on a clean stop, so that what it left is taken over at once', async () => {
    const prefix = newPrefix();
    const store = new RedisJournalStore(redis, { prefix });
    const leaving = new Instances({ redis, prefix, journal: new Journal({ store, instance: 'hub-leaving' }), leaseMs: 60_000, stepDown: () => assert.fail('no step-down on a clean stop'), log });
    const staying = new Instances({ redis, prefix, journal: new Journal({ store, instance: 'hub-staying' }), leaseMs: 60_000, stepDown: () => undefined, log });
    running.push(staying);
    await leaving.start();
    await staying.start();
    await new Journal({ store, instance: 'hub-leaving' }).record({ source: 'crm', sourceMessageId: 'evt-left', key: 'C3', payload: {}, entry });
    await leaving.stop();
    const [takeover] = await staying.sweep();
    assert.strictEqual(takeover.instance, 'hub-leaving');
    assert.strictEqual(takeover.messages, 1);
  });
});

describe('poll cursors move only forward (a poller woken after its lock moved on cannot set one back)', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = uniquePrefix('cursors');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cursors-'));
  const db = openSqlite(dir, 'cursors.db');
  after(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const [name, cursors] of [['sqlite', new SqliteCursors(db)], ['redis', new RedisCursors(redis, prefix)]] as const) {
    it(`keeps the furthest whole-number cursor (${name})`, async () => {
      await cursors.set('planning:events', '10');
      await cursors.set('planning:events', '5');
      assert.strictEqual(await cursors.get('planning:events'), '10');
      await cursors.set('planning:events', '12');
      assert.strictEqual(await cursors.get('planning:events'), '12');
      await cursors.set('planning:events', '100');
      await cursors.set('planning:events', '99');
      assert.strictEqual(await cursors.get('planning:events'), '100', 'compared as numbers, not text');
      await cursors.set('housing:token', 'b-token');
      await cursors.set('housing:token', 'a-token');
      assert.strictEqual(await cursors.get('housing:token'), 'a-token', 'a cursor that is not a number is set as given');
    });
  }
});
