import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { openSqlite } from '../../hub/store';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { defaultRetryPolicy } from '../../hub/journal/retry';
import type { MessageRecord } from '../../hub/journal/types';

/**
 * The SQLite journal commits in groups: the writes of one turn of the event loop share one
 * transaction (one flush to disk). A write's promise must settle only once it is in the file:
 * that is what lets the hub acknowledge a sender after the journal has stored its message.
 */
describe('journal on SQLite: group commit', () => {
  let dir: string;
  let db: Database.Database;
  let reader: Database.Database;
  let store: SqliteJournalStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    db = openSqlite(dir);
    store = new SqliteJournalStore(db);
    reader = new Database(path.join(dir, 'hub.db'), { readonly: true });
  });
  afterEach(() => {
    reader.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const message = (i: number): MessageRecord => ({
    id: `m${i}`,
    source: 'crm',
    sourceMessageId: `evt-${i}`,
    payload: { i },
    receivedAt: 1_000 + i,
    status: 'received',
    entry: { nodeId: 'j', how: 'send', msg: {} },
    instance: 'hub-a',
    version: 1,
  });
  const inFile = (id: string) => reader.prepare('select count(*) as n from journal_message where id = ?').get(id) as { n: number };

  it('stores none of a turn\'s writes before its commit, and each one before its promise settles', async () => {
    const pending = Array.from({ length: 50 }, (_, i) => store.insertMessage(message(i)));
    // Asked for, not yet committed: another connection to the file sees nothing of them.
    assert.strictEqual(inFile('m0').n, 0);
    const seen: number[] = [];
    await Promise.all(pending.map((p, i) => p.then(() => seen.push(inFile(`m${i}`).n))));
    assert.deepStrictEqual(seen, Array(50).fill(1), 'every write is in the file when its promise settles');
  });

  it('keeps a failing write from undoing the rest of its group', async () => {
    await store.insertMessage(message(1));
    const delivery = { id: 'd1', messageId: 'm1', target: 'planning', key: 'C1', order: 1, seq: 1, status: 'in-flight' as const, idempotencyKey: 'd1', attempts: 1, retry: defaultRetryPolicy, createdAt: 1, updatedAt: 1, version: 1 };
    const outcomes = await Promise.allSettled([
      store.insertMessage(message(2)),
      store.commit({ deliveries: [{ ...delivery, version: 2 }] }), // an update of a delivery that is not there
      store.commit({ deliveries: [delivery] }),
      store.insertMessage(message(3)),
    ]);
    assert.deepStrictEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.strictEqual(inFile('m2').n + inFile('m3').n, 2);
    assert.strictEqual((await store.getDelivery('d1'))!.version, 1);
  });

  it('numbers deliveries in call order, in reserved blocks, and above every earlier number after a restart', async () => {
    const first = await Promise.all(Array.from({ length: 2500 }, () => store.nextSeq()));
    assert.deepStrictEqual(first, [...first].sort((a, b) => a - b));
    assert.strictEqual(new Set(first).size, 2500);
    // The reservation is in the file before a number from it is handed out.
    const reserved = (reader.prepare("select value from journal_sequence where name = 'delivery'").get() as { value: number }).value;
    assert.ok(reserved >= first[first.length - 1], `reserved ${reserved}, handed out ${first[first.length - 1]}`);
    const again = new SqliteJournalStore(db);
    const next = await again.nextSeq();
    assert.ok(next > Math.max(...first), `after a restart ${next} must be above ${Math.max(...first)}`);
  });
});
