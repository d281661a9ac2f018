import { randomUUID } from 'node:crypto';
import { LIST_SCHEMA, USER_SCHEMA } from '../scim/types';
import type { SqliteDatabase } from '../store/sqlite';
import { USER_ATTRIBUTES } from './attributes';
import { parseUserFilter } from './filter';
import { SandboxGroups } from './groups';
import { applyPatch, userFromBody } from './patch';
import { ScimProblem } from './problem';
import { userSchemaDocument } from './schema';
import { type StoredUser, UserTable } from './user-table';

export interface SandboxRequest {
  method: string;
  /** The path after `/scim/directory/{directoryId}`, e.g. `/Users/abc`; segments may be percent-encoded. */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when there is none. */
  body: unknown;
  /** Absolute URL of `…/scim/directory/{directoryId}`, used for `meta.location`; omitted when absent. */
  resourceBase?: string;
}

export interface SandboxResponse {
  status: number;
  body?: unknown;
}

export interface SandboxDirectoryOptions {
  now?: () => Date;
  newId?: () => string;
  /** Ids of new groups (the example groups included); random UUIDs by default. */
  newGroupId?: () => string;
}

/** Atlassian answers at most 100 users per page. */
export const MAX_PAGE_SIZE = 100;
const MAX_INT32 = 2 ** 31 - 1;

function splitPath(path: string): string[] {
  try {
    return path
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw notFound('Resource not found.');
  }
}

function notFound(detail: string): ScimProblem {
  return new ScimProblem(404, detail);
}

function methodNotAllowed(method: string, path: string): ScimProblem {
  return new ScimProblem(405, `Method ${method} is not supported on ${path}.`);
}

function integerParameter(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name)?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(Math.abs(value) <= MAX_INT32)) {
    throw new ScimProblem(400, `Query parameter '${name}' must be a 32-bit integer.`, 'invalidValue');
  }
  return value;
}

/** RFC 7644 section 3.4.2.4: startIndex below 1 means 1, a negative count means 0; at most a page. */
function paging(query: URLSearchParams): { startIndex: number; count: number } {
  const startIndex = Math.max(1, integerParameter(query, 'startIndex', 1));
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, integerParameter(query, 'count', MAX_PAGE_SIZE)));
  return { startIndex, count };
}

function uniquenessConflict(): ScimProblem {
  return new ScimProblem(409, 'A user with this userName already exists in the directory.', 'uniqueness');
}

/**
 * A SCIM directory kept in SQLite that answers like Atlassian's user-provisioning API: Users
 * (list with `userName`/`externalId` eq filters and paging, get, create, PATCH, delete), Groups (see
 * ./groups; two example groups on a new database) and the User schema. Every answer, errors included, is a status and a JSON body; `handle` never throws for a bad
 * request, only for a broken database.
 */
export class SandboxDirectory {
  private readonly users: UserTable;
  private readonly groups: SandboxGroups;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(db: SqliteDatabase, options: SandboxDirectoryOptions = {}) {
    this.users = new UserTable(db);
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.groups = new SandboxGroups(db, this.users, this.now, options.newGroupId ?? randomUUID);
  }

  handle(request: SandboxRequest): SandboxResponse {
    try {
      return this.route(request);
    } catch (error) {
      if (error instanceof ScimProblem) return error.toResponse();
      throw error;
    }
  }

  private route(request: SandboxRequest): SandboxResponse {
    const method = request.method.toUpperCase();
    const [collection, id, ...rest] = splitPath(request.path);
    if (collection === 'Users' && rest.length === 0) {
      if (id === undefined) {
        if (method === 'GET') return this.list(request);
        if (method === 'POST') return this.create(request);
      } else {
        if (method === 'GET') return this.ok(200, this.requireUser(id), request);
        if (method === 'PATCH') return this.patch(id, request);
        if (method === 'DELETE') return this.remove(id);
      }
      throw methodNotAllowed(method, request.path);
    }
    if (collection === 'Groups' && rest.length === 0) return this.routeGroups(method, id, request);
    if (collection === 'Schemas' && id === USER_SCHEMA && rest.length === 0) {
      if (method === 'GET') return { status: 200, body: userSchemaDocument(request.resourceBase) };
      throw methodNotAllowed(method, request.path);
    }
    throw notFound('Resource not found.');
  }

  private routeGroups(method: string, id: string | undefined, request: SandboxRequest): SandboxResponse {
    const base = request.resourceBase;
    if (id === undefined) {
      if (method === 'GET') {
        const { startIndex, count } = paging(request.query);
        const filter = request.query.get('filter');
        return {
          status: 200,
          body: this.groups.list({ filter, offset: startIndex - 1, limit: count }, base),
        };
      }
      if (method === 'POST') return { status: 201, body: this.groups.create(request.body, base) };
    } else {
      if (method === 'GET') return { status: 200, body: this.groups.get(id, base) };
      if (method === 'PUT') return { status: 200, body: this.groups.replace(id, request.body, base) };
      if (method === 'PATCH') return { status: 200, body: this.groups.patch(id, request.body, base) };
      if (method === 'DELETE') {
        this.groups.delete(id);
        return { status: 204 };
      }
    }
    throw methodNotAllowed(method, request.path);
  }

  private list(request: SandboxRequest): SandboxResponse {
    const filter = request.query.get('filter');
    const parsed = filter === null ? undefined : parseUserFilter(filter);
    const { startIndex, count } = paging(request.query);
    const { total, users } = this.users.page(parsed, startIndex - 1, count);
    return {
      status: 200,
      body: {
        schemas: [LIST_SCHEMA],
        totalResults: total,
        startIndex,
        itemsPerPage: users.length,
        Resources: users.map((user) => this.resource(user, request.resourceBase)),
      },
    };
  }

  private create(request: SandboxRequest): SandboxResponse {
    const attributes = userFromBody(request.body);
    return this.users.transaction(() => {
      if (this.users.idForUserName(String(attributes.userName)) !== undefined) throw uniquenessConflict();
      const timestamp = this.now().toISOString();
      const user: StoredUser = { id: this.newId(), attributes, created: timestamp, updated: timestamp };
      this.users.insert(user);
      return this.ok(201, user, request);
    });
  }

  private patch(id: string, request: SandboxRequest): SandboxResponse {
    return this.users.transaction(() => {
      const current = this.requireUser(id);
      const attributes = applyPatch(current.attributes, request.body);
      const holder = this.users.idForUserName(String(attributes.userName));
      if (holder !== undefined && holder !== id) throw uniquenessConflict();
      const user: StoredUser = { ...current, attributes, updated: this.now().toISOString() };
      this.users.update(user);
      return this.ok(200, user, request);
    });
  }

  /** Atlassian's DELETE deactivates the account and unlinks the SCIM record: the id answers 404 afterwards. */
  private remove(id: string): SandboxResponse {
    return this.users.transaction(() => {
      if (!this.users.delete(id)) throw notFound('User not found.');
      this.groups.forgetUser(id);
      return { status: 204 };
    });
  }

  private requireUser(id: string): StoredUser {
    const user = this.users.get(id);
    if (user === undefined) throw notFound('User not found.');
    return user;
  }

  private ok(status: number, user: StoredUser, request: SandboxRequest): SandboxResponse {
    return { status, body: this.resource(user, request.resourceBase) };
  }

  private resource(user: StoredUser, resourceBase: string | undefined): Record<string, unknown> {
    const resource: Record<string, unknown> = { schemas: [USER_SCHEMA], id: user.id };
    for (const { name } of USER_ATTRIBUTES) {
      if (user.attributes[name] !== undefined) resource[name] = user.attributes[name];
    }
    // Read-only, as in Atlassian's ScimUser: the groups the user is a member of.
    const groups = this.groups.groupsOfUser(user.id, resourceBase);
    if (groups.length > 0) resource.groups = groups;
    resource.meta = {
      resourceType: 'User',
      created: user.created,
      lastModified: user.updated,
      ...(resourceBase === undefined
        ? {}
        : { location: `${resourceBase}/Users/${encodeURIComponent(user.id)}` }),
    };
    return resource;
  }
}
