import type { SqliteDatabase } from '../store/sqlite';
import { SandboxDirectory, type SandboxDirectoryOptions } from './directory';

export { SANDBOX_BASE_URL, SANDBOX_DIRECTORY_ID } from './constants';
export { SandboxDirectory } from './directory';
export type { SandboxDirectoryOptions, SandboxRequest, SandboxResponse } from './directory';
export { sandboxAdapter } from './transport';
export { startScimServer } from './server';
export type { RecordedRequest, ScimServer, ScimServerOptions, ScriptedResponse } from './server';

/**
 * The embedded sandbox directory kept in `db` (its table is created if missing). Serve it to the SCIM
 * client with `sandboxAdapter(directory, SANDBOX_DIRECTORY_ID)` and base URL SANDBOX_BASE_URL.
 */
export function openSandbox(db: SqliteDatabase, options: SandboxDirectoryOptions = {}): SandboxDirectory {
  return new SandboxDirectory(db, options);
}
