import amqp from 'amqplib';
import type { ChannelModel, Options } from 'amqplib';
import { EventEmitter } from 'events';
import { backoffDelay, type BackoffOptions } from './backoff';
import { AmqpError, brokerLabel, describeAmqpError } from './errors';
import { Signal } from './signal';

export interface AmqpConnectionOptions {
  /** amqp://host:5672/vhost; user and password may be in it, or given below (they win). */
  url: string;
  username?: string;
  password?: string;
  /** Heartbeat interval the client asks for; a dead peer is noticed within about twice this. Default 5 s. */
  heartbeatSeconds?: number;
  /** Shown in the management UI and `rabbitmqctl list_connections client_properties` (connection_name). */
  connectionName: string;
  /** Time allowed for one TCP + AMQP handshake. Default 5 s. */
  connectTimeoutMs?: number;
  /** Delays between reconnect attempts. Default 500 ms doubling to 30 s, with jitter. */
  reconnect?: BackoffOptions;
}

/**
 * connecting: first attempt; connected; blocked: the broker stopped accepting publishes
 * (memory or disk alarm); reconnecting: a live connection was lost and the next attempt
 * is scheduled; error: an attempt failed (error says why) and the next is scheduled;
 * closed: close() was called.
 */
export type AmqpConnectionState = 'connecting' | 'connected' | 'blocked' | 'reconnecting' | 'error' | 'closed';

export interface AmqpConnectionStatus {
  state: AmqpConnectionState;
  error?: AmqpError;
  /** The broker's reason when blocked. */
  blockedReason?: string;
  /** When reconnecting or error: the delay before the next attempt. */
  retryInMs?: number;
}

/** A consumer or publisher that needs the connection: called again after every reconnect. */
export interface AmqpConnectionUser {
  /** Opens its channels and declares its topology. Reports its own failures; must not reject. */
  connected(connection: ChannelModel): Promise<void>;
  /** The connection is gone, and with it the user's channels. */
  disconnected(): void;
}

/**
 * One connection to one broker configuration, shared by its users (consumers and
 * publishers, each on its own channel). It reconnects with exponential backoff and jitter
 * after any loss (broker restart, heartbeat timeout, close_connection) and then calls every
 * user's connected() again so that topology and consumers are re-declared. Problems are
 * 'status' events, never 'error' events: an unhandled 'error' would crash the hub.
 */
export class AmqpConnection extends EventEmitter {
  /** host:port, for messages (never the password). */
  readonly broker: string;
  private current?: ChannelModel;
  private readonly users = new Set<AmqpConnectionUser>();
  private statusNow: AmqpConnectionStatus = { state: 'connecting' };
  private started = false;
  private closing = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private blocked = false;
  private lastError?: AmqpError;
  private readonly changed = new Signal();

  constructor(readonly options: AmqpConnectionOptions) {
    super();
    this.broker = brokerLabel(options.url);
  }

  get status(): AmqpConnectionStatus {
    return this.statusNow;
  }

  /** The live connection, if any. */
  get connection(): ChannelModel | undefined {
    return this.current;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  /** Starts connecting (idempotent); addUser() starts it too. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    void this.connect();
  }

  addUser(user: AmqpConnectionUser): void {
    this.users.add(user);
    this.start();
    if (this.current) void this.runUser(user, this.current);
  }

  removeUser(user: AmqpConnectionUser): void {
    this.users.delete(user);
  }

  /** Resolves with the live connection once connected; rejects when closed. */
  async whenConnected(): Promise<ChannelModel> {
    this.start();
    for (;;) {
      if (this.closing) throw new AmqpError('CLOSED', `the connection to RabbitMQ at ${this.broker} was closed`);
      if (this.current) return this.current;
      await this.changed.wait();
    }
  }

  /** Wakes on every state change (connected, lost, blocked, unblocked, closed). */
  waitForChange(): Promise<void> {
    return this.changed.wait();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.timer);
    const connection = this.current;
    if (connection) await connection.close().catch(() => undefined);
    this.current = undefined;
    this.setStatus({ state: 'closed' });
  }

  private setStatus(status: AmqpConnectionStatus): void {
    this.statusNow = status;
    this.changed.notify();
    this.emit('status', status);
  }

  private target(): Options.Connect {
    const url = new URL(this.options.url);
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
      throw new AmqpError('INVALID_URL', `"${url.protocol}" is not an AMQP URL: use amqp://host:5672 or amqps://`);
    }
    const username = this.options.username || decodeURIComponent(url.username) || undefined;
    const password = this.options.password || decodeURIComponent(url.password) || undefined;
    const vhost = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return {
      protocol: url.protocol.slice(0, -1),
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : undefined,
      username,
      password,
      vhost: vhost || undefined,
      heartbeat: this.options.heartbeatSeconds ?? 5,
    };
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    let connection: ChannelModel;
    try {
      connection = await amqp.connect(this.target(), {
        timeout: this.options.connectTimeoutMs ?? 5000,
        clientProperties: { connection_name: this.options.connectionName },
      });
    } catch (err) {
      this.retryLater('error', describeAmqpError(err instanceof TypeError ? new AmqpError('INVALID_URL', `the RabbitMQ URL is not valid: ${err.message}`) : err, this.broker));
      return;
    }
    if (this.closing) {
      await connection.close().catch(() => undefined);
      return;
    }
    this.current = connection;
    this.attempt = 0;
    this.blocked = false;
    this.lastError = undefined;
    // 'error' always comes with a 'close'; keep the reason for the status and reconnect there.
    connection.on('error', (err: unknown) => (this.lastError = describeAmqpError(err, this.broker)));
    connection.on('close', (err?: unknown) => this.lost(connection, err ? describeAmqpError(err, this.broker) : this.lastError));
    connection.on('blocked', (reason: string) => {
      this.blocked = true;
      this.setStatus({ state: 'blocked', blockedReason: reason });
    });
    connection.on('unblocked', () => {
      this.blocked = false;
      this.setStatus({ state: 'connected' });
    });
    this.setStatus({ state: 'connected' });
    await Promise.all([...this.users].map((user) => this.runUser(user, connection)));
  }

  private async runUser(user: AmqpConnectionUser, connection: ChannelModel): Promise<void> {
    try {
      await user.connected(connection);
    } catch {
      // Users report their own failures as statuses; this only stops one user's bug from
      // becoming an unhandled rejection.
    }
  }

  private lost(connection: ChannelModel, error?: AmqpError): void {
    if (this.current !== connection) return;
    this.current = undefined;
    this.blocked = false;
    for (const user of this.users) user.disconnected();
    if (this.closing) return;
    this.retryLater('reconnecting', error ?? new AmqpError('CONNECTION_LOST', `the connection to RabbitMQ at ${this.broker} was lost`));
  }

  private retryLater(state: 'reconnecting' | 'error', error: AmqpError): void {
    if (this.closing) return;
    const retryInMs = backoffDelay(this.attempt++, this.options.reconnect);
    this.setStatus({ state, error, retryInMs });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), retryInMs);
  }
}
