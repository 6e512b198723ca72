import type { ConfirmChannel, Message, Options } from 'amqplib';
import { AmqpError, describeAmqpError } from './errors';

interface InFlight {
  /** Set by basic.return: the broker could not route the message to any queue. */
  returned?: string;
}

export type ConfirmedPublishOptions = Options.Publish & { messageId: string };

/**
 * Publishes on a confirm channel with the mandatory flag and turns the broker's answers
 * into one promise per message: resolved on basic.ack; rejected on basic.nack (NACKED), on
 * basic.return (UNROUTABLE: RabbitMQ confirms a returned message too, so without this an
 * unroutable message would look delivered) and when the channel closes before the answer
 * (CHANNEL_CLOSED: the caller may send it again). RabbitMQ sends basic.return before the
 * basic.ack of the same message; returns are matched to messages by messageId.
 */
export class ConfirmTracker {
  private readonly inFlight = new Map<string, InFlight[]>();

  constructor(
    private readonly channel: ConfirmChannel,
    private readonly broker: string,
  ) {
    channel.on('return', (message: Message) => this.returned(message));
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: ConfirmedPublishOptions): { written: boolean; confirmed: Promise<void> } {
    const entry: InFlight = {};
    const id = options.messageId;
    const sameId = this.inFlight.get(id) ?? [];
    sameId.push(entry);
    this.inFlight.set(id, sameId);
    const forget = () => {
      const list = this.inFlight.get(id);
      if (!list) return;
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.inFlight.delete(id);
    };
    let written = true;
    let settled = false;
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        written = this.channel.publish(exchange, routingKey, content, { ...options, persistent: true, mandatory: true }, (err: Error | null) => {
          if (settled) return;
          settled = true;
          forget();
          if (err && /nack/i.test(err.message)) reject(new AmqpError('NACKED', `RabbitMQ at ${this.broker} refused the message ${id} (nack): a queue could not take it`));
          else if (err) reject(describeAmqpError(err, this.broker));
          else if (entry.returned !== undefined) reject(unroutable(exchange, routingKey, entry.returned));
          else resolve();
        });
      } catch (err) {
        // amqplib throws synchronously on a channel that is already closed.
        settled = true;
        forget();
        reject(new AmqpError('CHANNEL_CLOSED', `the channel to RabbitMQ at ${this.broker} closed`, err));
      }
    });
    return { written, confirmed };
  }

  private returned(message: Message): void {
    const list = this.inFlight.get(String(message.properties.messageId));
    const entry = list?.find((e) => e.returned === undefined);
    const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
    if (entry) entry.returned = `${fields.replyCode ?? 312} ${fields.replyText ?? 'NO_ROUTE'}`;
  }
}

export function unroutable(exchange: string, routingKey: string, reply: string): AmqpError {
  const where = exchange ? `exchange "${exchange}"` : 'the default exchange';
  return new AmqpError('UNROUTABLE', `no queue is bound to ${where} for routing key "${routingKey}": the broker returned the message (${reply})`);
}
