import { randomUUID } from 'crypto';
import type Database from 'better-sqlite3';
import type Redis from 'ioredis';

/**
 * Who looked at personal data: every console or API read of a payload, a person page or an
 * export is one entry (who, when, what, about whom). The data protection officer lists them.
 * Kept in the hub's store (SQLite table or a Redis sorted set), beside the journal.
 */
export interface AccessEntry {
  id: string;
  at: number;
  /** The hub login that read it. */
  actor: string;
  /** What was read, e.g. "delivery d-1", "message m-1", "person export", "deliveries list". */
  what: string;
  /** Whom it is about: a contact id, a key, or what the search named. */
  subject?: string;
}

export interface AccessFilter {
  actor?: string;
  subject?: string;
  from?: number;
  to?: number;
  limit?: number;
}

export interface AccessLog {
  /** Records one read. Called where a payload, a person page or an export is served. */
  recordAccess(entry: { actor: string; what: string; subject?: string }): Promise<void>;
  /** Newest first. */
  list(filter?: AccessFilter): Promise<AccessEntry[]>;
  /** Deletes entries older than `before` (retention); returns how many went. */
  purge(before: number): Promise<number>;
}

function matches(e: AccessEntry, f: AccessFilter): boolean {
  return (!f.actor || e.actor === f.actor) && (!f.subject || e.subject === f.subject);
}

export class SqliteAccessLog implements AccessLog {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(`create table if not exists access_log (id text primary key, at integer not null, actor text not null, what text not null, subject text);
      create index if not exists access_log_at on access_log(at);
      create index if not exists access_log_subject on access_log(subject, at)`);
  }

  async recordAccess(entry: { actor: string; what: string; subject?: string }): Promise<void> {
    this.db.prepare('insert into access_log (id, at, actor, what, subject) values (?, ?, ?, ?, ?)').run(randomUUID(), this.now(), entry.actor, entry.what, entry.subject ?? null);
  }

  async list(filter: AccessFilter = {}): Promise<AccessEntry[]> {
    const parts: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      parts.push(sql);
      args.push(value);
    };
    if (filter.actor) add('actor = ?', filter.actor);
    if (filter.subject) add('subject = ?', filter.subject);
    if (filter.from !== undefined) add('at >= ?', filter.from);
    if (filter.to !== undefined) add('at <= ?', filter.to);
    const rows = this.db
      .prepare(`select id, at, actor, what, subject from access_log ${parts.length ? `where ${parts.join(' and ')}` : ''} order by at desc, rowid desc limit ?`)
      .all(...args, filter.limit ?? 200) as Array<AccessEntry & { subject: string | null }>;
    return rows.map(({ subject, ...rest }) => ({ ...rest, ...(subject !== null ? { subject } : {}) }));
  }

  async purge(before: number): Promise<number> {
    return this.db.prepare('delete from access_log where at < ?').run(before).changes;
  }
}

/** One sorted set (score: time) of JSON entries under `<prefix>access`. */
export class RedisAccessLog implements AccessLog {
  private readonly key: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = `${prefix}access`;
  }

  async recordAccess(entry: { actor: string; what: string; subject?: string }): Promise<void> {
    const e: AccessEntry = { id: randomUUID(), at: this.now(), actor: entry.actor, what: entry.what, ...(entry.subject !== undefined ? { subject: entry.subject } : {}) };
    await this.redis.zadd(this.key, e.at, JSON.stringify(e));
  }

  async list(filter: AccessFilter = {}): Promise<AccessEntry[]> {
    const limit = filter.limit ?? 200;
    const out: AccessEntry[] = [];
    for (let at = 0; out.length < limit; at += 1000) {
      const docs = await this.redis.zrevrangebyscore(this.key, filter.to ?? '+inf', filter.from ?? '-inf', 'LIMIT', at, 1000);
      for (const doc of docs) {
        const e = JSON.parse(doc) as AccessEntry;
        if (matches(e, filter) && out.length < limit) out.push(e);
      }
      if (docs.length < 1000) break;
    }
    return out;
  }

  async purge(before: number): Promise<number> {
    return this.redis.zremrangebyscore(this.key, '-inf', `(${before}`);
  }
}
