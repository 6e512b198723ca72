import express, { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { AccessLog } from '../privacy/access-log';
import type { CrossReferenceStore } from '../../adapters/people/cross-references';
import type { JournalStore } from '../journal/types';
import { reconcile } from '../reconcile/reconcile';
import { reconcileSources, ReconcileConfigError, systemReadersFromEnv } from '../reconcile/sources';

/**
 * The reconciliation report (hub/reconcile) as JSON, for support staff (console.read):
 *
 * - `GET /api/console/reconciliation[?contactId=C1,C2]`: a few people in the query (at most
 *   MAX_QUERY_IDS; a longer URL breaks Node's header limit, HTTP 431).
 * - `POST /api/console/reconciliation` with `{"contactIds": ["C1", "C2", ...]}`: any number
 *   of people up to MAX_BODY_IDS, in a JSON body of at most BODY_LIMIT.
 *
 * Without contactId (GET) or without contactIds (POST, body `{}`): every CRM contact the
 * journal holds a change of address for. An empty list (`"contactIds": []`) is nobody.
 * The systems are read at the flows' endpoints (the same environment variables), so the
 * report sees what the flows see.
 *
 * Answers: 200 the report; 400 `{"error": ...}` naming what is wrong with the request (a
 * malformed contact id, a body that is not JSON or not `{"contactIds": [string, ...]}`, an
 * unknown field, too many ids); 413 for a body over BODY_LIMIT; 503 when
 * cross-references or CRM_WSDL are not there; 500 when the report itself failed.
 */
const CONTACT_ID = /^[A-Za-z0-9_-]{1,40}$/;

/** ids in the query of a GET */
export const MAX_QUERY_IDS = 1000;
/** ids in the body of a POST */
export const MAX_BODY_IDS = 100000;
/**
 * The largest body a POST may have: 5 MiB (5,242,880 bytes). 100,000 ids of the longest
 * form (40 characters) take about 4.3 MB as compact JSON, 4.8 MB pretty-printed. It is also
 * Node-RED's own limit on admin API bodies (apiMaxLength, default 5mb), which parses JSON
 * before this router in the hub.
 */
export const BODY_LIMIT = '5mb';
export const BODY_LIMIT_BYTES = 5 * 1024 * 1024;

class BadRequest extends Error {}

/** The contact ids of a POST body, or a BadRequest saying what is wrong with it. */
export function contactIdsOfBody(body: unknown): string[] | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object: {"contactIds": ["C0000001", ...]}');
  }
  for (const field of Object.keys(body)) {
    if (field !== 'contactIds') throw new BadRequest(`unknown field "${field}": the body is {"contactIds": ["C0000001", ...]}`);
  }
  const ids = (body as { contactIds?: unknown }).contactIds;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids)) throw new BadRequest('contactIds must be an array of CRM contact ids (strings)');
  if (ids.length > MAX_BODY_IDS) throw new BadRequest(`at most ${MAX_BODY_IDS} contact ids at a time, got ${ids.length}`);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string') throw new BadRequest(`contactIds[${i}] is ${id === null ? 'null' : typeof id}, not a string`);
    if (!CONTACT_ID.test(id)) throw new BadRequest(`contactIds[${i}]: "${id.length > 60 ? `${id.slice(0, 60)}...` : id}" is not a CRM contact id`);
  }
  return ids as string[];
}

function contactIdsOfQuery(raw: unknown): string[] | undefined {
  if (raw !== undefined && typeof raw !== 'string') throw new BadRequest('contactId may be given once, comma-separated');
  const contactIds = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const bad = contactIds?.find((id) => !CONTACT_ID.test(id));
  if (bad !== undefined) throw new BadRequest(`"${bad}" is not a CRM contact id`);
  if (contactIds && contactIds.length > MAX_QUERY_IDS) {
    throw new BadRequest(`at most ${MAX_QUERY_IDS} contact ids in the query: POST {"contactIds": [...]} to /api/console/reconciliation for more`);
  }
  return contactIds;
}

/** What the report reads: the journal's store, the cross-references, the flows' environment (the systems' endpoints). */
export interface ReconciliationDependencies {
  journal: JournalStore;
  crossReferences: CrossReferenceStore;
  environment: () => Readonly<Record<string, string | undefined>>;
  /** The report shows people's addresses in each system: each one served is in the access log. */
  accessLog?: AccessLog;
}

async function answer(req: Request, res: Response, contactIds: string[] | undefined, deps: ReconciliationDependencies): Promise<void> {
  const { journal, crossReferences } = deps;
  let readers;
  try {
    readers = systemReadersFromEnv(deps.environment());
  } catch (err) {
    return void res.status(503).json({ error: err instanceof ReconcileConfigError ? err.message : String(err) });
  }
  try {
    const report = await reconcile(reconcileSources(readers, crossReferences, journal), { contactIds });
    const user = (req as { user?: { username?: unknown } }).user;
    await deps.accessLog?.recordAccess({
      actor: typeof user?.username === 'string' ? user.username : 'unknown',
      what: `reconciliation report (${report.people.length} people)`,
      // A few people are named; a report of many is recorded as such.
      ...(report.people.length && report.people.length <= 20 ? { subject: report.people.map((p) => p.contactId).join(',') } : {}),
    });
    res.json(report);
  } catch (err) {
    res.status(500).json({ error: `reconciliation failed: ${(err as Error).message}` });
  } finally {
    await readers.close();
  }
}

/** A body parser's error (or anything else thrown before the report) as a JSON answer. */
export function bodyErrorAnswer(err: any): { status: number; error: string } {
  if (err?.type === 'entity.too.large') return { status: 413, error: `the body is larger than ${BODY_LIMIT_BYTES} bytes (5 MiB): at most ${MAX_BODY_IDS} contact ids at a time` };
  if (err?.type === 'entity.parse.failed') return { status: 400, error: `the body is not JSON: ${err.message}` };
  const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  return { status, error: status === 500 ? `internal error: ${err?.message ?? err}` : `bad request: ${err?.message ?? err}` };
}

/**
 * The routes, to mount at /api/console: `app.use('/api/console', reconciliationApi(read))`.
 * `read` is the permission check (console.read). An array: the routes, then an error handler
 * for /reconciliation. In the hub, Node-RED's admin app parses a JSON body before any route
 * and passes a malformed or oversized one on as an error, which only an error handler after
 * the routes sees; without it the answer would be Express's HTML page with a stack trace.
 */
export function reconciliationApi(read: RequestHandler, deps: ReconciliationDependencies): Array<RequestHandler | ErrorRequestHandler> {
  const router = express.Router();
  // In the hub, Node-RED's admin app has parsed the body already (the same limit, 5mb);
  // this parser is for the routes on their own (tests, another app). It runs only once the
  // caller may read.
  const json = express.json({ limit: BODY_LIMIT });

  router.get('/reconciliation', read, async (req, res) => {
    let contactIds;
    try {
      contactIds = contactIdsOfQuery(req.query.contactId);
    } catch (err) {
      return void res.status(400).json({ error: (err as Error).message });
    }
    await answer(req, res, contactIds, deps);
  });

  router.post(
    '/reconciliation',
    read,
    (req, res, next) => {
      if (!req.is('application/json')) return void res.status(400).json({ error: 'the body must be JSON, sent with Content-Type: application/json: {"contactIds": ["C0000001", ...]}' });
      next();
    },
    json,
    async (req, res) => {
      let contactIds;
      try {
        // No body at all, or an empty one (which body-parser reads as {}): say so, rather than reconcile everyone.
        const length = req.headers['content-length'];
        if ((req as { _body?: boolean })._body !== true || length === '0') throw new BadRequest('the body is empty: send {"contactIds": [...]}, or {} for every contact the journal knows');
        contactIds = contactIdsOfBody(req.body);
      } catch (err) {
        return void res.status(400).json({ error: (err as Error).message });
      }
      await answer(req, res, contactIds, deps);
    },
  );

  // A malformed or oversized body: a JSON answer, to a caller who may read (else 401 first).
  const bodyErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== '/reconciliation' || res.headersSent) return next(err);
    read(req, res, (denied?: unknown) => {
      if (denied) return next(denied);
      const { status, error } = bodyErrorAnswer(err);
      res.status(status).json({ error });
    });
  };
  return [router, bodyErrors];
}
