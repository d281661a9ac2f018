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
    close: async () => {
      await server.close();
      db.close();
    },
  };
}
