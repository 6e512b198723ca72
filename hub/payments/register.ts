import type Database from 'better-sqlite3';
import type Redis from 'ioredis';
import type { AcceptedPaymentFile, LedgerBatch, LedgerBatches, PaymentFileIdentity, PaymentRegister } from '../../adapters/payments/register';

/**
 * The payment register and the ledger batches in the hub's store (SQLite embedded, or the
 * shared Redis), opened by the composition root beside the journal.
 */
const CHUNK = 500;

function identityKey(i: PaymentFileIdentity): string {
  return `${i.sourceId}|${i.fileDate}|${i.sequence}`;
}

export class SqlitePaymentRegister implements PaymentRegister, LedgerBatches {
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
    db.exec(`
      create table if not exists payment_file (identity text primary key, accepted_at integer not null, doc text not null);
      create table if not exists payment_ref (ref text primary key, file text not null);
      create table if not exists ledger_batch (file text primary key, answered integer not null default 0, doc text not null);
      create index if not exists ledger_batch_open on ledger_batch(answered);
      create table if not exists ledger_sequence (day text primary key, value integer not null);
    `);
  }

  async fileWithSequence(identity: PaymentFileIdentity): Promise<AcceptedPaymentFile | undefined> {
    const row = this.db.prepare('select doc from payment_file where identity = ?').get(identityKey(identity)) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : undefined;
  }

  async knownTransactionRefs(refs: readonly string[]): Promise<Map<string, string>> {
    const known = new Map<string, string>();
    for (let at = 0; at < refs.length; at += CHUNK) {
      const chunk = refs.slice(at, at + CHUNK);
      const rows = this.db.prepare(`select ref, file from payment_ref where ref in (${chunk.map(() => '?').join(',')})`).all(...chunk) as Array<{ ref: string; file: string }>;
      for (const row of rows) known.set(row.ref, row.file);
    }
    return known;
  }

  async accept(file: AcceptedPaymentFile, refs: readonly string[]): Promise<void> {
    const insertRef = this.db.prepare('insert into payment_ref (ref, file) values (?, ?) on conflict do nothing');
    this.db.transaction(() => {
      this.db.prepare('insert into payment_file (identity, accepted_at, doc) values (?, ?, ?)').run(identityKey(file), file.acceptedAt, JSON.stringify(file));
      for (const ref of refs) insertRef.run(ref, file.name);
    })();
  }

  async acceptedFiles(): Promise<AcceptedPaymentFile[]> {
    return (this.db.prepare('select doc from payment_file order by accepted_at').all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc));
  }

  async nextSequence(day: string): Promise<number> {
    const row = this.db.prepare('insert into ledger_sequence (day, value) values (?, 1) on conflict(day) do update set value = value + 1 returning value').get(day) as { value: number };
    return row.value;
  }

  async remember(batch: LedgerBatch): Promise<void> {
    this.db.prepare('insert into ledger_batch (file, answered, doc) values (?, ?, ?)').run(batch.file, batch.answer ? 1 : 0, JSON.stringify(batch));
  }

  async batch(file: string): Promise<LedgerBatch | undefined> {
    const row = this.db.prepare('select doc from ledger_batch where file = ?').get(file) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : undefined;
  }

  async answered(file: string, answer: NonNullable<LedgerBatch['answer']>): Promise<void> {
    const batch = await this.batch(file);
    if (!batch) return;
    this.db.prepare('update ledger_batch set answered = 1, doc = ? where file = ?').run(JSON.stringify({ ...batch, answer }), file);
  }

  async unanswered(): Promise<LedgerBatch[]> {
    return (this.db.prepare('select doc from ledger_batch where answered = 0 order by file').all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc));
  }
}

export class RedisPaymentRegister implements PaymentRegister, LedgerBatches {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(name: string): string {
    return `${this.prefix}payments:${name}`;
  }

  async fileWithSequence(identity: PaymentFileIdentity): Promise<AcceptedPaymentFile | undefined> {
    const doc = await this.redis.hget(this.key('files'), identityKey(identity));
    return doc ? JSON.parse(doc) : undefined;
  }

  async knownTransactionRefs(refs: readonly string[]): Promise<Map<string, string>> {
    const known = new Map<string, string>();
    for (let at = 0; at < refs.length; at += CHUNK) {
      const chunk = refs.slice(at, at + CHUNK);
      const files = await this.redis.hmget(this.key('refs'), ...chunk);
      files.forEach((file, i) => file && known.set(chunk[i], file));
    }
    return known;
  }

  async accept(file: AcceptedPaymentFile, refs: readonly string[]): Promise<void> {
    // One MULTI: the file and all its refs are remembered together or not at all.
    const multi = this.redis.multi();
    for (let at = 0; at < refs.length; at += CHUNK) {
      const fields: string[] = [];
      for (const ref of refs.slice(at, at + CHUNK)) fields.push(ref, file.name);
      multi.hset(this.key('refs'), ...fields);
    }
    multi.hset(this.key('files'), identityKey(file), JSON.stringify(file));
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('redis: the payment file could not be remembered (transaction aborted)');
  }

  async acceptedFiles(): Promise<AcceptedPaymentFile[]> {
    const docs = await this.redis.hvals(this.key('files'));
    return docs.map((d) => JSON.parse(d) as AcceptedPaymentFile).sort((a, b) => a.acceptedAt - b.acceptedAt);
  }

  async nextSequence(day: string): Promise<number> {
    return this.redis.incr(this.key(`ledger-sequence:${day}`));
  }

  async remember(batch: LedgerBatch): Promise<void> {
    const multi = this.redis.multi().hset(this.key('ledger-batches'), batch.file, JSON.stringify(batch));
    if (!batch.answer) multi.sadd(this.key('ledger-open'), batch.file);
    await multi.exec();
  }

  async batch(file: string): Promise<LedgerBatch | undefined> {
    const doc = await this.redis.hget(this.key('ledger-batches'), file);
    return doc ? JSON.parse(doc) : undefined;
  }

  async answered(file: string, answer: NonNullable<LedgerBatch['answer']>): Promise<void> {
    const batch = await this.batch(file);
    if (!batch) return;
    await this.redis.multi().hset(this.key('ledger-batches'), file, JSON.stringify({ ...batch, answer })).srem(this.key('ledger-open'), file).exec();
  }

  async unanswered(): Promise<LedgerBatch[]> {
    const files = (await this.redis.smembers(this.key('ledger-open'))).sort();
    if (!files.length) return [];
    const docs = await this.redis.hmget(this.key('ledger-batches'), ...files);
    return docs.filter((d): d is string => !!d).map((d) => JSON.parse(d) as LedgerBatch);
  }
}
