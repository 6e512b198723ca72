import { spawn, execFileSync, ChildProcess } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { freePort } from './ports';

/** A real OpenSSH sshd on loopback that serves only SFTP, for tests. */
export interface SshdServer {
  host: string;
  port: number;
  username: string;
  /** The user's private key (OpenSSH format, no passphrase). */
  privateKey: string;
  /** The host key's fingerprint, 'SHA256:...' as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** Absolute folder that is the SFTP start directory: relative paths resolve here. */
  root: string;
  /** Ends sshd and its sessions and removes the temp folder; final. */
  stop(): Promise<void>;
  /** SIGKILL sshd and its session processes (a crash, as the client sees it). */
  kill(): Promise<void>;
  /** Starts sshd again (after kill(), or while running) on the same port, keys and root. */
  restart(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10000;

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'council-hub-test', '-f', file], { stdio: 'ignore' });
}

/** The SHA256 fingerprint of a public key file, exactly as ssh-keygen prints it. */
function fingerprint(publicKeyFile: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  const field = line.split(/\s+/)[1];
  if (!field?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen output: ${line}`);
  return field;
}

/** Every descendant of pid (sshd forks a process per connection, which calls setsid, so a process group kill would miss it). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces or brackets; ppid is the second field after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const children = parents.get(ppid) ?? [];
      children.push(Number(entry));
      parents.set(ppid, children);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Resolves once something on the port speaks SSH (sends its banner). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('data', (chunk) => finish(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => finish(false));
  });
}

/**
 * Starts /usr/sbin/sshd in the foreground (-D -e) with its own config, host key, user key
 * and authorized_keys in a temp folder, on a free loopback port, serving internal-sftp only
 * with a per-run start directory. Runs as the current user (root in CI: PermitRootLogin
 * prohibit-password with the generated key).
 */
/** `root`: serve this folder (default a new one in the temp folder). */
export async function startSshd(options: { root?: string } = {}): Promise<SshdServer> {
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory sshd insists on
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-sshd-'));
  const root = options.root ?? path.join(dir, 'root');
  fs.mkdirSync(root, { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'user_ed25519');
  keygen(hostKey);
  keygen(userKey);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.copyFileSync(`${userKey}.pub`, authorizedKeys);
  const configFile = path.join(dir, 'sshd_config');
  const username = os.userInfo().username;
  const writeConfig = (port: number) =>
    fs.writeFileSync(
      configFile,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'UseDNS no',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'Subsystem sftp internal-sftp',
        `ForceCommand internal-sftp -d ${root}`,
        'MaxStartups 50:30:100',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );

  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (port: number): Promise<boolean> => {
    output = '';
    const started = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    started.stderr!.on('data', (chunk) => (output = (output + chunk).slice(-8000)));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (started.exitCode !== null || started.signalCode !== null) return false;
      if (await answers(port)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`sshd did not answer on port ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
  };

  const end = async (sig: NodeJS.Signals): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    const sessions = descendants(running.pid!);
    signal([running.pid!, ...sessions], sig);
    await exited;
    // Sessions forked after we listed them would be orphans now; none can start once the listener is gone.
    signal(sessions, 'SIGKILL');
  };

  // A free port can be taken between freePort() and sshd's bind: try a few.
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    writeConfig(port);
    if (await launch(port)) break;
    if (attempt === 4) throw new Error(`sshd would not start:\n${output}`);
  }

  return {
    host: '127.0.0.1',
    port,
    username,
    privateKey: fs.readFileSync(userKey, 'utf8'),
    hostKeyFingerprint: fingerprint(`${hostKey}.pub`),
    root,
    async stop() {
      await end('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await end('SIGKILL');
    },
    async restart() {
      await end('SIGTERM');
      // The old listening socket may linger a moment; retry on the same port.
      for (let attempt = 0; attempt < 20; attempt++) {
        if (await launch(port)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`sshd would not restart on port ${port}:\n${output}`);
    },
  };
}
