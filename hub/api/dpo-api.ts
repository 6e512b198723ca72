import express, { Request, RequestHandler, Response } from 'express';
import type { Journal, RetentionPeriods } from '../journal/journal';
import type { AccessLog } from '../privacy/access-log';
import { BadPersonQuery, PersonalData, PersonQuery, personQuery, subjectOf } from '../privacy/people';
import { describeRetention, runRetention } from '../privacy/retention';
import { actorOf, BadRequest, handle as handleWith } from './http';

/**
 * The data protection officer's API (permission console.dpo: the dpo and developer roles):
 * find, export and erase what the hub holds about a person; list who read personal data;
 * list erasures; run retention now. Every find and export is itself in the access log.
 */
export interface DpoApiOptions {
  journal: Journal;
  people: PersonalData;
  accessLog: AccessLog;
  retention: RetentionPeriods;
  log?: (message: string) => void;
}



/** A person query the DPO got wrong is a 400 like any malformed request. */
const handle = (work: (req: Request, res: Response) => Promise<unknown>) => handleWith(work, [BadPersonQuery]);

function optionalTime(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${name} may be given once`);
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name} must be an ISO 8601 time or milliseconds since 1970, got "${value}"`);
  return ms;
}

export function dpoApi(dpo: RequestHandler, options: DpoApiOptions): express.Router {
  const router = express.Router();
  const { people, accessLog } = options;
  const json = express.json({ limit: '100kb' });
  // The log names the person by contact id (pseudonymous), never by the name and date of
  // birth searched for: those would be personal data in clear.
  const subjectFor = (q: PersonQuery, contacts: string[]) => (contacts.length ? contacts.join(',') : q.contactId ?? `search ${options.journal.codec.pseudonym(subjectOf(q))}`);

  router.get('/dpo/people', dpo, handle(async (req) => {
    const q = personQuery(req.query as Record<string, unknown>);
    const found = await people.find(q);
    await accessLog.recordAccess({ actor: actorOf(req), what: 'person search', subject: subjectFor(q, found.contacts) });
    return {
      query: q,
      contacts: found.contacts,
      counts: { messages: found.messages.length, deliveries: found.deliveries.length, crossReferences: found.crossReferences.length, audit: found.audit.length },
      open: found.open,
      messages: found.messages.map((m) => ({ id: m.id, source: m.source, key: m.key, receivedAt: m.receivedAt })),
      deliveries: found.deliveries.map((d) => ({ id: d.id, messageId: d.messageId, target: d.target, key: d.key, status: d.status, updatedAt: d.updatedAt })),
      crossReferences: found.crossReferences,
    };
  }));

  router.get('/dpo/people/export', dpo, handle(async (req, res) => {
    const q = personQuery(req.query as Record<string, unknown>);
    const exported = await people.export(q);
    await accessLog.recordAccess({ actor: actorOf(req), what: 'person export', subject: subjectFor(q, exported.contacts) });
    res.set('Content-Disposition', 'attachment; filename="subject-access.json"');
    return exported;
  }));

  router.post('/dpo/people/erase', dpo, json, handle(async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const q = personQuery(body);
    if (typeof body.reason !== 'string' || !body.reason.trim()) throw new BadRequest('a reason is required (body: {"contactId": "...", "reason": "..."})');
    if (body.force !== undefined && typeof body.force !== 'boolean') throw new BadRequest('force must be true or false');
    const erasure = await people.erase(q, { actor: actorOf(req), reason: body.reason, force: body.force === true });
    options.log?.(`erasure ${erasure.id} by ${erasure.actor}: ${erasure.messageIds.length} messages, ${erasure.deliveryIds.length} deliveries, ${erasure.crossReferences} cross-references`);
    return { erasure };
  }));

  router.get('/dpo/erasures', dpo, handle(async () => ({ items: await options.journal.store.listErasures() })));

  router.get('/dpo/access-log', dpo, handle(async (req) => {
    const limit = req.query.limit === undefined ? 200 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new BadRequest('limit must be a whole number from 1 to 5000');
    const text = (name: string) => (typeof req.query[name] === 'string' && req.query[name] ? (req.query[name] as string) : undefined);
    return {
      items: await accessLog.list({ actor: text('actor'), subject: text('subject'), from: optionalTime(req.query.from, 'from'), to: optionalTime(req.query.to, 'to'), limit }),
    };
  }));

  router.get('/dpo/retention', dpo, handle(async () => ({ periodsDays: Object.fromEntries(Object.entries(options.retention).map(([k, ms]) => [k.replace(/Ms$/, ''), ms / 86400000])) })));

  router.post('/dpo/retention/run', dpo, handle(async () => {
    const report = await runRetention(options.journal, options.retention, accessLog);
    options.log?.(describeRetention(report));
    return report;
  }));
  return router;
}
