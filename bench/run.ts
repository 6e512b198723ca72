import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { Journal } from '../hub/journal/journal';
import { SqliteJournalStore } from '../hub/journal/sqlite-store';
import { RedisJournalStore } from '../hub/journal/redis-store';
import type { JournalStore } from '../hub/journal/types';
import { openSqlite } from '../hub/store';
import { repoRoot } from '../hub/paths';
import { compare, figure, machine, table, throughput, type ComparisonResult, type Figure, type Measurement } from './harness';
import { journeyScenarios } from './journey';
import { replayBench } from './replay';
import { paymentFileBenchmark } from './payment-file';
import { gazetteerLoadBench } from './gazetteer-load';
import { amqpPassThroughComparison } from './amqp-passthrough';
import { mapNodeComparisons } from './map-node';
import { compiledMappingComparisons } from './compiled-mappings';
import { coldStartFigures } from './cold-start';
import { purgeOnRedis, purgeOnSqlite } from './purge';

/**
 * `npm run bench [-- --quick] [-- --only 1,4,4c,1c]`: every scenario of docs/performance.md, each
 * against its reference in the same run, interleaved over several rounds; prints the table
 * of ratios (medians) and writes bench/results/<time>.json with the machine it ran on.
 * Benchmarks measure; tests never assert timings.
 */

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(',').map((s) => s.trim())) : undefined;
const wanted = (scenario: string) => !only || only.has(scenario);
const log = (line: string) => console.log(line);

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

/** The journal's own cost per message (record, start a delivery, settle it), 64 at a time. */
async function journalOps(store: JournalStore, count: number): Promise<Measurement> {
  const journal = new Journal({ store, instance: `bench-${process.pid}` });
  const run = `${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  return throughput(count, 64, async (i) => {
    const { message } = await journal.record({ source: 'bench', sourceMessageId: `${run}-${i}`, key: `P${i}`, payload: resolved, entry: { nodeId: 'bench', how: 'send', msg: {} } });
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: `P${i}:${run}`, nodeId: 'bench', msg: { payload: resolved } });
    await journal.settle(started.delivery.id, 'delivered');
  });
}

async function main() {
  const rounds = quick ? 2 : 3;
  const comparisons: ComparisonResult[] = [];
  const figures: Figure[] = [];
  const failed: Array<{ scenario: string; error: string }> = [];
  // A scenario that fails is reported with its error; the others still run and are written.
  const guarded = async (scenario: string, work: () => Promise<void>) => {
    if (!wanted(scenario)) return;
    try {
      await work();
    } catch (err) {
      failed.push({ scenario, error: (err as Error).stack ?? String(err) });
      log(`  scenario ${scenario} FAILED: ${(err as Error).message}`);
    }
  };
  const started = Date.now();
  log(`council-hub bench (${quick ? 'quick' : 'full'}), ${rounds} rounds a scenario`);

  await guarded(wanted('1') ? '1' : wanted('2') ? '2' : '1c', async () => {
    const journey = journeyScenarios(quick);
    await journey.open();
    try {
      if (wanted('1')) comparisons.push(await compare(journey.journey, rounds, log));
      if (wanted('2')) comparisons.push(await compare(journey.journal, rounds, log));
      if (wanted('1c')) comparisons.push(await compare(journey.compiledMappings, rounds, log));
    } finally {
      await journey.close();
    }
  });

  await guarded('3', async () => {
    comparisons.push(await compare(await amqpPassThroughComparison(quick), rounds, log));
  });
  await guarded('4', async () => {
    for (const c of await mapNodeComparisons(quick)) comparisons.push(await compare(c, rounds, log));
  });
  await guarded('4c', async () => {
    for (const c of compiledMappingComparisons(quick)) comparisons.push(await compare(c, rounds, log));
  });

  await guarded('journal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-journal-'));
    const db = openSqlite(dir);
    const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
    const prefix = `bench:${process.pid}:${Date.now()}:`;
    const count = quick ? 2000 : 10000;
    try {
      figures.push(await figure(`journal on SQLite (FULL), ${count} messages recorded, started, settled, 64 at a time`, 'messages/s', rounds, () => journalOps(new SqliteJournalStore(db), count), undefined, log));
      figures.push(await figure(`journal on Redis, ${count} messages recorded, started, settled, 64 at a time`, 'messages/s', rounds, () => journalOps(new RedisJournalStore(redis, { prefix }), count), undefined, log));
    } finally {
      for (;;) {
        const keys = await redis.keys(`${prefix}*`);
        if (!keys.length) break;
        await redis.del(...keys.slice(0, 500));
      }
      redis.disconnect();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  await guarded('5', async () => {
    const replay = replayBench(quick);
    await replay.open();
    try {
      figures.push(await figure(`5. replay of a failure group of ${replay.count} dead letters, to the last delivered`, 's', quick ? 1 : 2, () => replay.round(), { atMost: 20, text: 'under 20 s' }, log));
    } finally {
      await replay.close();
    }
  });

  await guarded('6', async () => {
    const records = quick ? 10000 : 100000;
    figures.push(
      await figure(`6. payment file of ${records} records, claim to GL files written (hub process)`, 's', 1, async () => {
        const r = await paymentFileBenchmark(records);
        return { value: r.seconds, extra: { peakRssMiB: r.peakRssMiB, paymentsPerSecond: r.paymentsPerSecond, glFiles: r.glFiles } };
      }, { atMost: 10, text: 'under 10 s and 256 MB for 100,000' }, log),
    );
  });

  await guarded('7', async () => {
    const gazetteer = gazetteerLoadBench(quick);
    gazetteer.open();
    try {
      figures.push(await figure(`7. gazetteer of ${gazetteer.properties} properties loaded (own process)`, 's', quick ? 1 : 2, () => gazetteer.round(), { atMost: 60, text: 'under 60 s and 300 MB for 1,000,000' }, log));
    } finally {
      gazetteer.close();
    }
  });

  await guarded('8', async () => {
    figures.push(...(await coldStartFigures(quick, { log })));
  });

  await guarded('9', async () => {
    // One round each: a retention run removes what it removes; the journal is built anew.
    const sqliteRecords = quick ? 100_000 : 1_000_000;
    const redisRecords = quick ? 20_000 : 100_000;
    figures.push(await figure(`9. retention run on a SQLite journal of ${sqliteRecords} messages and deliveries (70% due)`, 's', 1, () => purgeOnSqlite(sqliteRecords), undefined, log));
    figures.push(await figure(`9. retention run on a Redis journal of ${redisRecords} messages and deliveries (70% due)`, 's', 1, () => purgeOnRedis(redisRecords), undefined, log));
  });

  // A memory goal is part of the figure: a load under time but over its memory is not met.
  for (const f of figures) {
    if (f.met && f.extra.peakRssMiB !== undefined) {
      const ceiling = /256 MB/.test(f.goal ?? '') ? 256 : /300 MB/.test(f.goal ?? '') ? 300 : undefined;
      if (ceiling !== undefined && !quick && f.extra.peakRssMiB > ceiling) f.met = false;
    }
    if (quick && f.goal && /for 1,000,000|for 100,000/.test(f.goal)) delete f.met; // the goal is for the full size
  }

  console.log(`\n${table(comparisons, figures)}\n`);
  for (const f of failed) console.log(`scenario ${f.scenario} failed: ${f.error.split('\n')[0]}`);
  const out = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), quick, rounds, seconds: Math.round((Date.now() - started) / 1000), machine: machine(), comparisons, figures, failed }, null, 2));
  console.log(`results: ${path.relative(repoRoot, file)}`);
  if (failed.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

