import assert from 'assert';
import fs from 'fs';
import path from 'path';
import Redis from 'ioredis';
import { startHubProcess, login, HubProcess } from '../support/hub-process';
import { TargetSystem } from './target-system';
import { writeJournalFlow } from './journal-flow';
import { REDIS_URL, deletePrefix, uniquePrefix } from './stores';

const PASSWORD = 'council-hub-demo';
/** bcrypt of the demo password: the demo profile allows it for extra users. */
const DEMO_HASH = '$2b$10$vWOwFCIWgsgS.y9AWj6vzutsanPTJRy3hhmzQ6CX0UI/iZa4W05ke';
const DATA_KEY = Buffer.alloc(32, 9).toString('base64');

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The data protection officer's tools in a real hub: every read of a payload in the console
 * API is in the access log, which only the dpo (and developers) may list; a person is
 * found, exported and erased, and a replay of their delivery is then refused; the hub's
 * files hold no personal data in clear.
 */
for (const store of ['sqlite', 'redis'] as const) {
  describe(`data protection API in a real hub process (${store})`, function () {
    this.timeout(60000);
    const target = new TargetSystem();
    const prefix = uniquePrefix('dpo');
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    let hub: HubProcess;
    const tokens: Record<string, string> = {};
    const api = async (method: string, url: string, as: 'support' | 'developer' | 'dpo', body?: unknown) => {
      tokens[as] ??= await login(hub.url, as, PASSWORD);
      const response = await fetch(`${hub.url}/api/console${url}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[as]}` },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON: kept as text */
      }
      return { status: response.status, body: json };
    };

    before(async () => {
      await target.start();
      hub = await startHubProcess({
        flowFile: writeJournalFlow(target.port),
        env: {
          HUB_STORE: store,
          REDIS_URL,
          HUB_JOURNAL_PREFIX: prefix,
          HUB_DATA_KEY: DATA_KEY,
          HUB_USERS: `developer:developer:${DEMO_HASH},support:support:${DEMO_HASH},dpo:dpo:${DEMO_HASH}`,
        },
      });
    });
    after(async () => {
      await hub?.stop();
      await target.close();
      await redis.connect().catch(() => undefined);
      await deletePrefix(redis, prefix);
      redis.disconnect();
      if (hub) fs.rmSync(hub.dataDir, { recursive: true, force: true });
    });

    it('logs every read of a payload, lets the dpo find, export and erase a person, and refuses a replay for them afterwards', async () => {
      const post = (change: Record<string, unknown>) =>
        waitFor('the test flow to take a change', async () => {
          const r = await fetch(`${hub.url}/test/change`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(change) });
          return r.status === 200 && r.text();
        });
      const annId = await post({ eventId: 'e-ann', personId: 'C0012345', address: 'Rose Cottage, Ferndale Lane', surname: 'Quixley', dateOfBirth: '1980-03-14' });
      await post({ eventId: 'e-bob', personId: 'C0099999', address: '12 Mill Street', surname: 'Jonesworth', dateOfBirth: '1975-07-01' });
      await waitFor('both delivered', async () => (await api('GET', '/counts', 'developer')).body.byStatus?.delivered === 2);

      // Support reads Ann's message: the access log has it, and only the dpo or a developer may list it.
      const read = await api('GET', `/messages/${annId}`, 'support');
      assert.strictEqual(read.status, 200);
      assert.strictEqual(read.body.message.payload.surname, 'Quixley');
      // Node-RED answers a login without the permission with 401, as it does no login.
      assert.strictEqual((await api('GET', '/dpo/access-log', 'support')).status, 401);
      const log = await api('GET', '/dpo/access-log?subject=C0012345', 'dpo');
      assert.strictEqual(log.status, 200);
      assert.deepStrictEqual(log.body.items.map((e: any) => [e.actor, e.what, e.subject]), [['support', `message ${annId}`, 'C0012345']]);
      assert.match(new Date(log.body.items[0].at).toISOString(), /^\d{4}-/);
      await api('GET', '/deliveries?key=C0012345', 'support');
      assert.strictEqual((await api('GET', '/dpo/access-log?actor=support', 'dpo')).body.items[0].what, 'deliveries list (1)');
      assert.strictEqual((await api('GET', '/dpo/people?contactId=C0012345', 'support')).status, 401, 'support staff cannot search people');
      assert.strictEqual((await api('GET', '/dpo/people?contactId=C0012345', 'dpo')).status, 200);

      // The dpo finds Ann by name and date of birth, exports, erases; each read is logged.
      const found = await api('GET', '/dpo/people?surname=Quixley&dateOfBirth=1980-03-14', 'dpo');
      assert.strictEqual(found.status, 200);
      assert.deepStrictEqual(found.body.contacts, ['C0012345']);
      assert.strictEqual(found.body.counts.deliveries, 1);
      assert.strictEqual((await api('GET', '/dpo/people?surname=Quixley', 'dpo')).status, 400);
      const exported = await api('GET', '/dpo/people/export?contactId=C0012345', 'dpo');
      assert.strictEqual(exported.body.messages[0].payload.address, 'Rose Cottage, Ferndale Lane');
      const deliveryId = exported.body.deliveries[0].id;
      assert.deepStrictEqual((await api('GET', '/dpo/access-log?actor=dpo', 'dpo')).body.items.map((e: any) => e.what), ['person export', 'person search', 'person search'], 'a refused search (400) is not a read');

      assert.strictEqual((await api('POST', '/dpo/people/erase', 'dpo', { contactId: 'C0012345' })).status, 400, 'a reason is required');
      const erased = await api('POST', '/dpo/people/erase', 'dpo', { contactId: 'C0012345', reason: 'erasure request ER-7' });
      assert.strictEqual(erased.status, 200, JSON.stringify(erased.body));
      assert.deepStrictEqual(erased.body.erasure.deliveryIds, [deliveryId]);
      assert.strictEqual((await api('GET', `/messages/${annId}`, 'developer')).status, 404);
      const replay = await api('POST', `/deliveries/${deliveryId}/replay`, 'developer', { reason: 'try again', from: 'start' });
      assert.strictEqual(replay.status, 409);
      assert.match(replay.body.error, /belonged to a person whose data was erased/);
      assert.strictEqual((await api('GET', '/dpo/erasures', 'dpo')).body.items.length, 1);
      assert.strictEqual((await api('GET', '/counts', 'developer')).body.byStatus.delivered, 1, "Bob's delivery is still there");
      const run = await api('POST', '/dpo/retention/run', 'dpo');
      assert.strictEqual(run.status, 200);
      assert.deepStrictEqual([run.body.settled, run.body.discarded, run.body.refused], [0, 0, 0], 'nothing is old enough');

      // The hub's own files hold no personal data in clear.
      if (store === 'sqlite') {
        const raw = fs.readdirSync(hub.dataDir).filter((f) => f.startsWith('hub.db')).map((f) => fs.readFileSync(path.join(hub.dataDir, f)).toString('latin1')).join('');
        assert.ok(raw.length > 0);
        for (const secret of ['Quixley', 'Jonesworth', 'Mill Street', '1975-07-01']) assert.ok(!raw.includes(secret), `${secret} not in the SQLite files: ${raw.slice(Math.max(0, raw.indexOf(secret) - 300), raw.indexOf(secret) + 100)}`);
      } else {
        const keys = await redis.keys(`${prefix}*`);
        const valueOf = async (k: string) => {
          const type = await redis.type(k);
          if (type === 'string') return redis.get(k);
          if (type === 'zset') return (await redis.zrange(k, 0, -1)).join('\n');
          if (type === 'hash') return JSON.stringify(await redis.hgetall(k));
          if (type === 'list') return (await redis.lrange(k, 0, -1)).join('\n');
          return (await redis.smembers(k)).join('\n');
        };
        const values = (await Promise.all(keys.map(valueOf))).join('');
        assert.ok(values.includes('enc1:'));
        for (const secret of ['Quixley', 'Jonesworth', 'Mill Street', '1975-07-01']) assert.ok(!values.includes(secret), `${secret} not in Redis`);
      }
    });
  });
}
