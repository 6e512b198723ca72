import path from 'path';
import { repoRoot, flowsDir } from './paths';

/**
 * Everything the hub reads from its environment, in one place. README.md documents each
 * variable; keep the two in step.
 */
export type Profile = 'demo' | 'production';
export type Role = 'developer' | 'support';

export interface HubUser {
  username: string;
  role: Role;
  /** bcrypt hash; plain passwords are never configured or stored. */
  passwordHash: string;
}

export interface HubConfig {
  profile: Profile;
  host: string;
  port: number;
  dataDir: string;
  flowFile: string;
  credentialSecret: string;
  users: HubUser[];
  rabbitmqUrl?: string;
  redisUrl?: string;
  store: 'sqlite' | 'redis';
  simulators: boolean;
  logLevel: string;
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
      if (role !== 'developer' && role !== 'support') {
        throw new ConfigError(`HUB_USERS: user "${username}" has role "${role}"; roles are developer and support`);
      }
      if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(passwordHash)) {
        throw new ConfigError(`HUB_USERS: user "${username}" needs a bcrypt hash (npm run hash-password), not a plain password`);
      }
      return { username, role, passwordHash };
    });
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  return value;
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
  const dataDir = path.resolve(repoRoot, env.HUB_DATA_DIR || 'var');
  return {
    profile,
    host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1'),
    port: integer(env, 'PORT', 1880),
    dataDir,
    flowFile: path.resolve(repoRoot, env.HUB_FLOW_FILE || path.join(flowsDir, 'flows.json')),
    credentialSecret,
    users,
    rabbitmqUrl: env.RABBITMQ_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    store,
    simulators: env.HUB_SIMULATORS ? env.HUB_SIMULATORS !== 'off' : !production,
    logLevel: env.HUB_LOG_LEVEL || 'info',
  };
}
