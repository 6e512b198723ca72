import assert from 'assert';
import { execFile } from 'child_process';
import { randomUUID } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import amqp from 'amqplib';
import Redis from 'ioredis';
import { startSimulators, RunningSimulators } from '../../simulators';
import { backOfficeEnvironment } from '../../hub/demo';
import { toCrmAddress } from '../../simulators/addresses';
import type { Resident } from '../../simulators/population';
import { distDir, flowsDir } from '../../hub/paths';
import { crossReferencePrefix } from '../../hub/xref';
import type { ReconciliationReport } from '../../hub/reconcile/reconcile';
import { BODY_LIMIT_BYTES, MAX_BODY_IDS } from '../../hub/api/reconciliation-api';
import { startHubProcess, HubProcess, login } from '../support/hub-process';
import { DEMO_PASSWORD, HubApi } from './hub-api';

/**
 * The reconciliation report over a real hub process (the hub's own flows, Redis journal and
 * cross-references under a prefix of this run's own): POST /api/console/reconciliation with
 * thousands of people and with malformed bodies, and `npm run reconcile` in Redis mode
 * reading the cross-references the hub wrote. The CRM's events reach the hub over RabbitMQ
 * on an exchange and queue of this run's own (nobody else's events, nobody else's hub).
 */
const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(300);
  }
}

async function amqpAdmin<T>(work: (channel: amqp.Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await work(channel);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe('reconciliation over a real hub: POST for any number of people, and npm run reconcile in Redis mode', function () {
  this.timeout(180000);
  const runId = `reconcile-${Date.now().toString(36)}-${process.pid}-${randomUUID().slice(0, 8)}`;
  // The hub's journal (and, beside it, its cross-references) under this run's own prefix.
  const journalPrefix = `council-hub-test:${runId}:journal:`;
  const exchange = `${runId}.crm.events`;
  const queue = `${runId}.hub.crm.contact-address-changed`;
  let dataDir: string;
  let sims: RunningSimulators;
  let env: Record<string, string>;
  let hub: HubProcess;
  let api: HubApi;
  let redis: Redis;
  let token: string;
  /** people known to planning and housing, moved once each */
  let movers: Resident[] = [];
  /** per mover and system, the delivery's final status */
  const settled = new Map<string, string>();

  const post = (body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }, auth = true) =>
    fetch(`${hub.url}/api/console/reconciliation`, {
      method: 'POST',
      headers: { ...headers, ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body } : {}),
    });

  /** Runs `npm run reconcile` (dist/hub/reconcile/main.js) with this environment. */
  const reconcileCommand = (extra: Record<string, string>, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(distDir, 'hub', 'reconcile', 'main.js'), ...args],
        { env: { ...process.env, HUB_URL: '', ...env, ...extra }, maxBuffer: 256 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as any).code) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-hub-'));
    // The hub's flows, with the CRM events on this run's exchange and queue.
    const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as any[];
    for (const node of flows) if (node.type === 'amqp-in') Object.assign(node, { exchange, queue });
    fs.writeFileSync(path.join(dataDir, 'flows.json'), JSON.stringify(flows, null, 2));
    sims = await startSimulators({ rabbitmqUrl: RABBITMQ_URL, crmExchange: exchange, properties: 2000, pollMs: 500, retryMs: 1000, dataDir: path.join(dataDir, 'simulators') });
    env = backOfficeEnvironment(sims);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
    fs.mkdirSync(path.join(dataDir, 'hub'));
    hub = await startHubProcess({
      env: { ...env, RABBITMQ_URL, REDIS_URL, HUB_STORE: 'redis', HUB_JOURNAL_PREFIX: journalPrefix, HUB_INSTANCE_ID: `${runId}-hub`, HUB_RETRY_POLL_MS: '250' },
      dataDir: path.join(dataDir, 'hub'),
      flowFile: path.join(dataDir, 'flows.json'),
      startTimeoutMs: 60000,
    });
    api = new HubApi(hub.url);
    token = await login(hub.url, 'support', DEMO_PASSWORD);
    await waitFor('the hub to bind its queue', 30000, () => amqpAdmin(async (ch) => !!(await ch.checkQueue(queue)).queue));

    // Five people planning and housing both know move once each; the hub finds them there.
    const homes = sims.population.gazetteer.filter((g) => g.logicalStatus === 1);
    movers = sims.population.residents.filter((r) => r.crmContactId && r.planningPartyId && r.tenancyRef).slice(0, 5);
    assert.strictEqual(movers.length, 5, 'the population has people known to planning and housing');
    for (const [i, mover] of movers.entries()) {
      const home = homes.find((h, j) => j >= i * 37 && h.uprn !== mover.uprn)!;
      await sims.crm.changeContactAddress(mover.crmContactId!, toCrmAddress(home, true));
    }
    const open = new Set(['pending', 'in-flight', 'failed']);
    for (const mover of movers) {
      for (const system of ['planning', 'housing']) {
        const status = await waitFor(`${mover.crmContactId}'s ${system} delivery to settle`, 60000, async () => {
          const { items } = await api.get(`/deliveries?key=${mover.crmContactId}&target=${system}`);
          return items.length && !open.has(items[0].status) ? (items[0].status as string) : undefined;
        });
        settled.set(`${mover.crmContactId}/${system}`, status);
      }
    }
  });

  after(async () => {
    await hub?.stop();
    await sims?.stop();
    await amqpAdmin(async (ch) => {
      for (const q of [queue, `${queue}.dead-letter`]) await ch.deleteQueue(q).catch(() => undefined);
      for (const x of [exchange, `${queue}.dead-letter`]) await ch.deleteExchange(x).catch(() => undefined);
    }).catch(() => undefined);
    if (redis) {
      // Every key of this run: the journal's and the cross-references beside it.
      const keys: string[] = [];
      for (let cursor = '0'; ; ) {
        const [next, found] = await redis.scan(cursor, 'MATCH', `council-hub-test:${runId}:*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
        if (cursor === '0') break;
      }
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The movers the hub delivered to in this system (found there, so cross-referenced). */
  const deliveredIn = (system: 'planning' | 'housing') => movers.filter((m) => settled.get(`${m.crmContactId}/${system}`) === 'delivered');

  it('has the hub deliver the moves and remember whom it found, under the journal prefix + "xref:"', async () => {
    assert.ok(deliveredIn('planning').length > 0, `planning deliveries: ${JSON.stringify([...settled])}`);
    assert.ok(deliveredIn('housing').length > 0, `housing deliveries: ${JSON.stringify([...settled])}`);
    // The key the hub wrote, spelt out here: the rule crossReferencePrefix must match.
    const mover = deliveredIn('planning')[0];
    const stored = await redis.hgetall(`${journalPrefix}xref:${mover.crmContactId}`);
    assert.strictEqual(JSON.parse(stored.planning).ids.partyId, mover.planningPartyId, JSON.stringify(stored));
    assert.strictEqual(crossReferencePrefix(journalPrefix), `${journalPrefix}xref:`);
    assert.strictEqual(crossReferencePrefix(''), 'council-hub:journal:xref:');
    assert.strictEqual(crossReferencePrefix(undefined), 'council-hub:journal:xref:');
  });

  it('answers a POST of more than 2,000 people with the report for every one of them', async () => {
    const known = sims.population.residents.filter((r) => r.crmContactId).map((r) => r.crmContactId!);
    const ids = [...new Set([...movers.map((m) => m.crmContactId!), ...known])].slice(0, 2400);
    for (let i = 0; ids.length < 2500; i++) ids.push(`X${String(i).padStart(7, '0')}`); // not in the CRM
    // The GET could not carry them: its query is too long for the hub's header limit.
    const viaGet = await fetch(`${hub.url}/api/console/reconciliation?contactId=${ids.join(',')}`, { headers: { authorization: `Bearer ${token}` } });
    assert.notStrictEqual(viaGet.status, 200);
    const response = await post(JSON.stringify({ contactIds: ids }));
    assert.strictEqual(response.status, 200, await response.clone().text());
    const report = (await response.json()) as ReconciliationReport;
    assert.strictEqual(report.people.length, 2500);
    assert.strictEqual(report.summary.people, 2500);
    assert.deepStrictEqual(report.people.map((p) => p.contactId), [...ids].sort());
    const unknown = report.people.find((p) => p.contactId === 'X0000000')!;
    assert.match(unknown.error!, /ContactNotFound/);
    // The movers the hub found are read back through the cross-references (Redis), and agree.
    for (const mover of deliveredIn('planning')) {
      const planning = report.people.find((p) => p.contactId === mover.crmContactId)!.systems.find((s) => s.system === 'planning')!;
      assert.strictEqual(planning.verdict, 'agrees', JSON.stringify(planning));
      assert.deepStrictEqual(planning.ids, { partyId: mover.planningPartyId });
    }
    // Only movers have cross-references, so nobody else is read back in planning.
    const moverIds = new Set(movers.map((m) => m.crmContactId));
    const readInPlanning = report.people.filter((p) => p.systems.some((s) => s.system === 'planning' && s.ids)).map((p) => p.contactId);
    assert.deepStrictEqual(readInPlanning.filter((id) => !moverIds.has(id)), []);
  });

  it('keeps the GET for a few people, and points to the POST beyond 1000', async () => {
    const ids = movers.slice(0, 2).map((m) => m.crmContactId!);
    const report = await api.get<ReconciliationReport>(`/reconciliation?contactId=${ids.join(',')}`);
    assert.deepStrictEqual(report.people.map((p) => p.contactId), [...ids].sort());
    const many = Array.from({ length: 1001 }, (_, i) => `C${i}`).join(',');
    const { status, body } = await api.call('GET', `/reconciliation?contactId=${many}`);
    assert.strictEqual(status, 400);
    assert.match(body.error, /at most 1000 contact ids in the query: POST/);
  });

  it('answers a malformed body with 400 (413 when too large) and a JSON error naming the problem', async () => {
    const refused = async (body: string | undefined, status: number, error: RegExp, headers?: Record<string, string>) => {
      const response = await post(body, headers);
      const text = await response.text();
      assert.strictEqual(response.status, status, `${body?.slice(0, 80)}: ${text.slice(0, 300)}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/, text.slice(0, 300));
      assert.match(JSON.parse(text).error, error);
      assert.doesNotMatch(text, /at \w+ \(|node_modules/, 'no stack trace');
    };
    await refused('{"contactIds": ["C0000001",', 400, /^the body is not JSON: /);
    await refused('{"contactIds": ["C0000001"]}', 400, /Content-Type: application\/json/, { 'content-type': 'text/plain' });
    await refused('contactIds=C0000001', 400, /Content-Type: application\/json/, { 'content-type': 'application/x-www-form-urlencoded' });
    await refused(undefined, 400, /the body is empty/);
    await refused('["C0000001"]', 400, /the body must be a JSON object/);
    await refused('{"contactIds": "C0000001,C0000002"}', 400, /contactIds must be an array/);
    await refused('{"contactIds": ["C0000001", 7]}', 400, /contactIds\[1\] is number, not a string/);
    await refused('{"contactIds": ["C0000001", null]}', 400, /contactIds\[1\] is null/);
    await refused('{"contactIds": ["<script>"]}', 400, /contactIds\[0\]: "<script>" is not a CRM contact id/);
    await refused('{"contactId": ["C0000001"]}', 400, /unknown field "contactId"/);
    await refused(JSON.stringify({ contactIds: Array.from({ length: MAX_BODY_IDS + 1 }, (_, i) => `C${i}`) }), 400, /at most 100000 contact ids at a time, got 100001/);
    // 100,000 ids of the longest form fit under the limit: the body is read and checked to its end.
    const longest = Array.from({ length: MAX_BODY_IDS }, (_, i) => `C${String(i).padStart(39, '0')}`);
    longest[MAX_BODY_IDS - 1] = 'not a contact id';
    const fits = JSON.stringify({ contactIds: longest }, null, 1);
    assert.ok(fits.length > 4_000_000 && fits.length < BODY_LIMIT_BYTES, String(fits.length));
    await refused(fits, 400, /contactIds\[99999\]: "not a contact id" is not a CRM contact id/);
    const tooLarge = JSON.stringify({ contactIds: Array.from({ length: 140000 }, (_, i) => `C${String(i).padStart(39, '0')}`) });
    assert.ok(tooLarge.length > BODY_LIMIT_BYTES);
    await refused(tooLarge, 413, /the body is larger than 5242880 bytes/);
  });

  it('asks for a login before it reads a body, malformed or not', async () => {
    assert.strictEqual((await post('{"contactIds": ["C0000001"]}', undefined, false)).status, 401);
    assert.strictEqual((await post('{"contactIds": [', undefined, false)).status, 401);
  });

  it('describes the POST in the OpenAPI document', async () => {
    const doc = await api.get('/openapi.json');
    assert.ok(doc.paths['/reconciliation'].post.requestBody.content['application/json'], JSON.stringify(doc.paths['/reconciliation']));
    assert.strictEqual(doc.components.schemas.ReconciliationRequest.properties.contactIds.maxItems, MAX_BODY_IDS);
  });

  it('npm run reconcile with HUB_URL asks the hub by POST, for more than 2,000 people', async () => {
    const known = sims.population.residents.filter((r) => r.crmContactId).map((r) => r.crmContactId!);
    const ids = [...new Set([...movers.map((m) => m.crmContactId!), ...known])].slice(0, 2100);
    assert.strictEqual(ids.length, 2100);
    const run = await reconcileCommand({ HUB_URL: hub.url, HUB_USER: 'support', HUB_PASSWORD: DEMO_PASSWORD }, ['--json', ...ids]);
    assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as ReconciliationReport;
    assert.strictEqual(report.people.length, 2100);
    assert.deepStrictEqual(report.people.map((p) => p.contactId), [...ids].sort());
  });

  it('npm run reconcile in Redis mode (no hub) finds the cross-references the hub wrote', async () => {
    // Its own empty data folder: nothing can come from SQLite.
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-redis-'));
    const redisMode = { HUB_STORE: 'redis', REDIS_URL, HUB_JOURNAL_PREFIX: journalPrefix, HUB_DATA_DIR: emptyDir };
    try {
      const run = await reconcileCommand(redisMode, ['--json', ...movers.map((m) => m.crmContactId!)]);
      assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
      const report = JSON.parse(run.stdout) as ReconciliationReport;
      for (const system of ['planning', 'housing'] as const) {
        for (const mover of deliveredIn(system)) {
          const finding = report.people.find((p) => p.contactId === mover.crmContactId)!.systems.find((s) => s.system === system)!;
          assert.strictEqual(finding.verdict, 'agrees', `${mover.crmContactId}/${system}: ${JSON.stringify(finding)}`);
          assert.deepStrictEqual(finding.ids, system === 'planning' ? { partyId: mover.planningPartyId } : { tenancyRef: mover.tenancyRef, personRef: mover.personRef });
        }
      }
      // Without ids: everyone the hub's journal (in Redis) holds a change for: the movers.
      const everyone = await reconcileCommand(redisMode, ['--json']);
      assert.ok(everyone.code === 0 || everyone.code === 1, `exit ${everyone.code}: ${everyone.stderr}`);
      assert.deepStrictEqual((JSON.parse(everyone.stdout) as ReconciliationReport).people.map((p) => p.contactId), movers.map((m) => m.crmContactId!).sort());
      assert.ok(!fs.existsSync(path.join(emptyDir, 'hub.db')), 'Redis mode opens no SQLite file');
    } finally {
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
