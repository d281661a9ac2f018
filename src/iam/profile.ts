/**
 * The user profile: the XSOAR-style JSON object an admin gives to every iam-* command.
 * Keys are case-insensitive; known keys are stored lower-case and SCIM attribute names pass through
 * under their SCIM spelling. Any other key is refused, naming the closest known one, unless it has the
 * `scim:` prefix (sent as that SCIM attribute, see toScimUser), is a schema URN (`urn:…`), or the
 * outgoing mapper file reads it (`mapperKeys`).
 */
import { userIdProblem } from '../scim/user-id';
import { unstorableCharacter, unstorableMessage } from '../storable-text';
import { booleanFromText } from '../boolean-text';
import { closest } from '../closest-word';
import { emailProblem, textValueProblem } from '../scim/value-rules';

export type UserProfile = Record<string, unknown>;

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** The profile text is not JSON. `syntaxError` is the parser's own words; Slack rewords them for people. */
export class ProfileJsonError extends ProfileError {
  constructor(readonly syntaxError: string) {
    super(`user-profile is not valid JSON (${syntaxError})`);
    this.name = 'ProfileJsonError';
  }
}

export const STRING_KEYS = [
  'id',
  'email',
  'username',
  'givenname',
  'surname',
  'displayname',
  'nickname',
  'title',
  'department',
  'organization',
  'timezone',
  'preferredlanguage',
  'employeeid',
  'mobilephone',
] as const;

const ALIASES: Record<string, string> = { familyname: 'surname' };

/** Keys of a create or update besides the text ones: `groups` is a list of group names (create). */
const OTHER_KEYS = ['active', 'olduserdata', 'groups'] as const;

/** Words people write for a known key, for the "did you mean" of a refused key only. */
const SYNONYMS: Record<string, string> = {
  firstname: 'givenname',
  lastname: 'surname',
  mail: 'email',
  emailaddress: 'email',
  phone: 'mobilephone',
  login: 'username',
  jobtitle: 'title',
  manager: 'department',
};

/** The prefix that sends any SCIM attribute as given: `{"scim:nickName":"JJ"}`. */
export const SCIM_PREFIX = 'scim:';

/** SCIM attributes that may be given directly (lower-case → SCIM spelling). */
const SCIM_PASS_THROUGH: Record<string, string> = {
  emails: 'emails',
  name: 'name',
  externalid: 'externalId',
  phonenumbers: 'phoneNumbers',
  is_active: 'active',
  schemas: 'schemas',
};

/** SCIM attributes whose values are booleans, wherever they appear. */
const BOOLEAN_ATTRIBUTES = new Set(['active', 'primary']);

export function parseBooleanText(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  const parsed = typeof value === 'string' ? booleanFromText(value) : null;
  if (parsed !== null) return parsed;
  throw new ProfileError(`${what} must be true or false, got ${JSON.stringify(value)}`);
}

/** Turns yes/no words ("true", "off", …) into booleans in the SCIM boolean attributes of a pass-through value. */
function scimBooleans(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => scimBooleans(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = BOOLEAN_ATTRIBUTES.has(key)
      ? parseBooleanText(inner, `${path}.${key}`)
      : scimBooleans(inner, `${path}.${key}`);
  }
  return out;
}

/** Atlassian's schema types every one of these as a string: a number is refused, not turned into text. */
function stringValue(value: unknown, key: string, label: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? ` in quotes ("${value}")` : '';
    throw new ProfileError(`${label} must be text${hint}, got ${JSON.stringify(value)}`);
  }
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const problem = key === 'email' ? emailProblem(label, trimmed) : textValueProblem(label, trimmed);
  if (problem !== null) throw new ProfileError(problem);
  return trimmed;
}

/** Email addresses inside a pass-through `emails` list must look like email addresses too. */
function checkScimEmails(value: unknown, label: string): void {
  if (!Array.isArray(value)) return;
  value.forEach((item, i) => {
    const address =
      item !== null && typeof item === 'object' ? (item as Record<string, unknown>).value : null;
    if (typeof address !== 'string') return;
    const problem = emailProblem(`${label}[${i}].value`, address.trim());
    if (problem !== null) throw new ProfileError(problem);
  });
}

/** Every key the parser knows, as people write them (for help texts and "did you mean"). */
export const PROFILE_KEYS: readonly string[] = [...STRING_KEYS, ...OTHER_KEYS];

const SCIM_NAMES = Object.values(SCIM_PASS_THROUGH);

/** A key that passes because the caller vouches for it: the `scim:` prefix, a schema URN, a mapper key. */
function passesAsGiven(lower: string, mapperKeys: ReadonlySet<string>): boolean {
  return lower.startsWith(SCIM_PREFIX) || lower.startsWith('urn:') || mapperKeys.has(lower);
}

/** The error for a key nobody knows, naming the closest known key. */
export function unknownKeyError(label: string, key: string, mapperKeys: ReadonlySet<string>): ProfileError {
  const lower = key.toLowerCase();
  const known = [...PROFILE_KEYS, ...SCIM_NAMES, ...mapperKeys];
  const near = closest(lower, [...known, ...Object.keys(SYNONYMS)]);
  const suggestion = near === null ? null : (SYNONYMS[near.toLowerCase()] ?? near);
  return new ProfileError(
    `${label} is not a profile key${suggestion ? `: did you mean ${suggestion}?` : ''} ` +
      `(known keys: ${PROFILE_KEYS.join(', ')}; SCIM attributes such as ${SCIM_NAMES.slice(0, 4).join(', ')}; ` +
      `send any other SCIM attribute as ${SCIM_PREFIX}NAME)`,
  );
}

/** A key the parser takes (in any case), whatever its value. */
function isKnownKey(lower: string, mapperKeys: ReadonlySet<string>): boolean {
  const key = ALIASES[lower] ?? lower;
  return PROFILE_KEYS.includes(key) || key in SCIM_PASS_THROUGH || passesAsGiven(lower, mapperKeys);
}

/**
 * Refuses a key the parser would refuse, before any value is read: a CSV header names its columns
 * once for every row. `label` is what the message calls the key.
 */
export function checkProfileKey(key: string, label: string, options: ProfileOptions = {}): void {
  const mapperKeys = options.mapperKeys ?? new Set<string>();
  if (!isKnownKey(key.toLowerCase(), mapperKeys)) throw unknownKeyError(label, key, mapperKeys);
}

interface Scope {
  where: string;
  nested: boolean;
  mapperKeys: ReadonlySet<string>;
}

/**
 * Refuses text that the stores cannot keep exactly (NUL, unpaired surrogates: see storable-text.ts),
 * anywhere in a value, keys included, naming the field: "`email` contains a NUL character (U+0000);
 * remove it". Refused here, such text never reaches the directory or the audit log.
 */
export function checkStorable(value: unknown, label: string): void {
  if (typeof value === 'string') {
    const problem = unstorableCharacter(value);
    if (problem) throw new ProfileError(unstorableMessage(label, problem));
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkStorable(item, `${label}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const keyProblem = unstorableCharacter(key);
      if (keyProblem) {
        const where = label ? `\`${label}\`` : 'user-profile';
        throw new ProfileError(`a key in ${where} contains ${keyProblem}; remove it`);
      }
      checkStorable(inner, label ? `${label}.${key}` : key);
    }
  }
}

/**
 * `groups`: a list of group names, or one comma-separated string (key=value pairs, CSV cells).
 * Names are trimmed; empty ones and repeats (in any letter case) are dropped.
 */
function groupNames(value: unknown, key: string): string[] {
  if (value === null || value === undefined) return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new ProfileError(`${key} must be a list of group names or a comma-separated string`);
  }
  const names: string[] = [];
  for (const name of items.map((item) => item.trim())) {
    if (name !== '' && !names.some((n) => n.toLowerCase() === name.toLowerCase())) names.push(name);
  }
  return names;
}

function normalise(raw: Record<string, unknown>, scope: Scope): UserProfile {
  const { where, nested, mapperKeys } = scope;
  const profile: UserProfile = {};
  for (const [givenKey, value] of Object.entries(raw)) {
    const lower = givenKey.toLowerCase();
    const key = ALIASES[lower] ?? lower;
    const label = where ? `${where}.${givenKey}` : givenKey;
    if (key in profile || (SCIM_PASS_THROUGH[key] && SCIM_PASS_THROUGH[key] in profile)) {
      throw new ProfileError(`${label} is given twice (keys are case-insensitive)`);
    }
    if ((STRING_KEYS as readonly string[]).includes(key)) {
      const text = stringValue(value, key, label);
      const idProblem = key === 'id' && text !== undefined ? userIdProblem(text) : null;
      if (idProblem)
        throw new ProfileError(`${label} ${JSON.stringify(text)} is not a user id: it ${idProblem}`);
      if (text !== undefined) profile[key] = text;
    } else if (key === 'active') {
      if (value !== null && value !== undefined) profile.active = parseBooleanText(value, label);
    } else if (key === 'groups') {
      const names = groupNames(value, label);
      if (names.length > 0) profile.groups = names;
    } else if (key === 'olduserdata') {
      if (nested) throw new ProfileError(`${label} cannot be nested inside olduserdata`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new ProfileError(`${label} must be an object of the previous values`);
      }
      profile.olduserdata = normalise(value as Record<string, unknown>, {
        ...scope,
        where: label,
        nested: true,
      });
    } else if (SCIM_PASS_THROUGH[key]) {
      const scimKey = SCIM_PASS_THROUGH[key];
      if (scimKey === 'emails') checkScimEmails(value, label);
      profile[scimKey] = BOOLEAN_ATTRIBUTES.has(scimKey)
        ? parseBooleanText(value, label)
        : scimBooleans(value, label);
    } else if (passesAsGiven(lower, mapperKeys)) {
      profile[givenKey] = value;
    } else {
      throw unknownKeyError(label, givenKey, mapperKeys);
    }
  }
  return profile;
}

export interface ProfileOptions {
  /** Keys the outgoing mapper file reads, lower-case (see mapperSourceKeys): they pass as given. */
  mapperKeys?: ReadonlySet<string>;
}

/** Parses the user-profile argument: a JSON object as text or already parsed. */
export function parseUserProfile(input: unknown, options: ProfileOptions = {}): UserProfile {
  let value = input;
  if (typeof input === 'string') {
    const text = input.trim().replace(/^`+|`+$/g, '');
    if (text === '')
      throw new ProfileError(
        'user-profile is empty: give a JSON object such as {"email":"jane@example.com"}',
      );
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ProfileJsonError((error as Error).message);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProfileError('user-profile must be a JSON object such as {"email":"jane@example.com"}');
  }
  checkStorable(value, '');
  return normalise(value as Record<string, unknown>, {
    where: '',
    nested: false,
    mapperKeys: options.mapperKeys ?? new Set(),
  });
}

/** The previous values of an update, when given. */
export function oldUserData(profile: UserProfile): UserProfile | null {
  const old = profile.olduserdata;
  return old && typeof old === 'object' ? (old as UserProfile) : null;
}

export function parseAllowEnable(value: string | boolean | undefined): boolean {
  if (value === undefined) return true;
  try {
    return parseBooleanText(value, 'allow-enable');
  } catch {
    throw new ProfileError(`allow-enable must be true or false, got ${JSON.stringify(value)}`);
  }
}

/**
 * Whom a command is about, as audit rows and messages name them: the first of email, username,
 * employeeid and id that is set, or "unknown user".
 */
export function targetOf(profile: UserProfile): string {
  for (const key of ['email', 'username', 'employeeid', 'id']) {
    const value = profile[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'unknown user';
}
