import assert from 'assert';
import { AmqpConnection, AmqpConsumer, AmqpPublisher, DEAD_LETTER_HEADERS, type AmqpConnectionStatus, type AmqpDelivery, type AmqpConsumerOptions } from '../../adapters/amqp';
import { freePort } from '../support/ports';
import { BROKER_URL, BrokerAdmin, closeConnectionsNamed, sleep, uniquePrefix, waitFor } from './support-amqp';

describe('amqp adapter (real RabbitMQ)', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('amqp');
  let admin: BrokerAdmin;
  let counter = 0;
  const opened: Array<{ close(): Promise<void> } | { stop(): Promise<void> }> = [];

  before(async () => {
    admin = await BrokerAdmin.open();
  });
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await ('stop' in thing ? thing.stop() : thing.close());
  });
  after(async () => {
    await admin.deleteEverything();
  });

  function name(what: string): string {
    return `${prefix}.${what}.${++counter}`;
  }
  function connection(label: string, url = BROKER_URL, extra: Partial<ConstructorParameters<typeof AmqpConnection>[0]> = {}): AmqpConnection {
    const c = new AmqpConnection({ url, connectionName: name(label), heartbeatSeconds: 5, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 }, ...extra });
    opened.push(c);
    return c;
  }
  function consumer(c: AmqpConnection, options: AmqpConsumerOptions, handler: (d: AmqpDelivery) => Promise<void>): AmqpConsumer {
    admin.trackConsumerQueue(options.queue);
    const k = new AmqpConsumer(c, { retry: { initialDelayMs: 100, maxDelayMs: 1000 }, ...options }, handler);
    opened.push(k);
    k.start();
    return k;
  }
  function publisher(c: AmqpConnection): AmqpPublisher {
    const p = new AmqpPublisher(c);
    opened.push(p);
    p.start();
    return p;
  }
  const ready = (k: AmqpConsumer) => waitFor(() => k.status.state === 'ready', 10_000, `the consumer to be ready (${k.status.error?.message ?? k.status.state})`);
  const statesOf = (c: AmqpConnection) => {
    const seen: AmqpConnectionStatus[] = [];
    c.on('status', (s: AmqpConnectionStatus) => seen.push(s));
    return seen;
  };

  it('round trip: a confirmed publish reaches the bound queue and is acknowledged after the handler', async () => {
    const exchange = name('people');
    await admin.exchange(exchange);
    const queue = name('crm-address');
    const conn = connection('roundtrip');
    const received: AmqpDelivery[] = [];
    const k = consumer(conn, { queue, exchange, exchangeType: 'topic', routingKeys: ['person.address.*'] }, async (d) => {
      received.push(d);
    });
    await ready(k);
    const p = publisher(conn);
    await p.publish(exchange, 'person.address.changed', { personId: 'P1', uprn: '100023336956' }, { messageId: 'm-1', headers: { source: 'crm' } });
    await p.publish(exchange, 'person.address.changed', { personId: 'P2' }, { messageId: 'm-2' });
    await waitFor(() => received.length === 2, 10_000, 'two deliveries');
    assert.deepStrictEqual(received.map((d) => d.body), [{ personId: 'P1', uprn: '100023336956' }, { personId: 'P2' }]);
    assert.strictEqual(received[0].messageId, 'm-1');
    assert.strictEqual(received[0].routingKey, 'person.address.changed');
    assert.strictEqual(received[0].exchange, exchange);
    assert.strictEqual(received[0].headers.source, 'crm');
    assert.strictEqual(received[0].redelivered, false);
    assert.strictEqual(received[0].properties.deliveryMode, 2, 'persistent');
    await waitFor(async () => (await admin.messageCount(queue)) === 0, 5000, 'the queue to be empty');
    assert.strictEqual(await admin.messageCount(`${queue}.dead-letter`), 0);
  });

  it('a handler failure lands in the dead-letter queue with the reason, the body untouched', async () => {
    const exchange = name('cases');
    await admin.exchange(exchange, 'direct');
    const queue = name('planning-case');
    const conn = connection('handler-fails');
    const deadLettered: unknown[] = [];
    const k = consumer(conn, { queue, exchange, exchangeType: 'direct', routingKeys: ['case.decided'] }, async () => {
      throw new Error('the CRM refused case 22/01234/FUL: unknown person');
    });
    k.on('dead-lettered', (d) => deadLettered.push(d));
    await ready(k);
    await publisher(conn).publish(exchange, 'case.decided', { caseRef: '22/01234/FUL' }, { messageId: 'case-1' });
    const [dead] = await admin.take(`${queue}.dead-letter`, 1);
    assert.deepStrictEqual(JSON.parse(dead.content.toString()), { caseRef: '22/01234/FUL' });
    const headers = dead.properties.headers ?? {};
    assert.strictEqual(headers[DEAD_LETTER_HEADERS.reason], 'the CRM refused case 22/01234/FUL: unknown person');
    assert.strictEqual(headers[DEAD_LETTER_HEADERS.queue], queue);
    assert.strictEqual(headers[DEAD_LETTER_HEADERS.routingKey], 'case.decided');
    assert.strictEqual(dead.properties.messageId, 'case-1');
    assert.strictEqual(await admin.messageCount(queue), 0, 'the original is gone from the queue: it is in the dead-letter queue');
    assert.strictEqual(deadLettered.length, 1);
    const told = deadLettered[0] as Record<string, unknown>;
    const { content, at, headers: toldHeaders, deadLetterId, ...rest } = told;
    assert.deepStrictEqual(rest, { queue, deadLetterQueue: `${queue}.dead-letter`, messageId: 'case-1', routingKey: 'case.decided', reason: 'the CRM refused case 22/01234/FUL: unknown person', withReason: true });
    assert.deepStrictEqual(JSON.parse(String(content)), { caseRef: '22/01234/FUL' }, 'the body as it came, for the console');
    assert.ok(!Number.isNaN(Date.parse(String(at))));
    assert.strictEqual(typeof toldHeaders, 'object');
    assert.strictEqual(deadLetterId, 'case-1', 'the dead-lettered copy keeps the sender\'s message id');
  });

  it('a body that is not JSON is dead-lettered with the parse error and never reaches the handler', async () => {
    const queue = name('payments');
    const conn = connection('bad-json');
    let handled = 0;
    const k = consumer(conn, { queue, format: 'json' }, async () => {
      handled++;
    });
    await ready(k);
    await admin.publishRaw('', queue, Buffer.from('{"payment": 12.50,'), { messageId: 'pay-1', persistent: true });
    const [dead] = await admin.take(`${queue}.dead-letter`, 1);
    assert.strictEqual(dead.content.toString(), '{"payment": 12.50,');
    assert.match(String(dead.properties.headers?.[DEAD_LETTER_HEADERS.reason]), /^the message body is not valid JSON: /);
    assert.strictEqual(handled, 0);
  });

  it('format text hands over the body as text (no JSON check)', async () => {
    const queue = name('text');
    const conn = connection('text');
    const bodies: unknown[] = [];
    const k = consumer(conn, { queue, format: 'text' }, async (d) => {
      bodies.push(d.body);
    });
    await ready(k);
    await admin.publishRaw('', queue, Buffer.from('not json, fine'));
    await waitFor(() => bodies.length === 1, 5000, 'one delivery');
    assert.deepStrictEqual(bodies, ['not json, fine']);
  });

  it('acknowledges only after the handler has finished: a connection killed mid-handler means redelivery, not loss', async () => {
    const queue = name('ack-after');
    const conn = connection('ack-after');
    const states = statesOf(conn);
    const seen: AmqpDelivery[] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    const k = consumer(conn, { queue }, async (d) => {
      seen.push(d);
      if (seen.length === 1) await firstMayFinish;
    });
    await ready(k);
    await admin.publishRaw('', queue, Buffer.from(JSON.stringify({ personId: 'P9' })), { messageId: 'once', persistent: true });
    await waitFor(() => seen.length === 1, 5000, 'the handler to start');
    assert.strictEqual(await closeConnectionsNamed(conn.options.connectionName), 1);
    await waitFor(() => states.some((s) => s.state === 'reconnecting'), 10_000, 'the loss to be noticed');
    releaseFirst(); // the handler finishes now, on a dead channel: its ack cannot happen
    await waitFor(() => seen.length === 2, 15_000, 'the redelivery');
    assert.strictEqual(seen[1].messageId, 'once');
    assert.strictEqual(seen[1].redelivered, true);
    assert.match(String(states.find((s) => s.state === 'reconnecting')?.error?.message), /closed the connection|lost/);
    await waitFor(async () => (await admin.messageCount(queue)) === 0, 5000, 'the queue to be empty');
    assert.strictEqual(await admin.messageCount(`${queue}.dead-letter`), 0);
  });

  it('connections closed mid-stream while publishing and consuming: every message arrives at least once', async () => {
    const exchange = name('stream');
    await admin.exchange(exchange);
    const queue = name('stream-in');
    const consumerConn = connection('stream-consumer');
    const publisherConn = connection('stream-publisher');
    const counts = new Map<string, number>();
    let deliveries = 0;
    let redeliveries = 0;
    let published = 0;
    let confirmed = 0;
    let deliveriesAtLoss = -1;
    let confirmedAtLoss = -1;
    consumerConn.on('status', (s: AmqpConnectionStatus) => s.state === 'reconnecting' && deliveriesAtLoss < 0 && (deliveriesAtLoss = deliveries));
    publisherConn.on('status', (s: AmqpConnectionStatus) => s.state === 'reconnecting' && confirmedAtLoss < 0 && (confirmedAtLoss = confirmed));
    let consumerKill: Promise<number> | undefined;
    const PREFETCH = 100;
    const k = consumer(consumerConn, { queue, exchange, routingKeys: ['delivery.#'], prefetch: PREFETCH }, async (d) => {
      deliveries++;
      if (d.redelivered) redeliveries++;
      const id = String((d.body as { id: string }).id);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (deliveries === 20) consumerKill = closeConnectionsNamed(consumerConn.options.connectionName, 'mid-stream test');
      await sleep(200); // slow handlers keep the prefetch window full of unacknowledged messages
    });
    await ready(k);
    const p = publisher(publisherConn);
    let resent = 0;
    p.on('resent', () => resent++);
    let publisherKill: Promise<number> | undefined;
    // 20 publishers in parallel, each publishing one message after another: there are
    // always unconfirmed messages when the publisher's connection is closed. They go on
    // until both connections have been closed and have come back, and a little more.
    const WINDOW = 20;
    let next = 0;
    let afterBoth = 0;
    const bothBack = () => deliveriesAtLoss >= 0 && confirmedAtLoss >= 0 && consumerConn.status.state === 'connected' && publisherConn.status.state === 'connected';
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (afterBoth < 100) {
          assert.ok(next < 20_000, 'the connections were not closed in time');
          const id = `d${next++}`;
          published++;
          if (next === 100) publisherKill = closeConnectionsNamed(publisherConn.options.connectionName, 'mid-stream test');
          await p.publish(exchange, 'delivery.address', { id });
          confirmed++;
          if (bothBack()) afterBoth++;
          // shorter pauses while the publisher's close is under way: more unconfirmed messages on the wire
          await sleep(publisherKill && confirmedAtLoss < 0 ? 5 : 50);
        }
      }),
    );
    const N = published;
    assert.strictEqual(confirmed, N, 'every publish was confirmed');
    assert.strictEqual(await publisherKill, 1, 'the publisher connection was found and closed');
    await waitFor(() => counts.size === N, 30_000, `all ${N} ids`);
    assert.strictEqual(await consumerKill, 1, 'the consumer connection was found and closed');
    assert.ok(deliveriesAtLoss > 0 && deliveriesAtLoss < N, `the consumer connection was lost mid-stream (after ${deliveriesAtLoss} deliveries)`);
    assert.ok(confirmedAtLoss > 0 && confirmedAtLoss < N, `the publisher connection was lost mid-stream (after ${confirmedAtLoss} confirms)`);
    for (let i = 0; i < N; i++) assert.ok(counts.get(`d${i}`), `d${i} received`);
    const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
    // At least once allows exactly two sources of duplicates: redelivery of what was
    // unacknowledged when the consumer's connection went (at most the prefetch window) and
    // resending what was unconfirmed when the publisher's went (at most the publishing window).
    assert.ok(duplicates <= PREFETCH + WINDOW, `duplicates ${duplicates}`);
    assert.ok(duplicates <= redeliveries + resent, `every duplicate is a redelivery or a resend (${duplicates} > ${redeliveries} + ${resent})`);
    await waitFor(async () => (await admin.messageCount(queue)) === 0, 10_000, 'the queue to be empty');
    assert.strictEqual(await admin.messageCount(`${queue}.dead-letter`), 0);
    console.log(`      ${N} messages, ${deliveries} deliveries (${redeliveries} redelivered), ${duplicates} duplicate(s), ${resent} resent; losses after ${deliveriesAtLoss} deliveries and ${confirmedAtLoss} confirms`);
  });

  it('a burst bigger than the write buffer waits for drain instead of piling up, and every message is confirmed', async () => {
    const exchange = name('burst');
    await admin.exchange(exchange, 'direct');
    const queue = name('burst-target');
    await admin.boundQueue(queue, exchange, 'payment');
    const conn = connection('burst');
    const p = publisher(conn);
    let waits = 0;
    p.on('buffer-full', () => waits++);
    const N = 3000; // amqplib's per-channel write buffer holds 1024 frames
    await Promise.all(Array.from({ length: N }, (_, i) => p.publish(exchange, 'payment', { paymentRef: `PAY${i}`, amount: '12.50' })));
    assert.ok(waits >= 1, 'the publisher waited for the buffer to drain at least once');
    await waitFor(async () => (await admin.messageCount(queue)) === N, 10_000, `${N} messages in the queue`);
  });

  it('an unroutable mandatory publish rejects; a missing exchange is a readable NOT_FOUND; the publisher goes on working', async () => {
    const exchange = name('nowhere');
    await admin.exchange(exchange, 'direct');
    const conn = connection('unroutable');
    const p = publisher(conn);
    await assert.rejects(p.publish(exchange, 'no.such.key', { x: 1 }), (err: any) => {
      assert.strictEqual(err.code, 'UNROUTABLE');
      assert.strictEqual(err.transient, false, 'the same message is returned again: permanent');
      assert.match(err.message, new RegExp(`no queue is bound to exchange "${exchange.replace(/\./g, '\\.')}" for routing key "no\\.such\\.key".*312 NO_ROUTE`));
      return true;
    });
    await assert.rejects(p.publish(name('missing-exchange'), 'k', { x: 1 }), (err: any) => err.code === 'NOT_FOUND' && err.transient === false && /does not exist/.test(err.message));
    const queue = name('routable');
    const k = consumer(conn, { queue, exchange, exchangeType: 'direct', routingKeys: ['ok'] }, async () => undefined);
    await ready(k);
    await p.publish(exchange, 'ok', { x: 2 });
    assert.strictEqual(p.status.state, 'ready');
  });

  it('a refused connection (wrong port) is a readable error status, retried, and no crash', async () => {
    const port = await freePort();
    const conn = connection('refused', `amqp://guest:guest@127.0.0.1:${port}`);
    const states = statesOf(conn);
    conn.start();
    await waitFor(() => states.filter((s) => s.state === 'error').length >= 2, 10_000, 'two failed attempts');
    const error = states.find((s) => s.state === 'error')!.error!;
    assert.strictEqual(error.code, 'CONNECTION_REFUSED');
    assert.strictEqual(error.transient, true);
    assert.strictEqual(error.message, `RabbitMQ at 127.0.0.1:${port} refused the connection: is the broker running and the port right?`);
    const p = publisher(conn);
    const pending = p.publish('', 'q', { x: 1 });
    await p.stop();
    await assert.rejects(pending, (err: any) => err.code === 'CLOSED' && err.transient === true);
  });

  it('wrong credentials are a readable ACCESS_REFUSED, without the password in it', async () => {
    const conn = connection('bad-login', 'amqp://127.0.0.1:5672', { username: 'guest', password: 'not-the-password' });
    const states = statesOf(conn);
    conn.start();
    await waitFor(() => states.some((s) => s.state === 'error'), 10_000, 'a failed attempt');
    const error = states.find((s) => s.state === 'error')!.error!;
    assert.strictEqual(error.code, 'ACCESS_REFUSED');
    assert.strictEqual(error.transient, false);
    assert.match(error.message, /refused the user name or password/);
    assert.doesNotMatch(error.message, /not-the-password/);
  });

  it('a queue that exists with other settings is a readable PRECONDITION_FAILED status, and the connection survives', async () => {
    const queue = name('clash');
    const conn = connection('clash');
    // declared elsewhere without our dead-letter exchange
    const raw = await conn.whenConnected();
    const ch = await raw.createChannel();
    await ch.assertQueue(queue, { durable: true });
    await ch.close();
    const k = consumer(conn, { queue }, async () => undefined);
    await waitFor(() => k.status.state === 'error', 10_000, 'the consumer error');
    assert.strictEqual(k.status.error?.code, 'PRECONDITION_FAILED');
    assert.strictEqual(k.status.error?.transient, false);
    assert.match(k.status.error!.message, /x-dead-letter-exchange/);
    assert.strictEqual(conn.status.state, 'connected');
  });
});
