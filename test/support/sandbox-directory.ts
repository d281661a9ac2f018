import { AxiosError, type AxiosAdapter } from 'axios';
import type { CommandSwitches } from '../../src/config';
import type { IamContext } from '../../src/iam/commands';
import { BUILT_IN_INCOMING, BUILT_IN_OUTGOING } from '../../src/iam/mappers';
import { createScimClient, type ScimClient } from '../../src/scim/client';
import {
  openSandbox,
  SANDBOX_BASE_URL,
  SANDBOX_DIRECTORY_ID,
  sandboxAdapter,
  type SandboxDirectory,
} from '../../src/sandbox';
import { openSqlite } from '../../src/store/sqlite';

export interface RecordedCall {
  method: string;
  path: string;
}

export interface InjectedFailure {
  status: number;
  body: unknown;
}

export interface SandboxHarness {
  client: ScimClient;
  sandbox: SandboxDirectory;
  /** Every SCIM request the client sent, as `METHOD /path` below the directory. */
  calls: RecordedCall[];
  /** The next requests answer these instead of the sandbox, one each. */
  failNext(...failures: InjectedFailure[]): void;
  close(): void;
}

/**
 * The real SCIM client talking to the real sandbox directory in an in-memory SQLite database, with
 * every request recorded. Retries do not wait (the client's sleep is a no-op).
 */
export function sandboxHarness(): SandboxHarness {
  const db = openSqlite(':memory:');
  let n = 0;
  const sandbox = openSandbox(db, {
    now: () => new Date('2026-11-29T12:00:00Z'),
    newId: () => `user-${++n}`,
  });
  const inner = sandboxAdapter(sandbox, SANDBOX_DIRECTORY_ID);
  const calls: RecordedCall[] = [];
  const failures: InjectedFailure[] = [];
  const adapter: AxiosAdapter = async (config) => {
    const url = new URL(config.url ?? '', config.baseURL ?? SANDBOX_BASE_URL);
    const below = url.pathname.replace(/^.*\/scim\/directory\/[^/]+/, '');
    calls.push({ method: (config.method ?? 'get').toUpperCase(), path: decodeURIComponent(below) });
    const failure = failures.shift();
    if (!failure) return inner(config);
    const response = {
      data: JSON.stringify(failure.body),
      status: failure.status,
      statusText: '',
      headers: { 'content-type': 'application/json' },
      config,
      request: {},
    };
    throw new AxiosError(
      `Request failed with status code ${failure.status}`,
      AxiosError.ERR_BAD_RESPONSE,
      config,
      {},
      response,
    );
  };
  const client = createScimClient({
    baseUrl: SANDBOX_BASE_URL,
    directoryId: SANDBOX_DIRECTORY_ID,
    accessToken: 'sandbox-needs-no-token',
    adapter,
    sleep: async () => {},
    random: () => 0.5,
  });
  return {
    client,
    sandbox,
    calls,
    failNext: (...more) => failures.push(...more),
    close: () => {
      client.close();
      db.close();
    },
  };
}

/** Every command switch on. */
export const ALL_ON: CommandSwitches = {
  createEnabled: true,
  updateEnabled: true,
  disableEnabled: true,
  enableEnabled: true,
  createIfNotFound: true,
};

/** The commands' context on the harness's client: built-in mappers, every switch on but `switches`. */
export function sandboxContext(harness: SandboxHarness, switches: Partial<CommandSwitches> = {}): IamContext {
  return {
    directory: harness.client,
    switches: { ...ALL_ON, ...switches },
    instanceName: 'Atlassian IAM_instance_1',
    outgoing: BUILT_IN_OUTGOING,
    incoming: BUILT_IN_INCOMING,
  };
}
