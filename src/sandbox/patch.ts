import { PATCH_SCHEMA } from '../scim/types';
import {
  type AttributeDefinition,
  type UserAttributes,
  checkMultiValued,
  checkName,
  checkString,
  checkUser,
  findAttribute,
  findNameSubAttribute,
  isPlainObject,
  isReadOnlyAttribute,
} from './attributes';
import { ScimProblem } from './problem';

type Verb = 'add' | 'replace' | 'remove';

/** Where a PATCH path (or a key of a path-less value) points. */
type Target =
  | { type: 'attribute'; definition: AttributeDefinition }
  | { type: 'nameSub'; sub: string }
  | { type: 'readOnly' }
  | { type: 'unknown' };

const CORE_USER_PREFIX = 'urn:ietf:params:scim:schemas:core:2.0:user:';

function resolveTarget(path: string): Target {
  let rest = path.trim();
  if (rest.toLowerCase().startsWith(CORE_USER_PREFIX)) rest = rest.slice(CORE_USER_PREFIX.length);
  if (rest.includes('[')) {
    throw new ScimProblem(400, `Value filters in a PATCH path are not supported: '${path}'.`, 'invalidPath');
  }
  if (isReadOnlyAttribute(rest)) return { type: 'readOnly' };
  const parts = rest.split('.');
  const definition = findAttribute(parts[0] ?? '');
  if (definition === undefined || parts.length > 2) return { type: 'unknown' };
  if (parts.length === 1) return { type: 'attribute', definition };
  const sub = definition.kind === 'name' ? findNameSubAttribute(parts[1] ?? '') : undefined;
  return sub === undefined ? { type: 'unknown' } : { type: 'nameSub', sub };
}

function setName(user: UserAttributes, changes: Record<string, string | null>): void {
  const name: Record<string, unknown> = isPlainObject(user.name) ? { ...user.name } : {};
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete name[key];
    else name[key] = value;
  }
  if (Object.keys(name).length > 0) user.name = name;
  else delete user.name;
}

/** RFC 7644 `add` on a multi-valued attribute: new values are appended, a value already there is updated. */
function addValues(existing: unknown, added: Record<string, unknown>[]): Record<string, unknown>[] {
  const values = Array.isArray(existing) ? existing.filter(isPlainObject).map((v) => ({ ...v })) : [];
  for (const item of added) {
    if (item.primary === true) for (const v of values) delete v.primary;
    const same = values.find((v) => String(v.value).toLowerCase() === String(item.value).toLowerCase());
    if (same) Object.assign(same, item);
    else values.push(item);
  }
  return values;
}

/** add/replace of one attribute; a null value unassigns it (RFC 7643 section 2.5). */
function setAttribute(
  user: UserAttributes,
  definition: AttributeDefinition,
  value: unknown,
  verb: Verb,
): void {
  const attribute = definition.name;
  if (value === null) {
    delete user[attribute];
    return;
  }
  switch (definition.kind) {
    case 'string':
      user[attribute] = checkString(attribute, value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw new ScimProblem(400, `Attribute '${attribute}' must be a boolean.`, 'invalidValue');
      }
      user[attribute] = value;
      return;
    case 'name':
      // add and replace both merge sub-attributes into a complex attribute (RFC 7644 section 3.5.2).
      setName(user, checkName(value));
      return;
    case 'multi': {
      const items = checkMultiValued(attribute, value);
      const values = verb === 'add' ? addValues(user[attribute], items) : items;
      if (values.length > 0) user[attribute] = values;
      else delete user[attribute];
      return;
    }
  }
}

/** add/replace (or, with a null value, remove) of what a path names; `path` is for error messages. */
function setTarget(
  user: UserAttributes,
  target: Extract<Target, { type: 'attribute' | 'nameSub' }>,
  path: string,
  value: unknown,
  verb: Verb,
): void {
  if (target.type === 'attribute') setAttribute(user, target.definition, value, verb);
  else setName(user, { [target.sub]: value === null ? null : checkString(path, value) });
}

/**
 * Applies an object of attributes (a create body, or the value of a path-less add/replace). Keys may
 * be `name.givenName` style paths. Read-only and unknown attributes are ignored, as Atlassian does.
 */
function applyAttributes(user: UserAttributes, value: Record<string, unknown>, verb: Verb): void {
  for (const [key, attributeValue] of Object.entries(value)) {
    const target = resolveTarget(key);
    if (target.type === 'attribute' || target.type === 'nameSub')
      setTarget(user, target, key, attributeValue, verb);
  }
}

function applyOperation(user: UserAttributes, operation: unknown): void {
  if (!isPlainObject(operation) || typeof operation.op !== 'string') {
    throw new ScimProblem(400, "Each PATCH operation needs an 'op'.", 'invalidSyntax');
  }
  const verb = operation.op.toLowerCase();
  if (verb !== 'add' && verb !== 'replace' && verb !== 'remove') {
    throw new ScimProblem(400, `Unsupported PATCH op '${operation.op}'.`, 'invalidSyntax');
  }
  const path = operation.path;
  if (path === undefined || path === null || path === '') {
    if (verb === 'remove') throw new ScimProblem(400, "A 'remove' operation needs a 'path'.", 'noTarget');
    if (!isPlainObject(operation.value)) {
      throw new ScimProblem(400, "A PATCH operation without 'path' needs an object 'value'.", 'invalidValue');
    }
    applyAttributes(user, operation.value, verb);
    return;
  }
  if (typeof path !== 'string') throw new ScimProblem(400, "'path' must be a string.", 'invalidPath');
  const target = resolveTarget(path);
  if (target.type === 'readOnly') {
    throw new ScimProblem(400, `Attribute '${path}' is read-only.`, 'mutability');
  }
  if (target.type === 'unknown') throw new ScimProblem(400, `Unknown attribute '${path}'.`, 'invalidPath');
  if (verb !== 'remove' && !('value' in operation)) {
    throw new ScimProblem(400, `The '${verb}' operation on '${path}' needs a 'value'.`, 'invalidValue');
  }
  setTarget(user, target, path, verb === 'remove' ? null : operation.value, verb);
}

/** The attributes of a new user from a POST body; `active` defaults to true. */
export function userFromBody(body: unknown): UserAttributes {
  if (!isPlainObject(body)) throw new ScimProblem(400, 'The body must be a JSON object.', 'invalidSyntax');
  const user: UserAttributes = {};
  applyAttributes(user, body, 'replace');
  if (user.active === undefined) user.active = true;
  checkUser(user);
  return user;
}

function caseInsensitiveKey(body: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(body).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : body[found];
}

/**
 * Applies an RFC 7644 PatchOp body (`Operations`, or `operations` as Atlassian's OpenAPI document
 * names it) to a copy of the user. All operations apply or none: the result is checked as a whole.
 */
export function applyPatch(current: UserAttributes, body: unknown): UserAttributes {
  if (!isPlainObject(body)) throw new ScimProblem(400, 'The body must be a JSON object.', 'invalidSyntax');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA)) {
    throw new ScimProblem(400, `A PATCH body must list the schema ${PATCH_SCHEMA}.`, 'invalidSyntax');
  }
  const operations = caseInsensitiveKey(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new ScimProblem(400, "A PATCH body needs a non-empty 'Operations' array.", 'invalidSyntax');
  }
  const user = structuredClone(current);
  for (const operation of operations) applyOperation(user, operation);
  checkUser(user);
  return user;
}
