import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { randomBytes } from 'crypto';
import helper from 'node-red-node-test-helper';
import { declareQueueTopology, resolveTopology } from '../adapters/amqp';
import amqpBrokerNode from '../nodes/amqp-broker/amqp-broker';
import amqpInNode from '../nodes/amqp-in/amqp-in';
import amqpOutNode from '../nodes/amqp-out/amqp-out';
import type { Comparison, Measurement } from './harness';
import { contactAddressChanged, loadBenchFlow } from './map-node';

/**
 * Scenario 3: AMQP pass-through. CRM ContactAddressChanged events wait, pre-published, in a
 * durable classic queue; a round takes all of them to an output queue. The hub's way: an
 * amqp-in node wired to an amqp-out node in Node-RED (the real nodes, with the hub's
 * settlement: the inbound message is acknowledged only once amqp-out has the broker's
 * confirm and the flow is done with it). The reference: plain amqplib on one confirm
 * channel doing the same work: consume with the same prefetch, parse the JSON body,
 * publish it persistent and mandatory, and ack once the broker has confirmed the publish.
 * A round is timed from the first message delivered to the consumer to the moment the
 * output queue holds all of them (connection set-up is left out on both sides).
 */

const BROKER_URL = 'amqp://guest:guest@127.0.0.1:5672';
const INBOUND_KEY = 'crm.contact.address-changed';
const OUTBOUND_KEY = 'person.address.changed';
/** How often the output queue is counted: short next to a round, cheap for the broker. */
const POLL_MS = 5;
const WARM_UP = 200;

interface Names {
  inboundExchange: string;
  inboundQueue: string;
  outboundExchange: string;
  outboundQueue: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const since = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

/** The broker connection the bench uses for itself: declaring, pre-publishing, counting, deleting. */
class BenchBroker {
  private constructor(
    private readonly connection: ChannelModel,
    private publisher: ConfirmChannel,
    private counter: Channel,
  ) {}

  static async open(): Promise<BenchBroker> {
    const connection = await amqp.connect(BROKER_URL);
    connection.on('error', () => undefined);
    const publisher = await connection.createConfirmChannel();
    publisher.on('error', () => undefined);
    const counter = await connection.createChannel();
    counter.on('error', () => undefined);
    return new BenchBroker(connection, publisher, counter);
  }

  async declare(names: Names): Promise<void> {
    // The inbound queue exactly as amqp-in declares it (dead-letter exchange and queue too).
    await declareQueueTopology(this.publisher, resolveTopology({ queue: names.inboundQueue, exchange: names.inboundExchange, exchangeType: 'topic', routingKeys: ['crm.#'] }));
    await this.publisher.assertExchange(names.outboundExchange, 'topic', { durable: true });
    await this.publisher.assertQueue(names.outboundQueue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await this.publisher.bindQueue(names.outboundQueue, names.outboundExchange, OUTBOUND_KEY);
  }

  /** Publishes `count` events as the CRM would (persistent JSON), confirmed: they are all in the queue. */
  async prePublish(exchange: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const body = Buffer.from(JSON.stringify(contactAddressChanged(i)));
      const room = this.publisher.publish(exchange, INBOUND_KEY, body, { persistent: true, contentType: 'application/json', messageId: `crm-${i}` });
      if (!room) await new Promise((resolve) => this.publisher.once('drain', resolve));
    }
    await this.publisher.waitForConfirms();
  }

  async count(queue: string): Promise<number> {
    return (await this.counter.checkQueue(queue)).messageCount;
  }

  /** Resolves when `queue` holds `count` messages; fails at once if anything is dead-lettered. */
  async waitUntilHolds(queue: string, count: number, deadLetterQueue: string, limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const held = await this.count(queue);
      if (held >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${held} of ${count} messages reached ${queue} within ${limitMs / 1000} s`);
      const dead = await this.count(deadLetterQueue);
      if (dead > 0) throw new Error(`${dead} message(s) were dead-lettered to ${deadLetterQueue}`);
      await sleep(POLL_MS);
    }
  }

  async purge(queue: string): Promise<void> {
    await this.counter.purgeQueue(queue);
  }

  /** Deletes what the run declared; each step on a fresh channel, as a failed one closes its channel. */
  async deleteAndClose(queues: string[], exchanges: string[]): Promise<void> {
    for (const [kind, name] of [...queues.map((q) => ['queue', q] as const), ...exchanges.map((e) => ['exchange', e] as const)]) {
      try {
        const channel = await this.connection.createChannel();
        channel.on('error', () => undefined);
        await (kind === 'queue' ? channel.deleteQueue(name) : channel.deleteExchange(name));
        await channel.close();
      } catch {
        // already gone, or the connection is: nothing more to do here
      }
    }
    await this.connection.close().catch(() => undefined);
  }
}

/** amqp-in -> amqp-out, through the test helper, on the hub's settlement. */
function passThroughFlow(names: Names) {
  const url = new URL(BROKER_URL);
  return {
    flow: [
      // No prefetch set: the amqp-broker's default applies, as for an operator who leaves it.
      { id: 'bench.broker', type: 'amqp-broker', name: `bench ${names.inboundQueue}`, url: `amqp://${url.host}` },
      { id: 'bench.in', type: 'amqp-in', broker: 'bench.broker', queue: names.inboundQueue, exchange: names.inboundExchange, exchangeType: 'topic', routingKeys: 'crm.#', format: 'json', wires: [['bench.out']] },
      { id: 'bench.out', type: 'amqp-out', broker: 'bench.broker', exchange: names.outboundExchange, routingKey: OUTBOUND_KEY, wires: [] },
    ],
    credentials: { 'bench.broker': { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } },
  };
}

/** AMQP pass-through, amqp-in -> amqp-out vs raw amqplib (goal ≥ 0.7). */
export async function amqpPassThroughComparison(quick: boolean): Promise<Comparison> {
  const count = quick ? 2000 : 20000;
  const prefix = `bench.amqp-passthrough.${process.pid}.${randomBytes(3).toString('hex')}`;
  const names: Names = {
    inboundExchange: `${prefix}.crm`,
    inboundQueue: `${prefix}.hub.crm.contact-address-changed`,
    outboundExchange: `${prefix}.deliveries`,
    outboundQueue: `${prefix}.deliveries.target`,
  };
  const inbound = resolveTopology({ queue: names.inboundQueue, exchange: names.inboundExchange, exchangeType: 'topic' });
  // A round slower than 100 messages/s is broken, not slow.
  const limitMs = Math.max(60_000, count * 10);
  const nodes = [amqpBrokerNode as any, amqpInNode as any, amqpOutNode as any];
  const flow = passThroughFlow(names);
  let broker: BenchBroker | undefined;
  let flowLoaded = false;
  /** The amqp-broker node's default, read from the node itself at the first hub round. */
  let prefetch: number | undefined;

  /** After a round: every message taken from the inbound queue and acknowledged, none dead-lettered. */
  const checkAndEmpty = async () => {
    const [left, dead] = [await broker!.count(names.inboundQueue), await broker!.count(inbound.deadLetterQueue)];
    await broker!.purge(names.outboundQueue);
    if (left !== 0 || dead !== 0) throw new Error(`after the round ${left} message(s) were left in ${names.inboundQueue} and ${dead} dead-lettered`);
  };

  const hubRound = async (n: number): Promise<Measurement> => {
    await broker!.prePublish(names.inboundExchange, n);
    flowLoaded = true;
    await loadBenchFlow(nodes, flow.flow, flow.credentials);
    prefetch = helper.getNode('bench.broker').prefetch;
    // The clock starts at the first message amqp-in sends into the flow.
    const inNode = helper.getNode('bench.in');
    const send = inNode.send;
    let started: bigint | undefined;
    inNode.send = function (this: unknown, msg: unknown) {
      started = process.hrtime.bigint();
      inNode.send = send;
      return send.call(this, msg);
    };
    let seconds: number;
    try {
      await broker!.waitUntilHolds(names.outboundQueue, n, inbound.deadLetterQueue, limitMs);
      seconds = since(started!);
    } finally {
      // The last confirms and acks may still be on their way. Close amqp-in on its own first, as
      // a redeploy would: it stops consuming and lets the flow finish (and ack) what it holds; the
      // whole flow stopping at once would close the broker's connection under it.
      await helper.getNode('bench.in')?.close(false);
      await helper.unload();
      flowLoaded = false;
    }
    await checkAndEmpty();
    return { value: n / seconds, extra: { seconds: Math.round(seconds * 1000) / 1000 } };
  };

  const rawRound = async (n: number): Promise<Measurement> => {
    if (prefetch === undefined) throw new Error('the hub side must run first: it gives the prefetch');
    await broker!.prePublish(names.inboundExchange, n);
    const connection = await amqp.connect(BROKER_URL);
    connection.on('error', () => undefined);
    let seconds: number;
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      await channel.prefetch(prefetch);
      let started: bigint | undefined;
      let acked = 0;
      let failure: Error | undefined;
      await channel.consume(
        names.inboundQueue,
        (message: ConsumeMessage | null) => {
          if (!message) return;
          started ??= process.hrtime.bigint();
          const body = JSON.parse(message.content.toString('utf8'));
          channel.publish(
            names.outboundExchange,
            OUTBOUND_KEY,
            Buffer.from(JSON.stringify(body)),
            { persistent: true, mandatory: true, contentType: 'application/json', messageId: message.properties.messageId, timestamp: Math.floor(Date.now() / 1000) },
            (err: unknown) => {
              if (err) failure ??= new Error(`the broker refused a publish: ${String(err)}`);
              else {
                channel.ack(message);
                acked++;
              }
            },
          );
        },
        { noAck: false },
      );
      await broker!.waitUntilHolds(names.outboundQueue, n, inbound.deadLetterQueue, limitMs);
      seconds = since(started!);
      // Every ack sent before the channel closes, or the broker would deliver them again next round.
      while (acked < n && !failure) await sleep(POLL_MS);
      if (failure) throw failure;
      await channel.close();
    } finally {
      await connection.close().catch(() => undefined);
    }
    await checkAndEmpty();
    return { value: n / seconds, extra: { seconds: Math.round(seconds * 1000) / 1000 } };
  };

  const tearDown = async () => {
    if (flowLoaded) await helper.unload().catch(() => undefined);
    flowLoaded = false;
    await broker?.deleteAndClose([names.inboundQueue, inbound.deadLetterQueue, names.outboundQueue], [names.inboundExchange, inbound.deadLetterExchange, names.outboundExchange]);
    broker = undefined;
  };

  return {
    scenario: `3 AMQP pass-through (${count} CRM events, durable classic queues)`,
    unit: 'messages/s',
    higherIsBetter: true,
    subject: { label: 'amqp-in -> amqp-out', round: () => hubRound(count) },
    reference: { label: 'raw amqplib (confirm, then ack)', round: () => rawRound(count) },
    goal: { ratioAtLeast: 0.7, text: 'hub at least 0.7 of raw amqplib' },
    async setUp() {
      // compare() runs tearDown only after a successful setUp: a failed one cleans up itself.
      try {
        broker = await BenchBroker.open();
        await broker.declare(names);
        // A short round of each first: warms both up and learns the broker node's prefetch.
        await hubRound(WARM_UP);
        await rawRound(WARM_UP);
      } catch (err) {
        await tearDown();
        throw err;
      }
    },
    tearDown,
  };
}
