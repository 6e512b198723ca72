import assert from 'assert';
import Redis from 'ioredis';
import { describePersistence, persistenceProblem, redisPersistence } from '../../adapters/redis/persistence';
import { ConfigError, loadConfig } from '../../hub/config';
import { checkRedisDurability } from '../../hub/store-durability';
import { freePort } from '../support/ports';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';

const USERS = 'ops:developer:$2b$10$abcdefghijklmnopqrstuuJ2p8m8c5cWcN6nb0H0oH5oK2hB9rT6a';

function configFor(url: string, env: Record<string, string> = {}) {
  return loadConfig({ HUB_STORE: 'redis', REDIS_URL: url, ...env });
}
const production = { HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 'x'.repeat(32), HUB_USERS: USERS, HUB_DATA_KEY: Buffer.alloc(32, 7).toString('base64') };

/** A log that keeps its lines, to assert what the start-up check said. */
function recordingLog() {
  const lines: { info: string[]; warn: string[] } = { info: [], warn: [] };
  return { lines, log: { info: (l: string) => lines.info.push(l), warn: (l: string) => lines.warn.push(l) } };
}

describe('Redis persistence detection (real redis-server processes)', function () {
  this.timeout(30000);
  let aofRedis: OwnRedis;
  let aofClient: Redis;
  // Without AOF, as the shared Redis on 6379 runs; a server of our own so nobody's change to that one matters here.
  let plainRedis: OwnRedis;
  let plain: Redis;
  

  before(async () => {
    aofRedis = await startOwnRedis({ appendonly: 'yes', appendfsync: 'always' });
    aofClient = new Redis(aofRedis.url);
    plainRedis = await startOwnRedis({ appendonly: 'no' });
    plain = new Redis(plainRedis.url);
  });
  after(async () => {
    aofClient?.disconnect();
    plain?.disconnect();
    await aofRedis?.stop();
    await plainRedis?.stop();
  });

  it('reads AOF on with appendfsync always from CONFIG GET', async () => {
    const found = await redisPersistence(aofClient);
    assert.deepStrictEqual(
      { aof: found.aof, appendfsync: found.appendfsync, rdbOnly: found.rdbOnly, source: found.source },
      { aof: true, appendfsync: 'always', rdbOnly: false, source: 'config' },
    );
    assert.match(found.loses, /^nothing acknowledged/);
    assert.strictEqual(persistenceProblem(found), undefined);
    assert.match(describePersistence(found), /AOF on, appendfsync always \(from CONFIG GET\)/);
  });

  it('reads each appendfsync value, and AOF turned off, as the server changes', async () => {
    try {
      await aofClient.config('SET', 'appendfsync', 'everysec');
      const everysec = await redisPersistence(aofClient);
      assert.strictEqual(everysec.appendfsync, 'everysec');
      assert.match(everysec.loses, /last second/);
      assert.strictEqual(persistenceProblem(everysec), undefined, 'everysec is good enough for production');

      await aofClient.config('SET', 'appendfsync', 'no');
      const no = await redisPersistence(aofClient);
      assert.strictEqual(no.aof, true);
      assert.strictEqual(no.appendfsync, 'no');
      assert.match(persistenceProblem(no) ?? '', /appendfsync no \(set appendfsync everysec or always\)/);

      await aofClient.config('SET', 'appendonly', 'no');
      const off = await redisPersistence(aofClient);
      assert.strictEqual(off.aof, false);
      assert.strictEqual(off.rdbOnly, false);
      assert.match(off.loses, /^everything/);
      assert.match(persistenceProblem(off) ?? '', /AOF off \(set appendonly yes/);

      await aofClient.config('SET', 'save', '900 1');
      const rdb = await redisPersistence(aofClient);
      assert.strictEqual(rdb.rdbOnly, true);
      assert.match(rdb.loses, /since the last RDB snapshot/);
    } finally {
      await aofClient.config('SET', 'save', '');
      await aofClient.config('SET', 'appendonly', 'yes');
      await aofClient.config('SET', 'appendfsync', 'always');
    }
  });

  it('finds a Redis without AOF (and without RDB snapshots)', async () => {
    const found = await redisPersistence(plain);
    assert.strictEqual(found.source, 'config');
    assert.strictEqual(found.aof, false);
    assert.strictEqual(found.rdbOnly, false);
    assert.match(found.loses, /a restart of Redis empties it/);
    assert.ok(persistenceProblem(found));
  });

  it('falls back to INFO persistence when CONFIG is disabled (managed Redis)', async () => {
    const on = await startOwnRedis({ appendonly: 'yes', appendfsync: 'everysec', args: ['--rename-command', 'CONFIG', ''] });
    const off = await startOwnRedis({ appendonly: 'no', args: ['--rename-command', 'CONFIG', ''] });
    const a = new Redis(on.url);
    const b = new Redis(off.url);
    try {
      const withAof = await redisPersistence(a);
      assert.strictEqual(withAof.source, 'info');
      assert.strictEqual(withAof.aof, true);
      assert.strictEqual(withAof.appendfsync, undefined, 'INFO does not say the fsync policy');
      assert.match(withAof.problem ?? '', /unknown command 'CONFIG'/);
      assert.strictEqual(persistenceProblem(withAof), undefined, 'AOF on is accepted when its fsync policy cannot be read');
      assert.match(describePersistence(withAof), /appendfsync not readable \(from INFO persistence\)/);
      const withoutAof = await redisPersistence(b);
      assert.deepStrictEqual([withoutAof.source, withoutAof.aof, withoutAof.rdbOnly], ['info', false, undefined]);
      assert.ok(persistenceProblem(withoutAof));
    } finally {
      a.disconnect();
      b.disconnect();
      await on.stop();
      await off.stop();
    }
  });

  it('answers unknown, not an exception, when Redis cannot be reached', async () => {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      const found = await redisPersistence(client);
      assert.strictEqual(found.source, 'unknown');
      assert.strictEqual(found.aof, false);
      assert.match(persistenceProblem(found) ?? '', /could not be read/);
    } finally {
      client.disconnect();
    }
  });

  describe('the start-up check (checkRedisDurability)', () => {
    it('refuses a production start on Redis without AOF, naming the settings to change', async () => {
      const { lines, log } = recordingLog();
      await assert.rejects(checkRedisDurability(configFor(plainRedis.url, production), plain, log), (err: Error) => {
        assert.ok(err instanceof ConfigError, err.message);
        assert.match(err.message, /appendonly yes/);
        assert.match(err.message, /HUB_REDIS_ALLOW_NO_AOF=yes/);
        return true;
      });
      assert.match(lines.info.join('\n'), new RegExp(`journal store Redis redis://127\\.0\\.0\\.1:${plainRedis.port}: AOF off`));
    });

    it('refuses a production start on appendfsync no', async () => {
      await aofClient.config('SET', 'appendfsync', 'no');
      try {
        await assert.rejects(checkRedisDurability(configFor(aofRedis.url, production), aofClient, recordingLog().log), /appendfsync no \(set appendfsync everysec or always\)/);
      } finally {
        await aofClient.config('SET', 'appendfsync', 'always');
      }
    });

    it('starts in production without AOF when HUB_REDIS_ALLOW_NO_AOF=yes, and says so', async () => {
      const { lines, log } = recordingLog();
      const found = await checkRedisDurability(configFor(plainRedis.url, { ...production, HUB_REDIS_ALLOW_NO_AOF: 'yes' }), plain, log);
      assert.strictEqual(found.aof, false);
      assert.match(lines.warn.join('\n'), /warning: Redis has AOF off.*started anyway: HUB_REDIS_ALLOW_NO_AOF=yes/);
    });

    it('only warns in the demo profile', async () => {
      const { lines, log } = recordingLog();
      await checkRedisDurability(configFor(plainRedis.url), plain, log);
      assert.strictEqual(lines.warn.length, 1);
      assert.match(lines.warn[0], /AOF off.*the production profile refuses to start on it unless HUB_REDIS_ALLOW_NO_AOF=yes/);
    });

    it('logs what it found and says nothing more when Redis keeps what it acknowledges', async () => {
      const { lines, log } = recordingLog();
      const found = await checkRedisDurability(configFor(aofRedis.url, production), aofClient, log);
      assert.strictEqual(found.appendfsync, 'always');
      assert.deepStrictEqual(lines.warn, []);
      assert.match(lines.info[0], /AOF on, appendfsync always \(from CONFIG GET\); a crash can lose nothing acknowledged/);
    });

    it('reads HUB_REDIS_ALLOW_NO_AOF as yes or no only', () => {
      assert.strictEqual(configFor(plainRedis.url).redisAllowNoAof, false);
      assert.strictEqual(configFor(plainRedis.url, { HUB_REDIS_ALLOW_NO_AOF: 'yes' }).redisAllowNoAof, true);
      assert.throws(() => configFor(plainRedis.url, { HUB_REDIS_ALLOW_NO_AOF: 'true' }), /HUB_REDIS_ALLOW_NO_AOF must be yes or no/);
    });
  });
});
