import fs from 'fs';
import os from 'os';
import path from 'path';
import { performance } from 'perf_hooks';
import Database from 'better-sqlite3';
import Redis from 'ioredis';
import { MappingLibrary } from '../adapters/mapping';
import { Gazetteer } from '../adapters/gazetteer';
import { generatePopulation, writeGazetteer } from '../simulators';
import { Journal } from '../hub/journal/journal';
import { SqliteJournalStore } from '../hub/journal/sqlite-store';
import { RedisJournalStore } from '../hub/journal/redis-store';
import type { JournalStore } from '../hub/journal/types';
import { repoRoot } from '../hub/paths';
import { paymentFileBenchmark, type PaymentFileBenchmark } from './payment-file';

/**
 * `npm run bench`: the hub's hot paths, measured (not asserted). Each scenario reports
 * operations per second, the mean and 99th percentile time of one operation, and the heap
 * it grew by; results also go to bench/results/<time>.json to compare runs.
 */
interface Result {
  scenario: string;
  operations: number;
  perSecond: number;
  meanMicros: number;
  p99Micros: number;
  heapGrowthMiB: number;
  note?: string;
}

async function measure(scenario: string, operations: number, op: (i: number) => Promise<unknown> | unknown, note?: string): Promise<Result> {
  for (let i = 0; i < Math.min(50, operations); i++) await op(i); // warm up
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < operations; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  const elapsed = performance.now() - started;
  times.sort((a, b) => a - b);
  return {
    scenario,
    operations,
    perSecond: Math.round((operations / elapsed) * 1000),
    meanMicros: Math.round((elapsed / operations) * 1000),
    p99Micros: Math.round(times[Math.floor(times.length * 0.99)] * 1000),
    heapGrowthMiB: Math.round(((process.memoryUsage().heapUsed - heapBefore) / 1048576) * 10) / 10,
    ...(note ? { note } : {}),
  };
}

function crmEvent(i: number) {
  return {
    eventType: 'ContactAddressChanged',
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    raisedAt: '2026-11-23T10:00:00Z',
    contact: { contactId: `C${String(i).padStart(7, '0')}`, title: 'Ms', firstName: 'Siân', lastName: "O'Brien", dateOfBirth: '1980-03-14', email: 'a@example.org', phone: '07700 900000' },
    oldAddress: { line1: 'Flat 2', line2: '12 High Street', line3: '', town: 'Ashbury', postcode: 'xm1 1ab', uprn: '10009000001' },
    newAddress: { line1: 'Rose Cottage', line2: 'Mill Lane', line3: 'Northgate', town: 'Ashbury', postcode: 'XM1 2AB', uprn: '10009000002' },
    effectiveDate: '2026-11-18',
    source: 'ContactCentre',
  };
}

const resolved = {
  eventType: 'person.address.changed',
  eventId: 'e1',
  occurredAt: '2026-11-23T10:00:00Z',
  source: { system: 'crm' },
  person: { forename: 'Ann', surname: 'Smith', dateOfBirth: '1980-03-14', ids: { crmContactId: 'C0000001' } },
  previousAddress: { uprn: '10009000001', saon: 'Flat 2', paon: '12', streetDescription: 'High Street', townName: 'Ashbury', postTown: 'ASHBURY', postcode: 'XM1 1AB' },
  newAddress: { uprn: '10009000002', paon: 'Rose Cottage', streetDescription: 'Mill Lane', locality: 'Northgate', townName: 'Ashbury', postTown: 'ASHBURY', postcode: 'XM1 2AB' },
  effectiveDate: '2026-11-18',
};

async function journalScenario(name: string, store: JournalStore, operations: number): Promise<Result> {
  const journal = new Journal({ store, instance: `bench-${process.pid}` });
  const run = `${Date.now()}`;
  return measure(name, operations, async (i) => {
    const { message } = await journal.record({ source: 'bench', sourceMessageId: `${run}-${i}`, key: `P${i % 500}`, payload: resolved, entry: { nodeId: 'bench', how: 'send', msg: {} } });
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: `P${i % 500}:${run}:${i}`, nodeId: 'bench', msg: { payload: resolved } });
    await journal.settle(started.delivery.id, 'delivered');
  }, 'record a message, start a delivery, settle it delivered');
}

async function main() {
  const quick = process.argv.includes('--quick');
  const n = (full: number) => (quick ? Math.max(50, Math.floor(full / 10)) : full);
  const results: Result[] = [];
  const library = new MappingLibrary({ mappingsDir: path.join(repoRoot, 'mappings') });

  results.push(await measure('mapping crm-event-to-canonical', n(5000), (i) => library.run('crm-event-to-canonical', crmEvent(i))));
  results.push(await measure('mapping canonical-to-planning', n(5000), () => library.run('canonical-to-planning', resolved, { partyId: 'P1', requestId: 'r1' })));
  results.push(await measure('mapping canonical-to-housing', n(5000), () => library.run('canonical-to-housing', resolved, { tenancyRef: 'T1', personRef: 'H1', requestId: 'r1' })));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-'));
  const properties = quick ? 30000 : 300000;
  const population = generatePopulation({ properties });
  const extract = path.join(dir, 'llpg.csv');
  writeGazetteer(extract, population.gazetteer);
  const gazetteer = new Gazetteer(extract);
  results.push(await measure(`gazetteer load (${properties} rows)`, 1, () => gazetteer.load(), 'one full load of the LLPG extract, indexed'));
  const uprns = population.gazetteer.map((r) => r.uprn);
  results.push(await measure('gazetteer UPRN check', n(100000), (i) => gazetteer.validateUprn(uprns[i % uprns.length])));

  const db = new Database(path.join(dir, 'hub.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  results.push(await journalScenario('journal on SQLite (synchronous=FULL)', new SqliteJournalStore(db), n(2000)));
  const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  const prefix = `bench:${process.pid}:${Date.now()}:`;
  try {
    results.push(await journalScenario('journal on Redis', new RedisJournalStore(redis, { prefix }), n(2000)));
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    redis.disconnect();
    db.close();
  }

  // A payment file from claim to GL files written, in a real hub process (its time and peak RSS).
  const paymentFile: PaymentFileBenchmark = await paymentFileBenchmark(quick ? 10000 : 100000);

  console.table(results.map((r) => ({ scenario: r.scenario, 'ops/s': r.perSecond, 'mean µs': r.meanMicros, 'p99 µs': r.p99Micros, 'heap +MiB': r.heapGrowthMiB })));
  console.table([{ scenario: `payment file of ${paymentFile.records} records, claim to GL files written`, seconds: paymentFile.seconds, 'payments/s': paymentFile.paymentsPerSecond, 'hub peak RSS MiB': paymentFile.peakRssMiB, 'GL files': paymentFile.glFiles, goal: paymentFile.goal }]);
  const out = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick, results, paymentFile }, null, 2));
  console.log(`results: ${path.relative(repoRoot, file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
