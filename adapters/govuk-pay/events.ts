import { permanentError } from '../errors';

/**
 * GOV.UK Pay webhook bodies as CONTRACTS.md ("Online payments: GOV.UK Pay webhooks")
 * describes them, parsed into what the hub keeps. Only the listed fields are copied out:
 * card details, e-mail addresses and anything else GOV.UK Pay adds never reach the store.
 */

export const POSTING_EVENT = 'card_payment_succeeded';
export const REFUND_EVENT = 'card_payment_refunded';
export const RECORDED_EVENTS = ['card_payment_captured', 'card_payment_settled', 'card_payment_failed', 'card_payment_expired', 'card_payment_cancelled'] as const;

export type WebhookKind = 'payment' | 'refund' | 'recorded' | 'unknown';

export interface OnlinePayment {
  paymentId: string;
  amountPence: number;
  reference: string;
  description?: string;
  createdDate: string;
  status?: string;
  finished?: boolean;
  fund: string;
}

export interface OnlineRefund {
  refundId: string;
  paymentId: string;
  amountPence: number;
  status?: string;
  createdDate: string;
}

export interface WebhookEvent {
  webhookMessageId: string;
  apiVersion: number;
  createdDate: string;
  resourceId: string;
  resourceType: 'payment' | 'refund';
  eventType: string;
  kind: WebhookKind;
  /** the payment this event is about */
  paymentId: string;
  payment?: OnlinePayment;
  refund?: OnlineRefund;
}

type Json = Record<string, unknown>;

// ISO 8601 date-time with a zone, as GOV.UK Pay writes it (2024-05-01T10:36:26.988Z).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

function refuse(field: string, problem: string): never {
  throw permanentError('INVALID_WEBHOOK', `GOV.UK Pay webhook: ${field} ${problem}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, field: string): Json {
  if (!isObject(value)) refuse(field, value === undefined ? 'is missing' : `must be an object (got ${describe(value)})`);
  return value;
}

function text(value: unknown, field: string): string {
  if (value === undefined || value === null) refuse(field, 'is missing');
  if (typeof value !== 'string') refuse(field, `must be a string (got ${describe(value)})`);
  if (value.trim() === '') refuse(field, 'is empty');
  return value;
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') refuse(field, `must be a string (got ${describe(value)})`);
  return value;
}

function dateTime(value: unknown, field: string): string {
  const date = text(value, field);
  if (!DATE_TIME.test(date) || Number.isNaN(Date.parse(date))) refuse(field, `must be an ISO 8601 date-time (got ${describe(date)})`);
  return date;
}

function pence(value: unknown, field: string): number {
  if (value === undefined || value === null) refuse(field, 'is missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) refuse(field, `must be a positive whole number of pence (got ${describe(value)})`);
  return value;
}

export function webhookKind(eventType: string): WebhookKind {
  if (eventType === POSTING_EVENT) return 'payment';
  if (eventType === REFUND_EVENT) return 'refund';
  return (RECORDED_EVENTS as readonly string[]).includes(eventType) ? 'recorded' : 'unknown';
}

function parsePayment(resource: Json, funds: readonly string[]): OnlinePayment {
  const paymentId = text(resource.payment_id, 'resource.payment_id');
  const amountPence = pence(resource.amount, 'resource.amount');
  const reference = text(resource.reference, 'resource.reference');
  const description = optionalText(resource.description, 'resource.description');
  const createdDate = dateTime(resource.created_date, 'resource.created_date');
  let status: string | undefined;
  let finished: boolean | undefined;
  if (resource.state !== undefined && resource.state !== null) {
    const state = object(resource.state, 'resource.state');
    status = optionalText(state.status, 'resource.state.status');
    if (state.finished !== undefined && state.finished !== null && typeof state.finished !== 'boolean') refuse('resource.state.finished', `must be true or false (got ${describe(state.finished)})`);
    finished = typeof state.finished === 'boolean' ? state.finished : undefined;
  }
  const metadata = object(resource.metadata, 'resource.metadata');
  const fund = text(metadata.fund, 'resource.metadata.fund');
  if (!funds.includes(fund)) refuse('resource.metadata.fund', `must be one of ${funds.join(', ')} (got ${describe(fund)})`);
  return {
    paymentId,
    amountPence,
    reference,
    ...(description !== undefined ? { description } : {}),
    createdDate,
    ...(status !== undefined ? { status } : {}),
    ...(finished !== undefined ? { finished } : {}),
    fund,
  };
}

function parseRefund(resource: Json): OnlineRefund {
  const refundId = text(resource.refund_id, 'resource.refund_id');
  const paymentId = text(resource.payment_id, 'resource.payment_id');
  const amountPence = pence(resource.amount, 'resource.amount');
  const status = optionalText(resource.status, 'resource.status');
  const createdDate = dateTime(resource.created_date, 'resource.created_date');
  return { refundId, paymentId, amountPence, ...(status !== undefined ? { status } : {}), createdDate };
}

/**
 * Parses a webhook body (raw bytes). Throws permanentError('INVALID_WEBHOOK', message naming
 * the field and problem) for non-JSON, a non-object, missing/ill-typed fields per the contract
 * (webhook_message_id, api_version, created_date, resource_id, resource_type, event_type,
 * resource), a payment resource without payment_id, a positive integer amount, reference,
 * created_date, metadata.fund (one of `funds`), a refund without
 * refund_id/payment_id/amount/created_date. For event types that are recorded or unknown,
 * only the envelope and a payment_id (resource.payment_id) are required. card_details and
 * every field not listed above are dropped: they never reach the hub's store.
 */
export function parseWebhookEvent(raw: Buffer | string, funds: readonly string[]): WebhookEvent {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  } catch (err) {
    throw permanentError('INVALID_WEBHOOK', `GOV.UK Pay webhook: the body is not JSON (${(err as Error).message})`, err);
  }
  if (!isObject(body)) refuse('the body', `must be a JSON object (got ${describe(body)})`);
  const webhookMessageId = text(body.webhook_message_id, 'webhook_message_id');
  const apiVersion = body.api_version;
  if (apiVersion === undefined || apiVersion === null) refuse('api_version', 'is missing');
  if (typeof apiVersion !== 'number' || !Number.isSafeInteger(apiVersion) || apiVersion < 1) refuse('api_version', `must be a positive whole number (got ${describe(apiVersion)})`);
  const createdDate = dateTime(body.created_date, 'created_date');
  const resourceId = text(body.resource_id, 'resource_id');
  const resourceType = text(body.resource_type, 'resource_type');
  if (resourceType !== 'payment' && resourceType !== 'refund') refuse('resource_type', `must be "payment" or "refund" (got ${describe(resourceType)})`);
  const eventType = text(body.event_type, 'event_type');
  const resource = object(body.resource, 'resource');
  const kind = webhookKind(eventType);
  const envelope = { webhookMessageId, apiVersion, createdDate, resourceId, resourceType, eventType, kind } as const;

  // A succeeded event about a refund (or a refunded event about a payment) cannot be posted as either.
  if (kind === 'payment' && resourceType !== 'payment') refuse('resource_type', `must be "payment" for ${eventType} (got "${resourceType}")`);
  if (kind === 'refund' && resourceType !== 'refund') refuse('resource_type', `must be "refund" for ${eventType} (got "${resourceType}")`);

  if (kind === 'payment') {
    const payment = parsePayment(resource, funds);
    return { ...envelope, paymentId: payment.paymentId, payment };
  }
  if (kind === 'refund') {
    const refund = parseRefund(resource);
    return { ...envelope, paymentId: refund.paymentId, refund };
  }
  // Recorded and unknown types are only recorded: the envelope and the payment they concern are enough.
  return { ...envelope, paymentId: text(resource.payment_id, 'resource.payment_id') };
}
