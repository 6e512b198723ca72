import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CrossReferenceStore, System } from '../../adapters/people/cross-references';
import { openSharedGazetteer } from '../../adapters/gazetteer';
import { HUB_STAGE, type DeliveryRecord, type DeliveryStatus, type JournalStore, type MessageRecord } from '../journal/types';
import { Journal, NotFoundError, RefusedError } from '../journal/journal';
import { reconcile } from '../reconcile/reconcile';
import { reconcileSources, systemReadersFromEnv } from '../reconcile/sources';
import { crmCaseReaderFromEnv } from '../reconcile/cases';
import { actorOf, BadRequest, handle } from './http';
import type { AccessLog } from '../privacy/access-log';
import { checkSchema, dereferencedSchema, isSchemaName, schemasOf } from '../../adapters/canonical/schemas';

/**
 * The console's people, cases and inbound failures (mounted at /api/console beside the
 * journal's console API): support thinks in people and cases, not deliveries.
 *
 * - GET /people?q=  find people by name, CRM contact id, UPRN, postcode or any system's id
 * - GET /people/:contactId  one person's whole picture
 * - GET /cases/:key  one case's timeline (target crm, key "<system>:<ref>")
 * - GET /inbound-failures  everything refused at the door (AMQP dead letters, payment files, ...)
 * - POST /deliveries/:id/resolve  a needs-attention delivery resolved by picking a candidate
 *
 * Every refusal is a status with a JSON body {error}.
 */
export interface PeopleApiDependencies {
  journal: Journal;
  crossReferences?: CrossReferenceStore;
  environment: () => Readonly<Record<string, string | undefined>>;
  /** Who read whose personal data (hub/privacy/access-log.ts): a person page, a case, the inbound failures' content. */
  accessLog?: AccessLog;
}


/** A case's updates as the CRM has them. */
export interface CrmCaseView {
  caseRef?: string;
  status?: string;
  contactId?: string;
  updates?: Array<{ status?: string; summary?: string; occurredAt?: string; sourceEventId?: string }>;
  /** Why the CRM's copy could not be shown (no CRM_WSDL, the CRM unreachable, no such case). */
  error?: string;
}

/**
 * The case as the CRM has it (FindCaseByExternalRef, then GetCase), beside the timeline the
 * source systems sent: support sees at once whether the CRM holds every update.
 */
export async function crmCaseOf(key: string, env: Readonly<Record<string, string | undefined>>): Promise<CrmCaseView> {
  const [system, ...rest] = key.split(':');
  const ref = rest.join(':');
  if ((system !== 'planning' && system !== 'housing') || !ref) return { error: `"${key}" names no planning or housing case` };
  let crm: ReturnType<typeof crmCaseReaderFromEnv>;
  try {
    crm = crmCaseReaderFromEnv(env);
  } catch (err) {
    return { error: (err as Error).message };
  }
  try {
    const [caseRef, ...others] = await crm.findCases(system, ref);
    if (!caseRef) return { error: `the CRM has no case for ${system} ${ref}` };
    const found = await crm.getCase(caseRef);
    if (!found) return { caseRef, error: `the CRM has no case ${caseRef}` };
    const updates = (Array.isArray(found.update) ? found.update : found.update ? [found.update] : []) as Array<Record<string, unknown>>;
    const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
    return {
      caseRef,
      status: text(found.status),
      contactId: text(found.contactId),
      updates: updates.map((u) => ({ status: text(u.status), summary: text(u.summary), occurredAt: text(u.occurredAt), sourceEventId: text(u.sourceEventId) })),
      ...(others.length ? { error: `the CRM names ${others.length + 1} cases for ${system} ${ref}: ${[caseRef, ...others].join(', ')}` } : {}),
    };
  } catch (err) {
    return { error: `the CRM could not be read: ${(err as Error).message}` };
  } finally {
    await crm.close();
  }
}

const CONTACT_ID = /^[A-Za-z0-9_-]{1,40}$/;
const UPRN = /^\d{1,12}$/;
/** Open statuses of a failure at the door: what support must act on. */
const OPEN_FAILURE: DeliveryStatus[] = ['failed', 'dead', 'needs-attention'];

function one(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${name} may be given once`);
  return value.trim() === '' ? undefined : value.trim();
}


/** Every value of fields with these names anywhere in a JSON value (depth-limited). */
function fieldValues(value: unknown, names: Set<string>, out: string[] = [], depth = 0): string[] {
  if (depth > 8 || value === null || typeof value !== 'object') return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (names.has(k) && (typeof v === 'string' || typeof v === 'number')) out.push(String(v));
    else fieldValues(v, names, out, depth + 1);
  }
  return out;
}

const CONTACT_FIELDS = new Set(['contactId', 'crmContactId']);

/** The CRM contact a message is about: its key for CRM events, else a contact id it carries. */
export function contactIdOf(message: MessageRecord): string | undefined {
  if (message.source === 'crm' && message.key && CONTACT_ID.test(message.key)) return message.key;
  return fieldValues(message.payload, CONTACT_FIELDS).find((id) => CONTACT_ID.test(id));
}

/** A person's name as the message gives it (CRM event or canonical). */
function nameOf(payload: unknown): string | undefined {
  const p = payload as Record<string, any> | undefined;
  const contact = p?.contact ?? p?.person;
  if (!contact || typeof contact !== 'object') return undefined;
  const parts = [contact.title, contact.firstName ?? contact.forename, contact.lastName ?? contact.surname].filter((x) => typeof x === 'string' && x.trim());
  return parts.length ? parts.join(' ') : undefined;
}

/** What a failure at the door is, in support's words, from the message's source. */
function kindOf(message: MessageRecord | undefined, d: DeliveryRecord): string {
  const code = d.lastError?.code;
  if (message?.source === 'amqp' || code === 'AMQP_DEAD_LETTER') return 'AMQP message dead-lettered';
  if (code === 'PAYMENT_FILE_REFUSED') return 'payment file refused (moved to failed/)';
  if (d.lastError?.nodeType === 'revenues-ack') return 'Revenues ack file refused (moved to failed/)';
  if (d.lastError?.nodeType === 'soap-endpoint' || d.lastError?.nodeType === 'soap-in') return 'SOAP request refused';
  if (d.lastError?.nodeType === 'govuk-pay-in') return 'webhook event refused';
  return `message from ${message?.source ?? 'an unknown source'} failed before delivery`;
}

/** A path like "payload.newAddress" read from a message. */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

function normal(text: unknown): string {
  return String(text ?? '').replace(/\s+/g, ' ').trim().toUpperCase();
}

/**
 * Finds, in the payload as received, the address the gazetteer could not resolve (the flow
 * may have mapped it first): the one object with the same postcode and first line.
 */
export function addressInPayload(payload: unknown, unresolved: Record<string, unknown>): Record<string, unknown>[] {
  const postcode = normal(unresolved.postcode);
  const lines = Array.isArray(unresolved.lines) ? (unresolved.lines as unknown[]).map(normal).filter(Boolean) : [normal(unresolved.line1)].filter(Boolean);
  const found: Record<string, unknown>[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || !v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (!Array.isArray(v) && 'postcode' in o && normal(o.postcode) === postcode) {
      const own = Object.entries(o).filter(([k]) => /^line|^lines$/.test(k)).flatMap(([, x]) => (Array.isArray(x) ? x : [x])).map(normal).filter(Boolean);
      if (lines.length === 0 || own[0] === lines[0]) found.push(o);
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(payload, 0);
  return found;
}

export function peopleApi(permissions: { read: RequestHandler; write: RequestHandler }, deps: PeopleApiDependencies): express.Router {
  const router = express.Router();
  const { read, write } = permissions;
  const json = express.json({ limit: '1mb' });
  const store: JournalStore = deps.journal.store;
  // A person is named by contact id in the access log, never by what was searched (it may be a name).
  const seen = (req: Request, what: string, subject?: string) => deps.accessLog?.recordAccess({ actor: actorOf(req), what, ...(subject ? { subject } : {}) });

  /** A message with each of its deliveries (status, target, key), for the timelines. */
  async function withDeliveries(messages: MessageRecord[]) {
    return Promise.all(
      messages.map(async (m) => ({
        message: { id: m.id, source: m.source, sourceMessageId: m.sourceMessageId, key: m.key, receivedAt: m.receivedAt, editedFrom: m.editedFrom, resolvedBy: m.resolvedBy, payload: m.payload },
        deliveries: (await store.listDeliveries({ messageId: m.id, limit: 100 })).items.map((d) => ({
          id: d.id, target: d.target, key: d.key, status: d.status, attempts: d.attempts, updatedAt: d.updatedAt, reason: d.reason, error: d.lastError?.message,
          case: d.target === 'crm' ? d.key : undefined,
        })),
      })),
    );
  }

  router.get('/people', read, handle(async (req) => {
    const q = one(req.query.q, 'q');
    if (!q) throw new BadRequest('search with ?q= a name, CRM contact id, UPRN, postcode or any system\'s id');
    if (q.length > 200) throw new BadRequest('the search is longer than 200 characters');
    const people = new Map<string, { contactId: string; name?: string; matches: number; lastSeen: number }>();
    const add = (contactId: string | undefined, m?: MessageRecord) => {
      if (!contactId) return;
      const p = people.get(contactId) ?? { contactId, matches: 0, lastSeen: 0 };
      p.matches += 1;
      if (m) {
        p.lastSeen = Math.max(p.lastSeen, m.receivedAt);
        p.name = p.name ?? nameOf(m.payload);
      }
      people.set(contactId, p);
    };
    // A name, UPRN, postcode or system id is somewhere in the message as received or as delivered.
    const words = q.split(/\s+/).filter(Boolean);
    const [messages, deliveries] = await Promise.all([
      store.listMessages({ text: words[0], limit: 500 }),
      store.listDeliveries({ text: q, limit: 200 }),
    ]);
    for (const m of messages.items) {
      const doc = JSON.stringify(m.payload).toUpperCase();
      if (words.every((w) => doc.includes(w.toUpperCase())) || m.key === q) add(contactIdOf(m), m);
    }
    for (const d of deliveries.items) {
      if (d.target === HUB_STAGE) continue;
      const m = await store.getMessage(d.messageId);
      if (m) add(contactIdOf(m), m);
    }
    if (CONTACT_ID.test(q) && (await store.listMessages({ key: q, limit: 1 })).total > 0) add(q);
    // A system's own id the hub found (party, tenancy, person): owner of the cross-reference.
    if (deps.crossReferences) {
      for (const [system, field] of [['planning', 'partyId'], ['housing', 'tenancyRef'], ['housing', 'personRef'], ['revenues', 'accountRef']] as Array<[System, string]>) {
        const owner = await deps.crossReferences.owner(system, { [field]: q }).catch(() => undefined);
        add(owner);
      }
    }
    const list = [...people.values()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, 50);
    await seen(req, `people search (${list.length} found)`, list.length === 1 ? list[0].contactId : undefined);
    // Names of people found only by id: their newest message.
    for (const p of list) {
      if (!p.name) {
        const newest = (await store.listMessages({ key: p.contactId, limit: 1 })).items[0];
        if (newest) p.name = nameOf(newest.payload);
      }
    }
    return { query: q, people: list };
  }));

  router.get('/people/:contactId', read, handle(async (req) => {
    const contactId = req.params.contactId;
    if (!CONTACT_ID.test(contactId)) throw new BadRequest(`"${contactId}" is not a CRM contact id`);
    await seen(req, `person page ${contactId}`, contactId);
    const [own, mentioning, crossReferences] = await Promise.all([
      store.listMessages({ key: contactId, limit: 200 }),
      store.listMessages({ text: contactId, limit: 200 }),
      deps.crossReferences ? deps.crossReferences.all(contactId).catch(() => []) : Promise.resolve([]),
    ]);
    const byId = new Map<string, MessageRecord>();
    for (const m of [...own.items, ...mentioning.items]) if (m.key === contactId || contactIdOf(m) === contactId) byId.set(m.id, m);
    const messages = [...byId.values()].sort((a, b) => b.receivedAt - a.receivedAt);
    if (messages.length === 0 && crossReferences.length === 0) throw new NotFoundError(`the hub holds nothing about contact ${contactId}`);
    const timeline = await withDeliveries(messages);
    const cases = [...new Set(timeline.flatMap((t) => t.deliveries.filter((d) => d.case).map((d) => d.case as string)))];
    let reconciliation: unknown;
    try {
      const readers = systemReadersFromEnv(deps.environment());
      try {
        if (!deps.crossReferences) throw new Error('the cross-references are not running');
        reconciliation = (await reconcile(reconcileSources(readers, deps.crossReferences, store), { contactIds: [contactId] })).people[0];
      } finally {
        await readers.close();
      }
    } catch (err) {
      reconciliation = { error: `what each system holds could not be read: ${(err as Error).message}` };
    }
    return { contactId, name: messages.map((m) => nameOf(m.payload)).find(Boolean), crossReferences, reconciliation, cases, timeline };
  }));

  router.get('/cases/:key', read, handle(async (req) => {
    const key = req.params.key;
    if (key.length > 200) throw new BadRequest('a case key is at most 200 characters');
    const deliveries = (await store.listDeliveries({ target: 'crm', key, limit: 500 })).items;
    if (deliveries.length === 0) throw new NotFoundError(`the hub holds no update for case ${key}`);
    const messages = (await Promise.all([...new Set(deliveries.map((d) => d.messageId))].map((id) => store.getMessage(id)))).filter((m): m is MessageRecord => !!m);
    messages.sort((a, b) => a.receivedAt - b.receivedAt);
    const timeline = await withDeliveries(messages);
    const contactIds = [...new Set(messages.map(contactIdOf).filter(Boolean))] as string[];
    await seen(req, `case page ${key}`, contactIds.length === 1 ? contactIds[0] : key);
    return { key, contactIds, timeline, crm: await crmCaseOf(key, deps.environment()) };
  }));

  /**
   * The JSON Schema of a delivery's payload for the edit form: the one the payload as it
   * entered the failed node matches, else the one its eventType names (a payload that does
   * not match yet is what people correct). 404 when no schema fits: the raw JSON stays.
   */
  router.get('/deliveries/:id/schema', read, handle(async (req) => {
    const d = await store.getDelivery(req.params.id);
    if (!d) throw new NotFoundError(`no delivery ${req.params.id}`);
    const message = await store.getMessage(d.messageId);
    const candidates: Array<['failed-node' | 'start', unknown]> = [['failed-node', d.resume?.msg.payload], ['start', message?.payload]];
    // A schema the payload matches first (as it entered the failed node, then as received); else one its eventType names.
    for (const exact of [true, false]) {
      for (const [from, payload] of candidates) {
        if (payload === undefined) continue;
        const found = schemasOf(payload);
        if (found && found.matches === exact) return { from, name: found.name, matches: found.matches, schema: dereferencedSchema(found.name) };
      }
    }
    throw new NotFoundError(`no schema of the hub fits delivery ${d.id}'s payload: edit it as raw JSON`);
  }));

  /** Checks an edited payload against a schema before it is sent: {"value": ...} -> {valid, problems}. */
  router.post('/schemas/:name/check', read, json, handle(async (req) => {
    const name = req.params.name;
    if (!isSchemaName(name)) throw new NotFoundError(`no schema named "${name}"`);
    const body = req.body as { value?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !('value' in body)) throw new BadRequest('the body is {"value": <the payload>}');
    const result = checkSchema(name, body.value);
    return result.valid ? { valid: true, problems: [] } : { valid: false, problems: result.problems };
  }));

  router.get('/inbound-failures', read, handle(async (req) => {
    const all = one(req.query.all, 'all') === 'true';
    const items = (await store.listDeliveries({ target: HUB_STAGE, ...(all ? {} : { status: OPEN_FAILURE }), limit: 500 })).items;
    const failures = await Promise.all(
      items.map(async (d) => {
        const m = await store.getMessage(d.messageId);
        return {
          deliveryId: d.id,
          messageId: d.messageId,
          status: d.status,
          kind: kindOf(m, d),
          source: m?.source,
          sourceMessageId: m?.sourceMessageId,
          reason: d.lastError?.message ?? d.reason,
          code: d.lastError?.code,
          receivedAt: m?.receivedAt,
          updatedAt: d.updatedAt,
          content: m?.payload,
          context: (m?.entry.msg as Record<string, unknown> | undefined)?.amqp,
        };
      }),
    );
    await seen(req, `inbound failures list (${failures.length})`);
    return { items: failures };
  }));

  /**
   * A needs-attention delivery resolved in place. An address: the chosen candidate's UPRN (or
   * one typed, checked against the gazetteer) is set on the address in the payload as
   * received, and that edited copy runs from the start (audited replay-edited). A person
   * lookup with several candidates: the choice is remembered as the cross-reference, and the
   * delivery runs again from the start, finding the person by it.
   */
  router.post('/deliveries/:id/resolve', write, json, handle(async (req, res) => {
    const body = (req.body ?? {}) as { reason?: unknown; candidate?: unknown; uprn?: unknown };
    if (typeof body.reason !== 'string' || !body.reason.trim()) throw new BadRequest('a reason is required (body: {"reason": "...", "candidate": 0} or {"reason": "...", "uprn": "..."})');
    const hasCandidate = body.candidate !== undefined;
    const hasUprn = body.uprn !== undefined;
    if (hasCandidate === hasUprn) throw new BadRequest('give either "candidate" (its number in the list, from 0) or "uprn"');
    // The request is judged before the delivery: a malformed one is a 400 whatever its state.
    if (hasUprn && !UPRN.test(String(body.uprn).trim())) throw new BadRequest(`"${String(body.uprn)}" is not a UPRN (1 to 12 digits)`);
    if (hasCandidate && (!Number.isInteger(body.candidate) || (body.candidate as number) < 0)) throw new BadRequest('candidate must be a whole number from 0 (its place in the list)');
    const d = await store.getDelivery(req.params.id);
    if (!d) throw new NotFoundError(`no delivery ${req.params.id}`);
    if (d.status !== 'needs-attention') throw new RefusedError(`delivery ${d.id} is ${d.status}: only a needs-attention delivery is resolved by a choice`);
    const candidates = Array.isArray(d.candidates) ? (d.candidates as Array<Record<string, unknown>>) : [];
    let chosen: Record<string, unknown> | undefined;
    if (hasCandidate) {
      if (!Number.isInteger(body.candidate) || (body.candidate as number) < 0 || (body.candidate as number) >= candidates.length) {
        throw new BadRequest(`candidate must be a number from 0 to ${candidates.length - 1}${candidates.length ? '' : ' (this delivery has no candidates: type a UPRN)'}`);
      }
      chosen = candidates[body.candidate as number];
    }
    const attention = (d.resume?.msg as { attention?: { property?: string } } | undefined)?.attention;
    const actor = actorOf(req);
    const reason = body.reason.trim();
    res.status(202);
    if (attention?.property || hasUprn) {
      // An address the gazetteer could not resolve.
      const uprn = String(hasUprn ? body.uprn : chosen?.uprn ?? '').trim();
      if (!UPRN.test(uprn)) throw new BadRequest(`"${uprn}" is not a UPRN (1 to 12 digits)`);
      const file = deps.environment().GAZETTEER_FILE;
      if (hasUprn && file) {
        const handleOf = openSharedGazetteer(file);
        try {
          await handleOf.ready;
          const check = handleOf.gazetteer.validateUprn(uprn);
          if (!check.valid) throw new BadRequest(`UPRN ${uprn}: ${check.reason}`);
        } finally {
          handleOf.release();
        }
      }
      const message = await store.getMessage(d.messageId);
      if (!message) throw new NotFoundError(`the message ${d.messageId} is no longer in the journal`);
      const unresolved = at(d.resume?.msg, attention?.property ?? '') as Record<string, unknown> | undefined;
      if (!unresolved || typeof unresolved !== 'object') throw new RefusedError(`delivery ${d.id} names no unresolved address: edit the payload instead`);
      const payload = structuredClone(message.payload);
      const places = addressInPayload(payload, unresolved);
      if (places.length !== 1) {
        throw new RefusedError(`the unresolved address is ${places.length ? 'in several places' : 'not'} in the payload as received: edit the payload (raw JSON) instead`);
      }
      places[0].uprn = uprn;
      const result = await deps.journal.replay(d.id, { from: 'start', reason: `${reason} (address: UPRN ${uprn})`, actor, payload });
      return { resolved: 'address', uprn, ...result };
    }
    // A person lookup with several candidates: the choice becomes the cross-reference.
    if (!deps.crossReferences) throw new RefusedError('the cross-references are not running');
    if (!chosen) throw new BadRequest('pick one of the candidates');
    const { contactId: _c, forename: _f, surname: _s, dateOfBirth: _b, uprn: _u, ...rest } = chosen;
    const ids = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === 'string' || typeof v === 'number').map(([k, v]) => [k, String(v)]));
    if (Object.keys(ids).length === 0) throw new RefusedError('the candidate carries no id of the system to remember');
    await deps.crossReferences.remember(d.key, d.target as System, ids);
    const result = await deps.journal.replay(d.id, { from: 'start', reason: `${reason} (chose ${JSON.stringify(ids)})`, actor });
    return { resolved: 'person', ids, ...result };
  }));

  router.use((err: any, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 500 ? `internal error: ${err?.message ?? err}` : `bad request: ${err.message}` });
  });
  return router;
}
