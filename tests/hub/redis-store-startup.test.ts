import assert from 'assert';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { loadConfig } from '../../hub/config';
import { openStores } from '../../hub/composition';
import { distDir } from '../../hub/paths';
import { deletePrefix, uniquePrefix } from '../journal/stores';
import { startHubProcess, type HubProcess } from '../support/hub-process';
import { freePort } from '../support/ports';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';

/** A valid bcrypt hash that is not the demo one (production refuses the demo password). */
const USERS = 'ops:developer:$2b$10$abcdefghijklmnopqrstuuJ2p8m8c5cWcN6nb0H0oH5oK2hB9rT6a';
const PRODUCTION = { HUB_PROFILE: 'production', HUB_CREDENTIAL_SECRET: 'x'.repeat(32), HUB_USERS: USERS, HUB_DATA_KEY: Buffer.alloc(32, 7).toString('base64') };

/** Folders the tests made, removed at the end. */
const made: string[] = [];

/** No flows: what is tested here is start-up and /healthz, not a journey. */
function emptyFlowFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-flows-'));
  made.push(dir);
  const file = path.join(dir, 'flows.json');
  fs.writeFileSync(file, JSON.stringify([{ id: 'empty.tab', type: 'tab', label: 'empty' }]));
  return file;
}

/** Runs the hub expecting it to refuse; kills it (and fails) if it is still running after the limit. */
async function refusal(env: Record<string, string>, limitMs = 30000): Promise<{ code: number | null; output: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-test-'));
  const child = spawn(process.execPath, [path.join(distDir, 'hub', 'main.js')], {
    env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, HUB_FLOW_FILE: emptyFlowFile(), HUB_SIMULATORS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  fs.rmSync(dataDir, { recursive: true, force: true });
  return { code, output };
}

async function storeHealth(hub: HubProcess): Promise<Record<string, unknown>> {
  const response = await fetch(`${hub.url}/healthz`);
  const body = (await response.json()) as { dependencies: Record<string, Record<string, unknown>> };
  assert.strictEqual(response.status, 200, JSON.stringify(body));
  return body.dependencies.store;
}

describe('hub start-up on a Redis store: persistence checked, refused or warned, shown on /healthz (real processes)', function () {
  this.timeout(90000);
  let aof: OwnRedis;
  let plain: OwnRedis;
  const prefix = uniquePrefix('durability-startup');
  const hubs: HubProcess[] = [];
  const redisEnv = (redis: OwnRedis) => ({ HUB_STORE: 'redis', REDIS_URL: redis.url, HUB_JOURNAL_PREFIX: prefix, HUB_INSTANCE_ID: 'durability-startup' });
  const start = async (env: Record<string, string>) => {
    const hub = await startHubProcess({ flowFile: emptyFlowFile(), env });
    hubs.push(hub);
    return hub;
  };

  before(async () => {
    aof = await startOwnRedis({ appendonly: 'yes', appendfsync: 'always' });
    plain = await startOwnRedis({ appendonly: 'no' });
  });
  afterEach(async () => {
    for (const hub of hubs.splice(0)) {
      await hub.stop();
      made.push(hub.dataDir);
    }
  });
  after(async () => {
    await aof?.stop();
    await plain?.stop();
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start in production on a Redis without AOF, naming what to change', async () => {
    const { code, output } = await refusal({ ...PRODUCTION, ...redisEnv(plain) });
    assert.strictEqual(code, 1, output);
    assert.match(output, /configuration error: Redis has AOF off \(set appendonly yes, with appendfsync everysec or always\)/);
    assert.match(output, /set HUB_REDIS_ALLOW_NO_AOF=yes to start anyway/);
    assert.doesNotMatch(output, /is up\./);
  });

  it('starts in production without AOF when HUB_REDIS_ALLOW_NO_AOF=yes, warns, and /healthz says AOF is off', async () => {
    const hub = await start({ ...PRODUCTION, ...redisEnv(plain), HUB_REDIS_ALLOW_NO_AOF: 'yes' });
    assert.match(hub.output(), /warning: Redis has AOF off.*started anyway: HUB_REDIS_ALLOW_NO_AOF=yes/);
    const store = await storeHealth(hub);
    assert.strictEqual(store.status, 'up');
    assert.strictEqual(store.kind, 'redis');
    assert.strictEqual(store.aof, false);
    assert.match(String(store.warning), /AOF off/);
  });

  it('starts in production on AOF, logs it, and /healthz reports it as Redis has it now', async () => {
    const hub = await start({ ...PRODUCTION, ...redisEnv(aof) });
    assert.match(hub.output(), new RegExp(`journal store Redis redis://127\\.0\\.0\\.1:${aof.port}: AOF on, appendfsync always \\(from CONFIG GET\\)`));
    assert.doesNotMatch(hub.output(), /warning/);
    const store = await storeHealth(hub);
    assert.deepStrictEqual(
      { status: store.status, kind: store.kind, aof: store.aof, appendfsync: store.appendfsync, persistenceFrom: store.persistenceFrom, warning: store.warning },
      { status: 'up', kind: 'redis', aof: true, appendfsync: 'always', persistenceFrom: 'config', warning: undefined },
    );
    assert.match(String(store.loses), /nothing acknowledged/);
    // Read on each probe, not remembered from the start: an operator's change shows.
    const admin = new Redis(aof.url);
    try {
      await admin.config('SET', 'appendfsync', 'everysec');
      assert.strictEqual((await storeHealth(hub)).appendfsync, 'everysec');
    } finally {
      await admin.config('SET', 'appendfsync', 'always');
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });

  it('only warns in the demo profile, and /healthz says AOF is off', async () => {
    const hub = await start(redisEnv(plain));
    assert.match(hub.output(), /warning: Redis has AOF off.*the production profile refuses to start on it unless HUB_REDIS_ALLOW_NO_AOF=yes/);
    const store = await storeHealth(hub);
    assert.strictEqual(store.aof, false);
    assert.strictEqual(store.rdbOnly, false);
    assert.match(String(store.loses), /a restart of Redis empties it/);
  });

  it('reports the SQLite store and its synchronous setting on /healthz beside its kind', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-test-'));
    const stores = openStores(loadConfig({ HUB_DATA_DIR: dataDir, HUB_SQLITE_SYNCHRONOUS: 'NORMAL' }));
    try {
      const report = await stores.health.report();
      assert.strictEqual(report.dependencies.store.status, 'up');
      assert.strictEqual(report.dependencies.store.kind, 'sqlite');
      assert.strictEqual(report.dependencies.store.synchronous, 'NORMAL');
      assert.match(String(report.dependencies.store.detail), /^sqlite .*hub\.db$/);
    } finally {
      await stores.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
