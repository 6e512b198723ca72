import bcrypt from 'bcryptjs';
import { randomBytes } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { startHubProcess, type HubProcess } from '../tests/support/hub-process';
import { freePort } from '../tests/support/ports';
import { figure, type Figure, type Measurement } from './harness';

/**
 * Scenario 8: cold start of the built hub (`node dist/hub/main.js`, what `npm start` runs
 * once built), from the spawn to the first 200 from /healthz: the moment a load balancer
 * would send it traffic. Each round is a new process on a new, empty data folder (a first
 * start: the SQLite store and, in the demo, the back office's population, gazetteer and keys
 * are all made), stopped and removed afterwards. Two profiles:
 *   demo: as `npm start` gives it (HUB_PROFILE unset, the demo back office's simulators on);
 *   production: HUB_PROFILE=production with a credential secret and one user of its own,
 *     no simulators, the SQLite store.
 * Neither is given RABBITMQ_URL or REDIS_URL, even if the bench's environment has them:
 * the flows' consumers would otherwise take messages from the shared broker's real queues.
 */

const HEALTH_POLL_MS = 20;
const START_LIMIT_MS = 60_000;

type Profile = 'demo' | 'production';

/** What the hub reads from its environment, per profile; '' unsets an inherited setting. */
function profileEnvironment(profile: Profile, passwordHash: string): Record<string, string> {
  const shared = { RABBITMQ_URL: '', REDIS_URL: '', HUB_STORE: '', HUB_SIMULATORS: '', HUB_LOG_LEVEL: 'info' };
  if (profile === 'demo') return { ...shared, HUB_PROFILE: '', HUB_USERS: '', HUB_CREDENTIAL_SECRET: '' };
  return { ...shared, HUB_PROFILE: 'production', HUB_USERS: `bench:developer:${passwordHash}`, HUB_CREDENTIAL_SECRET: randomBytes(24).toString('hex'), HUB_DATA_KEY: randomBytes(32).toString('base64') };
}

/** Asks /healthz until it answers 200; resolves with the seconds since `started`, or undefined if told to give up. */
async function firstHealthy(url: string, started: bigint, givenUp: () => boolean): Promise<number | undefined> {
  while (!givenUp()) {
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return Number(process.hrtime.bigint() - started) / 1e9;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  return undefined;
}

/**
 * startHubProcess gives no handle on a hub that did not come up in time, and leaves it
 * running: find it among this process's children by its data folder, and stop it.
 */
function killStrayHub(dataDir: string): void {
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const parent = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (parent !== process.pid) continue;
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HUB_DATA_DIR=${dataDir}`)) continue;
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}

async function coldStartRound(profile: Profile, env: Record<string, string>): Promise<Measurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `council-hub-bench-cold-${profile}-`));
  const port = await freePort();
  let hub: HubProcess | undefined;
  let stopPolling = false;
  try {
    const started = process.hrtime.bigint();
    const healthy = firstHealthy(`http://127.0.0.1:${port}`, started, () => stopPolling);
    try {
      hub = await startHubProcess({ dataDir: dir, port, env, startTimeoutMs: START_LIMIT_MS });
    } catch (err) {
      stopPolling = true;
      await healthy;
      killStrayHub(dir);
      throw err;
    }
    // "is up." is printed once the flows have started; /healthz says 200 then too (or soon after).
    const upLine = Number(process.hrtime.bigint() - started) / 1e9;
    const limit = setTimeout(() => (stopPolling = true), START_LIMIT_MS);
    const seconds = await healthy;
    clearTimeout(limit);
    if (seconds === undefined) throw new Error(`the ${profile} hub said it was up but /healthz never answered 200:\n${hub.output()}`);
    const status = fs.readFileSync(`/proc/${hub.child.pid}/status`, 'utf8');
    const rssMiB = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    return { value: seconds, extra: { upLineSeconds: Math.round(upLine * 1000) / 1000, rssMiBAtStart: rssMiB } };
  } finally {
    stopPolling = true;
    await hub?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface ColdStartOptions {
  /** Default 3 (quick) or 5. */
  rounds?: number;
  /** Default both. */
  profiles?: Profile[];
  log?: (line: string) => void;
}

/** Cold start to /healthz 200, one Figure per profile (goal: under 5 s). */
export async function coldStartFigures(quick: boolean, options: ColdStartOptions = {}): Promise<Figure[]> {
  const rounds = options.rounds ?? (quick ? 3 : 5);
  // A user of the bench's own: production refuses the demo password. Cost 4: hashing is not what is measured.
  const passwordHash = bcrypt.hashSync(randomBytes(12).toString('hex'), 4);
  const figures: Figure[] = [];
  for (const profile of options.profiles ?? (['demo', 'production'] as Profile[])) {
    const env = profileEnvironment(profile, passwordHash);
    figures.push(
      await figure(`8 cold start to /healthz 200 (${profile} profile)`, 's', rounds, () => coldStartRound(profile, env), { atMost: 5, text: 'under 5 s' }, options.log),
    );
  }
  return figures;
}
