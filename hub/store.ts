import fs from 'fs';
import path from 'path';
import Database from 'better-sqlite3';

/**
 * The embedded SQLite database file under the data folder. WAL mode with synchronous=FULL
 * so that a committed write survives a kill -9 or a power cut before the sender is
 * acknowledged.
 */
export function openSqlite(dataDir: string, name = 'hub.db', synchronous: 'FULL' | 'NORMAL' | 'OFF' = 'FULL'): Database.Database {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, name));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  return db;
}

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one SQLite database: the writes asked for in one turn of the event loop
 * share one transaction and one flush to disk, and each caller's promise settles only once
 * that commit is on disk. Each write runs in its own savepoint, so one that throws is undone
 * alone and fails only its caller. Everything that writes to the file (the journal, the
 * cross-references) uses the same one, so none waits for a flush of its own.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private flushing = false;
  private readonly group: (batch: QueuedWrite[]) => Array<{ ok: boolean; value?: unknown; error?: unknown }>;

  constructor(db: Database.Database) {
    // A transaction called inside another is a savepoint.
    const savepoint = db.transaction((run: () => unknown) => run());
    this.group = db.transaction((batch: QueuedWrite[]) =>
      batch.map((w) => {
        try {
          return { ok: true, value: savepoint(w.run) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /** Runs `run` in the next group commit; settles once that commit is on disk. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (before the database is closed). */
  flushNow(): void {
    if (this.queue.length) this.flush();
  }

  private flush(): void {
    this.flushing = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    let outcomes: Array<{ ok: boolean; value?: unknown; error?: unknown }>;
    try {
      outcomes = this.group(batch);
    } catch (error) {
      // The commit itself failed (disk full, I/O): nothing of the group is stored.
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => (outcomes[i].ok ? w.resolve(outcomes[i].value) : w.reject(outcomes[i].error)));
  }
}

const groupCommits = new WeakMap<Database.Database, GroupCommit>();

/** The one group commit of a database. */
export function groupCommitOf(db: Database.Database): GroupCommit {
  let group = groupCommits.get(db);
  if (!group) {
    group = new GroupCommit(db);
    groupCommits.set(db, group);
  }
  return group;
}
