import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { EventEmitter } from 'events';
import { backoffDelay, type BackoffOptions } from './backoff';
import { ConfirmTracker } from './confirm';
import type { AmqpConnection, AmqpConnectionUser } from './connection';
import { AmqpError, describeAmqpError } from './errors';
import { Signal } from './signal';

/**
 * waiting: no connection (or not yet set up); ready: channel open and set up;
 * error: the channel failed (error says why) and will be set up again after a backoff;
 * stopped: closed by its owner.
 */
export type AmqpChannelState = 'waiting' | 'ready' | 'error' | 'stopped';

export interface AmqpChannelStatus {
  state: AmqpChannelState;
  error?: AmqpError;
}

/**
 * One confirm channel on a shared AmqpConnection, opened and set up again after every
 * reconnect, and after a channel-only failure (a refused declaration, a deleted queue)
 * with exponential backoff. Subclasses say what "set up" means. Emits 'status'.
 */
export abstract class ChannelOwner extends EventEmitter implements AmqpConnectionUser {
  protected channel?: ConfirmChannel;
  protected tracker?: ConfirmTracker;
  protected stopped = false;
  /** Wakes waiters on every change of channel, flow control or connection state. */
  protected readonly changed = new Signal();
  private statusNow: AmqpChannelStatus = { state: 'waiting' };
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private channelError?: AmqpError;
  private readonly onConnectionStatus = () => this.changed.notify();

  protected constructor(
    protected readonly amqp: AmqpConnection,
    private readonly retry?: BackoffOptions,
  ) {
    super();
  }

  get status(): AmqpChannelStatus {
    return this.statusNow;
  }

  /** Joins the connection: the channel is set up now if connected, else on connect. */
  start(): void {
    if (this.stopped) return;
    this.amqp.on('status', this.onConnectionStatus);
    this.amqp.addUser(this);
  }

  /** Sets up the fresh channel (declare, prefetch, consume...). Throwing fails this attempt. */
  protected abstract prepare(channel: ConfirmChannel, tracker: ConfirmTracker): Promise<void>;

  async connected(connection: ChannelModel): Promise<void> {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    let channel: ConfirmChannel | undefined;
    try {
      channel = await connection.createConfirmChannel();
      const opened = channel;
      opened.on('error', (err: unknown) => (this.channelError = describeAmqpError(err, this.amqp.broker)));
      opened.on('close', () => this.channelClosed(connection, opened));
      const tracker = new ConfirmTracker(opened, this.amqp.broker);
      await this.prepare(opened, tracker);
      if (this.stopped) {
        await opened.close().catch(() => undefined);
        return;
      }
      this.channel = opened;
      this.tracker = tracker;
      this.attempt = 0;
      this.channelError = undefined;
      this.setStatus({ state: 'ready' });
    } catch (err) {
      // The broker closes a channel whose declaration it refuses; its 'error' says why.
      const error = this.channelError ?? describeAmqpError(err, this.amqp.broker);
      await channel?.close().catch(() => undefined);
      // If the whole connection went, the AmqpConnection reconnects and calls us again.
      if (this.amqp.connection === connection) this.retryLater(connection, error);
    }
  }

  disconnected(): void {
    clearTimeout(this.retryTimer);
    this.dropChannel();
    if (!this.stopped) this.setStatus({ state: 'waiting', error: this.amqp.status.error });
  }

  /** Leaves the connection and closes the channel (unacknowledged messages go back to the queue). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.amqp.removeUser(this);
    this.amqp.off('status', this.onConnectionStatus);
    const channel = this.channel;
    this.dropChannel();
    await channel?.close().catch(() => undefined);
    this.setStatus({ state: 'stopped' });
  }

  protected setStatus(status: AmqpChannelStatus): void {
    this.statusNow = status;
    this.changed.notify();
    this.emit('status', status);
  }

  private dropChannel(): void {
    this.channel = undefined;
    this.tracker = undefined;
    this.changed.notify();
  }

  private channelClosed(connection: ChannelModel, channel: ConfirmChannel): void {
    if (channel !== this.channel) return;
    this.dropChannel();
    // amqplib closes the channels before it reports the connection closed; wait a tick to
    // know which happened. A lost connection is the AmqpConnection's to recover.
    setImmediate(() => {
      if (this.stopped || this.amqp.connection !== connection) return;
      this.retryLater(connection, this.channelError ?? new AmqpError('CHANNEL_CLOSED', `the channel to RabbitMQ at ${this.amqp.broker} closed`));
    });
  }

  private retryLater(connection: ChannelModel, error: AmqpError): void {
    if (this.stopped) return;
    this.setStatus({ state: 'error', error });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.amqp.connection === connection) void this.connected(connection);
    }, backoffDelay(this.attempt++, this.retry));
  }
}
