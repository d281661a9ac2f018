import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type SqliteDatabase = BetterSqlite3.Database;

/**
 * Opens (creating if needed) a SQLite database file. The parent directory is created, the journal is
 * WAL so readers do not block the writer, and a writer waits up to 5 s for another process's lock
 * instead of failing at once with SQLITE_BUSY. `':memory:'` gives a private in-memory database.
 */
export function openSqlite(filePath: string): SqliteDatabase {
  if (filePath !== ':memory:' && filePath !== '') {
    mkdirSync(dirname(filePath), { recursive: true });
  }
  const db = new BetterSqlite3(filePath);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
