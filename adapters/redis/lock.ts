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
 * while the work runs. Returns undefined when another instance holds the lock. A renewal
 * that fails (Redis unreachable) or finds the lock gone (it expired and another instance
 * took it) is told to `onLost` once, so the caller can log it and stop handing out work:
 * another instance may be doing the same work now.
 */
export async function withLock<T>(
  redis: Redis,
  key: string,
  ttlMs: number,
  work: () => Promise<T>,
  onLost: (error: Error) => void = () => undefined,
): Promise<{ result: T } | undefined> {
  const lock = await tryAcquireLock(redis, key, ttlMs);
  if (!lock) return undefined;
  let lost = false;
  const lose = (error: Error) => {
    if (lost) return;
    lost = true;
    clearInterval(renewal);
    onLost(error);
  };
  const renewal = setInterval(() => {
    lock.renew().then(
      (held) => {
        if (!held) lose(new Error(`lock ${key} expired and was taken by another instance while this one worked`));
      },
      (err: Error) => lose(new Error(`lock ${key} could not be renewed: ${err.message}`)),
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  try {
    return { result: await work() };
  } finally {
    clearInterval(renewal);
    // A lock that cannot be released expires by itself after ttlMs; say so rather than hide it.
    if (!lost) await lock.release().catch((err: Error) => onLost(new Error(`lock ${key} could not be released (it expires in ${ttlMs} ms): ${err.message}`)));
  }
}
