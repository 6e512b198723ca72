import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { deliveryStatuses, DeliveryFilter, DeliveryStatus, MessageFilter } from '../journal/types';
import { Journal, NotFoundError, ReplayFrom } from '../journal/journal';
import { consoleOpenApi } from './openapi';
import { actorOf, BadRequest, handle } from './http';
import type { AccessLog } from '../privacy/access-log';
import type { LiveEvents } from './live';
import { randomUUID } from 'crypto';

/**
 * The support console's HTTP API over the journal: find deliveries and messages, read one
 * message with its deliveries, journey and audit, replay, discard, counts. Mounted on
 * Node-RED's admin app, so it sits behind the hub's login: reading needs console.read,
 * replay and discard need console.write (hub/security.ts). Every refusal has a status and
 * a JSON body {error}.
 */
export interface ConsolePermissions {
  read: RequestHandler;
  write: RequestHandler;
}

export { BadRequest };

function one(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest('each query parameter may be given once');
  return value === '' ? undefined : value;
}

function time(value: unknown, name: string): number | undefined {
  const raw = one(value);
  if (raw === undefined) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name} must be an ISO 8601 time or milliseconds since 1970, got "${raw}"`);
  return ms;
}

function bounded(value: unknown, name: string, fallback: number, max: number): number {
  const raw = one(value);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new BadRequest(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  return n;
}

function statuses(value: unknown): DeliveryStatus[] | undefined {
  const raw = one(value);
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) {
    if (!deliveryStatuses.includes(s as DeliveryStatus)) throw new BadRequest(`unknown status "${s}"; statuses are ${deliveryStatuses.join(', ')}`);
  }
  return list as DeliveryStatus[];
}

export function deliveryFilter(query: Record<string, unknown>): DeliveryFilter {
  return {
    status: statuses(query.status),
    target: one(query.target),
    key: one(query.key),
    messageId: one(query.messageId),
    from: time(query.from, 'from'),
    to: time(query.to, 'to'),
    text: one(query.q),
    limit: bounded(query.limit, 'limit', 50, 500),
    offset: bounded(query.offset, 'offset', 0, 1_000_000),
  };
}

function messageFilter(query: Record<string, unknown>): MessageFilter {
  return {
    source: one(query.source),
    key: one(query.key),
    from: time(query.from, 'from'),
    to: time(query.to, 'to'),
    text: one(query.q),
    limit: bounded(query.limit, 'limit', 50, 500),
    offset: bounded(query.offset, 'offset', 0, 1_000_000),
  };
}

function reasonOf(body: any): string {
  const reason = body?.reason;
  if (typeof reason !== 'string' || !reason.trim()) throw new BadRequest('a reason is required (body: {"reason": "..."})');
  if (reason.length > 2000) throw new BadRequest('the reason is longer than 2000 characters');
  return reason.trim();
}

function fromOf(body: any): ReplayFrom {
  const from = body?.from ?? 'failed-node';
  if (from !== 'failed-node' && from !== 'start') throw new BadRequest('from must be "failed-node" or "start"');
  return from;
}


/**
 * `accessLog`: every read that returns payloads (a delivery, a message, a listing of them)
 * records who read what (hub/privacy/access-log.ts); the DPO lists them. `live`: the
 * console's server-sent events, told of a bulk replay's progress.
 */
export function consoleApi(journal: Journal, permissions: ConsolePermissions, accessLog?: AccessLog, options: { live?: LiveEvents } = {}): express.Router {
  const router = express.Router();
  const seen = (req: Request, what: string, subject?: string) => accessLog?.recordAccess({ actor: actorOf(req), what, ...(subject ? { subject } : {}) });
  const { read, write } = permissions;
  // Bodies are parsed only once the caller is known to be allowed to write.
  const json = express.json({ limit: '5mb' });
  const store = journal.store;
  /** Progress of a bulk replay for the page (server-sent events), named by the operation's id. */
  const progressOf = (what: string, actor: string) => {
    const operation = randomUUID();
    return (done: number, total: number) => options.live?.publish('progress', { operation, what, actor, done, total });
  };

  router.get('/openapi.json', read, (_req, res) => {
    res.json(consoleOpenApi);
  });

  router.get('/deliveries', read, handle(async (req) => {
    const filter = deliveryFilter(req.query);
    const page = await store.listDeliveries(filter);
    await seen(req, `deliveries list (${page.items.length})`, filter.key);
    return page;
  }));

  router.get('/deliveries/:id', read, handle(async (req) => {
    const delivery = await store.getDelivery(req.params.id);
    if (!delivery) throw new NotFoundError(`no delivery ${req.params.id}`);
    const [message, audit] = await Promise.all([store.getMessage(delivery.messageId), store.listAudit({ deliveryId: delivery.id })]);
    await seen(req, `delivery ${delivery.id}`, delivery.key);
    return { delivery, message, audit };
  }));

  router.get('/messages', read, handle(async (req) => {
    const filter = messageFilter(req.query);
    const page = await store.listMessages(filter);
    await seen(req, `messages list (${page.items.length})`, filter.key);
    return page;
  }));

  router.get('/messages/:id', read, handle(async (req) => {
    const message = await store.getMessage(req.params.id);
    if (!message) throw new NotFoundError(`no message ${req.params.id}`);
    const [deliveries, journey, audit] = await Promise.all([
      store.listDeliveries({ messageId: message.id, limit: 500 }),
      store.hops(message.id),
      store.listAudit({ messageId: message.id }),
    ]);
    await seen(req, `message ${message.id}`, message.key);
    return { message, deliveries: deliveries.items, journey, audit };
  }));

  router.get('/counts', read, handle(async () => store.counts()));
  router.get('/failure-groups', read, handle(async () => ({ groups: await journal.failureGroups() })));
  router.get('/audit', read, handle(async (req) => ({
    items: await store.listAudit({ deliveryId: one(req.query.deliveryId), messageId: one(req.query.messageId), limit: bounded(req.query.limit, 'limit', 200, 1000) }),
  })));

  router.post('/deliveries/:id/replay', write, json, handle(async (req, res) => {
    const body = req.body ?? {};
    const result = await journal.replay(req.params.id, {
      from: fromOf(body),
      reason: reasonOf(body),
      actor: actorOf(req),
      ...(Object.prototype.hasOwnProperty.call(body, 'payload') ? { payload: body.payload } : {}),
    });
    res.status(202);
    return result;
  }));

  router.post('/deliveries/:id/discard', write, json, handle(async (req) => ({
    delivery: await journal.discard(req.params.id, { reason: reasonOf(req.body), actor: actorOf(req) }),
  })));

  router.post('/replay', write, json, handle(async (req, res) => {
    const body = req.body ?? {};
    const filter = deliveryFilter(typeof body.filter === 'object' && body.filter ? body.filter : {});
    if (!filter.target && !filter.key && !filter.text && !filter.messageId && !filter.status && filter.from === undefined) {
      throw new BadRequest('a bulk replay needs a filter (status, target, key, messageId, from/to or q)');
    }
    const result = await journal.replayMatching(filter, { from: fromOf(body), reason: reasonOf(body), actor: actorOf(req), progress: progressOf('replay of the deliveries that match the filter', actorOf(req)) });
    res.status(202);
    return result;
  }));

  router.post('/failure-groups/replay', write, json, handle(async (req, res) => {
    const body = req.body ?? {};
    if (typeof body.target !== 'string' || typeof body.error !== 'string') throw new BadRequest('a failure group is named by {"target": "...", "error": "..."}');
    const result = await journal.replayMatching(
      { target: body.target, status: ['failed', 'dead'] },
      { from: fromOf(body), reason: reasonOf(body), actor: actorOf(req), errorMessage: body.error, progress: progressOf(`replay of the group ${body.target}: ${body.error}`, actorOf(req)) },
    );
    res.status(202);
    return result;
  }));

  // A malformed JSON body (express.json) or anything unexpected: a JSON answer, not HTML.
  router.use((err: any, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 500 ? `internal error: ${err?.message ?? err}` : `bad request: ${err.message}` });
  });
  return router;
}
