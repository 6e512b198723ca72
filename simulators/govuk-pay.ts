import crypto from 'crypto';
import { ActionInputError, SimulatorControl } from './control';
import { FaultSwitch } from './faults';
import { Fund, Population } from './population';
import { Random } from './random';

/**
 * GOV.UK Pay's side of the online payments contract (CONTRACTS.md, "Online payments: GOV.UK
 * Pay webhooks"): takes card payments for the population's accounts and calls the hub's
 * webhook with each event, signed, retrying an event that got no 2xx on GOV.UK Pay's
 * schedule. It can also do what GOV.UK Pay may do and a hub must survive: send an event
 * twice, send a refund before its payment, refund more than is left, and send event types
 * the contract does not know; and what an attacker does: send events with wrong signatures.
 * expected() says what a correct hub ends with.
 *
 * It signs with Node's crypto itself rather than the hub's adapter, as GOV.UK Pay is a
 * separate system: a mistake in the adapter's signing cannot then hide one in its checking.
 */

export interface GovukPayOptions {
  webhookUrl?: string;
  signingSecret: string;
  population: Population;
  seed?: string;
  /** waits before attempts 2, 3...; default GOV.UK Pay's [60_000, 300_000, 3_600_000, 86_400_000, 172_800_000] */
  retryScheduleMs?: number[];
  /** per attempt, default 15000 (the contract gives the hub 15 s) */
  timeoutMs?: number;
}

export interface SendEventsRequest {
  /** succeeded payments, default 10 */
  payments?: number;
  /** chance (0-100) per payment of a refund that fits, sent after the payment */
  refundPercent?: number;
  /** chance per payment of extra recorded events: captured (and settled) for it, or another payment that failed, expired or was cancelled */
  recordedPercent?: number;
  /** chance per event of the same event (same webhook_message_id, same bytes) being sent again later */
  duplicatePercent?: number;
  /** chance per payment of a refund (that fits) sent before the payment's succeeded event */
  outOfOrderRefundPercent?: number;
  /** chance per payment of a refund larger than what is left of it, sent after its other refunds */
  overRefundPercent?: number;
  /** extra events with a wrong signature (another secret, a tampered body, or none): sent once, never retried */
  badSignatures?: number;
  /** extra events of types the contract does not name, about payments of this batch */
  unknownTypes?: number;
}

export interface SendEventsSummary {
  /** every delivery sent once: events, duplicates and bad signatures */
  events: number;
  /** succeeded payments */
  payments: number;
  /** refund events (fitting, out of order and over-refunds) */
  refunds: number;
  duplicates: number;
  badSignatures: number;
  recorded: number;
  unknown: number;
  outOfOrderRefunds: number;
  overRefunds: number;
}

export interface ExpectedPayment {
  paymentId: string;
  fund: string;
  reference: string;
  amountPence: number;
}

export interface ExpectedRefund {
  refundId: string;
  paymentId: string;
  amountPence: number;
}

export interface GovukPayExpected {
  /** false while events are still being retried: the figures are then provisional */
  complete: boolean;
  /** per fund: succeeded payments less the refunds that fit */
  netPence: Record<string, number>;
  payments: ExpectedPayment[];
  refunds: ExpectedRefund[];
  /** refunds larger than what was left of their payment: not posted, waiting for a person */
  overRefunds: ExpectedRefund[];
  /** refunds acknowledged whose payment's succeeded event never was (given up): they wait */
  waitingRefunds: ExpectedRefund[];
}

export interface SendEventResult {
  /** the HTTP status; undefined when no answer came (error says why) */
  status?: number;
  body: string;
  error?: string;
}

type Role = 'event' | 'duplicate' | 'bad-signature';

/** A webhook body as GOV.UK Pay sends it. */
interface WebhookBody {
  webhook_message_id: string;
  api_version: number;
  created_date: string;
  resource_id: string;
  resource_type: 'payment' | 'refund';
  event_type: string;
  resource: object;
}

interface Delivery {
  webhookMessageId: string;
  eventType: string;
  paymentId?: string;
  role: Role;
  body: Buffer;
  /** null: no Pay-Signature header */
  signature: string | null;
  retry: boolean;
  attempts: number;
  /** per attempt: the status or the error code */
  answers: (number | string)[];
  acknowledged: boolean;
  gaveUp: boolean;
  timer?: NodeJS.Timeout;
}

interface MadePayment extends ExpectedPayment {
  createdDate: string;
  /** the succeeded event's webhook_message_id */
  messageId: string;
}

interface MadeRefund extends ExpectedRefund {
  createdDate: string;
  messageId: string;
  /** order of creation, which is also the order of first sending among one payment's refunds */
  order: number;
}

export const GOVUK_PAY_RETRY_SCHEDULE_MS: readonly number[] = [60_000, 300_000, 3_600_000, 86_400_000, 172_800_000];

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const AMOUNTS: Record<Fund, [number, number]> = { CTX: [1000, 25000], NDR: [10000, 500000], HRA: [5000, 60000], SUN: [500, 20000] };
const DESCRIPTIONS: Record<Fund, string> = { CTX: 'Council Tax payment', NDR: 'Business rates payment', HRA: 'Rent payment', SUN: 'Sundry debt payment' };
const CARDS = [
  { brand: 'Visa', first: '424242', type: 'debit' },
  { brand: 'Mastercard', first: '545454', type: 'credit' },
  { brand: 'Visa', first: '400000', type: 'credit' },
  { brand: 'American Express', first: '371449', type: 'credit' },
];
const UNSUCCESSFUL = [
  { eventType: 'card_payment_failed', state: { status: 'failed', finished: true, code: 'P0010', message: 'Payment method rejected' } },
  { eventType: 'card_payment_expired', state: { status: 'failed', finished: true, code: 'P0020', message: 'Payment expired' } },
  { eventType: 'card_payment_cancelled', state: { status: 'cancelled', finished: true, code: 'P0040', message: 'Payment was cancelled by the service' } },
];
// Real GOV.UK Pay types the contract does not name: the hub must record and acknowledge them.
const UNKNOWN_TYPES = ['card_payment_dispute_created', 'card_payment_dispute_won', 'card_payment_dispute_lost', 'card_payment_dispute_evidence_submitted'];
const BAD_SIGNATURES = ['wrong-secret', 'tampered-body', 'missing'] as const;

export class GovukPaySimulator implements SimulatorControl {
  readonly system = 'govuk-pay';
  /** Kept for the control interface; GOV.UK Pay's own faults are the hub's answers, so no switch acts here. */
  readonly faults: FaultSwitch;
  readonly actions: SimulatorControl['actions'];
  private url?: string;
  private readonly random: Random;
  private readonly schedule: readonly number[];
  private readonly timeoutMs: number;
  private readonly deliveries: Delivery[] = [];
  private readonly inFlight = new Set<Delivery>();
  private readonly controllers = new Set<AbortController>();
  private readonly acknowledged = new Set<string>();
  private readonly made: MadePayment[] = [];
  private readonly refundsMade: MadeRefund[] = [];
  private readonly contacts = new Map<string, Population['crmContacts'][number]>();
  private readonly counts = { sent: 0, answered2xx: 0, non2xx: 0, networkErrors: 0, retriesScheduled: 0, gaveUp: 0, badSignaturesAccepted: 0 };
  private lastTime = 0;
  private refundOrder = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: GovukPayOptions) {
    if (!options.signingSecret) throw new Error('GovukPaySimulator: signingSecret is required');
    const seed = options.seed ?? options.population.seed;
    this.faults = new FaultSwitch(this.system, seed);
    this.random = new Random(`${seed}:govuk-pay`);
    this.schedule = (options.retryScheduleMs ?? GOVUK_PAY_RETRY_SCHEDULE_MS).slice();
    if (this.schedule.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error('GovukPaySimulator: retryScheduleMs are waits in ms, 0 or more');
    this.timeoutMs = options.timeoutMs ?? 15000;
    if (options.webhookUrl) this.setWebhookUrl(options.webhookUrl);
    for (const contact of options.population.crmContacts) this.contacts.set(contact.contactId, contact);
    this.actions = {
      'send-events': (input: SendEventsRequest) => this.sendEvents(input ?? {}),
    };
  }

  get webhookUrl(): string | undefined {
    return this.url;
  }

  set webhookUrl(url: string | undefined) {
    if (url === undefined) this.url = undefined;
    else this.setWebhookUrl(url);
  }

  /** The hub's port is often known only after the simulators started. */
  setWebhookUrl(url: string): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ActionInputError(`webhookUrl must be http(s) (got ${url})`);
    this.url = url;
  }

  /** Events still being retried (or whose attempt is under way). */
  pending(): number {
    return this.inFlight.size;
  }

  /** Resolves once nothing is pending (every event answered 2xx or given up). */
  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // --- making payments ---------------------------------------------------------------------

  /** Strictly increasing timestamps, so created_date orders one payment's refunds. */
  private now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return new Date(this.lastTime).toISOString();
  }

  private id(): string {
    return this.random.chars(26, ID_ALPHABET);
  }

  private cardDetails(account: Population['accounts'][number]) {
    const crmContacts = this.options.population.crmContacts;
    const contact = (account.contactId && this.contacts.get(account.contactId)) || (crmContacts.length ? this.random.pick(crmContacts) : undefined);
    const card = this.random.pick(CARDS);
    const expiry = `${String(this.random.int(1, 12)).padStart(2, '0')}/${String((new Date().getUTCFullYear() + this.random.int(1, 5)) % 100).padStart(2, '0')}`;
    return {
      contact,
      details: {
        last_digits_card_number: this.random.chars(4, '0123456789'),
        first_digits_card_number: card.first,
        cardholder_name: contact ? `${contact.firstName.charAt(0)} ${contact.lastName}` : 'A Resident',
        expiry_date: expiry,
        billing_address: {
          line1: contact?.address.line1 ?? '1 High Street',
          line2: contact?.address.line2 ?? null,
          postcode: contact?.address.postcode ?? 'XM1 1AA',
          city: contact?.address.town ?? 'ASHBURY',
          country: 'GB',
        },
        card_brand: card.brand,
        card_type: card.type,
        wallet_type: null,
      },
    };
  }

  /** A payment resource as GOV.UK Pay sends it, with the card and the payer's e-mail (which the hub must drop). */
  private paymentResource(account: Population['accounts'][number], paymentId: string, amount: number, createdDate: string, state: object) {
    const { contact, details } = this.cardDetails(account);
    return {
      amount,
      description: DESCRIPTIONS[account.fund],
      reference: account.accountRef,
      language: 'en',
      email: contact?.email ?? `resident${this.random.int(1000, 9999)}@example.org`,
      state,
      payment_id: paymentId,
      payment_provider: 'worldpay',
      created_date: createdDate,
      refund_summary: { status: 'available', amount_available: amount, amount_submitted: 0 },
      delayed_capture: false,
      moto: false,
      return_url: `https://pay.example-council.gov.uk/return/${paymentId}`,
      authorisation_mode: 'web',
      card_details: details,
      metadata: { fund: account.fund },
    };
  }

  private envelope(eventType: string, resourceType: 'payment' | 'refund', resourceId: string, resource: object): WebhookBody {
    return { webhook_message_id: this.id(), api_version: 1, created_date: this.now(), resource_id: resourceId, resource_type: resourceType, event_type: eventType, resource };
  }

  private sign(body: Buffer, secret = this.options.signingSecret): string {
    return crypto.createHmac('sha256', secret).update(body).digest('hex');
  }

  private delivery(event: WebhookBody, role: Role = 'event'): Delivery {
    const body = Buffer.from(JSON.stringify(event), 'utf8');
    const resource = event.resource as { payment_id?: string };
    return { webhookMessageId: event.webhook_message_id, eventType: event.event_type, paymentId: resource.payment_id, role, body, signature: this.sign(body), retry: true, attempts: 0, answers: [], acknowledged: false, gaveUp: false };
  }

  private checkRequest(input: SendEventsRequest): Required<SendEventsRequest> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new ActionInputError('send-events takes a JSON object');
    const known = ['payments', 'refundPercent', 'recordedPercent', 'duplicatePercent', 'outOfOrderRefundPercent', 'overRefundPercent', 'badSignatures', 'unknownTypes'];
    for (const key of Object.keys(input)) if (!known.includes(key)) throw new ActionInputError(`unknown send-events setting "${key}" (known: ${known.join(', ')})`);
    const whole = (key: keyof SendEventsRequest, fallback: number, max: number) => {
      const value = input[key] ?? fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw new ActionInputError(`${key} must be a whole number from 0 to ${max}`);
      return value;
    };
    return {
      payments: whole('payments', 10, 100000),
      refundPercent: whole('refundPercent', 0, 100),
      recordedPercent: whole('recordedPercent', 0, 100),
      duplicatePercent: whole('duplicatePercent', 0, 100),
      outOfOrderRefundPercent: whole('outOfOrderRefundPercent', 0, 100),
      overRefundPercent: whole('overRefundPercent', 0, 100),
      badSignatures: whole('badSignatures', 0, 100000),
      unknownTypes: whole('unknownTypes', 0, 100000),
    };
  }

  private refund(paymentId: string, amount: number): { event: WebhookBody; made: MadeRefund } {
    const refundId = this.id();
    const createdDate = this.now();
    const event = this.envelope('card_payment_refunded', 'refund', refundId, { refund_id: refundId, payment_id: paymentId, amount, status: 'success', created_date: createdDate, settlement_summary: {} });
    return { event, made: { refundId, paymentId, amountPence: amount, createdDate, messageId: event.webhook_message_id, order: this.refundOrder++ } };
  }

  /** A random position after index (so that a repeat comes after what it repeats). */
  private insertAfter<T>(list: T[], index: number, item: T): void {
    list.splice(this.random.int(index + 1, list.length), 0, item);
  }

  /**
   * Makes the payments and sends every event once, in order; an event that got no 2xx goes
   * on being retried on the schedule after this resolves.
   */
  async sendEvents(input: SendEventsRequest = {}): Promise<SendEventsSummary> {
    const request = this.checkRequest(input);
    if (!this.url) throw new ActionInputError('no webhookUrl yet: setWebhookUrl(url) first');
    if (this.stopped) throw new ActionInputError('the GOV.UK Pay simulator is stopped');
    const accounts = this.options.population.accounts;
    if (accounts.length === 0) throw new ActionInputError('the population has no accounts to pay');
    const pct = (percent: number) => percent > 0 && this.random.chance(percent / 100);
    const summary: SendEventsSummary = { events: 0, payments: 0, refunds: 0, duplicates: 0, badSignatures: 0, recorded: 0, unknown: 0, outOfOrderRefunds: 0, overRefunds: 0 };
    const list: Delivery[] = [];
    const made: MadePayment[] = [];
    const refunds: MadeRefund[] = [];

    for (let i = 0; i < request.payments; i++) {
      const account = this.random.pick(accounts);
      const [min, max] = AMOUNTS[account.fund];
      const amount = this.random.int(min, max);
      const paymentId = this.id();
      const createdDate = this.now();
      const resource = this.paymentResource(account, paymentId, amount, createdDate, { status: 'success', finished: true });
      const succeeded = this.envelope('card_payment_succeeded', 'payment', paymentId, resource);
      made.push({ paymentId, fund: account.fund, reference: account.accountRef, amountPence: amount, createdDate, messageId: succeeded.webhook_message_id });
      summary.payments++;

      // Refund amounts are chosen so that the fitting ones always fit together, whatever order they arrive in.
      const early = pct(request.outOfOrderRefundPercent);
      const late = pct(request.refundPercent);
      const over = pct(request.overRefundPercent);
      const earlyAmount = early ? this.random.int(1, late ? Math.floor(amount / 2) : amount) : 0;
      const lateAmount = late ? (!early && this.random.chance(0.3) ? amount : this.random.int(1, amount - earlyAmount)) : 0;
      const fitted = earlyAmount + lateAmount;
      const sequence: Delivery[] = [];
      if (early) {
        const r = this.refund(paymentId, earlyAmount);
        refunds.push(r.made);
        sequence.push(this.delivery(r.event));
        summary.outOfOrderRefunds++;
      }
      sequence.push(this.delivery(succeeded));
      if (pct(request.recordedPercent)) {
        sequence.push(this.delivery(this.envelope('card_payment_captured', 'payment', paymentId, { ...resource, state: { status: 'success', finished: true } })));
        summary.recorded++;
        if (this.random.chance(0.5)) {
          sequence.push(this.delivery(this.envelope('card_payment_settled', 'payment', paymentId, { ...resource, settlement_summary: { capture_submit_time: createdDate, captured_date: createdDate.slice(0, 10), settled_date: createdDate.slice(0, 10) } })));
          summary.recorded++;
        }
      }
      if (late) {
        const r = this.refund(paymentId, lateAmount);
        refunds.push(r.made);
        sequence.push(this.delivery(r.event));
      }
      if (over) {
        // Larger than what is left: with refunds before it, still no more than the payment (the case a check against the payment alone misses).
        const left = amount - fitted;
        const overAmount = fitted > 0 ? left + this.random.int(1, fitted) : amount + this.random.int(1, Math.max(1, Math.ceil(amount / 10)));
        const r = this.refund(paymentId, overAmount);
        refunds.push(r.made);
        sequence.push(this.delivery(r.event));
        summary.overRefunds++;
      }
      list.push(...sequence);
      if (pct(request.recordedPercent)) {
        // Another attempt that did not succeed: recorded, never posted.
        const other = this.random.pick(accounts);
        const otherId = this.id();
        const outcome = this.random.pick(UNSUCCESSFUL);
        const [omin, omax] = AMOUNTS[other.fund];
        list.push(this.delivery(this.envelope(outcome.eventType, 'payment', otherId, this.paymentResource(other, otherId, this.random.int(omin, omax), this.now(), outcome.state))));
        summary.recorded++;
      }
    }
    summary.refunds = refunds.length;

    for (let u = 0; u < request.unknownTypes; u++) {
      const about = made.length ? this.random.pick(made) : undefined;
      const paymentId = about?.paymentId ?? this.id();
      const event = this.envelope(this.random.pick(UNKNOWN_TYPES), 'payment', paymentId, { payment_id: paymentId, dispute_id: this.id(), amount: about?.amountPence ?? 1000, reason: 'fraudulent', evidence_due_date: this.now() });
      this.insertAfter(list, -1, this.delivery(event));
      summary.unknown++;
    }

    // Duplicates: the same bytes again, later; decided on the real events only.
    const originals = list.slice();
    for (const original of originals) {
      if (!pct(request.duplicatePercent)) continue;
      this.insertAfter(list, list.indexOf(original), { ...original, role: 'duplicate', attempts: 0, answers: [] });
      summary.duplicates++;
    }

    for (let b = 0; b < request.badSignatures; b++) {
      const variant = BAD_SIGNATURES[b % BAD_SIGNATURES.length];
      const target = made.length ? this.random.pick(made) : undefined;
      const original = target && list.find((d) => d.webhookMessageId === target.messageId);
      let bad: Delivery;
      if (variant === 'tampered-body' && original) {
        // A replay of a real event with the amount raised, under the real event's signature and message id.
        const event = JSON.parse(original.body.toString('utf8'));
        event.resource.amount += 10000;
        bad = { ...original, role: 'bad-signature', body: Buffer.from(JSON.stringify(event), 'utf8'), retry: false, attempts: 0, answers: [] };
        this.insertAfter(list, list.indexOf(original), bad);
      } else {
        const account = this.random.pick(accounts);
        const paymentId = this.id();
        bad = { ...this.delivery(this.envelope('card_payment_succeeded', 'payment', paymentId, this.paymentResource(account, paymentId, this.random.int(1000, 50000), this.now(), { status: 'success', finished: true }))), role: 'bad-signature', retry: false };
        bad.signature = variant === 'missing' ? null : this.sign(bad.body, `${this.options.signingSecret}-not-the-secret`);
        this.insertAfter(list, -1, bad);
      }
      summary.badSignatures++;
    }

    // Recorded before sending, so that expected() knows of events whose first attempt is under way.
    this.made.push(...made);
    this.refundsMade.push(...refunds);
    for (const delivery of list) {
      if (this.stopped) break;
      this.deliveries.push(delivery);
      await this.attempt(delivery);
      summary.events++;
    }
    return summary;
  }

  // --- sending -------------------------------------------------------------------------------

  private async post(body: Buffer, signature: string | null): Promise<SendEventResult> {
    if (!this.url) throw new ActionInputError('no webhookUrl yet: setWebhookUrl(url) first');
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'govuk-pay-simulator' };
      if (signature !== null) headers['Pay-Signature'] = signature;
      // A fresh Uint8Array: fetch's types take no Buffer; the bytes are the same.
      const response = await fetch(this.url, { method: 'POST', headers, body: new Uint8Array(body), signal: controller.signal });
      // The answer is read to the end (under the same timeout), which also frees the connection.
      return { status: response.status, body: await response.text() };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      const error = controller.signal.aborted ? 'TIMEOUT' : (cause?.code ?? (err as Error).message);
      return { body: '', error };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    if (this.stopped) return;
    this.inFlight.add(delivery);
    delivery.attempts++;
    this.counts.sent++;
    const answer = await this.post(delivery.body, delivery.signature);
    if (this.stopped) return;
    delivery.answers.push(answer.status ?? answer.error ?? 'ERROR');
    if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) {
      this.counts.answered2xx++;
      delivery.acknowledged = true;
      if (delivery.role === 'bad-signature') this.counts.badSignaturesAccepted++;
      else this.acknowledged.add(delivery.webhookMessageId);
      return this.settle(delivery);
    }
    if (answer.status !== undefined) this.counts.non2xx++;
    else this.counts.networkErrors++;
    // attempts counts the first one, so attempt n+1 waits schedule[n-1]; after the last wait's attempt, give up.
    if (!delivery.retry || delivery.attempts > this.schedule.length) {
      if (delivery.retry) {
        delivery.gaveUp = true;
        this.counts.gaveUp++;
      }
      return this.settle(delivery);
    }
    this.counts.retriesScheduled++;
    delivery.timer = setTimeout(() => {
      delivery.timer = undefined;
      void this.attempt(delivery);
    }, this.schedule[delivery.attempts - 1]);
    delivery.timer.unref();
  }

  private settle(delivery: Delivery): void {
    this.inFlight.delete(delivery);
    if (this.inFlight.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * For tests: sends one event once (no retries), signed with the signing secret unless
   * signature is given (null: no Pay-Signature header). A string or Buffer is sent as it is.
   * Not counted in expected().
   */
  async sendEvent(event: object | string | Buffer, options: { signature?: string | null } = {}): Promise<SendEventResult> {
    const body = Buffer.isBuffer(event) ? event : Buffer.from(typeof event === 'string' ? event : JSON.stringify(event), 'utf8');
    const signature = options.signature === undefined ? this.sign(body) : options.signature;
    this.counts.sent++;
    const answer = await this.post(body, signature);
    if (answer.status === undefined) this.counts.networkErrors++;
    else if (answer.status >= 200 && answer.status < 300) this.counts.answered2xx++;
    else this.counts.non2xx++;
    return answer;
  }

  // --- what a correct hub holds --------------------------------------------------------------

  /**
   * What a correct hub ends with, from the events it acknowledged: each succeeded payment
   * once; a payment's refunds taken in the order GOV.UK Pay created them (created_date), each
   * posted when it fits in what is left and otherwise an over-refund; a refund whose payment
   * never arrived waits. Only events of send-events count (not sendEvent's).
   */
  expected(): GovukPayExpected {
    const payments = this.made.filter((p) => this.acknowledged.has(p.messageId));
    const byId = new Map(payments.map((p) => [p.paymentId, p]));
    const left = new Map(payments.map((p) => [p.paymentId, p.amountPence]));
    const netPence: Record<string, number> = {};
    for (const p of payments) netPence[p.fund] = (netPence[p.fund] ?? 0) + p.amountPence;
    const refunds: ExpectedRefund[] = [];
    const overRefunds: ExpectedRefund[] = [];
    const waitingRefunds: ExpectedRefund[] = [];
    const ordered = this.refundsMade.filter((r) => this.acknowledged.has(r.messageId)).sort((a, b) => a.createdDate.localeCompare(b.createdDate) || a.order - b.order);
    for (const r of ordered) {
      const plain = { refundId: r.refundId, paymentId: r.paymentId, amountPence: r.amountPence };
      const payment = byId.get(r.paymentId);
      if (!payment) waitingRefunds.push(plain);
      else if (r.amountPence <= (left.get(r.paymentId) ?? 0)) {
        left.set(r.paymentId, (left.get(r.paymentId) ?? 0) - r.amountPence);
        netPence[payment.fund] -= r.amountPence;
        refunds.push(plain);
      } else overRefunds.push(plain);
    }
    return {
      complete: this.inFlight.size === 0,
      netPence,
      payments: payments.map(({ paymentId, fund, reference, amountPence }) => ({ paymentId, fund, reference, amountPence })),
      refunds,
      overRefunds,
      waitingRefunds,
    };
  }

  state() {
    return {
      system: this.system,
      webhookUrl: this.url ?? null,
      retryScheduleMs: this.schedule,
      ...this.counts,
      pending: this.inFlight.size,
      payments: this.made.length,
      refunds: this.refundsMade.length,
      // the newest deliveries, without their bodies (which hold card details)
      deliveries: this.deliveries.slice(-200).map((d) => ({ webhookMessageId: d.webhookMessageId, eventType: d.eventType, paymentId: d.paymentId, role: d.role, attempts: d.attempts, answers: d.answers, acknowledged: d.acknowledged, gaveUp: d.gaveUp })),
    };
  }

  /** The webhook_message_ids of the real (validly signed) events sent, and whether each got a 2xx. */
  sentEvents(): Array<{ webhookMessageId: string; eventType: string; acknowledged: boolean }> {
    const seen = new Map<string, { webhookMessageId: string; eventType: string; acknowledged: boolean }>();
    for (const d of this.deliveries) {
      if (d.role === 'bad-signature') continue;
      const known = seen.get(d.webhookMessageId);
      seen.set(d.webhookMessageId, { webhookMessageId: d.webhookMessageId, eventType: d.eventType, acknowledged: (known?.acknowledged ?? false) || d.acknowledged });
    }
    return [...seen.values()];
  }

  /** Cancels every retry and any attempt under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const delivery of this.deliveries) if (delivery.timer) clearTimeout(delivery.timer);
    for (const controller of this.controllers) controller.abort(new Error('the simulator stopped'));
    this.inFlight.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
