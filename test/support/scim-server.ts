/** An emulated Atlassian SCIM server on loopback, over an in-memory sandbox directory. */
import type { Database } from 'better-sqlite3';
import {
  type ScimServer,
  type ScimServerOptions,
  type SandboxDirectory,
  openSandbox,
  startScimServer,
} from '../../src/sandbox';
import { openSqlite } from '../../src/store/sqlite';

export interface EmulatedAtlassian {
  server: ScimServer;
  directory: SandboxDirectory;
  db: Database;
  /** The variables that point a bot or the CLI at this directory. */
  readonly env: Record<string, string>;
  /** Puts a user straight into the directory (no HTTP, no request recorded); returns its SCIM id. */
  seedUser(email: string, extra?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export async function startEmulatedAtlassian(
  options: Omit<ScimServerOptions, 'directory'> & { directory?: SandboxDirectory },
): Promise<EmulatedAtlassian> {
  const db = openSqlite(':memory:');
  const directory = options.directory ?? openSandbox(db);
  const server = await startScimServer({ ...options, directory });
  return {
    server,
    directory,
    db,
    env: {
      ATLASSIAN_URL: server.url,
      ATLASSIAN_ACCESS_TOKEN: options.token,
      ATLASSIAN_DIRECTORY_ID: options.directoryId,
    },
    seedUser(email, extra = {}) {
      const answer = directory.handle({
        method: 'POST',
        path: '/Users',
        query: new URLSearchParams(),
        body: { userName: email, emails: [{ value: email, primary: true }], ...extra },
      });
      if (answer.status !== 201) throw new Error(`seeding ${email} failed: ${JSON.stringify(answer.body)}`);
      return (answer.body as { id: string }).id;
    },
    close: async () => {
      await server.close();
      db.close();
    },
  };
}
