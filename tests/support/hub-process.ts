import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from './ports';
import { distDir, flowsDir } from '../../hub/paths';

export interface HubProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** Waits for the process to end and returns its exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface HubProcessOptions {
  env?: Record<string, string>;
  /** Flow file to copy in; defaults to the hub's own flows/flows.json. */
  flowFile?: string;
  dataDir?: string;
  startTimeoutMs?: number;
  /** The port to listen on (a restart on the same port, a peer told the hub's URL in advance); default a free one. */
  port?: number;
}

/**
 * Starts `node dist/hub/main.js` as a child process on a free port, with its own data
 * folder and a copy of the flows, and resolves once it says it is up. Start-up, auth and
 * crash-recovery tests need a real process: Node-RED is one per process.
 */
export async function startHubProcess(options: HubProcessOptions = {}): Promise<HubProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-test-'));
  const flowFile = path.join(dataDir, 'flows.json');
  if (!fs.existsSync(flowFile)) fs.copyFileSync(options.flowFile ?? path.join(flowsDir, 'flows.json'), flowFile);
  const child = spawn(process.execPath, [path.join(distDir, 'hub', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_DATA_DIR: dataDir,
      HUB_FLOW_FILE: flowFile,
      HUB_LOG_LEVEL: 'warn',
      HUB_SIMULATORS: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.startTimeoutMs ?? 20000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      if (output.includes('is up.')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before it was up:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the hub expecting it to refuse to start; resolves with its exit code and output. */
export async function expectHubToRefuse(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-test-'));
  const child = spawn(process.execPath, [path.join(distDir, 'hub', 'main.js')], {
    env: { ...process.env, PORT: String(await freePort()), HUB_DATA_DIR: dataDir, HUB_SIMULATORS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output };
}

/** Logs in through Node-RED's admin API and returns the bearer token. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }),
  });
  if (response.status !== 200) throw new Error(`login as ${username} answered ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}
