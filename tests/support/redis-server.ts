import { spawn, type ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from './ports';

/**
 * A redis-server of the test's own, on a free loopback port with its own folder: the shared
 * Redis on 6379 runs without AOF and must not be reconfigured or killed by a test.
 */
export interface OwnRedis {
  port: number;
  url: string;
  dir: string;
  /** Every start's output, for failure messages. */
  output(): string;
  /** Kills the server with SIGKILL (a crash: no shutdown, no final fsync) and waits for it to end. */
  crash(): Promise<void>;
  /** Starts it again on the same port and folder (it loads its AOF) and waits until it is ready. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and removes its folder. */
  stop(): Promise<void>;
}

export interface OwnRedisOptions {
  appendonly?: 'yes' | 'no';
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More redis-server arguments, e.g. ['--rename-command', 'CONFIG', '']. */
  args?: string[];
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.appendonly ?? 'yes',
    '--appendfsync', options.appendfsync ?? 'always',
    '--daemonize', 'no',
    '--logfile', '',
    ...(options.args ?? []),
  ];
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    const from = output.length; // only this start's output says it is ready
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready within 10 s:\n${output}`)), 10000);
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (/Ready to accept connections/.test(output.slice(from))) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', (chunk) => (output += chunk));
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${port} exited with ${code}:\n${output}`));
      });
    });
  };
  await launch();
  const running = () => child && child.exitCode === null && child.signalCode === null;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    output: () => output,
    async crash() {
      if (running()) child!.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (running()) throw new Error('redis-server is still running');
      output += '\n--- restart ---\n';
      await launch();
    },
    async stop() {
      if (running()) child!.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
