import { GROUP_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA } from '../scim/types';
import { isPlainObject } from './attributes';
import { parseGroupFilter } from './filter';
import { type StoredGroup, GroupTable } from './group-table';
import { ScimProblem } from './problem';
import type { UserTable } from './user-table';

/** The groups a new sandbox starts with, so that a grant can be tried with zero configuration. */
export const EXAMPLE_GROUPS = ['jira-software-users', 'confluence-users'] as const;

const RENAME_REFUSED =
  "Renaming a group is not supported: create a group with the new name, move the members, then delete the old group. 'displayName' is immutable.";

export interface GroupPageRequest {
  filter: string | null;
  /** 0-based. */
  offset: number;
  limit: number;
}

function nameOf(body: Record<string, unknown>): string {
  const name = body.displayName;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ScimProblem(400, "A group needs a non-empty string 'displayName'.", 'invalidValue');
  }
  return name;
}

function caseInsensitive(body: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(body).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : body[found];
}

/** `members[value eq "<id>"]` → the id (RFC 7644 section 3.5.2.2); undefined for a plain `members`. */
function memberFilter(path: string): string | undefined {
  const match = /^members\s*\[\s*value\s+eq\s+("(?:[^"\\]|\\.)*")\s*\]$/i.exec(path.trim());
  if (!match) return undefined;
  try {
    const value: unknown = JSON.parse(match[1] ?? '');
    if (typeof value === 'string') return value;
  } catch {
    // fall through
  }
  throw new ScimProblem(400, `Cannot read the member filter in '${path}'.`, 'invalidPath');
}

/**
 * Atlassian's `/Groups` over SQLite: names unique case-insensitively (409), `displayName eq` the only
 * filter, members are user ids of this directory, and a group cannot be renamed.
 */
export class SandboxGroups {
  private readonly table: GroupTable;

  constructor(
    db: ConstructorParameters<typeof GroupTable>[0],
    private readonly users: UserTable,
    private readonly now: () => Date,
    private readonly newId: () => string,
  ) {
    this.table = new GroupTable(db);
    // Stamped with the wall clock: the seeds must not take readings of an injected (test) clock.
    const seeded = new Date().toISOString();
    this.table.seedOnce('example-groups', () => {
      for (const name of EXAMPLE_GROUPS) if (!this.table.byName(name)) this.insert(name, null, seeded);
    });
  }

  list(request: GroupPageRequest, resourceBase?: string): Record<string, unknown> {
    let total: number;
    let groups: StoredGroup[];
    if (request.filter === null) ({ total, groups } = this.table.page(request.offset, request.limit));
    else {
      const found = this.table.byName(parseGroupFilter(request.filter));
      const all = found === undefined ? [] : [found];
      total = all.length;
      groups = all.slice(request.offset, request.offset + request.limit);
    }
    return {
      schemas: [LIST_SCHEMA],
      totalResults: total,
      startIndex: request.offset + 1,
      itemsPerPage: groups.length,
      Resources: groups.map((group) => this.resource(group, resourceBase)),
    };
  }

  get(id: string, resourceBase?: string): Record<string, unknown> {
    return this.resource(this.require(id), resourceBase);
  }

  create(body: unknown, resourceBase?: string): Record<string, unknown> {
    if (!isPlainObject(body)) throw new ScimProblem(400, 'The body must be a JSON object.', 'invalidSyntax');
    const name = nameOf(body);
    const externalId = typeof body.externalId === 'string' ? body.externalId : null;
    // POST answers 400 for members that are not users of the directory ("invalid payload").
    const members = this.memberIds(caseInsensitive(body, 'members') ?? [], 400);
    return this.users.transaction(() => {
      if (this.table.byName(name)) {
        throw new ScimProblem(409, 'A group with the same name already exists.', 'uniqueness');
      }
      const group = this.insert(name, externalId, this.now().toISOString());
      for (const userId of members) this.table.addMember(group.id, userId);
      return this.resource(group, resourceBase);
    });
  }

  /** PUT: the members are replaced; the name must stay (unknown members: 400, as the document says). */
  replace(id: string, body: unknown, resourceBase?: string): Record<string, unknown> {
    if (!isPlainObject(body)) throw new ScimProblem(400, 'The body must be a JSON object.', 'invalidSyntax');
    return this.users.transaction(() => {
      const group = this.require(id);
      if (nameOf(body) !== group.displayName) throw new ScimProblem(400, RENAME_REFUSED, 'mutability');
      const members = this.memberIds(caseInsensitive(body, 'members') ?? [], 400);
      this.table.clearMembers(id);
      for (const userId of members) this.table.addMember(id, userId);
      this.table.touch(id, this.now().toISOString());
      return this.resource(this.require(id), resourceBase);
    });
  }

  /** PATCH of `members` (add, remove, replace); any change of `displayName` is refused. All or nothing. */
  patch(id: string, body: unknown, resourceBase?: string): Record<string, unknown> {
    if (!isPlainObject(body)) throw new ScimProblem(400, 'The body must be a JSON object.', 'invalidSyntax');
    const schemas = body.schemas;
    if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA)) {
      throw new ScimProblem(400, `A PATCH body must list the schema ${PATCH_SCHEMA}.`, 'invalidSyntax');
    }
    const operations = caseInsensitive(body, 'Operations');
    if (!Array.isArray(operations) || operations.length === 0) {
      throw new ScimProblem(400, "A PATCH body needs a non-empty 'Operations' array.", 'invalidSyntax');
    }
    return this.users.transaction(() => {
      this.require(id);
      for (const operation of operations) this.applyOperation(id, operation);
      this.table.touch(id, this.now().toISOString());
      return this.resource(this.require(id), resourceBase);
    });
  }

  delete(id: string): void {
    if (!this.table.delete(id)) throw new ScimProblem(404, 'Group not found.');
  }

  /** The user's `groups` attribute (read-only): the groups it is a member of. */
  groupsOfUser(userId: string, resourceBase?: string): Record<string, unknown>[] {
    return this.table.groupsOfUser(userId).map((group) => ({
      type: 'direct',
      value: group.id,
      display: group.displayName,
      ...(resourceBase === undefined
        ? {}
        : { $ref: `${resourceBase}/Groups/${encodeURIComponent(group.id)}` }),
    }));
  }

  /** A user is being deleted: it leaves every group. */
  forgetUser(userId: string): void {
    this.table.forgetUser(userId);
  }

  private applyOperation(id: string, operation: unknown): void {
    if (!isPlainObject(operation) || typeof operation.op !== 'string') {
      throw new ScimProblem(400, "Each PATCH operation needs an 'op'.", 'invalidSyntax');
    }
    const verb = operation.op.toLowerCase();
    if (verb !== 'add' && verb !== 'replace' && verb !== 'remove') {
      throw new ScimProblem(400, `Unsupported PATCH op '${operation.op}'.`, 'invalidSyntax');
    }
    const path = typeof operation.path === 'string' ? operation.path.trim() : '';
    if (path === '') {
      // Path-less add/replace: an object of attributes; only members may change.
      if (verb === 'remove') throw new ScimProblem(400, "A 'remove' operation needs a 'path'.", 'noTarget');
      if (!isPlainObject(operation.value)) {
        throw new ScimProblem(
          400,
          "A PATCH operation without 'path' needs an object 'value'.",
          'invalidValue',
        );
      }
      if (caseInsensitive(operation.value, 'displayName') !== undefined) {
        throw new ScimProblem(400, RENAME_REFUSED, 'mutability');
      }
      const members = caseInsensitive(operation.value, 'members');
      if (members !== undefined) this.changeMembers(id, verb, members);
      return;
    }
    if (/^(urn:ietf:params:scim:schemas:core:2\.0:Group:)?displayName$/i.test(path)) {
      throw new ScimProblem(400, RENAME_REFUSED, 'mutability');
    }
    const filtered = memberFilter(path);
    if (filtered !== undefined) {
      if (verb !== 'remove') {
        throw new ScimProblem(400, `Only 'remove' may use a member filter ('${path}').`, 'invalidPath');
      }
      this.table.removeMember(id, filtered);
      return;
    }
    if (path.toLowerCase() !== 'members') {
      throw new ScimProblem(400, `Unknown or read-only group attribute '${path}'.`, 'invalidPath');
    }
    if (verb === 'remove' && operation.value === undefined) this.table.clearMembers(id);
    else this.changeMembers(id, verb, operation.value);
  }

  private changeMembers(id: string, verb: 'add' | 'replace' | 'remove', value: unknown): void {
    // PATCH answers 404 for a user that does not exist ("The directory, group, or user does not exist").
    const userIds = this.memberIds(value, 404);
    if (verb === 'replace') this.table.clearMembers(id);
    for (const userId of userIds) {
      if (verb === 'remove') this.table.removeMember(id, userId);
      else this.table.addMember(id, userId);
    }
  }

  /** The user ids of a `members` value: a list of `{value}` naming users of this directory. */
  private memberIds(value: unknown, unknownStatus: 400 | 404): string[] {
    if (!Array.isArray(value) || !value.every((m) => isPlainObject(m) && typeof m.value === 'string')) {
      throw new ScimProblem(
        400,
        "'members' must be a list of objects with a string 'value'.",
        'invalidValue',
      );
    }
    const ids = value.map((member) => String((member as { value: string }).value));
    const unknown = ids.filter((userId) => this.users.get(userId) === undefined);
    if (unknown.length > 0) {
      throw new ScimProblem(
        unknownStatus,
        `User not found: ${unknown.map((u) => JSON.stringify(u)).join(', ')}.`,
        unknownStatus === 400 ? 'invalidValue' : undefined,
      );
    }
    return ids;
  }

  private insert(displayName: string, externalId: string | null, timestamp: string): StoredGroup {
    const group: StoredGroup = {
      id: this.newId(),
      displayName,
      externalId,
      created: timestamp,
      updated: timestamp,
    };
    this.table.insert(group);
    return group;
  }

  private require(id: string): StoredGroup {
    const group = this.table.get(id);
    if (group === undefined) throw new ScimProblem(404, 'Group not found.');
    return group;
  }

  private resource(group: StoredGroup, resourceBase: string | undefined): Record<string, unknown> {
    const base = resourceBase;
    return {
      schemas: [GROUP_SCHEMA],
      id: group.id,
      displayName: group.displayName,
      ...(group.externalId === null ? {} : { externalId: group.externalId }),
      members: this.table.members(group.id).map((member) => ({
        type: 'User',
        value: member.userId,
        display: member.userName,
        ...(base === undefined ? {} : { $ref: `${base}/Users/${encodeURIComponent(member.userId)}` }),
      })),
      meta: {
        resourceType: 'Group',
        created: group.created,
        lastModified: group.updated,
        ...(base === undefined ? {} : { location: `${base}/Groups/${encodeURIComponent(group.id)}` }),
      },
    };
  }
}
