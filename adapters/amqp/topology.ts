import type { Channel } from 'amqplib';
import { AmqpError } from './errors';

export type AmqpExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/** A consumer's queue, its bindings and its dead-letter exchange and queue. */
export interface QueueTopology {
  queue: string;
  /** Bind the queue to this exchange (declared durable if missing). Empty: no binding. */
  exchange?: string;
  exchangeType?: AmqpExchangeType;
  /** Default: "#" for topic, "" for fanout and headers, the queue name for direct. */
  routingKeys?: string[];
  /** Default "<queue>.dead-letter" (a fanout exchange). */
  deadLetterExchange?: string;
  /** Default "<queue>.dead-letter". */
  deadLetterQueue?: string;
}

export type ResolvedTopology = Required<QueueTopology>;

export function resolveTopology(topology: QueueTopology): ResolvedTopology {
  const queue = topology.queue?.trim();
  if (!queue) throw new AmqpError('CONFIGURATION', 'a queue name is required');
  const exchangeType = topology.exchangeType ?? 'topic';
  if (!['direct', 'topic', 'fanout', 'headers'].includes(exchangeType)) throw new AmqpError('CONFIGURATION', `exchange type "${exchangeType}" is not one of direct, topic, fanout, headers`);
  const keys = (topology.routingKeys ?? []).map((k) => k.trim()).filter((k, i, all) => all.indexOf(k) === i);
  const defaultKey = exchangeType === 'topic' ? '#' : exchangeType === 'direct' ? queue : '';
  return {
    queue,
    exchange: topology.exchange?.trim() ?? '',
    exchangeType,
    routingKeys: keys.length ? keys : [defaultKey],
    deadLetterExchange: topology.deadLetterExchange || `${queue}.dead-letter`,
    deadLetterQueue: topology.deadLetterQueue || `${queue}.dead-letter`,
  };
}

/** Durable classic queues only: this broker (RabbitMQ 3.10) is not to hold quorum queues. */
const CLASSIC = { 'x-queue-type': 'classic' };

/** Declares (idempotently) everything a consumer needs; safe to run after every reconnect. */
export async function declareQueueTopology(channel: Channel, t: ResolvedTopology): Promise<void> {
  await channel.assertExchange(t.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(t.deadLetterQueue, { durable: true, arguments: CLASSIC });
  await channel.bindQueue(t.deadLetterQueue, t.deadLetterExchange, '');
  await channel.assertQueue(t.queue, { durable: true, arguments: { ...CLASSIC, 'x-dead-letter-exchange': t.deadLetterExchange } });
  if (!t.exchange) return;
  await channel.assertExchange(t.exchange, t.exchangeType, { durable: true });
  for (const key of t.routingKeys) await channel.bindQueue(t.queue, t.exchange, key);
}
