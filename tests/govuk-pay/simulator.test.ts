import assert from 'assert';
import http from 'http';
import { AddressInfo } from 'net';
import { ActionInputError } from '../../simulators/control';
import { parseWebhookEvent, WebhookEvent } from '../../adapters/govuk-pay/events';
import { verifyWebhookSignature } from '../../adapters/govuk-pay/signature';
import { GovukPaySimulator } from '../../simulators/govuk-pay';
import { startSimulators } from '../../simulators/index';
import { generatePopulation, Population } from '../../simulators/population';

const SECRET = 'webhook_test_5e1d0c';
const FUNDS = ['CTX', 'NDR', 'HRA', 'SUN'];
const SCHEDULE = [50, 100, 200];

interface Received {
  at: number;
  path: string;
  body: Buffer;
  signature: string | string[] | undefined;
  contentType?: string;
  valid: boolean;
  messageId?: string;
  status: number;
}

type Answer = (r: Received, seenBefore: number) => number | 'hang';

/** A webhook receiver on 127.0.0.1 that checks signatures as the hub must and answers as `answer` says. */
class Receiver {
  readonly received: Received[] = [];
  answer: Answer = () => 200;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const signature = req.headers['pay-signature'];
      const valid = verifyWebhookSignature(body, signature, SECRET);
      let messageId: string | undefined;
      try {
        messageId = JSON.parse(body.toString('utf8')).webhook_message_id;
      } catch {
        messageId = undefined;
      }
      const r: Received = { at: Date.now(), path: req.url ?? '', body, signature, contentType: req.headers['content-type'], valid, messageId, status: 0 };
      const seenBefore = this.received.filter((x) => x.valid && x.messageId === messageId).length;
      this.received.push(r);
      const status = valid ? this.answer(r, seenBefore) : 401;
      if (status === 'hang') return; // never answered: the sender's timeout must act
      r.status = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/govuk-pay`;
  }

  arrivals(messageId: string): Received[] {
    return this.received.filter((r) => r.valid && r.messageId === messageId);
  }

  events(): WebhookEvent[] {
    return this.received.filter((r) => r.valid).map((r) => parseWebhookEvent(r.body, FUNDS));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function idle(sim: GovukPaySimulator, timeoutMs = 5000): Promise<void> {
  await Promise.race([sim.whenIdle(), sleep(timeoutMs).then(() => Promise.reject(new Error(`still ${sim.pending()} pending after ${timeoutMs} ms`)))]);
}

/**
 * The contract's rules applied by a hub to what it received, in arrival order: dedupe by
 * webhook_message_id; post each payment_id once; a refund waits for its payment, then is
 * posted if it fits in what is left, else it is an over-refund.
 */
class ReferenceHub {
  private seen = new Set<string>();
  private posted = new Map<string, { fund: string; left: number }>();
  private held = new Map<string, WebhookEvent[]>();
  private refundIds = new Set<string>();
  netPence: Record<string, number> = {};
  payments: { paymentId: string; fund: string; reference: string; amountPence: number }[] = [];
  refunds: { refundId: string; paymentId: string; amountPence: number }[] = [];
  overRefunds: { refundId: string; paymentId: string; amountPence: number }[] = [];
  heldEver = 0;
  recorded = 0;
  unknown = 0;

  take(event: WebhookEvent): void {
    if (this.seen.has(event.webhookMessageId)) return;
    this.seen.add(event.webhookMessageId);
    if (event.kind === 'recorded') this.recorded++;
    if (event.kind === 'unknown') this.unknown++;
    if (event.kind === 'payment' && !this.posted.has(event.paymentId)) {
      const p = event.payment!;
      this.posted.set(p.paymentId, { fund: p.fund, left: p.amountPence });
      this.netPence[p.fund] = (this.netPence[p.fund] ?? 0) + p.amountPence;
      this.payments.push({ paymentId: p.paymentId, fund: p.fund, reference: p.reference, amountPence: p.amountPence });
      const waiting = (this.held.get(p.paymentId) ?? []).sort((a, b) => a.refund!.createdDate.localeCompare(b.refund!.createdDate));
      this.held.delete(p.paymentId);
      for (const r of waiting) this.applyRefund(r);
    }
    if (event.kind === 'refund') {
      if (this.refundIds.has(event.refund!.refundId)) return;
      this.refundIds.add(event.refund!.refundId);
      if (!this.posted.has(event.paymentId)) {
        this.held.set(event.paymentId, [...(this.held.get(event.paymentId) ?? []), event]);
        this.heldEver++;
      } else this.applyRefund(event);
    }
  }

  private applyRefund(event: WebhookEvent): void {
    const r = event.refund!;
    const payment = this.posted.get(r.paymentId)!;
    const plain = { refundId: r.refundId, paymentId: r.paymentId, amountPence: r.amountPence };
    if (r.amountPence <= payment.left) {
      payment.left -= r.amountPence;
      this.netPence[payment.fund] -= r.amountPence;
      this.refunds.push(plain);
    } else this.overRefunds.push(plain);
  }

  waiting(): number {
    return [...this.held.values()].reduce((n, list) => n + list.length, 0);
  }
}

const byId = <T extends { refundId?: string; paymentId: string }>(list: T[]) => list.slice().sort((a, b) => (a.refundId ?? a.paymentId).localeCompare(b.refundId ?? b.paymentId));

describe('GOV.UK Pay simulator', function () {
  let population: Population;
  let receiver: Receiver;
  let url: string;
  let sim: GovukPaySimulator | undefined;

  before(function () {
    population = generatePopulation({ seed: 'govuk-pay-tests', properties: 1500 });
  });
  beforeEach(async function () {
    receiver = new Receiver();
    url = await receiver.start();
  });
  afterEach(async function () {
    await sim?.stop();
    sim = undefined;
    await receiver.close();
  });

  const simulator = (extra: Partial<ConstructorParameters<typeof GovukPaySimulator>[0]> = {}) => (sim = new GovukPaySimulator({ population, signingSecret: SECRET, webhookUrl: url, retryScheduleMs: SCHEDULE, seed: 'govuk-pay-sim', ...extra }));

  it('sends each payment as a signed JSON card_payment_succeeded for a population account, card details and all', async function () {
    const s = simulator();
    const summary = await s.sendEvents({ payments: 5 });
    assert.deepStrictEqual({ events: summary.events, payments: summary.payments, refunds: summary.refunds, duplicates: summary.duplicates, badSignatures: summary.badSignatures }, { events: 5, payments: 5, refunds: 0, duplicates: 0, badSignatures: 0 });
    assert.strictEqual(receiver.received.length, 5);
    const accounts = new Map(population.accounts.map((a) => [a.accountRef, a.fund]));
    for (const r of receiver.received) {
      assert.strictEqual(r.valid, true, 'verifies with the signing secret');
      assert.strictEqual(r.path, '/webhooks/govuk-pay');
      assert.strictEqual(r.contentType, 'application/json');
      const body = JSON.parse(r.body.toString('utf8'));
      assert.strictEqual(body.event_type, 'card_payment_succeeded');
      assert.strictEqual(body.resource_type, 'payment');
      assert.strictEqual(body.api_version, 1);
      assert.match(body.resource.payment_id, /^[a-z0-9]{26}$/);
      assert.strictEqual(body.resource_id, body.resource.payment_id);
      assert.strictEqual(accounts.get(body.resource.reference), body.resource.metadata.fund, 'reference is an account ref of that fund');
      assert.ok(Number.isInteger(body.resource.amount) && body.resource.amount > 0);
      assert.deepStrictEqual(body.resource.state, { status: 'success', finished: true });
      const card = body.resource.card_details;
      assert.match(card.last_digits_card_number, /^\d{4}$/);
      assert.match(card.expiry_date, /^(0[1-9]|1[0-2])\/\d{2}$/);
      assert.ok(card.cardholder_name && card.card_brand && card.billing_address.line1 && card.billing_address.postcode);
      // What the hub keeps from it has none of the card.
      const kept = JSON.stringify(parseWebhookEvent(r.body, FUNDS));
      assert.ok(!kept.includes(card.cardholder_name) && !kept.includes(card.billing_address.postcode));
    }
    assert.strictEqual(s.pending(), 0);
    const state = s.state();
    assert.deepStrictEqual([state.sent, state.answered2xx, state.non2xx, state.retriesScheduled], [5, 5, 0, 0]);
  });

  it('the same seed makes the same payments', async function () {
    const first = simulator();
    await first.sendEvents({ payments: 3, refundPercent: 50 });
    const a = first.expected();
    await first.stop();
    const second = simulator();
    await second.sendEvents({ payments: 3, refundPercent: 50 });
    assert.deepStrictEqual(second.expected(), a);
    assert.strictEqual(a.payments.length, 3);
  });

  it('retries an event that got no 2xx on the schedule, and stops once it gets one', async function () {
    const s = simulator();
    const failFirst = new Set<string>();
    let n = 0;
    receiver.answer = (r, seenBefore) => {
      if (seenBefore === 0 && n++ % 2 === 0) failFirst.add(r.messageId!);
      return failFirst.has(r.messageId!) && seenBefore === 0 ? 500 : 200;
    };
    await s.sendEvents({ payments: 6 });
    assert.strictEqual(failFirst.size, 3);
    assert.strictEqual(s.pending(), 3, 'the three refused are still being retried after send-events resolved');
    await idle(s);
    await sleep(SCHEDULE[1] + SCHEDULE[2] + 50); // long enough for any wrong further retry to show
    for (const id of failFirst) {
      const arrivals = receiver.arrivals(id);
      assert.strictEqual(arrivals.length, 2, 'once refused, once accepted, then no more');
      assert.ok(arrivals[1].at - arrivals[0].at >= SCHEDULE[0] - 5, `the retry waited ${arrivals[1].at - arrivals[0].at} ms`);
      assert.strictEqual(arrivals[0].body.equals(arrivals[1].body), true, 'a retry is the same bytes');
    }
    const state = s.state();
    assert.deepStrictEqual([state.sent, state.answered2xx, state.non2xx, state.retriesScheduled, state.gaveUp, state.pending], [9, 6, 3, 3, 0, 0]);
    assert.strictEqual(s.expected().payments.length, 6);
  });

  it('gives up after the last step of the schedule (one attempt per step after the first)', async function () {
    const s = simulator();
    let refused: string | undefined;
    receiver.answer = (r) => {
      refused ??= r.messageId;
      return r.messageId === refused ? 503 : 200;
    };
    await s.sendEvents({ payments: 2 });
    await idle(s);
    await sleep(300);
    const arrivals = receiver.arrivals(refused!);
    assert.strictEqual(arrivals.length, SCHEDULE.length + 1);
    for (let i = 1; i < arrivals.length; i++) assert.ok(arrivals[i].at - arrivals[i - 1].at >= SCHEDULE[i - 1] - 5, `attempt ${i + 1} waited ${arrivals[i].at - arrivals[i - 1].at} ms, schedule ${SCHEDULE[i - 1]}`);
    const state = s.state();
    assert.strictEqual(state.gaveUp, 1);
    assert.strictEqual(state.retriesScheduled, SCHEDULE.length);
    const expected = s.expected();
    assert.strictEqual(expected.complete, true);
    assert.strictEqual(expected.payments.length, 1, 'a payment never acknowledged is not one the hub must hold');
  });

  it('treats no answer within timeoutMs as no 2xx and retries', async function () {
    const s = simulator({ timeoutMs: 150 });
    receiver.answer = (_r, seenBefore) => (seenBefore === 0 ? 'hang' : 200);
    const started = Date.now();
    await s.sendEvents({ payments: 1 });
    assert.ok(Date.now() - started >= 140, 'the first attempt waited for its timeout');
    await idle(s);
    assert.strictEqual(receiver.received.length, 2);
    const state = s.state();
    assert.deepStrictEqual([state.networkErrors, state.answered2xx, state.retriesScheduled], [1, 1, 1]);
    assert.deepStrictEqual(state.deliveries[0].answers, ['TIMEOUT', 200]);
  });

  it('retries a refused connection too, and gives up after the schedule', async function () {
    const closed = new Receiver();
    const deadUrl = await closed.start();
    await closed.close(); // nothing listens there now
    const s = simulator({ webhookUrl: deadUrl });
    await s.sendEvents({ payments: 1 });
    await idle(s);
    const state = s.state();
    assert.strictEqual(state.networkErrors, SCHEDULE.length + 1);
    assert.strictEqual(state.gaveUp, 1);
    assert.match(String(state.deliveries[0].answers[0]), /ECONNREFUSED/);
  });

  it('duplicates arrive byte-identical, with the same message id and signature', async function () {
    const s = simulator();
    const summary = await s.sendEvents({ payments: 4, duplicatePercent: 100 });
    assert.strictEqual(summary.duplicates, 4);
    assert.strictEqual(summary.events, 8);
    const ids = new Set(receiver.received.map((r) => r.messageId!));
    assert.strictEqual(ids.size, 4);
    for (const id of ids) {
      const [a, b] = receiver.arrivals(id);
      assert.ok(a && b, `${id} arrived twice`);
      assert.ok(a.body.equals(b.body), 'same bytes');
      assert.strictEqual(a.signature, b.signature);
    }
  });

  it('out-of-order refunds arrive before their payment, though created after it', async function () {
    const s = simulator();
    const summary = await s.sendEvents({ payments: 4, outOfOrderRefundPercent: 100 });
    assert.strictEqual(summary.outOfOrderRefunds, 4);
    const events = receiver.events();
    for (const payment of events.filter((e) => e.kind === 'payment')) {
      const refundAt = events.findIndex((e) => e.kind === 'refund' && e.paymentId === payment.paymentId);
      assert.ok(refundAt >= 0 && refundAt < events.indexOf(payment), 'the refund came first');
      assert.ok(events[refundAt].refund!.createdDate > payment.payment!.createdDate, 'but was created after the payment');
      assert.ok(events[refundAt].refund!.amountPence <= payment.payment!.amountPence, 'and fits');
    }
    assert.strictEqual(s.expected().refunds.length, 4);
  });

  it('bad signatures fail verification, are answered 401 and never retried', async function () {
    const s = simulator();
    const summary = await s.sendEvents({ payments: 3, badSignatures: 6 });
    assert.strictEqual(summary.badSignatures, 6);
    await idle(s);
    await sleep(SCHEDULE.reduce((a, b) => a + b, 0));
    const bad = receiver.received.filter((r) => !r.valid);
    assert.strictEqual(bad.length, 6, 'each sent once');
    assert.strictEqual(receiver.received.filter((r) => r.valid).length, 3, 'the real events all verify');
    assert.strictEqual(bad.filter((r) => r.signature === undefined).length, 2, 'some without a signature at all');
    // The tampered ones replay a real event's id and signature over a changed body.
    const realSignatures = new Set(receiver.received.filter((r) => r.valid).map((r) => r.signature));
    assert.strictEqual(bad.filter((r) => realSignatures.has(r.signature)).length, 2);
    const state = s.state();
    assert.strictEqual(state.badSignaturesAccepted, 0);
    assert.strictEqual(state.retriesScheduled, 0);
    assert.strictEqual(s.expected().payments.length, 3, 'forged payments are not expected');
  });

  it('expected() agrees with a hub that applies the contract to what it received', async function () {
    this.timeout(20000);
    const s = simulator({ seed: 'govuk-pay-mix' });
    const hub = new ReferenceHub();
    let n = 0;
    receiver.answer = (r, seenBefore) => {
      const event = parseWebhookEvent(r.body, FUNDS);
      // Some payments are refused at first, so their refunds arrive (and wait) before them.
      if (event.kind === 'payment' && seenBefore === 0 && n++ % 3 === 0) return 500;
      hub.take(event);
      return 200;
    };
    const summary = await s.sendEvents({ payments: 40, refundPercent: 40, recordedPercent: 30, duplicatePercent: 20, outOfOrderRefundPercent: 20, overRefundPercent: 25, badSignatures: 5, unknownTypes: 4 });
    await idle(s);
    const expected = s.expected();
    assert.strictEqual(expected.complete, true);
    // The run exercised each rule, or agreeing would prove little.
    assert.ok(summary.duplicates > 0 && summary.outOfOrderRefunds > 0 && summary.overRefunds > 0 && summary.recorded > 0, JSON.stringify(summary));
    assert.ok(hub.heldEver > summary.outOfOrderRefunds, 'refunds waited for payments that were retried');
    assert.strictEqual(hub.unknown, 4);
    assert.strictEqual(hub.recorded, summary.recorded);
    assert.ok(
      expected.overRefunds.some((o) => o.amountPence <= expected.payments.find((p) => p.paymentId === o.paymentId)!.amountPence),
      'an over-refund smaller than its payment (only what is left tells it apart)',
    );
    assert.strictEqual(hub.waiting(), 0);
    assert.deepStrictEqual(expected.waitingRefunds, []);
    assert.deepStrictEqual(hub.netPence, expected.netPence);
    assert.deepStrictEqual(byId(hub.payments), byId(expected.payments));
    assert.deepStrictEqual(byId(hub.refunds), byId(expected.refunds));
    assert.deepStrictEqual(byId(hub.overRefunds), byId(expected.overRefunds));
    assert.strictEqual(expected.payments.length, 40);
    // netPence is what the lists say.
    for (const [fund, net] of Object.entries(expected.netPence)) {
      const paid = expected.payments.filter((p) => p.fund === fund).reduce((a, p) => a + p.amountPence, 0);
      const fundOf = new Map(expected.payments.map((p) => [p.paymentId, p.fund]));
      const back = expected.refunds.filter((r) => fundOf.get(r.paymentId) === fund).reduce((a, r) => a + r.amountPence, 0);
      assert.strictEqual(net, paid - back, fund);
    }
  });

  it('stop() cancels every retry', async function () {
    const s = simulator({ retryScheduleMs: [100, 100] });
    receiver.answer = () => 500;
    await s.sendEvents({ payments: 3 });
    assert.strictEqual(s.pending(), 3);
    await s.stop();
    assert.strictEqual(s.pending(), 0);
    const before = receiver.received.length;
    await sleep(300);
    assert.strictEqual(receiver.received.length, before, 'nothing sent after stop');
  });

  it('sendEvent sends one event once, signed unless told otherwise, and returns the answer', async function () {
    const s = simulator();
    receiver.answer = () => 202;
    const good = await s.sendEvent({ webhook_message_id: 'm1', hello: 'world' });
    assert.strictEqual(good.status, 202);
    assert.strictEqual(receiver.received[0].valid, true);
    assert.strictEqual((await s.sendEvent({ webhook_message_id: 'm2' }, { signature: '0'.repeat(64) })).status, 401);
    assert.strictEqual((await s.sendEvent('not json', { signature: null })).status, 401);
    assert.strictEqual(receiver.received[2].signature, undefined);
    assert.strictEqual(receiver.received[2].body.toString(), 'not json');
    assert.deepStrictEqual(s.expected().payments, []);
  });

  it('refuses send-events without a webhook URL or with bad settings; the URL can be set later', async function () {
    const s = simulator({ webhookUrl: undefined });
    await assert.rejects(s.sendEvents({ payments: 1 }), (err: unknown) => err instanceof ActionInputError && /webhookUrl/.test(err.message));
    s.setWebhookUrl(url);
    await assert.rejects(Promise.resolve().then(() => s.actions['send-events']({ refundPercent: 101 })), /refundPercent must be a whole number from 0 to 100/);
    await assert.rejects(Promise.resolve().then(() => s.actions['send-events']({ paymnets: 1 })), /unknown send-events setting "paymnets"/);
    assert.throws(() => s.setWebhookUrl('ftp://x'), /http/);
    const summary = (await s.actions['send-events']({ payments: 1 })) as { payments: number };
    assert.strictEqual(summary.payments, 1);
    assert.strictEqual(receiver.received.length, 1);
  });

  it('startSimulators with govukPay calls <hubUrl>/webhooks/govuk-pay and serves its control', async function () {
    this.timeout(30000);
    const hubUrl = url.replace(/\/webhooks\/govuk-pay$/, '');
    const running = await startSimulators({ seed: 'govuk-pay-tests', properties: 1500, pollMs: 0, sftp: false, hubUrl, govukPay: { signingSecret: SECRET, retryScheduleMs: SCHEDULE } });
    try {
      assert.ok(running.govukPay instanceof GovukPaySimulator);
      assert.strictEqual(running.govukPay.webhookUrl, `${hubUrl}/webhooks/govuk-pay`);
      assert.strictEqual(running.controls['govuk-pay'], running.govukPay);
      const response = await fetch(`${running.controlUrl}/govuk-pay/actions/send-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payments: 2 }) });
      assert.strictEqual(response.status, 200);
      assert.strictEqual(((await response.json()) as { payments: number }).payments, 2);
      assert.strictEqual(receiver.received.filter((r) => r.valid && r.path === '/webhooks/govuk-pay').length, 2);
      const state = (await (await fetch(`${running.controlUrl}/govuk-pay/state`)).json()) as { answered2xx: number };
      assert.strictEqual(state.answered2xx, 2);
    } finally {
      await running.stop();
    }
  });
});
