/**
 * The pure parts of the `/Groups` calls: ids checked before a URL is built, the PATCH bodies, and the
 * answers checked before anybody relies on them. The HTTP (retries, errors) is the client's.
 */
import { ScimRequestError } from './errors';
import { escapeFilterValue } from './filter';
import { GROUP_SCHEMA, PATCH_SCHEMA, type ScimGroup, type ScimGroupReference } from './types';

/**
 * An id that goes into a URL path must name one resource: empty, `.`, `..` or a `/` would point the
 * request somewhere else once the URL is normalised, so they are refused before anything is sent.
 */
export function checkResourceId(kind: 'group' | 'user', id: string): string {
  if (id === '' || id === '.' || id === '..' || id.includes('/')) {
    throw new ScimRequestError(null, `${JSON.stringify(id)} is not a valid ${kind} id; nothing was sent`);
  }
  return id;
}

/** The `displayName eq "…"` filter, with the same escaping as the user lookups. */
export function groupNameFilter(displayName: string): string {
  return `displayName eq ${escapeFilterValue(displayName)}`;
}

/**
 * One PatchOp for the whole change. Adding follows the example of Atlassian's document (`path:
 * "members"`, a list of `{value}`); removing uses RFC 7644 section 3.5.2.2's value filter, one
 * operation per member.
 */
export function memberPatchBody(op: 'add' | 'remove', userIds: readonly string[]): Record<string, unknown> {
  const operations =
    op === 'add'
      ? [{ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }]
      : userIds.map((id) => ({ op: 'remove', path: `members[value eq ${escapeFilterValue(id)}]` }));
  return { schemas: [PATCH_SCHEMA], Operations: operations };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function references(value: unknown): ScimGroupReference[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is ScimGroupReference => isObject(item) && typeof item.value === 'string');
}

/**
 * A group as Atlassian answers it, or null when the answer is not one: an object with a non-empty
 * string id and a string displayName, whose `schemas` (when given) name the Group schema.
 */
export function asGroup(data: unknown): ScimGroup | null {
  if (!isObject(data)) return null;
  const { id, displayName, schemas, members } = data;
  if (typeof id !== 'string' || id === '' || typeof displayName !== 'string') return null;
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.includes(GROUP_SCHEMA))) return null;
  const group: ScimGroup = { ...data, id, displayName };
  const listed = references(members);
  if (listed === undefined) delete group.members;
  else group.members = listed;
  return group;
}

/** The groups a user's `groups` attribute lists (read-only in Atlassian's ScimUser). */
export function groupsOfUser(user: Record<string, unknown>): ScimGroupReference[] {
  return references(user.groups) ?? [];
}
