import { emailProblem, textValueProblem } from '../scim/value-rules';
import { ScimProblem } from './problem';

/**
 * The user attributes the sandbox stores, as Atlassian's user-provisioning API accepts them. One table
 * drives validation, PATCH and the schema document, so they cannot disagree.
 */
export type AttributeKind = 'string' | 'boolean' | 'name' | 'multi';

export interface AttributeDefinition {
  name: string;
  kind: AttributeKind;
  description: string;
  required?: boolean;
  /** userName is unique (case-insensitively) in the directory. */
  unique?: boolean;
  caseExact?: boolean;
}

export const USER_ATTRIBUTES: readonly AttributeDefinition[] = [
  {
    name: 'userName',
    kind: 'string',
    description: 'Unique identifier defined by the provisioning client, unique in the directory.',
    required: true,
    unique: true,
  },
  {
    name: 'externalId',
    kind: 'string',
    description: 'Identifier defined by the provisioning client; case-sensitive.',
    caseExact: true,
  },
  { name: 'name', kind: 'name', description: "The components of the user's name." },
  { name: 'displayName', kind: 'string', description: 'User display name.' },
  { name: 'nickName', kind: 'string', description: 'User nickname.' },
  { name: 'title', kind: 'string', description: 'User title.' },
  { name: 'preferredLanguage', kind: 'string', description: 'User preferred language.' },
  { name: 'department', kind: 'string', description: 'User department.' },
  { name: 'organization', kind: 'string', description: 'User organization.' },
  { name: 'timezone', kind: 'string', description: 'User timezone, e.g. America/Los_Angeles.' },
  {
    name: 'emails',
    kind: 'multi',
    description: 'Email addresses for the user; at least one, one of them primary.',
    required: true,
  },
  { name: 'phoneNumbers', kind: 'multi', description: 'Phone numbers for the user.' },
  { name: 'active', kind: 'boolean', description: "The user's administrative status." },
];

export const NAME_SUB_ATTRIBUTES = [
  'formatted',
  'familyName',
  'givenName',
  'middleName',
  'honorificPrefix',
  'honorificSuffix',
] as const;

/** Attributes a client may send but cannot write; they are ignored in bodies and refused as a PATCH path. */
export const READ_ONLY_ATTRIBUTES = [
  'id',
  'meta',
  'groups',
  'schemas',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  'urn:scim:schemas:extension:atlassian-external:1.0',
] as const;

/** A stored user: canonical attribute name → value, only attributes of USER_ATTRIBUTES. */
export type UserAttributes = Record<string, unknown>;

const byLowerName = new Map(USER_ATTRIBUTES.map((a) => [a.name.toLowerCase(), a]));
const nameSubByLower = new Map<string, string>(NAME_SUB_ATTRIBUTES.map((n) => [n.toLowerCase(), n]));
const readOnlyLower = new Set<string>(READ_ONLY_ATTRIBUTES.map((n) => n.toLowerCase()));

/** SCIM attribute names are case-insensitive (RFC 7643 section 2.1). */
export function findAttribute(name: string): AttributeDefinition | undefined {
  return byLowerName.get(name.toLowerCase());
}

export function findNameSubAttribute(name: string): string | undefined {
  return nameSubByLower.get(name.toLowerCase());
}

/** True for a read-only attribute or a path inside one (`meta.created`, `urn:…:enterprise:2.0:User:department`). */
export function isReadOnlyAttribute(path: string): boolean {
  const lower = path.toLowerCase();
  for (const name of readOnlyLower) {
    if (lower === name || lower.startsWith(`${name}.`) || lower.startsWith(`${name}:`)) return true;
  }
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): ScimProblem {
  return new ScimProblem(400, detail, 'invalidValue');
}

/** A string value within Atlassian's limits (the rules the profile parser checks too). */
export function checkString(attribute: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`Attribute '${attribute}' must be a string.`);
  const problem = textValueProblem(`Attribute '${attribute}'`, value);
  if (problem !== null) throw invalid(`${problem}.`);
  return value;
}

/** A `name` value with canonical sub-attribute names; unknown sub-attributes are refused. */
export function checkName(value: unknown): Record<string, string | null> {
  if (!isPlainObject(value)) throw invalid("Attribute 'name' must be an object.");
  const name: Record<string, string | null> = {};
  for (const [key, sub] of Object.entries(value)) {
    const canonical = findNameSubAttribute(key);
    if (canonical === undefined) throw invalid(`Unknown sub-attribute 'name.${key}'.`);
    name[canonical] = sub === null ? null : checkString(`name.${canonical}`, sub);
  }
  return name;
}

/** The values of `emails` or `phoneNumbers`: objects with a non-empty `value`, optional `type` and `primary`. */
export function checkMultiValued(attribute: string, value: unknown): Record<string, unknown>[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (!isPlainObject(item)) throw invalid(`Each value of '${attribute}' must be an object.`);
    const out: Record<string, unknown> = {};
    for (const [key, sub] of Object.entries(item)) {
      const lower = key.toLowerCase();
      if (sub === null) continue;
      if (lower === 'value' || lower === 'type' || lower === 'display') {
        out[lower] = checkString(`${attribute}.${lower}`, sub);
      } else if (lower === 'primary') {
        if (typeof sub !== 'boolean') throw invalid(`Attribute '${attribute}.primary' must be a boolean.`);
        out.primary = sub;
      } else {
        throw invalid(`Unknown sub-attribute '${attribute}.${key}'.`);
      }
    }
    if (typeof out.value !== 'string' || out.value.trim() === '') {
      throw invalid(`Each value of '${attribute}' needs a non-empty 'value'.`);
    }
    if (attribute === 'emails') {
      const problem = emailProblem(`Attribute 'emails.value' ('${out.value}')`, out.value.trim());
      if (problem !== null) throw invalid(`${problem}.`);
    }
    return out;
  });
}

/** What every stored user must satisfy after a create or a PATCH. */
export function checkUser(user: UserAttributes): void {
  if (typeof user.userName !== 'string' || user.userName.trim() === '') {
    throw invalid("Attribute 'userName' is required.");
  }
  if (!Array.isArray(user.emails) || user.emails.length === 0) {
    throw invalid("Attribute 'emails' is required: at least one email address.");
  }
  if (typeof user.active !== 'boolean') throw invalid("Attribute 'active' must be a boolean.");
  for (const attribute of ['emails', 'phoneNumbers']) {
    const values = user[attribute];
    if (Array.isArray(values) && values.filter((v) => isPlainObject(v) && v.primary === true).length > 1) {
      throw invalid(`At most one value of '${attribute}' may be primary.`);
    }
  }
}
