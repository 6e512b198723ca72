import type { ConfirmChannel, ConsumeMessage, MessageProperties } from 'amqplib';
import { randomUUID } from 'crypto';
import type { BackoffOptions } from './backoff';
import { ChannelOwner } from './channel-owner';
import type { ConfirmTracker } from './confirm';
import type { AmqpConnection } from './connection';
import { AmqpError, describeAmqpError } from './errors';
import { Signal } from './signal';
import { declareQueueTopology, resolveTopology, type QueueTopology, type ResolvedTopology } from './topology';

export type AmqpBodyFormat = 'json' | 'text';

export interface AmqpConsumerOptions extends QueueTopology {
  /** Unacknowledged messages the broker may hand this consumer at once. Default 100. */
  prefetch?: number;
  /** json: the body must parse as JSON or the message is dead-lettered. Default json. */
  format?: AmqpBodyFormat;
  /** On stop, how long to wait for running handlers before closing the channel. Default 5 s. */
  stopTimeoutMs?: number;
  /** Delays between attempts to set the channel up again after a channel failure. */
  retry?: BackoffOptions;
}

export interface AmqpDelivery {
  /** Parsed JSON, or the text (format text). */
  body: unknown;
  content: Buffer;
  queue: string;
  exchange: string;
  routingKey: string;
  headers: Record<string, unknown>;
  messageId?: string;
  /** The broker delivered it before and it was not acknowledged (e.g. a connection was lost). */
  redelivered: boolean;
  properties: MessageProperties;
}

/** Resolve to acknowledge the message; reject to dead-letter it with the error's message. */
export type AmqpMessageHandler = (delivery: AmqpDelivery) => Promise<void>;

export interface AmqpDeadLetter {
  queue: string;
  deadLetterQueue: string;
  messageId?: string;
  routingKey: string;
  reason: string;
  /** false when the reason could not be attached and the broker dead-lettered it (x-death only). */
  withReason: boolean;
  /** The body as it came, so that the hub can keep it where support sees it (the console). */
  content: Buffer;
  headers: Record<string, unknown>;
  /** The message id the dead-lettered copy carries (the sender's, or one the hub gave it). */
  deadLetterId: string;
  at: string;
}

/** Headers the consumer adds to a dead-lettered message. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-hub-dead-letter-reason',
  queue: 'x-hub-original-queue',
  exchange: 'x-hub-original-exchange',
  routingKey: 'x-hub-original-routing-key',
  at: 'x-hub-dead-lettered-at',
} as const;

/**
 * Consumes one durable classic queue (declared with its bindings and its dead-letter
 * exchange and queue) and hands each message to the handler. A message is acknowledged
 * only after the handler's promise resolves. When the handler rejects, or the body is not
 * the JSON it should be, a copy with the reason in its headers is published to the
 * dead-letter exchange and confirmed, and only then is the original acknowledged; if that
 * copy cannot be published, the original is rejected without requeue and the broker
 * dead-letters it itself (x-dead-letter-exchange; the reason is then only "rejected" in
 * x-death). If the connection drops while a handler runs, the message is not acknowledged
 * and the broker delivers it again: at least once, never lost.
 *
 * Events: 'status' (AmqpChannelStatus: waiting, ready, error, stopped), 'dead-lettered' (AmqpDeadLetter).
 */
export class AmqpConsumer extends ChannelOwner {
  readonly topology: ResolvedTopology;
  private consumerTag?: string;
  private running = 0;
  private readonly idle = new Signal();

  constructor(
    amqp: AmqpConnection,
    private readonly options: AmqpConsumerOptions,
    private readonly handler: AmqpMessageHandler,
  ) {
    super(amqp, options.retry);
    this.topology = resolveTopology(options);
    const prefetch = options.prefetch ?? 100;
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new AmqpError('CONFIGURATION', `prefetch must be a whole number of at least 1, not ${prefetch}`);
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.running;
  }

  protected async prepare(channel: ConfirmChannel, tracker: ConfirmTracker): Promise<void> {
    await declareQueueTopology(channel, this.topology);
    await channel.prefetch(this.options.prefetch ?? 100);
    const { consumerTag } = await channel.consume(this.topology.queue, (message) => this.received(channel, tracker, message), { noAck: false });
    this.consumerTag = consumerTag;
  }

  /** Stops taking messages, lets running handlers finish (up to stopTimeoutMs), then closes the channel. */
  override async stop(): Promise<void> {
    const channel = this.channel;
    if (channel && this.consumerTag && !this.stopped) await channel.cancel(this.consumerTag).catch(() => undefined);
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 5000);
    while (this.running > 0 && Date.now() < deadline) {
      await Promise.race([this.idle.wait(), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
    }
    await super.stop();
  }

  private received(channel: ConfirmChannel, tracker: ConfirmTracker, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted): closing the channel makes ChannelOwner set it up again.
      void channel.close().catch(() => undefined);
      return;
    }
    this.running++;
    void this.process(channel, tracker, message).finally(() => {
      this.running--;
      if (this.running === 0) this.idle.notify();
    });
  }

  private async process(channel: ConfirmChannel, tracker: ConfirmTracker, message: ConsumeMessage): Promise<void> {
    let failure: Error | undefined;
    try {
      await this.handler(this.toDelivery(message));
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    if (!failure) {
      settle(() => channel.ack(message));
      return;
    }
    await this.deadLetter(channel, tracker, message, failure.message || failure.name);
  }

  private toDelivery(message: ConsumeMessage): AmqpDelivery {
    const text = message.content.toString('utf8');
    let body: unknown = text;
    if ((this.options.format ?? 'json') === 'json') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new AmqpError('INVALID_MESSAGE', `the message body is not valid JSON: ${(err as Error).message}`);
      }
    }
    return {
      body,
      content: message.content,
      queue: this.topology.queue,
      exchange: message.fields.exchange,
      routingKey: message.fields.routingKey,
      headers: { ...(message.properties.headers ?? {}) },
      messageId: message.properties.messageId ?? undefined,
      redelivered: message.fields.redelivered,
      properties: message.properties,
    };
  }

  private async deadLetter(channel: ConfirmChannel, tracker: ConfirmTracker, message: ConsumeMessage, reason: string): Promise<void> {
    const { properties, fields } = message;
    const messageId = properties.messageId ?? randomUUID();
    let withReason = true;
    const at = new Date().toISOString();
    try {
      const { confirmed } = tracker.publish(this.topology.deadLetterExchange, fields.routingKey, message.content, {
        messageId,
        contentType: properties.contentType,
        contentEncoding: properties.contentEncoding,
        correlationId: properties.correlationId,
        timestamp: properties.timestamp,
        type: properties.type,
        appId: properties.appId,
        headers: {
          ...(properties.headers ?? {}),
          [DEAD_LETTER_HEADERS.reason]: reason,
          [DEAD_LETTER_HEADERS.queue]: this.topology.queue,
          [DEAD_LETTER_HEADERS.exchange]: fields.exchange,
          [DEAD_LETTER_HEADERS.routingKey]: fields.routingKey,
          [DEAD_LETTER_HEADERS.at]: at,
        },
      });
      await confirmed;
      settle(() => channel.ack(message));
    } catch (err) {
      // Fall back to the broker's own dead-lettering; if the channel is gone this fails too,
      // and the broker delivers the original again.
      withReason = false;
      if (describeAmqpError(err).code === 'CHANNEL_CLOSED') return;
      settle(() => channel.nack(message, false, false));
    }
    this.emit('dead-lettered', {
      queue: this.topology.queue,
      deadLetterQueue: this.topology.deadLetterQueue,
      messageId: properties.messageId ?? undefined,
      routingKey: fields.routingKey,
      reason,
      withReason,
      content: message.content,
      headers: { ...(properties.headers ?? {}) },
      deadLetterId: messageId,
      at,
    } satisfies AmqpDeadLetter);
  }
}

/** ack/nack on a channel that has closed throws; the broker redelivers those messages anyway. */
function settle(action: () => void): void {
  try {
    action();
  } catch {
    // channel closed: nothing to do, the message goes back to the queue
  }
}
