import { EventEmitter } from 'events';
import SftpClient from 'ssh2-sftp-client';
import type { Client, SFTPWrapper } from 'ssh2';
import { SftpError, connectionError } from './errors';
import { hostKeyFingerprint, hostKeyRefusal, normaliseFingerprint } from './host-key';

/** One SFTP server as the hub is configured to reach it. */
export interface SftpEndpoint {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** The server's host key, 'SHA256:...' as `ssh-keygen -lf` prints it. Without it every connection is refused. */
  hostKeyFingerprint?: string;
  /** OpenSSH or PEM private key; with `passphrase` when it is encrypted. */
  privateKey?: string | Buffer;
  passphrase?: string;
  password?: string;
  /** Time allowed for the TCP connection, handshake and login. Default 10 s. */
  readyTimeoutMs?: number;
  /** SSH keepalive, so a server that vanished without closing is noticed. Default 10 s (3 missed = dead). */
  keepaliveIntervalMs?: number;
  /**
   * Time allowed for one piece of work (run()) before the connection is taken as lost: ended,
   * and opened again by the next run. Default 120 s. An operation issued on a connection at
   * the moment the server dropped it can otherwise wait for an answer that never comes.
   */
  operationTimeoutMs?: number;
}

export type SftpConnectionState = 'idle' | 'connecting' | 'connected' | 'closed';

interface Session {
  client: SftpClient;
  raw: Client;
  alive: boolean;
}

const END_TIMEOUT_MS = 5000;
const OPERATION_TIMEOUT_MS = 120_000;

/**
 * The hub's connection to one SFTP server: opened on first use, reused by every operation,
 * opened again on the next use after it dropped, released by close().
 *
 * ssh2's Client is an EventEmitter that emits 'error' when the server goes away; with no
 * listener, that error takes the whole process down. Every Client and SFTP channel made
 * here has an 'error' listener from birth, and this class itself never emits 'error':
 * a lost connection is a 'disconnected' event and an error of the operation that was running.
 *
 * Events: 'connected' (), 'disconnected' (error?: Error).
 */
export class SftpConnection extends EventEmitter {
  readonly where: string;
  private readonly pinned?: string;
  private session?: Session;
  private opening?: Promise<Session>;
  private closed = false;

  constructor(readonly endpoint: SftpEndpoint) {
    super();
    if (!endpoint.host) throw new SftpError('CONFIGURATION', 'SFTP endpoint has no host');
    if (!endpoint.username) throw new SftpError('CONFIGURATION', `SFTP endpoint ${endpoint.host} has no username`);
    if (!endpoint.privateKey && !endpoint.password) {
      throw new SftpError('CONFIGURATION', `SFTP endpoint ${endpoint.host} has neither a private key nor a password`);
    }
    this.where = `${endpoint.username}@${endpoint.host}:${endpoint.port ?? 22}`;
    this.pinned = endpoint.hostKeyFingerprint ? normaliseFingerprint(endpoint.hostKeyFingerprint) : undefined;
  }

  get state(): SftpConnectionState {
    if (this.closed) return 'closed';
    if (this.session?.alive) return 'connected';
    return this.opening ? 'connecting' : 'idle';
  }

  /** The connected client, connecting first if needed (one attempt at a time). */
  async client(): Promise<SftpClient> {
    if (this.closed) throw new SftpError('CONNECTION_LOST', `the SFTP connection to ${this.where} is closed`);
    if (this.session?.alive) return this.session.client;
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return (await this.opening).client;
  }

  /**
   * Runs one piece of work on the connection. When the connection drops during it, the
   * error says so (CONNECTION_LOST) and the next run connects again.
   */
  async run<T>(work: (sftp: SftpClient) => Promise<T>): Promise<T> {
    const client = await this.client();
    const session = this.session;
    const limitMs = this.endpoint.operationTimeoutMs ?? OPERATION_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        // The connection is no use any more: end it, so that the next run connects again.
        const error = new SftpError('CONNECTION_LOST', `the SFTP connection to ${this.where} was lost: no answer within ${limitMs} ms`);
        if (session && this.session === session) {
          session.alive = false;
          this.session = undefined;
          session.raw.destroy();
          this.emit('disconnected', error);
        }
        reject(error);
      }, limitMs);
    });
    try {
      return await Promise.race([work(client), unanswered]);
    } catch (err) {
      if (err instanceof SftpError) throw err;
      const message = (err as Error)?.message ?? String(err);
      // Give ssh2 a tick to deliver the 'close' that explains the failure.
      await new Promise((resolve) => setImmediate(resolve));
      if (!session?.alive) throw new SftpError('CONNECTION_LOST', `the SFTP connection to ${this.where} was lost: ${message}`, err);
      throw new SftpError('TRANSFER_FAILED', `SFTP ${this.where}: ${message}`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the connection for good. */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => undefined);
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    session.alive = false;
    const timer = setTimeout(() => session.raw.destroy(), END_TIMEOUT_MS);
    try {
      await session.client.end();
    } catch {
      session.raw.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  private async open(): Promise<Session> {
    const quiet = () => undefined;
    // ssh2-sftp-client logs to the console from its default listeners; ours stay quiet and
    // the state is tracked on the raw client below.
    const client = new SftpClient(`council-hub ${this.where}`, { error: quiet, end: quiet, close: quiet });
    const raw = (client as unknown as { client: Client }).client;
    const session: Session = { client, raw, alive: false };
    let lastError: Error | undefined;
    const lost = () => {
      if (!session.alive) return;
      session.alive = false;
      if (this.session === session) this.session = undefined;
      this.emit('disconnected', lastError ?? new SftpError('CONNECTION_LOST', `the SFTP server ${this.where} closed the connection`));
    };
    raw.on('error', (err: Error) => {
      lastError = err;
      lost();
    });
    raw.on('end', lost);
    raw.on('close', lost);

    let presented: string | undefined;
    try {
      const sftp = (await client.connect({
        host: this.endpoint.host,
        port: this.endpoint.port ?? 22,
        username: this.endpoint.username,
        privateKey: this.endpoint.privateKey,
        passphrase: this.endpoint.passphrase,
        password: this.endpoint.password,
        readyTimeout: this.endpoint.readyTimeoutMs ?? 10000,
        keepaliveInterval: this.endpoint.keepaliveIntervalMs ?? 10000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          presented = hostKeyFingerprint(key);
          return presented === this.pinned;
        },
      })) as unknown as SFTPWrapper;
      // The SFTP channel emits 'error' on a protocol failure: never unhandled.
      sftp.on('error', (err: Error) => {
        lastError = err;
        raw.end();
      });
    } catch (err) {
      raw.destroy();
      if (presented && presented !== this.pinned) throw hostKeyRefusal(`${this.endpoint.host}:${this.endpoint.port ?? 22}`, presented, this.pinned);
      throw connectionError(this.where, err);
    }
    if (this.closed) {
      raw.destroy();
      throw new SftpError('CONNECTION_LOST', `the SFTP connection to ${this.where} is closed`);
    }
    // Every SFTP operation is a small request and a small answer: with Nagle's algorithm on,
    // each waits out the peer's delayed acknowledgement (about 40 ms a write on loopback).
    raw.setNoDelay(true);
    session.alive = true;
    this.session = session;
    this.emit('connected');
    return session;
  }
}
