import assert from 'assert';
import Redis from 'ioredis';
import { tryAcquireLock, withLock } from '../../adapters/redis/lock';

describe('Redis lock (real Redis)', () => {
  let a: Redis;
  let b: Redis;
  const key = `test:lock:${process.pid}:${Date.now()}`;
  before(() => {
    a = new Redis('redis://127.0.0.1:6379');
    b = new Redis('redis://127.0.0.1:6379');
  });
  after(async () => {
    await a.del(key);
    a.disconnect();
    b.disconnect();
  });

  it('lets one holder in at a time and frees the lock on release', async () => {
    const first = await tryAcquireLock(a, key, 5000);
    assert.ok(first);
    assert.strictEqual(await tryAcquireLock(b, key, 5000), undefined);
    assert.strictEqual(await first!.release(), true);
    const second = await tryAcquireLock(b, key, 5000);
    assert.ok(second);
    await second!.release();
  });

  it('expires a lock whose holder stopped renewing, and the old holder cannot free the new one', async () => {
    const stale = await tryAcquireLock(a, key, 150);
    assert.ok(stale);
    await new Promise((r) => setTimeout(r, 300));
    const fresh = await tryAcquireLock(b, key, 5000);
    assert.ok(fresh, 'the expired lock can be taken');
    assert.strictEqual(await stale!.renew(), false);
    assert.strictEqual(await stale!.release(), false);
    assert.strictEqual(await a.get(key), fresh!.token);
    await fresh!.release();
  });

  it('withLock runs the work once across two contenders and renews while it runs', async () => {
    let runs = 0;
    const work = async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 400));
      return runs;
    };
    const [x, y] = await Promise.all([withLock(a, key, 200, work), withLock(b, key, 200, work)]);
    assert.strictEqual(runs, 1, 'the lock outlived its first ttl because it was renewed');
    assert.strictEqual([x, y].filter(Boolean).length, 1);
    assert.strictEqual(await a.exists(key), 0, 'released after the work');
  });
});
