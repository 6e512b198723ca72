import type Database from 'better-sqlite3';
import type Redis from 'ioredis';

/**
 * Where a poller has got to in a system's event list (planning's GetApplicationEvents
 * sequence, say): kept in the hub's store so that a restart, or another instance taking
 * over, carries on from there. A poller advances its cursor only after the events it
 * covers are in the journal.
 */
export interface CursorStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
}

export class SqliteCursors implements CursorStore {
  private readonly read;
  private readonly write;

  constructor(db: Database.Database) {
    db.exec('create table if not exists poll_cursor (name text primary key, value text not null, updated_at integer not null)');
    this.read = db.prepare('select value from poll_cursor where name = ?');
    this.write = db.prepare('insert into poll_cursor (name, value, updated_at) values (?, ?, ?) on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at');
  }

  async get(name: string): Promise<string | undefined> {
    return (this.read.get(name) as { value: string } | undefined)?.value;
  }

  async set(name: string, value: string): Promise<void> {
    this.write.run(name, value, Date.now());
  }
}

export class RedisCursors implements CursorStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(name: string): Promise<string | undefined> {
    return (await this.redis.hget(`${this.prefix}cursors`, name)) ?? undefined;
  }

  async set(name: string, value: string): Promise<void> {
    await this.redis.hset(`${this.prefix}cursors`, name, value);
  }
}
