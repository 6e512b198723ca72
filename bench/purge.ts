import fs from 'fs';
import os from 'os';
import path from 'path';
import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { Journal } from '../hub/journal/journal';
import { SqliteJournalStore } from '../hub/journal/sqlite-store';
import { RedisJournalStore } from '../hub/journal/redis-store';
import { defaultRetryPolicy } from '../hub/journal/retry';
import type { DeliveryRecord, DeliveryStatus, JournalStore, MessageRecord } from '../hub/journal/types';
import { openSqlite } from '../hub/store';
import type { Measurement } from './harness';

const DAY = 24 * 60 * 60 * 1000;
const PERIODS = { settledMs: 30 * DAY, discardedMs: 180 * DAY, refusedMs: 90 * DAY, auditMs: 2190 * DAY };

/**
 * Scenario 9: the retention run's cost on a large journal. `records` messages, each with one
 * delivery: 60% delivered long ago (due), 20% delivered lately, 10% discarded long ago (due),
 * 10% dead (open: kept). One round: the run removes what it removes.
 */
async function fill(store: JournalStore, records: number, now: number): Promise<void> {
  const payload = { contact: { contactId: 'C0000001', firstName: 'Ann', lastName: 'Smith', dateOfBirth: '1980-03-14' }, newAddress: { line1: 'Rose Cottage', postcode: 'XM1 2AB' } };
  const chunk = 5000;
  for (let at = 0; at < records; at += chunk) {
    const messages: MessageRecord[] = [];
    const deliveries: DeliveryRecord[] = [];
    for (let i = at; i < Math.min(records, at + chunk); i++) {
      const slot = i % 10;
      const status: DeliveryStatus = slot < 6 ? 'delivered' : slot < 8 ? 'delivered' : slot < 9 ? 'discarded' : 'dead';
      const age = slot < 6 ? 40 * DAY : slot < 8 ? DAY : slot < 9 ? 200 * DAY : 400 * DAY;
      const id = randomUUID();
      messages.push({ id, source: 'bench', key: `C${i}`, payload, receivedAt: now - age, status: 'routed', entry: { nodeId: 'j', how: 'send', msg: { payload } }, instance: 'bench', version: 1 });
      deliveries.push({
        id: randomUUID(), messageId: id, target: 'planning', key: `C${i}`, order: 1, seq: i, status, idempotencyKey: id, attempts: 1, retry: defaultRetryPolicy,
        resume: { nodeId: 'd', how: 'send', msg: { payload } }, createdAt: now - age, updatedAt: now - age, ...(status !== 'dead' ? { settledAt: now - age } : {}), version: 1,
      });
    }
    await store.insertMessages(messages);
    await store.commit({ deliveries });
  }
}

async function measure(store: JournalStore, records: number): Promise<Measurement> {
  const now = Date.now();
  const filled = Date.now();
  await fill(store, records, now);
  const fillSeconds = (Date.now() - filled) / 1000;
  const journal = new Journal({ store, instance: 'bench', now: () => now });
  const started = process.hrtime.bigint();
  const report = await journal.purge(PERIODS);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const expected = Math.floor(records * 0.7);
  if (report.settled + report.discarded !== expected) throw new Error(`the purge removed ${report.settled + report.discarded} deliveries, expected ${expected}`);
  return { value: seconds, extra: { records, removedDeliveries: report.settled + report.discarded, removedMessages: report.messages, fillSeconds, recordsPerSecond: Math.round(expected / seconds) } };
}

export async function purgeOnSqlite(records: number): Promise<Measurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-purge-'));
  const db = openSqlite(dir);
  try {
    const m = await measure(new SqliteJournalStore(db), records);
    return { ...m, extra: { ...m.extra, fileMiB: Math.round(fs.statSync(path.join(dir, 'hub.db')).size / 1048576) } };
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function purgeOnRedis(records: number): Promise<Measurement> {
  const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  const prefix = `bench:purge:${process.pid}:${Date.now()}:`;
  try {
    return await measure(new RedisJournalStore(redis, { prefix }), records);
  } finally {
    for (;;) {
      const keys = await redis.keys(`${prefix}*`);
      if (!keys.length) break;
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    }
    redis.disconnect();
  }
}
