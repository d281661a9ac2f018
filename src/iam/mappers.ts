import fs from 'node:fs';
import type { ScimUser } from '../scim/types';
import { SCIM_PREFIX, type UserProfile } from './profile';

/**
 * A mapper is a JSON object from target attribute path to source: a path, a list of paths (the first
 * that has a value wins) or `{"value": constant}`. Paths are dotted with `[N]` for an array index and
 * `[attr]` for the first element whose `attr` is true, e.g. `emails[primary].value`, `name.givenName`.
 */
export type MapperSource = string | string[] | { value: unknown };
export type Mapper = Record<string, MapperSource>;

export class MapperError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MapperError';
  }
}

/** Built-in outgoing mapper: user profile → SCIM user. */
export const BUILT_IN_OUTGOING: Mapper = {
  userName: ['username', 'email'],
  'emails[0].value': 'email',
  'emails[0].type': { value: 'work' },
  'emails[0].primary': { value: true },
  'name.givenName': 'givenname',
  'name.familyName': 'surname',
  displayName: 'displayname',
  nickName: 'nickname',
  title: 'title',
  department: 'department',
  organization: 'organization',
  timezone: 'timezone',
  preferredLanguage: 'preferredlanguage',
  externalId: 'employeeid',
  'phoneNumbers[0].value': 'mobilephone',
  'phoneNumbers[0].type': { value: 'mobile' },
  active: 'active',
};

/** Built-in incoming mapper: SCIM user → user profile. */
export const BUILT_IN_INCOMING: Mapper = {
  id: 'id',
  username: 'userName',
  email: ['emails[primary].value', 'emails[0].value'],
  givenname: 'name.givenName',
  surname: 'name.familyName',
  displayname: 'displayName',
  nickname: 'nickName',
  title: 'title',
  department: 'department',
  organization: 'organization',
  timezone: 'timezone',
  preferredlanguage: 'preferredLanguage',
  employeeid: 'externalId',
  mobilephone: ['phoneNumbers[primary].value', 'phoneNumbers[0].value'],
  active: 'active',
};

type Segment = { key: string; index?: number; flag?: string };

const SEGMENT = /^([^.[\]]+)(?:\[(\d+|[A-Za-z_]\w*)\])?$/;

/** Parsed paths by text: mappers are applied on every command, and their paths never change. */
const parsedPaths = new Map<string, Segment[]>();

function parsePath(path: string): Segment[] {
  let parsed = parsedPaths.get(path);
  if (parsed === undefined) {
    parsed = parseSegments(path);
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

function parseSegments(path: string): Segment[] {
  return path.split('.').map((part) => {
    const match = SEGMENT.exec(part);
    if (!match) throw new MapperError(`"${path}" is not a valid attribute path`);
    const [, key, selector] = match;
    if (selector === undefined) return { key };
    return /^\d+$/.test(selector) ? { key, index: Number(selector) } : { key, flag: selector };
  });
}

function lookupKey(record: Record<string, unknown>, key: string): unknown {
  if (key in record) return record[key];
  const lower = key.toLowerCase();
  const found = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : record[found];
}

function readPath(source: unknown, path: Segment[]): unknown {
  let current = source;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = lookupKey(current as Record<string, unknown>, segment.key);
    if (segment.index !== undefined || segment.flag !== undefined) {
      if (!Array.isArray(current)) return undefined;
      current =
        segment.index !== undefined
          ? current[segment.index]
          : current.find(
              (item) =>
                item &&
                typeof item === 'object' &&
                (item as Record<string, unknown>)[segment.flag as string] === true,
            );
    }
  }
  return current;
}

function writePath(target: Record<string, unknown>, path: Segment[], value: unknown): void {
  let current: Record<string, unknown> = target;
  path.forEach((segment, i) => {
    const last = i === path.length - 1;
    if (segment.flag !== undefined) throw new MapperError(`target path cannot select by [${segment.flag}]`);
    if (segment.index === undefined) {
      if (last) current[segment.key] = value;
      else {
        const next = current[segment.key];
        current = (next && typeof next === 'object' ? next : (current[segment.key] = {})) as Record<
          string,
          unknown
        >;
      }
      return;
    }
    const list = (
      Array.isArray(current[segment.key]) ? current[segment.key] : (current[segment.key] = [])
    ) as unknown[];
    if (last) list[segment.index] = value;
    else current = (list[segment.index] ??= {}) as Record<string, unknown>;
  });
}

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

function resolveSource(source: MapperSource, input: unknown): unknown {
  if (typeof source === 'object' && !Array.isArray(source)) return source.value;
  const paths = Array.isArray(source) ? source : [source];
  for (const path of paths) {
    const value = readPath(input, parsePath(path));
    if (present(value)) return value;
  }
  return undefined;
}

/** Drops containers whose mapped content came out empty (e.g. an email type with no address). */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(prune).filter((item) => item !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, prune(v)] as const);
    return entries.some(([, v]) => v !== undefined)
      ? Object.fromEntries(entries.filter(([, v]) => v !== undefined))
      : undefined;
  }
  return value;
}

/**
 * Applies a mapper. A container only survives if one of its non-constant sources had a value, so the
 * constant `emails[0].primary: true` never produces an email without an address.
 */
export function applyMapper(mapper: Mapper, input: unknown): Record<string, unknown> {
  const fromSources: Record<string, unknown> = {};
  const constants: [Segment[], unknown][] = [];
  for (const [target, source] of Object.entries(mapper)) {
    const path = parsePath(target);
    if (typeof source === 'object' && !Array.isArray(source)) {
      constants.push([path, source.value]);
      continue;
    }
    const value = resolveSource(source, input);
    if (present(value)) writePath(fromSources, path, value);
  }
  for (const [path, value] of constants) {
    const parent = path.length > 1 ? readPath(fromSources, path.slice(0, -1)) : fromSources;
    const root = readPath(fromSources, path.slice(0, 1));
    if (path.length === 1 || (parent !== undefined && root !== undefined))
      writePath(fromSources, path, value);
  }
  return (prune(fromSources) as Record<string, unknown> | undefined) ?? {};
}

/**
 * Outgoing: the mapped SCIM user, with the profile's SCIM pass-through attributes on top: the SCIM
 * names the parser knows, `scim:NAME` keys as NAME, and schema URN keys as given.
 */
export function toScimUser(mapper: Mapper, profile: UserProfile): ScimUser {
  const user = applyMapper(mapper, profile) as ScimUser;
  for (const key of ['emails', 'phoneNumbers', 'externalId', 'schemas', 'active'] as const) {
    if (key in profile && profile[key] !== undefined) user[key] = profile[key] as never;
  }
  for (const [key, value] of Object.entries(profile)) {
    const lower = key.toLowerCase();
    if (lower.startsWith(SCIM_PREFIX))
      (user as Record<string, unknown>)[key.slice(SCIM_PREFIX.length)] = value;
    else if (lower.startsWith('urn:')) (user as Record<string, unknown>)[key] = value;
  }
  if (profile.name && typeof profile.name === 'object') {
    user.name = { ...(user.name ?? {}), ...(profile.name as object) };
  }
  if (!user.userName) {
    const primary = user.emails?.find((e) => e.primary) ?? user.emails?.[0];
    if (primary?.value) user.userName = primary.value;
  }
  return user;
}

/**
 * The SCIM attribute path a profile key is written to, for a PATCH `remove`: the one mapper target
 * whose only source is that key, when it is a plain path (`title`, `name.givenName`). Null when the
 * key is not mapped that way (not mapped, mapped with fallbacks, or into a multi-valued attribute).
 */
export function clearablePath(mapper: Mapper, key: string): string | null {
  const targets = Object.entries(mapper)
    .filter(([, source]) => source === key)
    .map(([target]) => target);
  return targets.length === 1 && !targets[0].includes('[') ? targets[0] : null;
}

/** The profile keys a mapper reads (lower-case): a mapper file's own keys pass the profile parser. */
export function mapperSourceKeys(mapper: Mapper): Set<string> {
  const keys = new Set<string>();
  for (const source of Object.values(mapper)) {
    if (typeof source === 'object' && !Array.isArray(source)) continue;
    for (const path of Array.isArray(source) ? source : [source]) {
      keys.add(path.split(/[.[]/)[0].toLowerCase());
    }
  }
  return keys;
}

export function toUserProfile(mapper: Mapper, user: ScimUser): UserProfile {
  return applyMapper(mapper, user);
}

function validateMapper(value: unknown, file: string): Mapper {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MapperError(`${file}: a mapper must be a JSON object from target path to source path`);
  }
  for (const [target, source] of Object.entries(value)) {
    const ok =
      typeof source === 'string' ||
      (Array.isArray(source) && source.length > 0 && source.every((s) => typeof s === 'string')) ||
      (source !== null && typeof source === 'object' && !Array.isArray(source) && 'value' in source);
    if (!ok) {
      throw new MapperError(`${file}: "${target}" must map to a path, a list of paths or {"value": …}`);
    }
    try {
      parsePath(target);
      for (const path of typeof source === 'string' ? [source] : Array.isArray(source) ? source : [])
        parsePath(path);
    } catch (error) {
      throw new MapperError(`${file}: ${(error as Error).message}`);
    }
  }
  return value as Mapper;
}

/** Loads a mapper file, or returns the built-in mapper when no path is given. */
export function loadMapper(file: string | null, builtIn: Mapper): Mapper {
  if (file === null) return builtIn;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new MapperError(`cannot read the mapper file ${file}`);
  }
  try {
    return validateMapper(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof MapperError) throw error;
    throw new MapperError(`${file} is not valid JSON (${(error as Error).message})`);
  }
}
