import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { Server, utils, Connection, SFTPWrapper, Attributes, AuthContext } from 'ssh2';

/**
 * An embedded SFTP server (ssh2's Server and its SFTP subsystem) for the demo and for
 * machines without sshd. It serves one root folder: "/" and relative paths both mean the
 * root, and no path leaves it. It answers as OpenSSH's internal-sftp does where the
 * file systems and the hub care: rename onto an existing name fails, a missing file is
 * NO_SUCH_FILE, directories list with ls-style long names.
 */
export interface EmbeddedSftpOptions {
  root: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  username?: string;
  /** password login; omit to allow keys only */
  password?: string;
  /** OpenSSH public keys (one line each) allowed to log in */
  authorizedKeys?: string[];
  /** the host key (OpenSSH or PEM private key); generated (ed25519) when omitted */
  hostKey?: string;
}

export interface EmbeddedSftpServer {
  host: string;
  port: number;
  username: string;
  password?: string;
  root: string;
  /** the host key's fingerprint, 'SHA256:...' as ssh-keygen -l prints it */
  hostKeyFingerprint: string;
  /** the host's public key, OpenSSH one-line format (for known_hosts) */
  hostPublicKey: string;
  stop(): Promise<void>;
}

const { STATUS_CODE } = utils.sftp;

/** A new ed25519 key pair in OpenSSH format: for a host key, or a client key in tests. */
export function generateSshKeyPair(comment = 'council-hub'): { privateKey: string; publicKey: string } {
  // ssh2 (1.17) drops a leading zero byte of an ed25519 public key (about 1 pair in 200),
  // writing a key its own parser then refuses: generate again until both halves parse.
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) {
      return { privateKey: pair.private, publicKey: pair.public };
    }
  }
}

/** 'SHA256:<base64 without padding>' of a public key, as ssh-keygen -l prints it. */
export function sshFingerprint(publicKey: string | Buffer): string {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return `SHA256:${crypto.createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function statusFor(err: NodeJS.ErrnoException): number {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return STATUS_CODE.NO_SUCH_FILE;
  if (err.code === 'EACCES' || err.code === 'EPERM') return STATUS_CODE.PERMISSION_DENIED;
  return STATUS_CODE.FAILURE;
}

function attrsOf(stats: fs.Stats): Attributes {
  return { mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) };
}

function longname(name: string, stats: fs.Stats): string {
  const type = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (stats.mode & (1 << (8 - i)) ? c : '-'))
    .join('');
  const date = stats.mtime.toDateString().slice(4, 10);
  const time = stats.mtime.toTimeString().slice(0, 5);
  return `${type}${bits} 1 ${stats.uid} ${stats.gid} ${String(stats.size).padStart(8)} ${date} ${time} ${name}`;
}

type Handle = { kind: 'file'; fd: number } | { kind: 'dir'; folder: string; listed: boolean };

/** Serves one SFTP session on the root folder. */
function serveSftp(sftp: SFTPWrapper, root: string): void {
  const handles = new Map<string, Handle>();
  let nextHandle = 0;
  const newHandle = (handle: Handle) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(nextHandle++);
    handles.set(id.toString('hex'), handle);
    return id;
  };
  const virtual = (p: string) => path.posix.resolve('/', p || '.');
  const local = (p: string) => path.join(root, virtual(p));
  const fail = (reqid: number, err: unknown) => sftp.status(reqid, statusFor(err as NodeJS.ErrnoException), (err as Error).message);
  const run = (reqid: number, work: () => Promise<void>) => void work().catch((err) => fail(reqid, err));

  sftp.on('REALPATH', (reqid, p) => {
    const resolved = virtual(p);
    sftp.name(reqid, [{ filename: resolved, longname: resolved, attrs: {} as Attributes }]);
  });
  const stat = (reqid: number, p: string) => run(reqid, async () => void sftp.attrs(reqid, attrsOf(await fs.promises.stat(local(p)))));
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('FSTAT', (reqid, id) => {
    const handle = handles.get(id.toString('hex'));
    if (handle?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'not an open file');
    run(reqid, async () => void sftp.attrs(reqid, attrsOf(fs.fstatSync(handle.fd))));
  });
  sftp.on('OPEN', (reqid, filename, flags, attrs) => {
    const mode = utils.sftp.flagsToString(flags);
    if (!mode) return sftp.status(reqid, STATUS_CODE.BAD_MESSAGE, 'unsupported open flags');
    run(reqid, async () => {
      const fd = await new Promise<number>((resolve, reject) => fs.open(local(filename), mode, attrs?.mode ?? 0o644, (err, opened) => (err ? reject(err) : resolve(opened))));
      sftp.handle(reqid, newHandle({ kind: 'file', fd }));
    });
  });
  sftp.on('READ', (reqid, id, offset, length) => {
    const handle = handles.get(id.toString('hex'));
    if (handle?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'not an open file');
    const buffer = Buffer.alloc(length);
    fs.read(handle.fd, buffer, 0, length, offset, (err, bytes) => {
      if (err) return fail(reqid, err);
      if (bytes === 0) return sftp.status(reqid, STATUS_CODE.EOF);
      sftp.data(reqid, buffer.subarray(0, bytes));
    });
  });
  sftp.on('WRITE', (reqid, id, offset, data) => {
    const handle = handles.get(id.toString('hex'));
    if (handle?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'not an open file');
    fs.write(handle.fd, data, 0, data.length, offset, (err) => (err ? fail(reqid, err) : sftp.status(reqid, STATUS_CODE.OK)));
  });
  sftp.on('CLOSE', (reqid, id) => {
    const key = id.toString('hex');
    const handle = handles.get(key);
    if (!handle) return sftp.status(reqid, STATUS_CODE.FAILURE, 'no such handle');
    handles.delete(key);
    if (handle.kind === 'dir') return sftp.status(reqid, STATUS_CODE.OK);
    fs.close(handle.fd, (err) => (err ? fail(reqid, err) : sftp.status(reqid, STATUS_CODE.OK)));
  });
  sftp.on('OPENDIR', (reqid, p) =>
    run(reqid, async () => {
      const stats = await fs.promises.stat(local(p));
      if (!stats.isDirectory()) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'not a directory');
      sftp.handle(reqid, newHandle({ kind: 'dir', folder: local(p), listed: false }));
    }),
  );
  sftp.on('READDIR', (reqid, id) => {
    const handle = handles.get(id.toString('hex'));
    if (handle?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'not an open directory');
    if (handle.listed) return sftp.status(reqid, STATUS_CODE.EOF);
    handle.listed = true;
    run(reqid, async () => {
      const names = await fs.promises.readdir(handle.folder);
      const entries = [];
      for (const name of names) {
        try {
          const stats = await fs.promises.lstat(path.join(handle.folder, name));
          entries.push({ filename: name, longname: longname(name, stats), attrs: attrsOf(stats) });
        } catch {
          // removed while we listed
        }
      }
      if (entries.length === 0) return void sftp.status(reqid, STATUS_CODE.EOF);
      sftp.name(reqid, entries);
    });
  });
  sftp.on('MKDIR', (reqid, p) => run(reqid, async () => void (await fs.promises.mkdir(local(p)), sftp.status(reqid, STATUS_CODE.OK))));
  sftp.on('RMDIR', (reqid, p) => run(reqid, async () => void (await fs.promises.rmdir(local(p)), sftp.status(reqid, STATUS_CODE.OK))));
  sftp.on('REMOVE', (reqid, p) => run(reqid, async () => void (await fs.promises.unlink(local(p)), sftp.status(reqid, STATUS_CODE.OK))));
  sftp.on('RENAME', (reqid, from, to) =>
    run(reqid, async () => {
      // SFTP v3 (and OpenSSH) refuse to rename onto an existing name.
      const exists = await fs.promises.lstat(local(to)).then(
        () => true,
        () => false,
      );
      if (exists) return void sftp.status(reqid, STATUS_CODE.FAILURE, `${virtual(to)} already exists`);
      await fs.promises.rename(local(from), local(to));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
  sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
  sftp.on('READLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
  sftp.on('SYMLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
  // OpenSSH's sftp ends its side when it quits and waits for the server to close the channel.
  sftp.on('end', () => sftp.end());
  sftp.on('close', () => {
    for (const handle of handles.values()) if (handle.kind === 'file') fs.close(handle.fd, () => undefined);
    handles.clear();
  });
}

export async function startEmbeddedSftp(options: EmbeddedSftpOptions): Promise<EmbeddedSftpServer> {
  const root = path.resolve(options.root);
  fs.mkdirSync(root, { recursive: true });
  const username = options.username ?? 'council';
  const hostKey = options.hostKey ?? generateSshKeyPair('council-hub-simulator-host').privateKey;
  const parsedHostKey = utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) throw parsedHostKey;
  const hostPublic = (Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey).getPublicSSH();
  const hostKeyType = (Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey).type;
  const hostPublicKey = `${hostKeyType} ${hostPublic.toString('base64')}`;
  const allowedKeys = (options.authorizedKeys ?? []).map((line) => {
    const key = utils.parseKey(line);
    if (key instanceof Error) throw new Error(`authorized key is not a public key: ${key.message}`);
    return Array.isArray(key) ? key[0] : key;
  });
  const connections = new Set<Connection>();

  const authenticate = (ctx: AuthContext) => {
    if (!safeEqual(Buffer.from(ctx.username), Buffer.from(username))) return ctx.reject();
    if (ctx.method === 'password' && options.password !== undefined && safeEqual(Buffer.from(ctx.password), Buffer.from(options.password))) return ctx.accept();
    if (ctx.method === 'publickey') {
      const key = allowedKeys.find((k) => k.type === ctx.key.algo && safeEqual(k.getPublicSSH(), ctx.key.data));
      if (key && !ctx.signature) return ctx.accept(); // the client asks whether this key would do
      if (key && ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
    }
    const methods: ('password' | 'publickey')[] = [];
    if (options.password !== undefined) methods.push('password');
    if (allowedKeys.length) methods.push('publickey');
    ctx.reject(methods);
  };

  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined); // a client gone mid-handshake is not our failure
    client.on('authentication', authenticate);
    client.on('ready', () => {
      // Small answers are not held back waiting for the client's delayed ack (the types miss this ssh2 method).
      (client as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), root));
      });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    username,
    password: options.password,
    root,
    hostKeyFingerprint: sshFingerprint(hostPublicKey),
    hostPublicKey,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.end();
        server.close(() => resolve());
      }),
  };
}
