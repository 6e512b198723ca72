import { randomUUID } from 'crypto';
import type Redis from 'ioredis';

/**
 * A lock with expiry in Redis (SET NX PX), so that only one hub instance polls an SFTP
 * folder or a SOAP cursor at a time. The holder renews it while it works; if the holder
 * dies, the lock expires and another instance takes over. Release and renew check the
 * token so an instance never frees or extends a lock another instance now holds.
 */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  readonly key: string;
  readonly token: string;
  /** Extends the expiry; false when the lock was lost (expired and taken by another). */
  renew(ttlMs?: number): Promise<boolean>;
  release(): Promise<boolean>;
}

export async function tryAcquireLock(redis: Redis, key: string, ttlMs: number): Promise<HeldLock | undefined> {
  const token = randomUUID();
  const answer = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (answer !== 'OK') return undefined;
  return {
    key,
    token,
    async renew(nextTtlMs = ttlMs) {
      return (await redis.eval(RENEW, 1, key, token, String(nextTtlMs))) === 1;
    },
    async release() {
      return (await redis.eval(RELEASE, 1, key, token)) === 1;
    },
  };
}

/**
 * Runs `work` only if this instance gets the lock; renews it at a third of its expiry
 * while the work runs. Returns undefined when another instance holds the lock.
 */
export async function withLock<T>(redis: Redis, key: string, ttlMs: number, work: () => Promise<T>): Promise<{ result: T } | undefined> {
  const lock = await tryAcquireLock(redis, key, ttlMs);
  if (!lock) return undefined;
  const renewal = setInterval(() => void lock.renew().catch(() => undefined), Math.max(100, Math.floor(ttlMs / 3)));
  try {
    return { result: await work() };
  } finally {
    clearInterval(renewal);
    await lock.release().catch(() => undefined);
  }
}
