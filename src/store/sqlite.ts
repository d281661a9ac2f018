import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type SqliteDatabase = BetterSqlite3.Database;

/** How long a write waits for another process's lock before it fails with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating if needed) a SQLite database file. The parent directory is created, the journal is
 * WAL so readers do not block the writer, and a writer waits up to BUSY_TIMEOUT_MS for another process's lock
 * instead of failing at once with SQLITE_BUSY (the store's writes wait with writeWhenFree). `':memory:'` gives a private in-memory database.
 */
export function openSqlite(filePath: string): SqliteDatabase {
  if (filePath !== ':memory:' && filePath !== '') {
    mkdirSync(dirname(filePath), { recursive: true });
  }
  const db = new BetterSqlite3(filePath);
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return db;
}

/** The first pause before a write tries the lock again; each later one doubles, up to BUSY_MAX_WAIT_MS. */
const BUSY_FIRST_WAIT_MS = 10;
const BUSY_MAX_WAIT_MS = 200;

const isBusy = (error: unknown): boolean =>
  String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');

/**
 * Runs `transaction` (a write that takes the lock first, BEGIN IMMEDIATE), trying again after a pause
 * while another connection holds the lock, for up to BUSY_TIMEOUT_MS. SQLite's own busy wait would hold
 * the event loop, and with it every Slack request's answer, for as long as the other writer keeps the
 * lock; here each try fails at once and the waiting is a timer. A try that failed committed nothing.
 */
export async function writeWhenFree<T>(db: SqliteDatabase, transaction: () => T): Promise<T> {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (let wait = BUSY_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, BUSY_MAX_WAIT_MS)) {
    db.pragma('busy_timeout = 0');
    try {
      return transaction();
    } catch (error) {
      if (!isBusy(error) || performance.now() + wait > deadline) throw error;
    } finally {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
