import assert from 'assert';
import { loadConfig, parseUsers, ConfigError, demoUsers } from '../../hub/config';

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
    assert.throws(() => parseUsers(`ann:admin:${HASH}`), /roles are developer and support/);
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
