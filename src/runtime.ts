import fs from 'node:fs';
import type { Config, DatabaseLocation } from './config';
import type { IamContext } from './iam/commands';
import { BUILT_IN_INCOMING, BUILT_IN_OUTGOING, loadMapper } from './iam/mappers';
import type { Logger } from './log';
import { createScimClient, createScimClientFromConnection } from './scim/client';
import type { ScimDirectory, ScimObserver } from './scim/types';

export interface Runtime {
  context: IamContext;
  sandbox: boolean;
  /** Where the sandbox directory lives, for the SANDBOX notice. */
  sandboxLocation: string | null;
  close(): void;
}

export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

/**
 * For a SQLite database that is not there yet: a check, to call when the command is done, that gives
 * the line telling the person where their database now lives (printed once, when the file is created).
 */
export function newDatabaseNotice(database: DatabaseLocation): () => string | null {
  if (database.kind !== 'sqlite' || fs.existsSync(database.path)) return () => null;
  return () =>
    fs.existsSync(database.path)
      ? `atlassian-iam: created the database ${database.path} (set DATABASE_URL to use another); every command of this installation uses it, from any directory\n`
      : null;
}

function openDirectory(
  config: Config,
  logger: Logger,
  observer: ScimObserver | undefined,
): { directory: ScimDirectory; close(): void; location: string | null } {
  const connection = config.directory;
  if (connection.mode === 'atlassian') {
    const client = createScimClientFromConnection(connection, logger, { observer });
    return { directory: client, close: () => client.close(), location: null };
  }
  if (config.database.kind !== 'sqlite') {
    throw new SetupError(
      'DATABASE_URL: is PostgreSQL, but with no Atlassian credentials the SANDBOX directory is used, and it lives in SQLite only; set ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID to work on Atlassian (approvals and audit then go to PostgreSQL), or DATABASE_URL=sqlite:PATH to use the sandbox',
    );
  }
  // Loaded here so that a production CLI run never pays for the native SQLite module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openSqlite } = require('./store/sqlite') as typeof import('./store/sqlite');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sandbox = require('./sandbox') as typeof import('./sandbox');
  const db = openSqlite(config.database.path);
  const directory = createScimClient({
    baseUrl: sandbox.SANDBOX_BASE_URL,
    directoryId: sandbox.SANDBOX_DIRECTORY_ID,
    accessToken: 'sandbox-needs-no-token',
    timeoutMs: connection.timeoutMs,
    insecure: false,
    proxy: null,
    logger,
    observer,
    adapter: sandbox.sandboxAdapter(sandbox.openSandbox(db), sandbox.SANDBOX_DIRECTORY_ID),
  });
  return {
    directory,
    close: () => {
      directory.close();
      db.close();
    },
    location: config.database.path,
  };
}

/** Builds the ILM context from the configuration; mapper files are read and checked here, once. */
export function createRuntime(config: Config, logger: Logger, observer?: ScimObserver): Runtime {
  for (const warning of config.warnings) logger.warn(warning);
  const outgoing = loadMapper(config.outgoingMapperPath, BUILT_IN_OUTGOING);
  const incoming = loadMapper(config.incomingMapperPath, BUILT_IN_INCOMING);
  const { directory, close, location } = openDirectory(config, logger, observer);
  const sandbox = config.directory.mode === 'sandbox';
  return {
    context: {
      directory,
      switches: config.commands,
      instanceName: sandbox ? `${config.instanceName} (SANDBOX)` : config.instanceName,
      outgoing,
      incoming,
    },
    sandbox,
    sandboxLocation: location,
    close,
  };
}
