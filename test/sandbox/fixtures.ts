import type { Database } from 'better-sqlite3';
import { SandboxDirectory, type SandboxResponse } from '../../src/sandbox';
import { openSqlite } from '../../src/store/sqlite';
import { ERROR_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from '../../src/scim/types';

export { ERROR_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, USER_SCHEMA };

/** A clock that starts at 2026-01-01T00:00:00Z and moves one minute per reading, and ids user-1, user-2, … */
export function deterministic(): { now: () => Date; newId: () => string } {
  let minutes = 0;
  let ids = 0;
  return {
    now: () => new Date(Date.UTC(2026, 0, 1, 0, minutes++)),
    newId: () => `user-${++ids}`,
  };
}

export function memoryDirectory(): { db: Database; directory: SandboxDirectory } {
  const db = openSqlite(':memory:');
  return { db, directory: new SandboxDirectory(db, deterministic()) };
}

export interface CallOptions {
  query?: Record<string, string>;
  body?: unknown;
}

export function call(
  directory: SandboxDirectory,
  method: string,
  path: string,
  options: CallOptions = {},
): SandboxResponse {
  return directory.handle({
    method,
    path,
    query: new URLSearchParams(options.query ?? {}),
    body: options.body,
  });
}

export function newUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    userName,
    emails: [
      { value: userName.includes('@') ? userName : `${userName}@example.com`, type: 'work', primary: true },
    ],
    ...extra,
  };
}

export function patchBody(...operations: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [PATCH_SCHEMA], Operations: operations };
}

/** The body of a response as an object, for reading fields in assertions. */
export function bodyOf(response: SandboxResponse): Record<string, unknown> {
  return response.body as Record<string, unknown>;
}

export function idOf(response: SandboxResponse): string {
  return String(bodyOf(response).id);
}
