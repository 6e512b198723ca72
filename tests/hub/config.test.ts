import assert from 'assert';
import { loadConfig, parseUsers, ConfigError, demoUsers } from '../../hub/config';
import { DEMO_DATA_KEY } from '../../hub/journal/sealing';

const HASH = '$2b$10$vWOwFCIWgsgS.y9AWj6vzutsanPTJRy3hhmzQ6CX0UI/iZa4W05ke';
const OTHER_HASH = '$2b$10$abcdefghijklmnopqrstuuJ2p8m8c5cWcN6nb0H0oH5oK2hB9rT6a';

describe('hub configuration', () => {
  it('defaults to the demo profile with the demo users and loopback only', () => {
    const config = loadConfig({});
    assert.strictEqual(config.profile, 'demo');
    assert.strictEqual(config.port, 1880);
    assert.strictEqual(config.host, '127.0.0.1');
    assert.deepStrictEqual(config.users, demoUsers);
    assert.strictEqual(config.store, 'sqlite');
    assert.strictEqual(config.simulators, true);
  });

  it('refuses the production profile without a credential secret', () => {
    assert.throws(() => loadConfig({ HUB_PROFILE: 'production', HUB_USERS: `ann:developer:${OTHER_HASH}` }), /HUB_CREDENTIAL_SECRET is required/);
  });

  it('refuses the production profile without users', () => {
    assert.throws(() => loadConfig({ HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 's3cret' }), /HUB_USERS is required/);
  });

  it('refuses the demo password in production', () => {
    assert.throws(
      () => loadConfig({ HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 's', HUB_USERS: `ann:developer:${HASH}` }),
      /demo password may not be used/,
    );
  });

  it('refuses the production profile without a data key, or with the demo one, and reads older keys after a rotation', () => {
    const production = { HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 's', HUB_USERS: `ann:dpo:${OTHER_HASH}` };
    assert.throws(() => loadConfig(production), /HUB_DATA_KEY is required in the production profile/);
    assert.throws(() => loadConfig({ ...production, HUB_DATA_KEY: 'c2hvcnQ=' }), /HUB_DATA_KEY must be 32 bytes in base64/);
    assert.throws(() => loadConfig({ ...production, HUB_DATA_KEY: DEMO_DATA_KEY }), /demo key may not be used/);
    const current = Buffer.alloc(32, 1).toString('base64');
    const old = Buffer.alloc(32, 2).toString('base64');
    const sealedWithOld = loadConfig({ HUB_DATA_KEY: old }).dataCodec.seal({ surname: 'Quixley' });
    const config = loadConfig({ ...production, HUB_DATA_KEY: current, HUB_DATA_KEYS: old });
    assert.deepStrictEqual(config.dataCodec.open(sealedWithOld), { surname: 'Quixley' });
    assert.deepStrictEqual(config.users.map((u) => u.role), ['dpo']);
    assert.throws(() => loadConfig({ ...production, HUB_DATA_KEY: current, HUB_DATA_KEYS: 'bad' }), /each of HUB_DATA_KEYS must be 32 bytes/);
  });

  it('keeps each kind of record for its own period, settled ones 30 days by default (HUB_JOURNAL_RETENTION_DAYS still counts)', () => {
    const day = 86400000;
    assert.deepStrictEqual(loadConfig({}).journal.retention, { settledMs: 30 * day, discardedMs: 180 * day, refusedMs: 90 * day, auditMs: 2190 * day });
    assert.strictEqual(loadConfig({ HUB_JOURNAL_RETENTION_DAYS: '7' }).journal.retention.settledMs, 7 * day);
    assert.strictEqual(loadConfig({ HUB_JOURNAL_RETENTION_DAYS: '7', HUB_RETENTION_SETTLED_DAYS: '14' }).journal.retention.settledMs, 14 * day);
    assert.strictEqual(loadConfig({ HUB_RETENTION_AUDIT_DAYS: '365' }).journal.retention.auditMs, 365 * day);
    assert.throws(() => loadConfig({ HUB_RETENTION_DISCARDED_DAYS: 'forever' }), /HUB_RETENTION_DISCARDED_DAYS must be a number/);
  });

  it('parses users with roles and bcrypt hashes', () => {
    const users = parseUsers(`ann:developer:${OTHER_HASH}, bob:support:${HASH}`);
    assert.deepStrictEqual(
      users.map((u) => [u.username, u.role]),
      [
        ['ann', 'developer'],
        ['bob', 'support'],
      ],
    );
  });

  it('refuses a plain password, an unknown role and a malformed entry with a clear reason', () => {
    assert.throws(() => parseUsers('ann:developer:hunter2'), (e: Error) => e instanceof ConfigError && /bcrypt hash/.test(e.message));
    assert.throws(() => parseUsers(`ann:admin:${HASH}`), /roles are developer, support, dpo/);
    assert.throws(() => parseUsers('ann'), /username:role:bcrypthash/);
  });

  it('refuses a non-numeric port, an unknown profile and a redis store without REDIS_URL', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT must be a whole number/);
    assert.throws(() => loadConfig({ HUB_PROFILE: 'staging' }), /HUB_PROFILE must be demo or production/);
    assert.throws(() => loadConfig({ HUB_STORE: 'redis' }), /needs REDIS_URL/);
  });
  it('flushes the SQLite journal to disk on every commit unless told otherwise, and refuses an unknown setting', () => {
    assert.strictEqual(loadConfig({}).journal.sqliteSynchronous, 'FULL');
    assert.strictEqual(loadConfig({ HUB_SQLITE_SYNCHRONOUS: 'normal' }).journal.sqliteSynchronous, 'NORMAL');
    assert.throws(() => loadConfig({ HUB_SQLITE_SYNCHRONOUS: 'sometimes' }), /HUB_SQLITE_SYNCHRONOUS must be FULL, NORMAL or OFF, got "sometimes"/);
  });
});
