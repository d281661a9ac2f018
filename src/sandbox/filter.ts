import type { LookupAttribute } from '../scim/types';
import { ScimProblem } from './problem';

export interface EqualityFilter {
  attribute: LookupAttribute;
  value: string;
}

// `<attribute> eq "<JSON string literal>"`; attribute names and the operator are case-insensitive
// (RFC 7644 section 3.4.2.2), and the attribute may carry the core User schema URN.
const FILTER =
  /^\s*(?:urn:ietf:params:scim:schemas:core:2\.0:User:)?(userName|externalId)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i;

/**
 * Parses the only filters Atlassian accepts: a single `eq` on `userName` or `externalId`. The value is
 * a JSON string literal, read with JSON.parse so that any escaping a client does round-trips.
 */
export function parseUserFilter(filter: string): EqualityFilter {
  const match = FILTER.exec(filter);
  if (match) {
    const attribute: LookupAttribute = match[1]?.toLowerCase() === 'username' ? 'userName' : 'externalId';
    try {
      const value: unknown = JSON.parse(match[2] ?? '');
      if (typeof value === 'string') return { attribute, value };
    } catch {
      // an invalid escape or a raw control character: fall through to invalidFilter
    }
  }
  throw new ScimProblem(
    400,
    `Unsupported filter: only 'userName eq "…"' and 'externalId eq "…"' are supported.`,
    'invalidFilter',
  );
}

const GROUP_FILTER =
  /^\s*(?:urn:ietf:params:scim:schemas:core:2\.0:Group:)?displayName\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i;

/** Parses the only group filter Atlassian accepts: a single `displayName eq "…"`. */
export function parseGroupFilter(filter: string): string {
  const literal = GROUP_FILTER.exec(filter)?.[1];
  if (literal !== undefined) {
    try {
      const value: unknown = JSON.parse(literal);
      if (typeof value === 'string') return value;
    } catch {
      // an invalid escape or a raw control character: fall through to invalidFilter
    }
  }
  throw new ScimProblem(400, `Unsupported filter: only 'displayName eq "…"' is supported.`, 'invalidFilter');
}
