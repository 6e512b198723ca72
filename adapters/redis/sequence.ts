import type Redis from 'ioredis';

/**
 * A number unique among every hub instance for one name (a file name's stamp): 1, 2, 3...
 * The counter lives in Redis and goes by itself after `ttlSeconds`, once the name is past.
 */
export async function sharedSequence(redis: Redis, key: string, ttlSeconds = 120): Promise<number> {
  const [[incrError, value]] = (await redis.multi().incr(key).expire(key, ttlSeconds).exec()) as Array<[Error | null, unknown]>;
  if (incrError) throw incrError;
  return Number(value);
}
