import type Database from 'better-sqlite3';
import { KeyedMutex } from './mutex';
import { newestLive } from './order';
import { demoCodec, PersonalDataCodec } from './sealing';
import { groupCommitOf, type GroupCommit } from '../store';
import {
  AuditRecord,
  ErasureRecord,
  PurgeReport,
  RetentionCutoffs,
  Change,
  ConflictError,
  Counts,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  Hop,
  JournalStore,
  MessageFilter,
  MessageRecord,
  Page,
  openStatuses,
  prunableStatuses,
} from './types';

/** Statuses with a timer (next_attempt_at): a retry, or an answer deadline. */
const timed: readonly DeliveryStatus[] = ['failed', 'awaiting-answer'];

/** Delivery numbers reserved by one write (nextSeq). */
const SEQUENCE_BLOCK = 1000;

const SCHEMA = `
create table if not exists journal_message (
  id text primary key,
  source text not null,
  source_message_id text,
  key text,
  received_at integer not null,
  status text not null,
  instance text not null,
  doc text not null
);
create unique index if not exists journal_message_source on journal_message(source, source_message_id) where source_message_id is not null;
create index if not exists journal_message_received on journal_message(received_at);
create index if not exists journal_message_status on journal_message(status, instance);
create index if not exists journal_message_key on journal_message(key, received_at);
create index if not exists journal_message_source_received on journal_message(source, received_at);
create table if not exists journal_delivery (
  id text primary key,
  message_id text not null,
  target text not null,
  key text not null,
  status text not null,
  updated_at integer not null,
  settled_at integer,
  next_attempt_at integer,
  owner text,
  version integer not null,
  doc text not null
);
create index if not exists journal_delivery_key on journal_delivery(target, key);
create index if not exists journal_delivery_status on journal_delivery(status, updated_at);
create index if not exists journal_delivery_message on journal_delivery(message_id);
create index if not exists journal_delivery_updated on journal_delivery(updated_at);
create index if not exists journal_delivery_counts on journal_delivery(status, target);
create table if not exists journal_hop (
  message_id text not null,
  started_at integer not null,
  doc text not null
);
create index if not exists journal_hop_message on journal_hop(message_id, started_at);
create table if not exists journal_audit (
  id text primary key,
  at integer not null,
  delivery_id text,
  message_id text,
  doc text not null
);
create index if not exists journal_audit_delivery on journal_audit(delivery_id);
create index if not exists journal_audit_message on journal_audit(message_id);
create table if not exists journal_sequence (name text primary key, value integer not null);
create table if not exists journal_erasure (id text primary key, at integer not null, doc text not null);
create table if not exists journal_erased (record_id text primary key, erasure_id text not null);
`;

/** Builds a where clause and its arguments from the filters that are set. */
class Where {
  readonly parts: string[] = [];
  readonly args: unknown[] = [];
  add(sql: string, ...values: unknown[]): void {
    this.parts.push(sql);
    this.args.push(...values);
  }
  sql(joiner = ' and '): string {
    return this.parts.length ? `where ${this.parts.join(joiner)}` : '';
  }
}

/**
 * The embedded journal store: tables in the hub's SQLite file (hub/store.ts opens it in WAL
 * mode with synchronous=FULL, so a commit is on disk before the sender is acknowledged).
 * Each record is a JSON document plus the columns that are filtered on. One process owns
 * the file, so the (target, key) lock is an in-process mutex.
 *
 * Writes commit in groups: every write asked for in one turn of the event loop goes into one
 * transaction (each in its own savepoint, so that one that conflicts fails alone), and each
 * write's promise settles only once that transaction is on disk (hub/store.ts, GroupCommit).
 * Durability is the same as one transaction a write; the cost of the disk flush is shared.
 */
export class SqliteJournalStore implements JournalStore {
  readonly kind = 'sqlite' as const;
  private readonly mutex = new KeyedMutex();
  /** Statements built from a filter, prepared once per text (there are a few dozen shapes). */
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly statements;
  /** The database's group commit (hub/store.ts), shared with everything else that writes to it. */
  private readonly commits: GroupCommit;

  /** `codec` seals payloads and stored messages (hub/journal/sealing.ts); the demo key unless given. */
  constructor(
    private readonly db: Database.Database,
    private readonly codec: PersonalDataCodec = demoCodec(),
  ) {
    db.exec(SCHEMA);
    // What is deleted or rewritten (a purge, an erasure, audit pseudonymised) is overwritten
    // with zeros in the file, not left in free pages for anyone reading the file.
    db.pragma('secure_delete = ON');
    this.commits = groupCommitOf(db);
    this.statements = {
      insertMessage: db.prepare(
        `insert into journal_message (id, source, source_message_id, key, received_at, status, instance, doc)
         values (@id, @source, @sourceMessageId, @key, @receivedAt, @status, @instance, @doc) on conflict do nothing`,
      ),
      messageBySource: db.prepare('select doc from journal_message where source = ? and source_message_id = ?'),
      message: db.prepare('select doc from journal_message where id = ?'),
      updateMessage: db.prepare('update journal_message set status = @status, instance = @instance, doc = @doc where id = @id and json_extract(doc, \'$.version\') = @previous'),
      delivery: db.prepare('select doc from journal_delivery where id = ?'),
      insertDelivery: db.prepare(
        `insert into journal_delivery (id, message_id, target, key, status, updated_at, settled_at, next_attempt_at, owner, version, doc)
         values (@id, @messageId, @target, @key, @status, @updatedAt, @settledAt, @nextAttemptAt, @owner, @version, @doc) on conflict do nothing`,
      ),
      updateDelivery: db.prepare(
        `update journal_delivery set status = @status, updated_at = @updatedAt, settled_at = @settledAt, next_attempt_at = @nextAttemptAt,
         owner = @owner, version = @version, doc = @doc where id = @id and version = @previous`,
      ),
      byKey: db.prepare('select doc from journal_delivery where target = ? and key = ?'),
      due: db.prepare("select doc from journal_delivery where status in ('failed', 'awaiting-answer') and next_attempt_at <= ? order by next_attempt_at limit ?"),
      inFlight: db.prepare("select doc from journal_delivery where status = 'in-flight' and owner = ?"),
      received: db.prepare("select doc from journal_message where status = 'received' and instance = ? order by received_at"),
      counts: db.prepare('select status, target, count(*) as n from journal_delivery group by status, target'),
      insertHop: db.prepare('insert into journal_hop (message_id, started_at, doc) values (?, ?, ?)'),
      hops: db.prepare('select doc from journal_hop where message_id = ? order by started_at, rowid'),
      insertAudit: db.prepare('insert into journal_audit (id, at, delivery_id, message_id, doc) values (@id, @at, @deliveryId, @messageId, @doc)'),
      reserveSequence: db.prepare(
        "insert into journal_sequence (name, value) values ('delivery', @block) on conflict(name) do update set value = value + @block returning value",
      ),
    };
  }

  private sql(text: string): Database.Statement {
    let statement = this.prepared.get(text);
    if (!statement) {
      if (this.prepared.size >= 500) this.prepared.clear();
      statement = this.db.prepare(text);
      this.prepared.set(text, statement);
    }
    return statement;
  }

  private m = (doc: string): MessageRecord => this.codec.openMessage(JSON.parse(doc));
  private d = (doc: string): DeliveryRecord => this.codec.openDelivery(JSON.parse(doc));
  private a = (doc: string): AuditRecord => this.codec.openAudit(JSON.parse(doc));

  /** Runs `run` in the next group commit; settles once that commit is on disk. */
  private write<T>(run: () => T): Promise<T> {
    return this.commits.write(run);
  }

  async insertMessage(message: MessageRecord): Promise<{ inserted: boolean; message: MessageRecord }> {
    return this.write(() => this.insertOne(message));
  }

  private insertOne(message: MessageRecord): { inserted: boolean; message: MessageRecord } {
    const result = this.statements.insertMessage.run({
      ...message,
      sourceMessageId: message.sourceMessageId ?? null,
      key: message.key ?? null,
      doc: JSON.stringify(this.codec.sealMessage(message)),
    });
    if (result.changes === 1) return { inserted: true, message };
    const row = message.sourceMessageId
      ? (this.statements.messageBySource.get(message.source, message.sourceMessageId) as { doc: string } | undefined)
      : undefined;
    if (!row) throw new ConflictError(`message ${message.id} already exists`);
    return { inserted: false, message: this.m(row.doc) };
  }

  async insertMessages(messages: MessageRecord[]): Promise<Array<{ inserted: boolean; message: MessageRecord }>> {
    return this.write(() => messages.map((m) => this.insertOne(m)));
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const row = this.statements.message.get(id) as { doc: string } | undefined;
    return row ? this.m(row.doc) : undefined;
  }

  async listMessages(filter: MessageFilter): Promise<Page<MessageRecord>> {
    const where = new Where();
    if (filter.source) where.add('source = ?', filter.source);
    if (filter.key) where.add('key = ?', filter.key);
    if (filter.from !== undefined) where.add('received_at >= ?', filter.from);
    if (filter.to !== undefined) where.add('received_at <= ?', filter.to);
    const clause = where.sql();
    const args = where.args;
    if (filter.text) {
      // Payloads are sealed: the text is looked for in the opened documents, newest first.
      const text = filter.text.toLowerCase();
      const all = (this.sql(`select doc from journal_message ${clause} order by received_at desc, id`).all(...args) as Array<{ doc: string }>)
        .map((r) => this.m(r.doc))
        .filter((m) => JSON.stringify(m).toLowerCase().includes(text));
      const offset = filter.offset ?? 0;
      return { total: all.length, items: all.slice(offset, offset + (filter.limit ?? 50)) };
    }
    const total = (this.sql(`select count(*) as n from journal_message ${clause}`).get(...args) as { n: number }).n;
    const rows = this
      .sql(`select doc from journal_message ${clause} order by received_at desc, id limit ? offset ?`)
      .all(...args, filter.limit ?? 50, filter.offset ?? 0) as Array<{ doc: string }>;
    return { total, items: rows.map((r) => this.m(r.doc)) };
  }

  async receivedMessages(instance: string): Promise<MessageRecord[]> {
    return (this.statements.received.all(instance) as Array<{ doc: string }>).map((r) => this.m(r.doc));
  }

  async commit(change: Change): Promise<void> {
    const apply = (c: Change) => {
      for (const message of c.messages ?? []) {
        const result = this.statements.updateMessage.run({ id: message.id, status: message.status, instance: message.instance, doc: JSON.stringify(this.codec.sealMessage(message)), previous: message.version - 1 });
        if (result.changes !== 1) throw new ConflictError(`message ${message.id} changed meanwhile (expected version ${message.version - 1})`);
      }
      for (const d of c.deliveries ?? []) {
        const row = {
          id: d.id,
          messageId: d.messageId,
          target: d.target,
          key: d.key,
          status: d.status,
          updatedAt: d.updatedAt,
          settledAt: d.settledAt ?? null,
          nextAttemptAt: timed.includes(d.status) ? (d.nextAttemptAt ?? null) : null,
          owner: d.owner ?? null,
          version: d.version,
          previous: d.version - 1,
          doc: JSON.stringify(this.codec.sealDelivery(d)),
        };
        const result = d.version === 1 ? this.statements.insertDelivery.run(row) : this.statements.updateDelivery.run(row);
        if (result.changes !== 1) throw new ConflictError(`delivery ${d.id} changed meanwhile (expected version ${d.version - 1})`);
      }
      for (const a of c.audit ?? []) {
        this.statements.insertAudit.run({ id: a.id, at: a.at, deliveryId: a.deliveryId ?? null, messageId: a.messageId ?? null, doc: JSON.stringify(this.codec.sealAudit(a)) });
      }
    };
    await this.write(() => apply(change));
  }

  /** Numbers handed out from the block reserved last: [next, reservedTo]. */
  private seqNext = 0;
  private seqReservedTo = -1;
  private reserving?: Promise<void>;

  /**
   * Growing numbers for deliveries, in blocks: one durable write reserves the next
   * SEQUENCE_BLOCK numbers, which are then handed out from memory (the journal file has one
   * writer). After a restart numbering goes on above the last reserved block: a gap, never a
   * number given twice.
   */
  async nextSeq(): Promise<number> {
    while (this.seqNext > this.seqReservedTo) {
      this.reserving ??= this.write(() => (this.statements.reserveSequence.get({ block: SEQUENCE_BLOCK }) as { value: number }).value)
        .then((top) => {
          this.seqNext = top - SEQUENCE_BLOCK + 1;
          this.seqReservedTo = top;
        })
        .finally(() => (this.reserving = undefined));
      await this.reserving;
    }
    return this.seqNext++;
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = this.statements.delivery.get(id) as { doc: string } | undefined;
    return row ? this.d(row.doc) : undefined;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<Page<DeliveryRecord>> {
    const where = new Where();
    if (filter.status?.length) {
      // With a key or a message, their index finds the few rows; "+" keeps SQLite from
      // choosing the status index instead (every delivered delivery ever, read one by one).
      const column = filter.key || filter.messageId ? '+d.status' : 'd.status';
      where.add(`${column} in (${filter.status.map(() => '?').join(',')})`, ...filter.status);
    }
    if (filter.target) where.add('d.target = ?', filter.target);
    if (filter.key) where.add('d.key = ?', filter.key);
    if (filter.messageId) where.add('d.message_id = ?', filter.messageId);
    if (filter.from !== undefined) where.add('d.updated_at >= ?', filter.from);
    if (filter.to !== undefined) where.add('d.updated_at <= ?', filter.to);
    const clause = `from journal_delivery d left join journal_message m on m.id = d.message_id ${where.sql()}`;
    const args = where.args;
    if (filter.text) {
      // Payloads are sealed: the text is looked for in the opened documents, newest first.
      const text = filter.text.toLowerCase();
      const all = (this.sql(`select d.doc as doc, m.doc as mdoc ${clause} order by d.updated_at desc, d.id`).all(...args) as Array<{ doc: string; mdoc: string | null }>)
        .filter((r) => JSON.stringify(this.d(r.doc)).toLowerCase().includes(text) || (r.mdoc !== null && JSON.stringify(this.m(r.mdoc)).toLowerCase().includes(text)))
        .map((r) => this.d(r.doc));
      const offset = filter.offset ?? 0;
      return { total: all.length, items: all.slice(offset, offset + (filter.limit ?? 50)) };
    }
    const total = (this.sql(`select count(*) as n ${clause}`).get(...args) as { n: number }).n;
    const rows = this
      .sql(`select d.doc as doc ${clause} order by d.updated_at desc, d.id limit ? offset ?`)
      .all(...args, filter.limit ?? 50, filter.offset ?? 0) as Array<{ doc: string }>;
    return { total, items: rows.map((r) => this.d(r.doc)) };
  }

  private byKey(target: string, key: string): DeliveryRecord[] {
    return (this.statements.byKey.all(target, key) as Array<{ doc: string }>).map((r) => this.d(r.doc));
  }

  async deliveriesOfKey(target: string, key: string): Promise<DeliveryRecord[]> {
    return this.byKey(target, key);
  }

  async openDeliveries(target: string, key: string): Promise<DeliveryRecord[]> {
    return this.byKey(target, key).filter((d) => openStatuses.includes(d.status));
  }

  async latestDelivery(target: string, key: string): Promise<DeliveryRecord | undefined> {
    return newestLive(this.byKey(target, key));
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    return (this.statements.due.all(now, limit) as Array<{ doc: string }>).map((r) => this.d(r.doc));
  }

  async inFlightDeliveries(owner: string): Promise<DeliveryRecord[]> {
    return (this.statements.inFlight.all(owner) as Array<{ doc: string }>).map((r) => this.d(r.doc));
  }

  async counts(): Promise<Counts> {
    const counts: Counts = { byStatus: {}, byTarget: {} };
    for (const row of this.statements.counts.all() as Array<{ status: DeliveryStatus; target: string; n: number }>) {
      counts.byStatus[row.status] = (counts.byStatus[row.status] ?? 0) + row.n;
      (counts.byTarget[row.target] ??= {})[row.status] = row.n;
    }
    return counts;
  }

  async appendHops(hops: Hop[]): Promise<void> {
    await this.write(() => {
      for (const hop of hops) this.statements.insertHop.run(hop.messageId, hop.startedAt, JSON.stringify(this.codec.sealHop(hop)));
    });
  }

  async hops(messageId: string): Promise<Hop[]> {
    return (this.statements.hops.all(messageId) as Array<{ doc: string }>).map((r) => this.codec.openHop(JSON.parse(r.doc)));
  }

  async listAudit(filter: { deliveryId?: string; messageId?: string; limit?: number }): Promise<AuditRecord[]> {
    const where = new Where();
    if (filter.deliveryId) where.add('delivery_id = ?', filter.deliveryId);
    if (filter.messageId) where.add('message_id = ?', filter.messageId);
    const rows = this
      .sql(`select doc from journal_audit ${where.sql(' or ')} order by at desc limit ?`)
      .all(...where.args, filter.limit ?? 200) as Array<{ doc: string }>;
    return rows.map((r) => this.a(r.doc));
  }

  async prune(before: number): Promise<number> {
    const statuses = prunableStatuses.map((s) => `'${s}'`).join(',');
    return this.write(() => {
      const gone = this.sql(`delete from journal_delivery where status in (${statuses}) and coalesce(settled_at, updated_at) < ?`).run(before).changes;
      const orphans = `select id from journal_message m where received_at < ? and status = 'routed'
        and not exists (select 1 from journal_delivery d where d.message_id = m.id)
        and not exists (select 1 from journal_audit a where a.message_id = m.id)`;
      this.sql(`delete from journal_hop where message_id in (${orphans})`).run(before);
      this.sql(`delete from journal_message where id in (${orphans})`).run(before);
      return gone;
    });
  }

  async purge(cutoffs: RetentionCutoffs, pseudonymise: (a: AuditRecord) => AuditRecord): Promise<PurgeReport> {
    const settledStatuses = prunableStatuses.map((s) => `'${s}'`).join(',');
    // In chunks, each its own group commit: a run over a large journal never holds the file
    // for long, and the hub's own writes go in between.
    const CHUNK = 1000;
    const report: PurgeReport = { settled: 0, discarded: 0, refused: 0, messages: 0, auditPseudonymised: 0 };
    const kinds: Array<{ kind: 'settled' | 'discarded' | 'refused'; where: string; before: number }> = [
      { kind: 'settled', where: `status in (${settledStatuses})`, before: cutoffs.settled },
      { kind: 'discarded', where: "status = 'discarded' and target <> 'hub'", before: cutoffs.discarded },
      { kind: 'refused', where: "status = 'discarded' and target = 'hub'", before: cutoffs.refused },
    ];
    // updated_at first: the (status, updated_at) index finds what is due without reading the
    // rest of the table (a settled delivery's last change is its settling).
    const pick = (where: string) =>
      this.sql(`select id, message_id from journal_delivery where ${where} and updated_at < @before and coalesce(settled_at, updated_at) < @before limit ${CHUNK}`);
    const deleteDelivery = this.sql('delete from journal_delivery where id = ?');
    const hasDelivery = this.sql('select 1 from journal_delivery where message_id = ? limit 1');
    const deleteHops = this.sql('delete from journal_hop where message_id = ?');
    const deleteMessage = this.sql("delete from journal_message where id = ? and status = 'routed'");
    for (const { kind, where, before } of kinds) {
      const select = pick(where);
      for (;;) {
        const done = await this.write(() => {
          const rows = select.all({ before }) as Array<{ id: string; message_id: string }>;
          const messages = new Set<string>();
          for (const r of rows) {
            deleteDelivery.run(r.id);
            messages.add(r.message_id);
          }
          let gone = 0;
          for (const id of messages) {
            if (hasDelivery.get(id)) continue;
            deleteHops.run(id);
            gone += deleteMessage.run(id).changes;
          }
          report[kind] += rows.length;
          report.messages += gone;
          return rows.length < CHUNK;
        });
        if (done) break;
      }
    }
    // Messages routed long ago that never had a delivery (a journey that reached none).
    report.messages += await this.write(() => {
      const orphans = `select id from journal_message m where received_at < ? and status = 'routed'
        and not exists (select 1 from journal_delivery d where d.message_id = m.id)`;
      this.sql(`delete from journal_hop where message_id in (${orphans})`).run(cutoffs.settled);
      return this.sql(`delete from journal_message where id in (${orphans})`).run(cutoffs.settled).changes;
    });
    const oldAudit = this.sql("select doc from journal_audit where at < ? and json_extract(doc, '$.pseudonymisedAt') is null limit 1000");
    const updateAudit = this.sql('update journal_audit set doc = ? where id = ?');
    for (;;) {
      const n = await this.write(() => {
        const rows = oldAudit.all(cutoffs.audit) as Array<{ doc: string }>;
        for (const r of rows) {
          const a = pseudonymise(this.a(r.doc));
          updateAudit.run(JSON.stringify(this.codec.sealAudit(a)), a.id);
        }
        return rows.length;
      });
      report.auditPseudonymised += n;
      if (n < 1000) break;
    }
    return report;
  }

  async erase(erasure: ErasureRecord, audit: AuditRecord[]): Promise<void> {
    await this.write(() => {
      const marked = this.sql('insert or replace into journal_erased (record_id, erasure_id) values (?, ?)');
      for (const id of erasure.deliveryIds) {
        this.sql('delete from journal_delivery where id = ?').run(id);
        marked.run(id, erasure.id);
      }
      for (const id of erasure.messageIds) {
        this.sql('delete from journal_hop where message_id = ?').run(id);
        this.sql('delete from journal_message where id = ?').run(id);
        marked.run(id, erasure.id);
      }
      const upsert = this.sql(
        'insert into journal_audit (id, at, delivery_id, message_id, doc) values (@id, @at, @deliveryId, @messageId, @doc) on conflict(id) do update set doc = excluded.doc',
      );
      for (const a of audit) upsert.run({ id: a.id, at: a.at, deliveryId: a.deliveryId ?? null, messageId: a.messageId ?? null, doc: JSON.stringify(this.codec.sealAudit(a)) });
      this.sql('insert into journal_erasure (id, at, doc) values (?, ?, ?)').run(erasure.id, erasure.at, JSON.stringify(erasure));
    });
    // The WAL still holds the pages as they were before: copied back into the file and emptied.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.codec.forgetOpened(); // the erased person's records must not be readable from memory either
  }

  async erasureOf(recordId: string): Promise<ErasureRecord | undefined> {
    const row = this.sql('select e.doc from journal_erased x join journal_erasure e on e.id = x.erasure_id where x.record_id = ?').get(recordId) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : undefined;
  }

  async listErasures(limit = 200): Promise<ErasureRecord[]> {
    return (this.sql('select doc from journal_erasure order by at desc limit ?').all(limit) as Array<{ doc: string }>).map((r) => JSON.parse(r.doc));
  }

  async withKeyLock<T>(lockName: string, work: () => Promise<T>): Promise<T> {
    return this.mutex.run(lockName, work);
  }

  async close(): Promise<void> {
    // The database handle belongs to hub/store.ts, which closes it; writes still queued go first.
    this.commits.flushNow();
  }
}
