import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { openSqlite } from '../../hub/store';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { RedisJournalStore } from '../../hub/journal/redis-store';
import type { JournalStore } from '../../hub/journal/types';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A unique Redis key prefix per test run (others' tests share the Redis). */
export function uniquePrefix(label: string): string {
  return `test:journal:${label}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2, 8)}:`;
}

/** Deletes every key under a prefix (SCAN, never FLUSHDB). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export interface StoreFixture {
  name: 'sqlite' | 'redis';
  open(): JournalStore;
  close(): Promise<void>;
}

/** Both stores, fresh each time open() is called; close() removes what was made. */
export function storeFixtures(): StoreFixture[] {
  const sqlite = (): StoreFixture => {
    const closers: Array<() => void> = [];
    return {
      name: 'sqlite',
      open() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-test-'));
        const db = openSqlite(dir, 'journal.db');
        closers.push(() => {
          db.close();
          fs.rmSync(dir, { recursive: true, force: true });
        });
        return new SqliteJournalStore(db);
      },
      async close() {
        for (const c of closers.splice(0)) c();
      },
    };
  };
  const redis = (): StoreFixture => {
    const client = new Redis(REDIS_URL);
    const prefixes: string[] = [];
    return {
      name: 'redis',
      open() {
        const prefix = uniquePrefix('store');
        prefixes.push(prefix);
        return new RedisJournalStore(client, { prefix });
      },
      async close() {
        for (const p of prefixes.splice(0)) await deletePrefix(client, p);
        client.disconnect();
      },
    };
  };
  return [sqlite(), redis()];
}
