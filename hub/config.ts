import os from 'os';
import path from 'path';
import { repoRoot, flowsDir, mappingsDir } from './paths';
import type { ErrorClass } from '../adapters/errors';
import { retryPolicy } from './journal/retry';
import type { RetryPolicy } from './journal/types';
import type { RetentionPeriods } from './journal/journal';
import { dataKeyOf, DEMO_DATA_KEY, PersonalDataCodec } from './journal/sealing';

/**
 * Everything the hub reads from its environment, in one place. README.md documents each
 * variable; keep the two in step.
 */
export type Profile = 'demo' | 'production';
export type Role = 'developer' | 'support' | 'dpo';
export const roles: readonly Role[] = ['developer', 'support', 'dpo'];

export interface HubUser {
  username: string;
  role: Role;
  /** bcrypt hash; plain passwords are never configured or stored. */
  passwordHash: string;
}

/** The journal's settings (docs/journal.md lists them). */
export interface JournalSettings {
  instance: string;
  /** Prefix of every key the hub keeps in Redis: journal, cross-references, cursors, locks. */
  redisPrefix: string;
  retentionMs: number;
  /** How long each kind of record is kept (docs/data-protection.md). */
  retention: RetentionPeriods;
  /** How often the retention run goes (HUB_RETENTION_RUN_HOURS, default 24: nightly). */
  retentionEveryMs: number;
  pollMs: number;
  hubRetry: RetryPolicy;
  /** A delivery handed to a target that answers later waits this long, then needs attention. */
  answerTimeoutMs: number;
  /**
   * SQLite's flush to disk (HUB_SQLITE_SYNCHRONOUS): FULL (default) survives a power cut; NORMAL
   * (WAL) survives the hub being killed but may lose the last commits on a power cut; OFF is
   * for measuring the journal's own cost (npm run bench), never for a council's data.
   */
  sqliteSynchronous: 'FULL' | 'NORMAL' | 'OFF';
  /** HUB_STORE=redis: how long an instance's lease lives unrenewed before another takes over its work. */
  leaseMs: number;
}

export interface HubConfig {
  profile: Profile;
  /** The demo logins are in use (demo profile, no HUB_USERS). */
  demoLogins: boolean;
  host: string;
  port: number;
  dataDir: string;
  flowFile: string;
  credentialSecret: string;
  /** Seals payloads at rest (HUB_DATA_KEY, and HUB_DATA_KEYS to read after a rotation). */
  dataCodec: PersonalDataCodec;
  users: HubUser[];
  rabbitmqUrl?: string;
  redisUrl?: string;
  store: 'sqlite' | 'redis';
  /**
   * HUB_REDIS_ALLOW_NO_AOF=yes: a production hub starts on a Redis store without AOF (or with
   * appendfsync no, or whose persistence cannot be read), where a crash of Redis can lose
   * messages already acknowledged. Default no: it refuses to start (hub/store-durability.ts).
   */
  redisAllowNoAof: boolean;
  simulators: boolean;
  /** Size of the demo gazetteer the simulators generate (undefined: theirs). */
  demoProperties?: number;
  /** GOV.UK Pay's webhook signing secret (GOVUK_PAY_WEBHOOK_SECRET); the demo makes one if unset. */
  govukPayWebhookSecret?: string;
  logLevel: string;
  /** HUB_METRICS_TOKEN: when set, /metrics answers only a request with `Authorization: Bearer <it>`. */
  metricsToken?: string;
  /** The console's response times: a target failing (no delivery taken, failures) longer than this is an alert. */
  alertFailingMs: number;
  /** How often the console's response times take a sample of the hub's metrics. */
  responseTimesSampleMs: number;
  journal: JournalSettings;
  /** The repository's folders: nodes resolve relative file names (WSDLs) against root. */
  paths: { root: string; mappings: string };
  /** HUB_MAPPINGS_COMPILED: mappings run compiled to JavaScript (on) or on the jsonata interpreter (off). */
  compileMappings: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** bcrypt hash of the demo password `council-hub-demo`, for the demo profile only. */
const DEMO_PASSWORD_HASH = '$2b$10$vWOwFCIWgsgS.y9AWj6vzutsanPTJRy3hhmzQ6CX0UI/iZa4W05ke';
const DEMO_CREDENTIAL_SECRET = 'council-hub-demo-only-not-secret';

export const demoUsers: HubUser[] = [
  { username: 'developer', role: 'developer', passwordHash: DEMO_PASSWORD_HASH },
  { username: 'support', role: 'support', passwordHash: DEMO_PASSWORD_HASH },
  { username: 'dpo', role: 'dpo', passwordHash: DEMO_PASSWORD_HASH },
];

/**
 * HUB_USERS: comma-separated `username:role:bcrypthash`. bcrypt hashes hold neither ':'
 * nor ',', so no quoting is needed.
 */
export function parseUsers(text: string): HubUser[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [username, role, passwordHash, ...rest] = entry.split(':');
      if (!username || !passwordHash || rest.length) {
        throw new ConfigError(`HUB_USERS: entry "${username ?? entry}" must be username:role:bcrypthash`);
      }
      if (!roles.includes(role as Role)) {
        throw new ConfigError(`HUB_USERS: user "${username}" has role "${role}"; roles are ${roles.join(', ')}`);
      }
      if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(passwordHash)) {
        throw new ConfigError(`HUB_USERS: user "${username}" needs a bcrypt hash (npm run hash-password), not a plain password`);
      }
      return { username, role: role as Role, passwordHash };
    });
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return value;
}

/**
 * The flows' environment: the variables their config nodes read (`${PLANNING_WSDL}`,
 * CRM_WSDL, HOUSING_WSDL, SFTP_*...), the operator's own plus, in the demo profile, those
 * the hub wrote for its simulators. Read when asked, so the demo's are there once written;
 * the reconciliation reads the systems where the flows do.
 */
export function flowEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** `npm run reconcile` against a running hub: HUB_URL, with a support or developer login. */
export function reconcileClientSettings(env: NodeJS.ProcessEnv = process.env): { hubUrl?: string; username?: string; password?: string } {
  return { hubUrl: env.HUB_URL || undefined, username: env.HUB_USER || undefined, password: env.HUB_PASSWORD || undefined };
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new ConfigError(`${name} must be on or off, got "${raw}"`);
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number of at least 0, got "${raw}"`);
  return value;
}

/** Between 1 s (a takeover on every hiccup) and 10 minutes (work stuck that long). */
function leaseSeconds(env: NodeJS.ProcessEnv): number {
  const value = seconds(env, 'HUB_LEASE_SECONDS', 15);
  if (value < 1 || value > 600) throw new ConfigError(`HUB_LEASE_SECONDS must be between 1 and 600, got "${env.HUB_LEASE_SECONDS}"`);
  return value;
}

function sqliteSynchronous(raw: string | undefined): JournalSettings['sqliteSynchronous'] {
  const value = (raw || 'FULL').toUpperCase();
  if (value !== 'FULL' && value !== 'NORMAL' && value !== 'OFF') throw new ConfigError(`HUB_SQLITE_SYNCHRONOUS must be FULL, NORMAL or OFF, got "${raw}"`);
  return value;
}

function days(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return seconds(env, name, fallback) * 24 * 60 * 60 * 1000;
}

/** HUB_DATA_KEY seals; HUB_DATA_KEYS (comma-separated) are older keys kept to read what they sealed. */
export function loadDataCodec(env: NodeJS.ProcessEnv, production: boolean): PersonalDataCodec {
  const current = env.HUB_DATA_KEY || (production ? '' : DEMO_DATA_KEY);
  if (!current) throw new ConfigError('HUB_DATA_KEY is required in the production profile (it encrypts personal data at rest: openssl rand -base64 32)');
  if (production && current === DEMO_DATA_KEY) throw new ConfigError('HUB_DATA_KEY: the demo key may not be used in the production profile');
  try {
    const older = (env.HUB_DATA_KEYS || '').split(',').map((k) => k.trim()).filter(Boolean).map((k) => dataKeyOf(k, 'each of HUB_DATA_KEYS'));
    return new PersonalDataCodec(dataKeyOf(current), older);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

export function loadJournalSettings(env: NodeJS.ProcessEnv = process.env): JournalSettings {
  let hubRetry: RetryPolicy;
  try {
    hubRetry = retryPolicy({
      maxAttempts: env.HUB_RETRY_MAX_ATTEMPTS,
      initialDelayMs: env.HUB_RETRY_INITIAL_MS,
      maxDelayMs: env.HUB_RETRY_MAX_MS,
      unclassified: (env.HUB_RETRY_UNCLASSIFIED || undefined) as ErrorClass | undefined,
    });
  } catch (err) {
    throw new ConfigError(`HUB_RETRY_*: ${(err as Error).message}`);
  }
  // HUB_JOURNAL_RETENTION_DAYS is the older name of HUB_RETENTION_SETTLED_DAYS.
  const settledMs = env.HUB_RETENTION_SETTLED_DAYS ? days(env, 'HUB_RETENTION_SETTLED_DAYS', 30) : days(env, 'HUB_JOURNAL_RETENTION_DAYS', 30);
  return {
    instance: env.HUB_INSTANCE_ID || os.hostname(),
    redisPrefix: env.HUB_JOURNAL_PREFIX || 'council-hub:journal:',
    retentionMs: settledMs,
    retention: {
      settledMs,
      discardedMs: days(env, 'HUB_RETENTION_DISCARDED_DAYS', 180),
      refusedMs: days(env, 'HUB_RETENTION_REFUSED_DAYS', 90),
      auditMs: days(env, 'HUB_RETENTION_AUDIT_DAYS', 6 * 365),
    },
    retentionEveryMs: Math.max(seconds(env, 'HUB_RETENTION_RUN_HOURS', 24), 0.01) * 60 * 60 * 1000,
    pollMs: seconds(env, 'HUB_RETRY_POLL_MS', 1000) || 1000,
    hubRetry,
    answerTimeoutMs: seconds(env, 'HUB_ANSWER_TIMEOUT_HOURS', 24) * 60 * 60 * 1000,
    sqliteSynchronous: sqliteSynchronous(env.HUB_SQLITE_SYNCHRONOUS),
    leaseMs: leaseSeconds(env) * 1000,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const profile = (env.HUB_PROFILE || 'demo') as Profile;
  if (profile !== 'demo' && profile !== 'production') {
    throw new ConfigError(`HUB_PROFILE must be demo or production, got "${profile}"`);
  }
  const production = profile === 'production';
  const credentialSecret = env.HUB_CREDENTIAL_SECRET || (production ? '' : DEMO_CREDENTIAL_SECRET);
  if (!credentialSecret) {
    throw new ConfigError('HUB_CREDENTIAL_SECRET is required in the production profile (it encrypts flow credentials)');
  }
  const users = env.HUB_USERS ? parseUsers(env.HUB_USERS) : production ? [] : demoUsers;
  if (!users.length) throw new ConfigError('HUB_USERS is required in the production profile (username:role:bcrypthash, ...)');
  if (production && users.some((u) => u.passwordHash === DEMO_PASSWORD_HASH)) {
    throw new ConfigError('HUB_USERS: the demo password may not be used in the production profile');
  }
  const store = (env.HUB_STORE || 'sqlite') as HubConfig['store'];
  if (store !== 'sqlite' && store !== 'redis') throw new ConfigError(`HUB_STORE must be sqlite or redis, got "${store}"`);
  if (store === 'redis' && !env.REDIS_URL) throw new ConfigError('HUB_STORE=redis needs REDIS_URL');
  const allowNoAof = env.HUB_REDIS_ALLOW_NO_AOF || 'no';
  if (allowNoAof !== 'yes' && allowNoAof !== 'no') throw new ConfigError(`HUB_REDIS_ALLOW_NO_AOF must be yes or no, got "${allowNoAof}"`);
  const dataDir = path.resolve(repoRoot, env.HUB_DATA_DIR || 'var');
  const demoProperties = integer(env, 'HUB_DEMO_PROPERTIES', 0) || undefined;
  return {
    profile,
    demoLogins: !production && !env.HUB_USERS,
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    port: integer(env, 'PORT', 1880),
    dataDir,
    flowFile: path.resolve(repoRoot, env.HUB_FLOW_FILE || path.join(flowsDir, 'flows.json')),
    credentialSecret,
    dataCodec: loadDataCodec(env, production),
    users,
    rabbitmqUrl: env.RABBITMQ_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    store,
    redisAllowNoAof: allowNoAof === 'yes',
    simulators: env.HUB_SIMULATORS ? env.HUB_SIMULATORS !== 'off' : !production,
    demoProperties,
    govukPayWebhookSecret: env.GOVUK_PAY_WEBHOOK_SECRET || undefined,
    logLevel: env.HUB_LOG_LEVEL || 'info',
    metricsToken: env.HUB_METRICS_TOKEN || undefined,
    alertFailingMs: integer(env, 'HUB_ALERT_FAILING_MINUTES', 15) * 60_000,
    responseTimesSampleMs: integer(env, 'HUB_RESPONSE_TIMES_SAMPLE_SECONDS', 60) * 1000,
    journal: loadJournalSettings(env),
    paths: { root: repoRoot, mappings: mappingsDir },
    compileMappings: onOff(env, 'HUB_MAPPINGS_COMPILED', true),
  };
}
