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
