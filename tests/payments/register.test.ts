import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import type { AcceptedPaymentFile, LedgerBatches, PaymentRegister } from '../../adapters/payments/register';
import { RedisPaymentRegister, SqlitePaymentRegister } from '../../hub/payments/register';
import { openSqlite } from '../../hub/store';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../journal/stores';

const file = (over: Partial<AcceptedPaymentFile> = {}): AcceptedPaymentFile => ({
  name: 'PAY_20261201_001.txt', sha256: 'a'.repeat(64), sourceId: 'CASHRCPT01', fileDate: '2026-12-01', sequence: 1, payments: 3, totalPence: 4500, acceptedAt: 1_000, ...over,
});

/** The same contract on both stores: SQLite (embedded) and Redis (shared by instances). */
const stores: Array<{ name: string; open(): Promise<PaymentRegister & LedgerBatches>; close(): Promise<void> }> = [
  (() => {
    const dirs: string[] = [];
    return {
      name: 'sqlite',
      async open() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payment-register-'));
        dirs.push(dir);
        return new SqlitePaymentRegister(openSqlite(dir));
      },
      async close() {
        for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
      },
    };
  })(),
  (() => {
    const redis = new Redis(REDIS_URL);
    const prefixes: string[] = [];
    return {
      name: 'redis',
      async open() {
        const prefix = uniquePrefix('payments');
        prefixes.push(prefix);
        return new RedisPaymentRegister(redis, prefix);
      },
      async close() {
        for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
        redis.disconnect();
      },
    };
  })(),
];

for (const store of stores) {
  describe(`payment register and ledger batches: ${store.name}`, () => {
    after(() => store.close());

    it('remembers an accepted file by source, date and sequence, with every transaction ref', async () => {
      const register = await store.open();
      assert.strictEqual(await register.fileWithSequence({ sourceId: 'CASHRCPT01', fileDate: '2026-12-01', sequence: 1 }), undefined);
      const refs = Array.from({ length: 1200 }, (_, i) => `T${String(i).padStart(6, '0')}`);
      await register.accept(file(), refs);
      assert.deepStrictEqual(await register.fileWithSequence({ sourceId: 'CASHRCPT01', fileDate: '2026-12-01', sequence: 1 }), file());
      assert.strictEqual(await register.fileWithSequence({ sourceId: 'CASHRCPT01', fileDate: '2026-12-01', sequence: 2 }), undefined);
      assert.strictEqual(await register.fileWithSequence({ sourceId: 'OTHERSRC01', fileDate: '2026-12-01', sequence: 1 }), undefined);
      const known = await register.knownTransactionRefs(['T000000', 'NEW000001', 'T001199', 'T001200']);
      assert.deepStrictEqual([...known], [['T000000', 'PAY_20261201_001.txt'], ['T001199', 'PAY_20261201_001.txt']]);
      assert.deepStrictEqual((await register.acceptedFiles()).map((f) => f.name), ['PAY_20261201_001.txt']);
    });

    it('gives each day its own ledger file sequence, never the same number twice', async () => {
      const batches = await store.open();
      const seen = await Promise.all(Array.from({ length: 20 }, () => batches.nextSequence('20261201')));
      assert.deepStrictEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.strictEqual(await batches.nextSequence('20261202'), 1);
    });

    it('keeps a ledger batch until Finance answers it', async () => {
      const batches = await store.open();
      await batches.remember({ file: 'GL_20261201_0001.csv', deliveryIds: ['d1', 'd2'], journals: 2, debitPence: 300, createdAt: 5 });
      await batches.remember({ file: 'GL_20261201_0002.csv', deliveryIds: ['d3'], journals: 1, debitPence: 100, createdAt: 6 });
      assert.deepStrictEqual((await batches.unanswered()).map((b) => b.file), ['GL_20261201_0001.csv', 'GL_20261201_0002.csv']);
      await batches.answered('GL_20261201_0001.csv', { outcome: 'rejected', problems: ['closed period'], at: 9 });
      await batches.answered('GL_20261201_9999.csv', { outcome: 'processed', problems: [], at: 9 }); // unknown: nothing
      assert.deepStrictEqual((await batches.unanswered()).map((b) => b.file), ['GL_20261201_0002.csv']);
      assert.deepStrictEqual((await batches.batch('GL_20261201_0001.csv'))?.answer, { outcome: 'rejected', problems: ['closed period'], at: 9 });
      assert.deepStrictEqual((await batches.batch('GL_20261201_0001.csv'))?.deliveryIds, ['d1', 'd2']);
      assert.strictEqual(await batches.batch('GL_20261201_9999.csv'), undefined);
    });
  });
}
