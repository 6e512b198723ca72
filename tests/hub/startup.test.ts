import assert from 'assert';
import fs from 'fs';
import path from 'path';
import os from 'os';
import { startHubProcess, expectHubToRefuse, login, HubProcess } from '../support/hub-process';
import { flowsDir } from '../../hub/paths';

/**
 * Start-up is tested with the demo tab only: the change-of-address tab would join the CRM's
 * queue on the shared broker and take events meant for the end-to-end tests.
 */
function demoOnlyFlowFile(extra: object[] = []): string {
  const flows = JSON.parse(fs.readFileSync(path.join(flowsDir, 'flows.json'), 'utf8')) as Array<{ id: string; z?: string }>;
  const demo = [...flows.filter((n) => n.id === 'demo.tab' || n.z === 'demo.tab'), ...extra];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-flows-')), 'flows.json');
  fs.writeFileSync(file, JSON.stringify(demo));
  return file;
}
import { freePort } from '../support/ports';
import { sampleRecords, volume, writeDtf } from '../gazetteer/dtf-fixture';
import { until } from '../planning/support';

const DEMO_PASSWORD = 'council-hub-demo';

describe('hub start-up, security, health and metrics (real process)', function () {
  this.timeout(60000);
  let hub: HubProcess;

  // A gazetteer node on a folder of DTF volumes, for the version /healthz reports.
  const gazetteerFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-llpg-'));
  const gazetteerNode = { id: 'demo.gazetteer', type: 'gazetteer', z: 'demo.tab', file: '${GAZETTEER_FILE}', addresses: 'payload', wires: [[], []] };

  before(async () => {
    writeDtf(path.join(gazetteerFolder, 'volume-1.csv'), volume(1, 'F'), sampleRecords());
    hub = await startHubProcess({
      flowFile: demoOnlyFlowFile([gazetteerNode]),
      env: { RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672', REDIS_URL: 'redis://127.0.0.1:6379', GAZETTEER_FILE: gazetteerFolder },
    });
  });
  after(async () => {
    await hub?.stop();
    fs.rmSync(gazetteerFolder, { recursive: true, force: true });
  });

  it('says where the editor is and how to log in', () => {
    assert.match(hub.output(), /editor: +http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(hub.output(), /demo login: developer/);
  });

  it('serves the editor page and refuses the admin API without a token', async () => {
    const page = await fetch(`${hub.url}/`);
    assert.strictEqual(page.status, 200);
    assert.match(await page.text(), /council hub/);
    const flows = await fetch(`${hub.url}/flows`);
    assert.strictEqual(flows.status, 401);
  });

  it('refuses a wrong password', async () => {
    await assert.rejects(login(hub.url, 'developer', 'wrong'), /answered 403/);
  });

  it('lets a developer read and deploy flows, and keeps credentials encrypted', async () => {
    const token = await login(hub.url, 'developer', DEMO_PASSWORD);
    const auth = { authorization: `Bearer ${token}` };
    const current = await fetch(`${hub.url}/flows`, { headers: { ...auth, 'Node-RED-API-Version': 'v2' } });
    assert.strictEqual(current.status, 200);
    const { flows, rev } = (await current.json()) as { flows: any[]; rev: string };
    assert.ok(flows.some((n) => n.type === 'postcode'), 'the demo flow with the postcode node is loaded');
    const withSecret = [
      ...flows,
      { id: 'cred.test', type: 'http request', z: flows[0].id, method: 'GET', url: 'http://127.0.0.1:9/', authType: 'basic', credentials: { user: 'clerk', password: 'plain-secret-value' }, wires: [] },
    ];
    const deploy = await fetch(`${hub.url}/flows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: withSecret, rev }),
    });
    assert.strictEqual(deploy.status, 200);
    const credFile = path.join(hub.dataDir, 'node-red', 'flows_cred.json');
    const stored = fs.readFileSync(credFile, 'utf8');
    assert.ok(!stored.includes('plain-secret-value'), 'credentials are not stored in plain text');
    assert.ok(JSON.parse(stored).$, 'credentials are stored encrypted');
  });

  it('lets support staff read flows but not deploy them', async () => {
    const token = await login(hub.url, 'support', DEMO_PASSWORD);
    const auth = { authorization: `Bearer ${token}` };
    const read = await fetch(`${hub.url}/flows`, { headers: auth });
    assert.strictEqual(read.status, 200);
    const deploy = await fetch(`${hub.url}/flows`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify([]),
    });
    assert.strictEqual(deploy.status, 401);
  });

  it('shows the hub nodes in the "council hub" palette category and the example in Import > Examples', async () => {
    const token = await login(hub.url, 'developer', DEMO_PASSWORD);
    const nodes = await fetch(`${hub.url}/nodes`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    const sets = (await nodes.json()) as Array<{ module: string; types: string[] }>;
    const ours = sets.filter((s) => s.module === 'council-hub').flatMap((s) => s.types);
    assert.ok(ours.includes('postcode'), `council-hub nodes registered: ${ours.join(', ')}`);
    const html = await fetch(`${hub.url}/nodes`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } });
    assert.match(await html.text(), /category: 'council hub'/);
    const examples = await fetch(`${hub.url}/library/examples/flows/council-hub/postcode-lookup`, { headers: { authorization: `Bearer ${token}` } });
    assert.strictEqual(examples.status, 200);
    assert.ok(((await examples.json()) as any[]).some((n) => n.type === 'postcode'));
    const journey = await fetch(`${hub.url}/library/examples/flows/council-hub/change-of-address`, { headers: { authorization: `Bearer ${token}` } });
    assert.strictEqual(journey.status, 200);
    const types = new Set(((await journey.json()) as any[]).map((n) => n.type));
    for (const type of ['journal', 'gazetteer', 'delivery', 'person-lookup', 'revenues-batch', 'soap-endpoint']) assert.ok(types.has(type), `the change-of-address example has a ${type} node`);
    const cases = await fetch(`${hub.url}/library/examples/flows/council-hub/case-updates`, { headers: { authorization: `Bearer ${token}` } });
    assert.strictEqual(cases.status, 200);
    assert.ok(((await cases.json()) as any[]).some((n) => n.type === 'crm-case'), 'the case-updates example is there too');
  });

  it('runs the demo flow', async () => {
    const ok = await fetch(`${hub.url}/demo/postcode?postcode=sw1a%201aa`);
    assert.strictEqual(await ok.text(), 'SW1A 1AA');
    const bad = await fetch(`${hub.url}/demo/postcode?postcode=nowhere`);
    assert.strictEqual(bad.status, 400);
    assert.match(await bad.text(), /not a UK postcode/);
  });

  it('reports each configured dependency on /healthz', async () => {
    const response = await fetch(`${hub.url}/healthz`);
    const body = (await response.json()) as any;
    assert.strictEqual(response.status, 200, JSON.stringify(body));
    assert.strictEqual(body.status, 'up');
    for (const dependency of ['store', 'rabbitmq', 'redis']) assert.strictEqual(body.dependencies[dependency]?.status, 'up', dependency);
  });

  it('reports on /healthz the gazetteer version this instance answers from', async () => {
    let detail = '';
    await until(async () => {
      detail = ((await (await fetch(`${hub.url}/healthz`)).json()) as any).dependencies.gazetteer?.detail ?? '';
      return !detail.startsWith('no gazetteer');
    }, 'the gazetteer to load');
    assert.strictEqual(detail, `${gazetteerFolder}: 4405/2026-11-01/1 (10 addresses)`);
  });

  it('serves Prometheus metrics', async () => {
    const response = await fetch(`${hub.url}/metrics`);
    assert.strictEqual(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await response.text(), /^councilhub_process_cpu_user_seconds_total\{app="council-hub"\} /m);
  });
});

describe('hub health when a dependency is down', function () {
  this.timeout(60000);
  it('answers 503 and names the dependency that is down', async () => {
    const nobody = await freePort();
    const hub = await startHubProcess({ flowFile: demoOnlyFlowFile(), env: { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${nobody}` } });
    try {
      const response = await fetch(`${hub.url}/healthz`);
      const body = (await response.json()) as any;
      assert.strictEqual(response.status, 503);
      assert.strictEqual(body.status, 'degraded');
      assert.strictEqual(body.dependencies.rabbitmq.status, 'down');
      assert.match(body.dependencies.rabbitmq.detail, /ECONNREFUSED/);
      assert.strictEqual(body.dependencies.store.status, 'up');
    } finally {
      await hub.stop();
    }
  });
});

describe('production profile', function () {
  this.timeout(30000);
  it('refuses to start without a credential secret', async () => {
    const { code, output } = await expectHubToRefuse({ HUB_PROFILE: 'production' });
    assert.strictEqual(code, 1);
    assert.match(output, /configuration error: HUB_CREDENTIAL_SECRET is required/);
  });
  it('refuses to start without users', async () => {
    const { code, output } = await expectHubToRefuse({ HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 'x'.repeat(32) });
    assert.strictEqual(code, 1);
    assert.match(output, /configuration error: HUB_USERS is required/);
  });
  it('refuses to start without a data key (personal data is encrypted at rest)', async () => {
    const users = 'ann:dpo:$2b$10$abcdefghijklmnopqrstuuJ2p8m8c5cWcN6nb0H0oH5oK2hB9rT6a';
    const { code, output } = await expectHubToRefuse({ HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 'x'.repeat(32), HUB_USERS: users });
    assert.strictEqual(code, 1);
    assert.match(output, /configuration error: HUB_DATA_KEY is required in the production profile/);
  });
});
