import type { ConfirmChannel } from 'amqplib';
import { randomUUID } from 'crypto';
import type { BackoffOptions } from './backoff';
import { ChannelOwner } from './channel-owner';
import type { ConfirmTracker } from './confirm';
import type { AmqpConnection } from './connection';
import { AmqpError, describeAmqpError } from './errors';

export interface AmqpPublisherOptions {
  /** Delays between attempts to open the channel again after a channel failure. */
  retry?: BackoffOptions;
}

export interface AmqpPublishOptions {
  /** Kept across resends so consumers can recognise a duplicate. Default: a new UUID. */
  messageId?: string;
  correlationId?: string;
  headers?: Record<string, unknown>;
  /** Default application/json (application/octet-stream for a Buffer body). */
  contentType?: string;
}

/**
 * Publishes persistent messages with the mandatory flag on a confirm channel. publish()
 * resolves only when the broker has confirmed the message; it rejects when the broker
 * returns it (no queue bound: UNROUTABLE), refuses it (NACKED) or the exchange does not
 * exist (NOT_FOUND). A message not yet confirmed when the connection or channel drops is
 * sent again once the channel is back, with the same messageId (at least once).
 * While there is no channel, while the broker blocks the connection (memory or disk alarm)
 * and while the channel's write buffer is full (until 'drain'), publish() waits instead of
 * writing, so memory is bounded by the callers' own awaiting. close() rejects the waiters.
 *
 * Events: 'status' (AmqpChannelStatus: waiting, ready, error, stopped); 'resent'
 * ({ messageId, exchange, routingKey }) when an unconfirmed message is about to be sent again;
 * 'buffer-full' when the channel's write buffer is full and publishing waits for it to drain.
 */
export class AmqpPublisher extends ChannelOwner {
  private draining = false;
  /** Exchanges checked (passive declare) on this channel, or being checked: one check each. */
  private knownExchanges = new Map<string, Promise<void>>();

  constructor(amqp: AmqpConnection, options: AmqpPublisherOptions = {}) {
    super(amqp, options.retry);
  }

  protected async prepare(_channel: ConfirmChannel, _tracker: ConfirmTracker): Promise<void> {
    this.draining = false;
    this.knownExchanges = new Map<string, Promise<void>>();
  }

  /** Resolves once the broker has confirmed the message. A non-Buffer body is sent as JSON. */
  async publish(exchange: string, routingKey: string, body: unknown, options: AmqpPublishOptions = {}): Promise<void> {
    const content = encode(body);
    const messageId = options.messageId || randomUUID();
    for (;;) {
      const { channel, tracker } = await this.writable();
      await this.checkExchange(exchange);
      // Re-check after the await: other publishes may have filled the buffer meanwhile.
      if (!this.canWrite(channel)) continue;
      const { written, confirmed } = tracker.publish(exchange, routingKey, content, {
        messageId,
        correlationId: options.correlationId,
        headers: options.headers,
        contentType: options.contentType ?? (Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json'),
        timestamp: Math.floor(Date.now() / 1000),
      });
      if (!written) this.waitForDrain(channel);
      try {
        await confirmed;
        return;
      } catch (err) {
        // The channel (or connection) went before the broker answered: send it again.
        if ((err as AmqpError).code !== 'CHANNEL_CLOSED') throw err;
        // A channel closed by the broker may have been our publish to a deleted exchange: check again.
        this.knownExchanges.delete(exchange);
        this.emit('resent', { messageId, exchange, routingKey });
      }
    }
  }

  /** Waits for an open channel on an unblocked connection with room in its write buffer. */
  private async writable(): Promise<{ channel: ConfirmChannel; tracker: ConfirmTracker }> {
    for (;;) {
      if (this.stopped) throw new AmqpError('CLOSED', 'the publisher was closed before the message was confirmed');
      if (this.channel && this.tracker && this.canWrite(this.channel)) return { channel: this.channel, tracker: this.tracker };
      await this.changed.wait();
    }
  }

  private canWrite(channel: ConfirmChannel): boolean {
    return !this.stopped && this.channel === channel && !this.draining && !this.amqp.isBlocked;
  }

  private waitForDrain(channel: ConfirmChannel): void {
    if (this.draining) return;
    this.draining = true;
    this.emit('buffer-full');
    const resume = () => {
      channel.off('drain', resume);
      channel.off('close', resume);
      this.draining = false;
      this.changed.notify();
    };
    channel.on('drain', resume);
    channel.on('close', resume);
  }

  /**
   * Publishing to a missing exchange makes the broker close the channel (404), which would
   * take every other message in flight with it; a passive check on a throwaway channel
   * turns it into a readable error of this message alone.
   */
  private checkExchange(exchange: string): Promise<void> {
    if (!exchange) return Promise.resolve();
    let check = this.knownExchanges.get(exchange);
    if (!check) {
      check = this.probeExchange(exchange);
      this.knownExchanges.set(exchange, check);
      // A failed check is not remembered: the exchange may be declared later.
      check.catch(() => this.knownExchanges.get(exchange) === check && this.knownExchanges.delete(exchange));
    }
    return check;
  }

  private async probeExchange(exchange: string): Promise<void> {
    const connection = await this.amqp.whenConnected();
    let probe;
    try {
      probe = await connection.createChannel();
      probe.on('error', () => undefined);
      await probe.checkExchange(exchange);
    } catch (err) {
      const error = describeAmqpError(err, this.amqp.broker);
      if (error.code === 'NOT_FOUND') throw new AmqpError('NOT_FOUND', `exchange "${exchange}" does not exist on RabbitMQ at ${this.amqp.broker}`, err);
      throw error;
    } finally {
      await probe?.close().catch(() => undefined);
    }
  }
}

function encode(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (err) {
    throw new AmqpError('INVALID_MESSAGE', `the message cannot be sent as JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new AmqpError('INVALID_MESSAGE', 'there is nothing to send: the message body is undefined');
  return Buffer.from(text, 'utf8');
}
