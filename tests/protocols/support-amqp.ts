import amqp from 'amqplib';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import { promisify } from 'util';

/** The shared test broker (RabbitMQ 3.10 on loopback). */
export const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';

const run = promisify(execFile);

/** A prefix no other test run uses, for queues, exchanges and connection names. */
export function uniquePrefix(area: string): string {
  return `hubtest.${area}.${process.pid}.${randomBytes(3).toString('hex')}`;
}

/**
 * Closes, from the broker's side, every connection whose client_properties carry this
 * connection_name (only ours: the name is unique to the test run). Returns how many.
 */
export async function closeConnectionsNamed(name: string, reason = 'closed by test'): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers']);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0].trim())
    .filter(Boolean);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, reason]);
  return pids.length;
}

/** A plain connection for the test's own setup, inspection and clean-up. */
export class BrokerAdmin {
  private constructor(
    private readonly connection: ChannelModel,
    private channel: Channel,
  ) {}

  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();

  static async open(): Promise<BrokerAdmin> {
    const connection = await amqp.connect(BROKER_URL);
    connection.on('error', () => undefined);
    return new BrokerAdmin(connection, await BrokerAdmin.freshChannel(connection));
  }

  private static async freshChannel(connection: ChannelModel): Promise<Channel> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  /** Remembers names to delete at the end (a queue's dead-letter queue and exchange too). */
  track(kind: 'queue' | 'exchange', ...names: string[]): void {
    for (const name of names) (kind === 'queue' ? this.queues : this.exchanges).add(name);
  }

  trackConsumerQueue(queue: string): void {
    this.track('queue', queue, `${queue}.dead-letter`);
    this.track('exchange', `${queue}.dead-letter`);
  }

  async exchange(name: string, type = 'topic'): Promise<void> {
    this.track('exchange', name);
    await this.channel.assertExchange(name, type, { durable: true });
  }

  /** A durable queue bound to an exchange, deleted at the end. */
  async boundQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    this.track('queue', queue);
    await this.channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await this.channel.bindQueue(queue, exchange, routingKey);
  }

  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes every message now in the queue (acknowledging them). */
  async drain(queue: string): Promise<GetMessage[]> {
    const taken: GetMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (!message) return taken;
      taken.push(message);
    }
  }

  /** Polls the queue until it holds `count` messages, then takes them. */
  async take(queue: string, count: number, timeoutMs = 10_000): Promise<GetMessage[]> {
    await waitFor(async () => (await this.messageCount(queue)) >= count, timeoutMs, `${count} message(s) in ${queue}`);
    return this.drain(queue);
  }

  async publishRaw(exchange: string, routingKey: string, content: Buffer, options: amqp.Options.Publish = {}): Promise<void> {
    this.channel.publish(exchange, routingKey, content, options);
    await this.channel.checkExchange(exchange || 'amq.direct'); // a round trip: the publish has reached the broker
  }

  async deleteEverything(): Promise<void> {
    // A failed operation closes the channel; start each clean-up step on a live one.
    for (const queue of this.queues) {
      this.channel = await BrokerAdmin.freshChannel(this.connection);
      await this.channel.deleteQueue(queue).catch(() => undefined);
    }
    for (const exchange of this.exchanges) {
      this.channel = await BrokerAdmin.freshChannel(this.connection);
      await this.channel.deleteExchange(exchange).catch(() => undefined);
    }
    await this.connection.close().catch(() => undefined);
  }
}

/** Ready and unacknowledged messages of a queue, as the broker counts them. */
export async function queueCounts(queue: string): Promise<{ ready: number; unacknowledged: number }> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', 'name', 'messages_ready', 'messages_unacknowledged', '-q', '--no-table-headers']);
  const line = stdout.split('\n').find((l) => l.split('\t')[0] === queue);
  if (!line) throw new Error(`queue ${queue} not found`);
  const [, ready, unacknowledged] = line.split('\t');
  return { ready: Number(ready), unacknowledged: Number(unacknowledged) };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
