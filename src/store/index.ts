import type { DatabaseLocation } from '../config';
import { openSqlite } from './sqlite';
import { SqliteStore } from './sqlite-store';
import type { Store } from './types';

export type * from './types';
export { SqliteStore } from './sqlite-store';

/** Opens the approvals and audit store where `DATABASE_URL` points, creating or migrating its schema. */
export function openStore(location: DatabaseLocation): Store {
  if (location.kind === 'postgres') {
    // Never echo the URL: it may hold the database password.
    throw new Error(
      'PostgreSQL support is not available yet; set DATABASE_URL=sqlite:PATH to use the embedded SQLite store.',
    );
  }
  const db = openSqlite(location.path);
  try {
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
}
