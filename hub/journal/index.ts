import os from 'os';
import type Database from 'better-sqlite3';
import Redis from 'ioredis';
import type { HubConfig } from '../config';
import { ConfigError } from '../config';
import { Journal } from './journal';
import { JournalMetrics } from './metrics';
import { RedisJournalStore } from './redis-store';
import { retryPolicy } from './retry';
import { SqliteJournalStore } from './sqlite-store';
import type { JournalStore, RetryPolicy } from './types';

export * from './types';
export { Journal, RefusedError, NotFoundError, deliveryIdOf, deliveryTag, messageTag } from './journal';
export type { RunTask, MessageTag, DeliveryTag, StartResult, ReplayRequest, ReplayResult, ReplayFrom } from './journal';
export { SqliteJournalStore } from './sqlite-store';
export { RedisJournalStore } from './redis-store';
export { retryPolicy, retryDelayMs, classifyError, defaultRetryPolicy } from './retry';
export { storableMessage } from './snapshot';

/** The journal's settings from the environment (docs/journal.md lists them). */
export interface JournalSettings {
  instance: string;
  redisPrefix: string;
  retentionMs: number;
  pollMs: number;
  hubRetry: RetryPolicy;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be a number of at least 0, got "${raw}"`);
  return value;
}

export function journalSettings(env: NodeJS.ProcessEnv = process.env): JournalSettings {
  let hubRetry: RetryPolicy;
  try {
    hubRetry = retryPolicy({
      maxAttempts: env.HUB_RETRY_MAX_ATTEMPTS,
      initialDelayMs: env.HUB_RETRY_INITIAL_MS,
      maxDelayMs: env.HUB_RETRY_MAX_MS,
    });
  } catch (err) {
    throw new ConfigError(`HUB_RETRY_*: ${(err as Error).message}`);
  }
  return {
    instance: env.HUB_INSTANCE_ID || os.hostname(),
    redisPrefix: env.HUB_JOURNAL_PREFIX || 'council-hub:journal:',
    retentionMs: number(env, 'HUB_JOURNAL_RETENTION_DAYS', 30) * 24 * 60 * 60 * 1000,
    pollMs: number(env, 'HUB_RETRY_POLL_MS', 1000) || 1000,
    hubRetry,
  };
}

export interface OpenJournal {
  journal: Journal;
  store: JournalStore;
  settings: JournalSettings;
  close(): Promise<void>;
}

/**
 * Opens the journal on the configured store: HUB_STORE=sqlite uses the hub's SQLite file
 * (hub/store.ts), HUB_STORE=redis a Redis client of its own on REDIS_URL.
 */
export function openJournal(config: HubConfig, sqlite: Database.Database, env: NodeJS.ProcessEnv = process.env): OpenJournal {
  const settings = journalSettings(env);
  let store: JournalStore;
  let release = async () => undefined as void;
  if (config.store === 'redis') {
    const redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined); // reported by /healthz and by the calls that fail
    store = new RedisJournalStore(redis, { prefix: settings.redisPrefix });
    release = async () => {
      await redis.quit().catch(() => redis.disconnect());
    };
  } else {
    store = new SqliteJournalStore(sqlite);
  }
  const journal = new Journal({ store, instance: settings.instance, hubRetry: settings.hubRetry, metrics: new JournalMetrics() });
  return {
    journal,
    store,
    settings,
    async close() {
      await store.close();
      await release();
    },
  };
}
