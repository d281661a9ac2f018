import type { DatabaseLocation } from '../config';
import { openSqlite } from './sqlite';
import { SqliteStore } from './sqlite-store';
import type { Store } from './types';

export type * from './types';
export { LEGACY_RULE } from './approval-rule';
export { AlreadyOpenError } from './one-open-request';
export { SqliteStore } from './sqlite-store';
export type { PostgresStore, PostgresStoreOptions } from './postgres-store';

export interface OpenStoreOptions {
  /** PostgreSQL: told when an idle pooled connection fails (the pool replaces it); never holds secrets. */
  onBackgroundError?: (message: string) => void;
}

/**
 * Opens the approvals and audit store where `DATABASE_URL` points, creating or migrating its schema:
 * a SQLite file, or a PostgreSQL database that several bot instances share (connected and migrated
 * before this resolves). Errors never contain the URL or its password.
 */
export async function openStore(location: DatabaseLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.kind === 'postgres') {
    // Loaded on demand: a SQLite installation never loads the PostgreSQL driver.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PostgresStore } = require('./postgres-store') as typeof import('./postgres-store');
    // Replicas share one clock, the server's: expiry, leases and audit times agree across them.
    return PostgresStore.open(location.url, {
      clock: 'database',
      onBackgroundError: options.onBackgroundError,
    });
  }
  const db = openSqlite(location.path);
  try {
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}
