import express, { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { MappingLibrary } from '../../adapters/mapping';
import type { JournalStore } from '../journal/types';
import { CaseSelection, caseSystems, CaseSystem, crmCaseReaderFromEnv, ExternalRef, reconcileCases } from '../reconcile/cases';
import { ReconcileConfigError } from '../reconcile/sources';
import { BODY_LIMIT, BODY_LIMIT_BYTES } from './reconciliation-api';

/**
 * The case-update reconciliation (hub/reconcile/cases.ts) as JSON, for support staff
 * (console.read), in the style of the address report's routes (reconciliation-api.ts):
 *
 * - `GET /api/console/reconciliation/cases[?caseRef=CAS-000001,...][&externalRef=planning:26/01234/FUL,...]`:
 *   a few cases in the query (at most MAX_QUERY_REFS in all; each parameter given once).
 * - `POST /api/console/reconciliation/cases` with `{"caseRefs": ["CAS-000001"], "externalRefs":
 *   [{"system": "planning", "ref": "26/01234/FUL"}]}`: any number of cases up to
 *   MAX_BODY_REFS, either field or both (they add up), in a JSON body of at most 5 MiB.
 *
 * Without any (GET with no query, POST `{}`): every case the journal holds an update for.
 * Empty lists (`{"caseRefs": []}`) are no case. A case ref is read from the CRM first
 * (GetCase) to learn its external ref; an external ref is reconciled whether or not the
 * journal knows it.
 *
 * Answers: 200 the report; 400 `{"error": ...}` naming what is wrong with the request; 413
 * for a body over 5 MiB; 401 before any of that for a caller who may not read; 503 when
 * CRM_WSDL is not set (or the journal is not running); 500 when the report failed.
 */
const CASE_REF = /^[A-Za-z0-9_-]{1,40}$/;
/** An application ref (26/01234/FUL) or a repair job ref (R2026-000981): 1 to 100 of A-Z a-z 0-9 / . _ - */
const EXTERNAL_REF = /^[A-Za-z0-9/._-]{1,100}$/;

export const MAX_QUERY_REFS = 1000;
export const MAX_BODY_REFS = 100000;
export const CASES_PATH = '/reconciliation/cases';

class BadRequest extends Error {}

const shown = (value: string) => (value.length > 60 ? `${value.slice(0, 60)}...` : value);

function caseRefAt(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new BadRequest(`${where} is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not a string`);
  if (!CASE_REF.test(value)) throw new BadRequest(`${where}: "${shown(value)}" is not a CRM case ref`);
  return value;
}

function externalRefAt(value: unknown, where: string): ExternalRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest(`${where} must be an object: {"system": "planning" | "housing", "ref": "..."}`);
  for (const field of Object.keys(value)) {
    if (field !== 'system' && field !== 'ref') throw new BadRequest(`${where}: unknown field "${field}": an external ref is {"system": "planning" | "housing", "ref": "..."}`);
  }
  const { system, ref } = value as { system?: unknown; ref?: unknown };
  if (!caseSystems.includes(system as CaseSystem)) throw new BadRequest(`${where}.system must be "planning" or "housing"${system === undefined ? '' : `, not ${JSON.stringify(system)}`.slice(0, 80)}`);
  if (typeof ref !== 'string') throw new BadRequest(`${where}.ref is ${ref === undefined ? 'missing' : ref === null ? 'null' : typeof ref}, not a string`);
  if (!EXTERNAL_REF.test(ref)) throw new BadRequest(`${where}.ref: "${shown(ref)}" is not an application or repair job ref (1 to 100 of A-Z a-z 0-9 / . _ -)`);
  return { system: system as CaseSystem, ref };
}

/** The cases of a POST body, undefined for every case, or a BadRequest saying what is wrong. */
export function caseSelectionOfBody(body: unknown): CaseSelection | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object: {"caseRefs": ["CAS-000001", ...]} or {"externalRefs": [{"system": "planning", "ref": "26/01234/FUL"}, ...]}');
  }
  for (const field of Object.keys(body)) {
    if (field !== 'caseRefs' && field !== 'externalRefs') throw new BadRequest(`unknown field "${field}": the body is {"caseRefs": [...], "externalRefs": [...]}, either or both`);
  }
  const { caseRefs, externalRefs } = body as { caseRefs?: unknown; externalRefs?: unknown };
  if (caseRefs === undefined && externalRefs === undefined) return undefined;
  if (caseRefs !== undefined && !Array.isArray(caseRefs)) throw new BadRequest('caseRefs must be an array of CRM case refs (strings)');
  if (externalRefs !== undefined && !Array.isArray(externalRefs)) throw new BadRequest('externalRefs must be an array of {"system": "planning" | "housing", "ref": "..."}');
  const count = (caseRefs?.length ?? 0) + (externalRefs?.length ?? 0);
  if (count > MAX_BODY_REFS) throw new BadRequest(`at most ${MAX_BODY_REFS} cases at a time, got ${count}`);
  return {
    caseRefs: (caseRefs ?? []).map((v, i) => caseRefAt(v, `caseRefs[${i}]`)),
    externalRefs: (externalRefs ?? []).map((v, i) => externalRefAt(v, `externalRefs[${i}]`)),
  };
}

/** `planning:26/01234/FUL` as an external ref (the query's and the command line's form). */
export function externalRefOfText(text: string, where: string): ExternalRef {
  const colon = text.indexOf(':');
  if (colon < 0) throw new BadRequest(`${where}: "${shown(text)}" is not <system>:<ref>, e.g. planning:26/01234/FUL`);
  return externalRefAt({ system: text.slice(0, colon), ref: text.slice(colon + 1) }, where);
}

function caseSelectionOfQuery(query: Record<string, unknown>): CaseSelection | undefined {
  for (const name of Object.keys(query)) {
    if (name !== 'caseRef' && name !== 'externalRef') throw new BadRequest(`unknown query parameter "${name}": caseRef and externalRef (comma-separated) are known`);
  }
  const items = (name: string): string[] | undefined => {
    const raw = query[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw new BadRequest(`${name} may be given once, comma-separated`);
    return raw.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const caseRefs = items('caseRef');
  const externalRefs = items('externalRef');
  if (!caseRefs && !externalRefs) return undefined;
  if ((caseRefs?.length ?? 0) + (externalRefs?.length ?? 0) > MAX_QUERY_REFS) {
    throw new BadRequest(`at most ${MAX_QUERY_REFS} cases in the query: POST {"caseRefs": [...], "externalRefs": [...]} to /api/console${CASES_PATH} for more`);
  }
  return {
    caseRefs: (caseRefs ?? []).map((v) => caseRefAt(v, 'caseRef')),
    externalRefs: (externalRefs ?? []).map((v) => externalRefOfText(v, 'externalRef')),
  };
}

/** What the report reads: the journal's store, the hub's mapping library, the flows' environment (CRM_WSDL). */
export interface CaseReconciliationDependencies {
  journal: JournalStore;
  mappings: MappingLibrary;
  environment: () => Readonly<Record<string, string | undefined>>;
}

async function answer(res: Response, selection: CaseSelection | undefined, deps: CaseReconciliationDependencies): Promise<void> {
  if (!deps.journal || !deps.mappings) return void res.status(503).json({ error: 'the journal is not running: the case reconciliation reads every case update from it' });
  let crm;
  try {
    crm = crmCaseReaderFromEnv(deps.environment());
  } catch (err) {
    return void res.status(503).json({ error: err instanceof ReconcileConfigError ? err.message : String(err) });
  }
  try {
    res.json(await reconcileCases({ crm, journal: deps.journal, mappings: deps.mappings }, selection));
  } catch (err) {
    res.status(500).json({ error: `case reconciliation failed: ${(err as Error).message}` });
  } finally {
    await crm.close();
  }
}

function bodyErrorAnswer(err: any): { status: number; error: string } {
  if (err?.type === 'entity.too.large') return { status: 413, error: `the body is larger than ${BODY_LIMIT_BYTES} bytes (5 MiB): at most ${MAX_BODY_REFS} cases at a time` };
  if (err?.type === 'entity.parse.failed') return { status: 400, error: `the body is not JSON: ${err.message}` };
  const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  return { status, error: status === 500 ? `internal error: ${err?.message ?? err}` : `bad request: ${err?.message ?? err}` };
}

/**
 * The routes, to mount at /api/console beside the address report's:
 * `RED.httpAdmin.use('/api/console', caseReconciliationApi(look, { journal: stores.journalStore, mappings: stores.mappings, environment: flowEnvironment }))`.
 * `read` is the permission check (console.read). An array: the router, then an error handler
 * for /reconciliation/cases, for the same reason as reconciliationApi's (Node-RED's admin app
 * parses a JSON body before any route and passes a malformed or oversized one on as an error).
 */
export function caseReconciliationApi(read: RequestHandler, deps: CaseReconciliationDependencies): Array<RequestHandler | ErrorRequestHandler> {
  const router = express.Router();
  const json = express.json({ limit: BODY_LIMIT });

  router.get(CASES_PATH, read, async (req, res) => {
    let selection;
    try {
      selection = caseSelectionOfQuery(req.query as Record<string, unknown>);
    } catch (err) {
      return void res.status(400).json({ error: (err as Error).message });
    }
    await answer(res, selection, deps);
  });

  router.post(
    CASES_PATH,
    read,
    (req, res, next) => {
      if (!req.is('application/json')) return void res.status(400).json({ error: 'the body must be JSON, sent with Content-Type: application/json: {"caseRefs": [...]} or {"externalRefs": [...]}' });
      next();
    },
    json,
    async (req, res) => {
      let selection;
      try {
        const length = req.headers['content-length'];
        if ((req as { _body?: boolean })._body !== true || length === '0') throw new BadRequest('the body is empty: send {"caseRefs": [...]} or {"externalRefs": [...]}, or {} for every case the journal knows');
        selection = caseSelectionOfBody(req.body);
      } catch (err) {
        return void res.status(400).json({ error: (err as Error).message });
      }
      await answer(res, selection, deps);
    },
  );

  // A malformed or oversized body: a JSON answer, to a caller who may read (else 401 first).
  const bodyErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== CASES_PATH || res.headersSent) return next(err);
    read(req, res, (denied?: unknown) => {
      if (denied) return next(denied);
      const { status, error } = bodyErrorAnswer(err);
      res.status(status).json({ error });
    });
  };
  return [router, bodyErrors];
}
