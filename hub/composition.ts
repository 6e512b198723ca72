import type Database from 'better-sqlite3';
import Redis from 'ioredis';
import { MappingLibrary } from '../adapters/mapping';
import type { CrossReferenceStore } from '../adapters/people/cross-references';
import type { HubConfig } from './config';
import { RedisCursors, SqliteCursors, type CursorStore } from './cursors';
import { rabbitmqHealth, redisHealth } from './dependencies';
import { GazetteerVersions } from './gazetteer-versions';
import { HealthChecks } from './health';
import { redisStoreHealth } from './store-durability';
import { heldAddress } from './held-address';
import { Journal, deliveryTag, messageTag } from './journal/journal';
import { JournalMetrics } from './journal/metrics';
import { isNewer } from './journal/order';
import { RedisJournalStore } from './journal/redis-store';
import { retryPolicy } from './journal/retry';
import { storableMessage } from './journal/snapshot';
import { SqliteJournalStore } from './journal/sqlite-store';
import { messageAtDelivery, type JournalStore } from './journal/types';
import type { HubPort, JournalPort } from './port';
import type { Settlement } from './runtime/settlement';
import { openSqlite } from './store';
import { RedisPaymentRegister, SqlitePaymentRegister } from './payments/register';
import type { LedgerBatches, PaymentRegister } from '../adapters/payments/register';
import { crossReferencePrefix, RedisCrossReferences, SqliteCrossReferences } from './xref';
import { RedisAccessLog, SqliteAccessLog, type AccessLog } from './privacy/access-log';
import type { StartupWork } from './startup-work';

/**
 * The composition root: the one place that opens the hub's stores from its configuration.
 * One choice of SQLite or Redis (HUB_STORE) for everything the hub keeps: the journal, the
 * cross-references, pollers' cursors and locks; one Redis client for all of them (ioredis
 * pipelines one connection; the journal's atomic steps are Lua scripts and MULTI, which
 * need no connection of their own).
 */
export interface HubStores {
  journal: Journal;
  journalStore: JournalStore;
  crossReferences: CrossReferenceStore;
  cursors: CursorStore;
  /** Who read personal data (console and API reads of payloads, person pages, exports). */
  accessLog: AccessLog;
  /** Payment files accepted and their transaction refs; ledger files written to Finance. */
  payments: PaymentRegister & LedgerBatches;
  mappings: MappingLibrary;
  health: HealthChecks;
  /** The gazetteer version each node uses, shown on /healthz and kept in Redis for the other instances. */
  gazetteerVersions: GazetteerVersions;
  /** The shared Redis client (HUB_STORE=redis). */
  redis?: Redis;
  sqlite?: Database.Database;
  close(): Promise<void>;
}

export function openStores(config: HubConfig): HubStores {
  const health = new HealthChecks();
  // HUB_MAPPINGS_COMPILED=off runs every mapping on the jsonata interpreter (to compare, or to rule the compiler out).
  const mappings = new MappingLibrary({ mappingsDir: config.paths.mappings, recheckMs: 1000, compile: config.compileMappings });
  const journalMetrics = new JournalMetrics();
  const settings = config.journal;
  let journalStore: JournalStore;
  let crossReferences: CrossReferenceStore;
  let cursors: CursorStore;
  let accessLog: AccessLog;
  let payments: PaymentRegister & LedgerBatches;
  let redis: Redis | undefined;
  let sqlite: Database.Database | undefined;
  if (config.store === 'redis') {
    // Commands asked for in one turn of the event loop go in one round trip (each journal
    // write is still its own atomic script or MULTI, answered only once Redis has it).
    // A journal write waits while Redis restarts rather than fail (maxRetriesPerRequest null): a
    // failed settle would leave its delivery in flight until this instance restarted.
    redis = new Redis(config.redisUrl!, { maxRetriesPerRequest: null, enableAutoPipelining: true });
    redis.on('error', () => undefined); // reported by /healthz and by the calls that fail
    journalStore = new RedisJournalStore(redis, { prefix: settings.redisPrefix, codec: config.dataCodec });
    accessLog = new RedisAccessLog(redis, settings.redisPrefix);
    crossReferences = new RedisCrossReferences(redis, crossReferencePrefix(settings.redisPrefix), config.dataCodec);
    cursors = new RedisCursors(redis, settings.redisPrefix);
    payments = new RedisPaymentRegister(redis, settings.redisPrefix);
    const client = redis;
    health.register('store', async () => {
      await redisHealth(client)();
      // Read each time: a Redis restarted with other settings shows here, not only at start.
      return redisStoreHealth(client, config.redisUrl!);
    });
  } else {
    const db = openSqlite(config.dataDir, 'hub.db', settings.sqliteSynchronous);
    sqlite = db;
    journalStore = new SqliteJournalStore(db, config.dataCodec);
    accessLog = new SqliteAccessLog(db);
    crossReferences = new SqliteCrossReferences(db, config.dataCodec);
    cursors = new SqliteCursors(db);
    payments = new SqlitePaymentRegister(db);
    health.register('store', async () => {
      db.prepare('select 1').get();
      return { detail: `sqlite ${db.name}`, kind: 'sqlite', synchronous: settings.sqliteSynchronous };
    });
  }
  if (redis) health.register('redis', redisHealth(redis));
  else if (config.redisUrl) {
    // REDIS_URL without HUB_STORE=redis: nothing is kept there, but /healthz still reports it.
    const probe = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1500 });
    probe.on('error', () => undefined);
    health.register('redis', async () => {
      if (probe.status === 'wait' || probe.status === 'end') await probe.connect();
      return redisHealth(probe)();
    });
  }
  if (config.rabbitmqUrl) health.register('rabbitmq', rabbitmqHealth(config.rabbitmqUrl));
  const gazetteerVersions = new GazetteerVersions(settings.instance, redis, settings.redisPrefix);
  health.register('gazetteer', () => gazetteerVersions.describe());
  const journal = new Journal({
    store: journalStore,
    instance: settings.instance,
    hubRetry: settings.hubRetry,
    metrics: journalMetrics,
    answerTimeoutMs: settings.answerTimeoutMs,
    codec: config.dataCodec,
  });
  return {
    journal,
    journalStore,
    crossReferences,
    cursors,
    accessLog,
    payments,
    mappings,
    health,
    gazetteerVersions,
    redis,
    sqlite,
    async close() {
      await journalStore.close();
      if (redis) await redis.quit().catch(() => redis!.disconnect());
      sqlite?.close();
    },
  };
}

/** The journal as the nodes may use it. */
export function journalPort(journal: Journal): JournalPort {
  return {
    isStored: async (messageId) => !!(await journal.store.getMessage(messageId)),
    async record(input) {
      const { duplicate, message } = await journal.record({
        source: input.source,
        sourceMessageId: input.sourceMessageId,
        key: input.key,
        payload: (input.msg as { payload?: unknown }).payload,
        entry: { nodeId: input.nodeId, how: 'send', msg: storableMessage(input.msg) },
      });
      return { duplicate, tag: messageTag(message) };
    },
    async recordMany(inputs) {
      const results = await journal.recordMany(
        inputs.map((input) => ({
          source: input.source,
          sourceMessageId: input.sourceMessageId,
          key: input.key,
          payload: (input.msg as { payload?: unknown }).payload,
          entry: { nodeId: input.nodeId, how: 'send' as const, msg: storableMessage(input.msg) },
        })),
      );
      return results.map(({ duplicate, message }) => ({ duplicate, routed: message.status === 'routed', tag: messageTag(message) }));
    },
    async refuse(input) {
      const { duplicate, message } = await journal.refuse({
        source: input.source,
        sourceMessageId: input.sourceMessageId,
        key: input.key,
        payload: (input.msg as { payload?: unknown }).payload,
        entry: { nodeId: input.nodeId, how: 'receive', msg: storableMessage(input.msg) },
        error: input.error,
        where: input.where,
      });
      return { duplicate, messageId: message.id };
    },
    deliveriesOfKey: (target, key) => journal.store.deliveriesOfKey(target, key),
    async startDelivery(input) {
      const result = await journal.startDelivery({ ...input, msg: storableMessage(input.msg) });
      return result.action === 'send' ? { ...result, tag: deliveryTag(result.delivery) } : result;
    },
    settle: (deliveryId, outcome, detail) => journal.settle(deliveryId, outcome, detail),
    awaitAnswer: (deliveryId) => journal.awaitAnswer(deliveryId),
    answer: (deliveryId, answer) => journal.answer(deliveryId, answer),
    delivery: (deliveryId) => journal.store.getDelivery(deliveryId),
    heldAddress: (target, key) => heldAddress(journal.store, target, key),
    async newestDelivered(target, key, than) {
      const d = await journal.newestDelivered(target, key);
      return d && { payload: messageAtDelivery(d)?.payload, newer: isNewer(d, than) };
    },
    retryPolicy: (input) => retryPolicy(input),
  };
}

/** The port the composition root hands the nodes (in Node-RED's settings). */
export function hubPortOf(config: HubConfig, stores: HubStores, settlement: Settlement, startup?: StartupWork): HubPort {
  return {
    paths: config.paths,
    mappings: stores.mappings,
    settlement,
    journal: journalPort(stores.journal),
    crossReferences: stores.crossReferences,
    cursors: stores.cursors,
    payments: stores.payments,
    ledgerBatches: stores.payments,
    sharedRedis: stores.redis,
    redisPrefix: config.journal.redisPrefix,
    gazetteerVersions: stores.gazetteerVersions,
    startup,
  };
}
