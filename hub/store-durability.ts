import type Redis from 'ioredis';
import { describePersistence, persistenceProblem, redisPersistence, type RedisPersistence } from '../adapters/redis/persistence';
import { ConfigError, type HubConfig } from './config';

/** How long the start-up check waits for Redis to answer before it counts as unreadable. */
const CHECK_TIMEOUT_MS = 10000;

/** A Redis URL as it may be logged: without a password. */
export function shownRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/**
 * At start with HUB_STORE=redis: the hub acknowledges a message once Redis has it, so what
 * a crash of Redis loses is what the hub loses after saying it had it. Logs what Redis
 * keeps; in the production profile refuses to start (ConfigError) when AOF is off, its
 * appendfsync is `no`, or none of it can be read, unless HUB_REDIS_ALLOW_NO_AOF=yes; in the
 * demo profile (or with that setting) only warns.
 */
export async function checkRedisDurability(
  config: HubConfig,
  redis: Redis,
  log: { info(line: string): void; warn(line: string): void } = { info: (l) => console.log(l), warn: (l) => console.warn(l) },
): Promise<RedisPersistence> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RedisPersistence>((resolve) => {
    timer = setTimeout(
      () => resolve({ aof: false, source: 'unknown', problem: `no answer within ${CHECK_TIMEOUT_MS / 1000} s`, loses: 'anything: Redis did not answer' }),
      CHECK_TIMEOUT_MS,
    );
  });
  const found = await Promise.race([redisPersistence(redis), timeout]).finally(() => clearTimeout(timer));
  const where = shownRedisUrl(config.redisUrl ?? '');
  log.info(`council-hub: journal store Redis ${where}: ${describePersistence(found)}`);
  const problem = persistenceProblem(found);
  if (!problem) return found;
  if (config.profile === 'production' && !config.redisAllowNoAof) {
    throw new ConfigError(
      `${problem}. The hub acknowledges a message once Redis has it, so the production profile needs a Redis that keeps it ` +
        '(README: "Running Redis for the journal"). Fix Redis, or set HUB_REDIS_ALLOW_NO_AOF=yes to start anyway.',
    );
  }
  log.warn(
    `council-hub: warning: ${problem}` +
      (config.profile === 'production' ? ' (started anyway: HUB_REDIS_ALLOW_NO_AOF=yes)' : '; the production profile refuses to start on it unless HUB_REDIS_ALLOW_NO_AOF=yes'),
  );
  return found;
}

/** The journal store's durability as /healthz shows it (dependencies.store). */
export async function redisStoreHealth(redis: Redis, url: string) {
  const found = await redisPersistence(redis);
  const problem = persistenceProblem(found);
  return {
    detail: `redis ${shownRedisUrl(url)}`,
    kind: 'redis',
    aof: found.aof,
    ...(found.appendfsync ? { appendfsync: found.appendfsync } : {}),
    ...(found.rdbOnly !== undefined ? { rdbOnly: found.rdbOnly } : {}),
    persistenceFrom: found.source,
    loses: found.loses,
    ...(problem ? { warning: problem } : {}),
  };
}
