/**
 * PostgreSQL for tests: TEST_DATABASE_URL names a server (`.ci/run` sets it when one answers). Each
 * test isolates itself in a fresh schema or a fresh database, dropped afterwards. Without the variable
 * the PostgreSQL tests are skipped and say so.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

export const SKIPPED_MESSAGE = 'PostgreSQL tests skipped: TEST_DATABASE_URL is not set';

let warned = false;

/**
 * Registers the file's PostgreSQL tests (`define(url)`) when TEST_DATABASE_URL is set; otherwise one
 * skipped test carrying the reason, and the reason once on the console.
 */
export function withPostgres(define: (url: string) => void): void {
  if (TEST_DATABASE_URL) {
    define(TEST_DATABASE_URL);
    return;
  }
  if (!warned) {
    warned = true;
    console.warn(SKIPPED_MESSAGE);
  }
  it.skip(SKIPPED_MESSAGE, () => undefined);
}

/** A name no other test (or run) uses: `<prefix>_<16 hex digits>`. */
export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

/** Runs `work` on one short-lived connection to `url`. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** Creates an empty database and returns its URL (same server and credentials as `url`). */
export async function createDatabase(url: string, name: string): Promise<string> {
  await withClient(url, (c) => c.query(`CREATE DATABASE "${name}"`));
  const created = new URL(url);
  created.pathname = `/${name}`;
  return created.toString();
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await withClient(url, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
