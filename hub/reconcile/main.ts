import { openStores } from '../composition';
import { flowEnvironment, loadConfig, reconcileClientSettings } from '../config';
import { externalRefOfText } from '../api/case-reconciliation-api';
import { CaseReconciliationReport, CaseSelection, crmCaseReaderFromEnv, reconcileCases } from './cases';
import { reconcile, ReconciliationReport } from './reconcile';
import { reconcileSources, ReconcileConfigError, systemReadersFromEnv } from './sources';
import { formatCaseReport, formatReport } from './table';

/**
 * `npm run reconcile [-- [--all] [--json] [contactId ...]]`: the reconciliation report in
 * the terminal. Exit code 0 when every system agrees with the CRM, 1 when not, 2 when it
 * could not run.
 *
 * With HUB_URL set it asks the running hub (POST /api/console/reconciliation, logged on as
 * HUB_USER / HUB_PASSWORD). Otherwise it reads for itself: the systems at the flows'
 * endpoints (CRM_WSDL, PLANNING_*, HOUSING_WSDL), and the cross-references and journal
 * from the hub's store (HUB_DATA_DIR, or HUB_STORE=redis with REDIS_URL and
 * HUB_JOURNAL_PREFIX), as the hub itself would.
 *
 * `npm run reconcile -- --cases [--all] [--json] [CAS-000001 | planning:26/01234/FUL | housing:R2026-000981 ...]`:
 * the case-update report instead (hub/reconcile/cases.ts): every case the journal holds an
 * update for, or the cases named (a CRM case ref, or <system>:<ref>). It reads CRM_WSDL and the
 * journal only (POST /api/console/reconciliation/cases with HUB_URL). Same exit codes.
 */
interface Args {
  all: boolean;
  json: boolean;
  cases: boolean;
  contactIds?: string[];
  selection?: CaseSelection;
}

const USAGE = 'usage: npm run reconcile -- [--all] [--json] [contactId ...]\n       npm run reconcile -- --cases [--all] [--json] [caseRef | planning:<applicationRef> | housing:<jobRef> ...]';

function parseArgs(argv: string[]): Args {
  const args: Args = { all: false, json: false, cases: false };
  const ids: string[] = [];
  for (const arg of argv) {
    if (arg === '--all') args.all = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--cases') args.cases = true;
    else if (arg === '--help' || arg === '-h') throw new ReconcileConfigError(USAGE);
    else if (arg.startsWith('-')) throw new ReconcileConfigError(`unknown option ${arg}\n${USAGE}`);
    else ids.push(arg);
  }
  if (ids.length && !args.cases) args.contactIds = ids;
  if (ids.length && args.cases) {
    const selection: Required<CaseSelection> = { caseRefs: [], externalRefs: [] };
    for (const id of ids) {
      try {
        if (id.includes(':')) selection.externalRefs.push(externalRefOfText(id, 'a case'));
        else if (/^[A-Za-z0-9_-]{1,40}$/.test(id)) selection.caseRefs.push(id);
        else throw new Error(`"${id}" is neither a CRM case ref nor <system>:<ref>`);
      } catch (err) {
        throw new ReconcileConfigError(`${(err as Error).message}\n${USAGE}`);
      }
    }
    args.selection = selection;
  }
  return args;
}

async function hubToken(base: string): Promise<string> {
  const { username, password } = reconcileClientSettings();
  if (!username || !password) throw new ReconcileConfigError('HUB_URL is set: HUB_USER and HUB_PASSWORD (a support or developer login) are needed too');
  const auth = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }),
  });
  if (auth.status !== 200) throw new ReconcileConfigError(`the hub at ${base} refused the login of ${username} (${auth.status})`);
  const { access_token: token } = (await auth.json()) as { access_token: string };
  return token;
}

async function fromHub(hubUrl: string, args: Args): Promise<ReconciliationReport> {
  const base = hubUrl.replace(/\/$/, '');
  const token = await hubToken(base);
  // POST, not GET with the ids in the query: any number of people fits in the body.
  const response = await fetch(`${base}/api/console/reconciliation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(args.contactIds ? { contactIds: args.contactIds } : {}),
  });
  if (response.status !== 200) throw new Error(`the hub answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as ReconciliationReport;
}

async function casesFromHub(hubUrl: string, args: Args): Promise<CaseReconciliationReport> {
  const base = hubUrl.replace(/\/$/, '');
  const token = await hubToken(base);
  const response = await fetch(`${base}/api/console/reconciliation/cases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(args.selection ?? {}),
  });
  if (response.status !== 200) throw new Error(`the hub answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CaseReconciliationReport;
}

async function casesLocally(args: Args): Promise<CaseReconciliationReport> {
  const config = loadConfig();
  const crm = crmCaseReaderFromEnv(flowEnvironment());
  // The hub's own stores, opened as the hub opens them (SQLite under HUB_DATA_DIR, or Redis under HUB_JOURNAL_PREFIX).
  const stores = openStores(config);
  try {
    return await reconcileCases({ crm, journal: stores.journalStore, mappings: stores.mappings }, args.selection);
  } finally {
    await crm.close();
    await stores.close();
  }
}

async function locally(args: Args): Promise<ReconciliationReport> {
  const config = loadConfig();
  const readers = systemReadersFromEnv(flowEnvironment());
  const stores = openStores(config);
  try {
    return await reconcile(reconcileSources(readers, stores.crossReferences, stores.journalStore), { contactIds: args.contactIds });
  } finally {
    await readers.close();
    await stores.close();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { hubUrl } = reconcileClientSettings();
  if (args.cases) {
    const report = hubUrl ? await casesFromHub(hubUrl, args) : await casesLocally(args);
    await write(`${args.json ? JSON.stringify(report, null, 2) : formatCaseReport(report, { all: args.all })}\n`);
    return report.summary.allAgree ? 0 : 1;
  }
  const report = hubUrl ? await fromHub(hubUrl, args) : await locally(args);
  await write(`${args.json ? JSON.stringify(report, null, 2) : formatReport(report, { all: args.all })}\n`);
  return report.summary.allAgree ? 0 : 1;
}

async function write(text: string): Promise<void> {
  // Exit once the whole report is written: a pipe takes a large one in several writes.
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`reconcile: ${err instanceof ReconcileConfigError ? err.message : (err as Error).stack ?? err}`);
    process.exit(2);
  },
);
