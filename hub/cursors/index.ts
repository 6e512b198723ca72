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
  /**
   * Sets the cursor. A whole-number cursor only moves forward: a poller that wakes after
   * its lock went to another instance (a pause past the lock's expiry) cannot move it back
   * over what the new holder did.
   */
  set(name: string, value: string): Promise<void>;
}

const WHOLE = /^\d+$/;

export class SqliteCursors implements CursorStore {
  private readonly read;
  private readonly write;
  private readonly advance;

  constructor(db: Database.Database) {
    db.exec('create table if not exists poll_cursor (name text primary key, value text not null, updated_at integer not null)');
    this.read = db.prepare('select value from poll_cursor where name = ?');
    this.write = db.prepare('insert into poll_cursor (name, value, updated_at) values (?, ?, ?) on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at');
    this.advance = db.prepare(
      `insert into poll_cursor (name, value, updated_at) values (?, ?, ?) on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at
       where not (poll_cursor.value glob '[0-9]*' and poll_cursor.value not glob '*[^0-9]*' and cast(poll_cursor.value as integer) > cast(excluded.value as integer))`,
    );
  }

  async get(name: string): Promise<string | undefined> {
    return (this.read.get(name) as { value: string } | undefined)?.value;
  }

  async set(name: string, value: string): Promise<void> {
    (WHOLE.test(value) ? this.advance : this.write).run(name, value, Date.now());
  }

  /** Moves a cursor back on purpose: a person re-reading a system's events from an earlier point. */
  async rewind(name: string, value: string): Promise<void> {
    this.write.run(name, value, Date.now());
  }
}

const ADVANCE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and string.match(current, '^%d+$') and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

export class RedisCursors implements CursorStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(name: string): Promise<string | undefined> {
    return (await this.redis.hget(`${this.prefix}cursors`, name)) ?? undefined;
  }

  async set(name: string, value: string): Promise<void> {
    if (WHOLE.test(value)) await this.redis.eval(ADVANCE, 1, `${this.prefix}cursors`, name, value);
    else await this.redis.hset(`${this.prefix}cursors`, name, value);
  }

  /** Moves a cursor back on purpose: a person re-reading a system's events from an earlier point. */
  async rewind(name: string, value: string): Promise<void> {
    await this.redis.hset(`${this.prefix}cursors`, name, value);
  }
}
