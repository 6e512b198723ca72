import Redis from 'ioredis';
import { flowEnvironment, loadConfig, reconcileClientSettings } from '../config';
import { journalSettings } from '../journal';
import { RedisJournalStore } from '../journal/redis-store';
import { SqliteJournalStore } from '../journal/sqlite-store';
import { openSqlite } from '../store';
import { crossReferencePrefix, RedisCrossReferences, SqliteCrossReferences } from '../xref';
import { reconcile, ReconciliationReport } from './reconcile';
import { reconcileSources, ReconcileConfigError, systemReadersFromEnv } from './sources';
import { formatReport } from './table';

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
 */
interface Args {
  all: boolean;
  json: boolean;
  contactIds?: string[];
}

const USAGE = 'usage: npm run reconcile -- [--all] [--json] [contactId ...]';

function parseArgs(argv: string[]): Args {
  const args: Args = { all: false, json: false };
  const ids: string[] = [];
  for (const arg of argv) {
    if (arg === '--all') args.all = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') throw new ReconcileConfigError(USAGE);
    else if (arg.startsWith('-')) throw new ReconcileConfigError(`unknown option ${arg}\n${USAGE}`);
    else ids.push(arg);
  }
  if (ids.length) args.contactIds = ids;
  return args;
}

async function fromHub(hubUrl: string, args: Args): Promise<ReconciliationReport> {
  const { username, password } = reconcileClientSettings();
  if (!username || !password) throw new ReconcileConfigError('HUB_URL is set: HUB_USER and HUB_PASSWORD (a support or developer login) are needed too');
  const base = hubUrl.replace(/\/$/, '');
  const auth = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }),
  });
  if (auth.status !== 200) throw new ReconcileConfigError(`the hub at ${base} refused the login of ${username} (${auth.status})`);
  const { access_token: token } = (await auth.json()) as { access_token: string };
  // POST, not GET with the ids in the query: any number of people fits in the body.
  const response = await fetch(`${base}/api/console/reconciliation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(args.contactIds ? { contactIds: args.contactIds } : {}),
  });
  if (response.status !== 200) throw new Error(`the hub answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as ReconciliationReport;
}

async function locally(args: Args): Promise<ReconciliationReport> {
  const config = loadConfig();
  const readers = systemReadersFromEnv(flowEnvironment());
  const redis = config.store === 'redis' ? new Redis(config.redisUrl!, { maxRetriesPerRequest: 3 }) : undefined;
  const sqlite = redis ? undefined : openSqlite(config.dataDir);
  try {
    let crossReferences, journal;
    if (redis) {
      // The hub's keys: the journal under HUB_JOURNAL_PREFIX, the cross-references beside it.
      const prefix = journalSettings().redisPrefix;
      crossReferences = new RedisCrossReferences(redis, crossReferencePrefix(prefix));
      journal = new RedisJournalStore(redis, { prefix });
    } else {
      crossReferences = new SqliteCrossReferences(sqlite!);
      journal = new SqliteJournalStore(sqlite!);
    }
    return await reconcile(reconcileSources(readers, crossReferences, journal), { contactIds: args.contactIds });
  } finally {
    await readers.close();
    redis?.disconnect();
    sqlite?.close();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { hubUrl } = reconcileClientSettings();
  const report = hubUrl ? await fromHub(hubUrl, args) : await locally(args);
  const text = `${args.json ? JSON.stringify(report, null, 2) : formatReport(report, { all: args.all })}\n`;
  // Exit once the whole report is written: a pipe takes a large one in several writes.
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
  return report.summary.allAgree ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`reconcile: ${err instanceof ReconcileConfigError ? err.message : (err as Error).stack ?? err}`);
    process.exit(2);
  },
);
