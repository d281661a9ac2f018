import type { LookupAttribute } from './types';

/**
 * A SCIM filter value is a JSON string literal (RFC 7644 section 3.4.2.2 refers to RFC 7159 for it),
 * so JSON.stringify quotes and escapes `"`, `\` and control characters exactly as the grammar wants.
 */
export function escapeFilterValue(value: string): string {
  return JSON.stringify(value);
}

export function equalityFilter(attribute: LookupAttribute, value: string): string {
  return `${attribute} eq ${escapeFilterValue(value)}`;
}
