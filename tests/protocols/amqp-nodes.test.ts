import assert from 'assert';
import helper from 'node-red-node-test-helper';
import amqpBrokerNode from '../../nodes/amqp-broker/amqp-broker';
import amqpInNode from '../../nodes/amqp-in/amqp-in';
import amqpOutNode from '../../nodes/amqp-out/amqp-out';
import { DEAD_LETTER_HEADERS } from '../../adapters/amqp';
import { freePort } from '../support/ports';
import { BrokerAdmin, closeConnectionsNamed, queueCounts, uniquePrefix, waitFor } from './support-amqp';

helper.init(require.resolve('node-red'));
const catchNode = require('@node-red/nodes/core/common/25-catch');

/** What the test's "step" node does with each message: resolve = done(), reject = done(err). */
let step: (msg: any) => Promise<void> = async () => undefined;
function stepNode(RED: any) {
  RED.nodes.registerType('test-step', function (this: any, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', async (msg: any, _send: unknown, done: (err?: Error) => void) => {
      try {
        await step(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  });
}

function statuses(id: string): Array<{ text?: string; fill?: string }> {
  const node = helper.getNode(id);
  const seen: Array<{ text?: string; fill?: string }> = [];
  const original = node.status.bind(node);
  node.status = (status: { text?: string; fill?: string }) => {
    seen.push(status);
    return original(status);
  };
  return seen;
}

describe('amqp-broker, amqp-in and amqp-out nodes (real RabbitMQ)', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('amqp-nodes');
  let admin: BrokerAdmin;
  let counter = 0;
  const name = (what: string) => `${prefix}.${what}.${++counter}`;

  before(async () => {
    admin = await BrokerAdmin.open();
  });
  afterEach(async () => {
    step = async () => undefined;
    await helper.unload();
  });
  after(async () => {
    await admin.deleteEverything();
  });

  const broker = (url = 'amqp://127.0.0.1:5672') => ({ id: 'broker', type: 'amqp-broker', name: name('broker'), url, heartbeat: 5, prefetch: 100 });
  const credentials = { broker: { username: 'guest', password: 'guest' } };
  const nodes = [amqpBrokerNode as any, amqpInNode as any, amqpOutNode as any, catchNode, stepNode];

  function inFlow(queue: string, exchange: string, format = 'json') {
    admin.trackConsumerQueue(queue);
    return [
      broker(),
      { id: 'in', type: 'amqp-in', broker: 'broker', queue, exchange, exchangeType: 'topic', routingKeys: 'person.address.*, case.#', format, wires: [['step']] },
      { id: 'step', type: 'test-step' },
    ];
  }

  it('amqp-in: emits payload and msg.amqp, and acknowledges only once the flow has finished with the message', async () => {
    const exchange = name('people');
    await admin.exchange(exchange);
    const queue = name('in');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const received: any[] = [];
    step = async (msg) => {
      received.push(msg);
      await held;
    };
    await helper.load(nodes, inFlow(queue, exchange), credentials);
    const seen = statuses('in');
    await waitFor(() => seen.some((s) => s.text === 'connected'), 10_000, 'amqp-in to show connected');
    await waitFor(async () => (await queueCounts(queue).catch(() => undefined)) !== undefined, 10_000, 'the queue to be declared');
    await admin.publishRaw(exchange, 'person.address.changed', Buffer.from(JSON.stringify({ personId: 'P1', postcode: 'CF10 1EP' })), { messageId: 'addr-1', headers: { source: 'crm' }, persistent: true });
    await waitFor(() => received.length === 1, 10_000, 'the message in the flow');
    const msg = received[0];
    assert.deepStrictEqual(msg.payload, { personId: 'P1', postcode: 'CF10 1EP' });
    assert.deepStrictEqual(msg.amqp, { routingKey: 'person.address.changed', exchange, headers: { source: 'crm' }, messageId: 'addr-1', redelivered: false });
    assert.deepStrictEqual(await queueCounts(queue), { ready: 0, unacknowledged: 1 }, 'not acknowledged while the flow still has it');
    release();
    await waitFor(async () => (await queueCounts(queue)).unacknowledged === 0, 10_000, 'the acknowledgement');
    assert.deepStrictEqual(await queueCounts(queue), { ready: 0, unacknowledged: 0 });
    assert.strictEqual(await admin.messageCount(`${queue}.dead-letter`), 0);
  });

  it('amqp-in: a message the flow fails goes to the dead-letter queue with the error', async () => {
    const exchange = name('cases');
    await admin.exchange(exchange);
    const queue = name('in-fail');
    step = async () => {
      throw new Error('planning case 22/01234/FUL has no applicant');
    };
    await helper.load(nodes, inFlow(queue, exchange), credentials);
    const warnings: string[] = [];
    helper.getNode('in').on('call:warn', (call: any) => warnings.push(String(call.args[0])));
    await waitFor(async () => (await queueCounts(queue).catch(() => undefined)) !== undefined, 10_000, 'the queue to be declared');
    await admin.publishRaw(exchange, 'case.decided', Buffer.from(JSON.stringify({ caseRef: '22/01234/FUL' })), { messageId: 'case-9', persistent: true });
    const [dead] = await admin.take(`${queue}.dead-letter`, 1);
    assert.deepStrictEqual(JSON.parse(dead.content.toString()), { caseRef: '22/01234/FUL' });
    assert.strictEqual(dead.properties.headers?.[DEAD_LETTER_HEADERS.reason], 'planning case 22/01234/FUL has no applicant');
    assert.deepStrictEqual(await queueCounts(queue), { ready: 0, unacknowledged: 0 });
    await waitFor(() => warnings.length === 1, 5000, 'the warning');
    assert.match(warnings[0], /message case-9 from .* dead-lettered to .*\.dead-letter: planning case 22\/01234\/FUL has no applicant/);
  });

  it('amqp-in: a body that is not JSON is dead-lettered with the parse error and never enters the flow', async () => {
    const exchange = name('bad');
    await admin.exchange(exchange);
    const queue = name('in-bad');
    let entered = 0;
    step = async () => {
      entered++;
    };
    await helper.load(nodes, inFlow(queue, exchange), credentials);
    await waitFor(async () => (await queueCounts(queue).catch(() => undefined)) !== undefined, 10_000, 'the queue to be declared');
    await admin.publishRaw(exchange, 'person.address.changed', Buffer.from('<address>not json</address>'), { persistent: true });
    const [dead] = await admin.take(`${queue}.dead-letter`, 1);
    assert.strictEqual(dead.content.toString(), '<address>not json</address>');
    assert.match(String(dead.properties.headers?.[DEAD_LETTER_HEADERS.reason]), /^the message body is not valid JSON: Unexpected token/);
    assert.strictEqual(entered, 0);
  });

  it('amqp-in: a message in the flow when the connection is killed is delivered again, then acknowledged', async () => {
    const exchange = name('kill');
    await admin.exchange(exchange);
    const queue = name('in-kill');
    const received: any[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    step = async (msg) => {
      received.push(msg);
      if (received.length === 1) await held;
    };
    await helper.load(nodes, inFlow(queue, exchange), credentials);
    const seen = statuses('in');
    await waitFor(async () => (await queueCounts(queue).catch(() => undefined)) !== undefined, 10_000, 'the queue to be declared');
    await admin.publishRaw(exchange, 'case.updated', Buffer.from('{"caseRef":"C1"}'), { messageId: 'c1', persistent: true });
    await waitFor(() => received.length === 1, 10_000, 'the message in the flow');
    const connectionName = helper.getNode('broker').connection.options.connectionName;
    assert.strictEqual(await closeConnectionsNamed(connectionName), 1);
    await waitFor(() => received.length === 2, 15_000, 'the redelivery');
    release();
    assert.strictEqual(received[1].amqp.messageId, 'c1');
    assert.strictEqual(received[1].amqp.redelivered, true);
    assert.ok(seen.some((s) => /^reconnecting: /.test(s.text ?? '') && s.fill === 'yellow'), 'amqp-in showed reconnecting');
    await waitFor(async () => (await queueCounts(queue)).unacknowledged === 0, 10_000, 'the acknowledgement');
    assert.strictEqual(await admin.messageCount(`${queue}.dead-letter`), 0);
  });

  const outFlow = (exchange: string, routingKey = '') => [
    broker(),
    { id: 'out', type: 'amqp-out', broker: 'broker', exchange, routingKey, wires: [['after']] },
    { id: 'after', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['out'], wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];

  it('amqp-out: publishes msg.payload as JSON with msg.routingKey, and passes the message on after the confirm', async () => {
    const exchange = name('deliveries');
    await admin.exchange(exchange);
    const queue = name('target');
    await admin.boundQueue(queue, exchange, 'delivery.crm');
    await helper.load(nodes, outFlow(exchange), credentials);
    const seen = statuses('out');
    const after = new Promise<any>((resolve) => helper.getNode('after').once('input', resolve));
    helper.getNode('out').receive({ payload: { personId: 'P1', uprn: '100023336956' }, routingKey: 'delivery.crm' });
    const msg = await after;
    // confirmed means it is in the queue now
    const [published] = await admin.take(queue, 1, 1000);
    assert.deepStrictEqual(JSON.parse(published.content.toString()), { personId: 'P1', uprn: '100023336956' });
    assert.strictEqual(published.properties.messageId, msg._msgid);
    assert.strictEqual(published.properties.contentType, 'application/json');
    assert.strictEqual(published.properties.deliveryMode, 2);
    assert.ok(seen.some((s) => s.text === 'connected' && s.fill === 'green'));
  });

  it('amqp-out: an unroutable message is an error of that message (Catch sees it, nothing goes on)', async () => {
    const exchange = name('empty');
    await admin.exchange(exchange);
    await helper.load(nodes, outFlow(exchange, 'delivery.nobody'), credentials);
    let wentOn = false;
    helper.getNode('after').on('input', () => (wentOn = true));
    const caught = new Promise<any>((resolve) => helper.getNode('caught').once('input', resolve));
    helper.getNode('out').receive({ payload: { x: 1 } });
    const msg = await caught;
    assert.match(msg.error.message, /no queue is bound to exchange ".*" for routing key "delivery\.nobody"/);
    assert.strictEqual(msg.error.source.id, 'out');
    assert.strictEqual(wentOn, false);
  });

  it('amqp-out: no routing key and an undefined payload are clear errors', async () => {
    const exchange = name('errors');
    await admin.exchange(exchange);
    await helper.load(nodes, outFlow(exchange), credentials);
    const caught: any[] = [];
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    helper.getNode('out').receive({ payload: { x: 1 } });
    helper.getNode('out').receive({ routingKey: 'k' });
    await waitFor(() => caught.length === 2, 10_000, 'two errors');
    const messages = caught.map((m) => m.error.message).sort();
    assert.deepStrictEqual(messages, ['AmqpError: there is nothing to send: the message body is undefined', 'Error: no routing key: set one on the node or in msg.routingKey']);
  });

  it('amqp-broker: a refused connection shows as a readable red status on its nodes, without crashing', async () => {
    const port = await freePort();
    await helper.load(nodes, [{ ...broker(`amqp://127.0.0.1:${port}`) }, { id: 'out', type: 'amqp-out', broker: 'broker', exchange: '', routingKey: 'q', wires: [] }], credentials);
    const seen = statuses('out');
    await waitFor(() => seen.some((s) => s.fill === 'red'), 10_000, 'a red status');
    assert.strictEqual(seen.find((s) => s.fill === 'red')!.text, `RabbitMQ at 127.0.0.1:${port} refused the connection: is the broker running and the port right?`);
  });
});
