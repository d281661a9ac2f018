/**
 * Which strings may name a user in a URL (`…/Users/{id}`). encodeURIComponent leaves `.` alone, so an
 * id of `.` or `..` is a dot segment that URL parsers collapse: `GET …/Users/.` becomes `GET …/Users/`,
 * the user list (issue 10 finding 4). Refused, before any URL is built: empty or blank ids, `.` and
 * `..`, the URL delimiters `/` `\` `?` `#` (proxies and gateways may decode `%2F` back into a slash),
 * and control characters (C0, DEL, C1). Atlassian's ids are UUIDs, so no real id is refused.
 */

/** Why `id` cannot name a user, as a person reads it ("is empty"), or null when it can. */
export function userIdProblem(id: string): string | null {
  if (id.trim() === '') return 'is empty';
  if (id === '.' || id === '..') return `is "${id}", a path segment, not a user id`;
  const delimiter = /[/\\?#]/.exec(id);
  if (delimiter) return `contains "${delimiter[0]}"`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(id);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `contains a control character (U+${code})`;
  }
  return null;
}

/** A user id that cannot be put into a URL: bad input, nothing was sent (the CLI exits 2). */
export class InvalidUserIdError extends Error {
  constructor(id: string, problem: string) {
    super(`the user id ${JSON.stringify(id)} cannot be used: it ${problem}`);
    this.name = 'InvalidUserIdError';
  }
}

/** Throws InvalidUserIdError unless `id` may name a user in a URL. */
export function assertUserId(id: string): void {
  const problem = userIdProblem(id);
  if (problem) throw new InvalidUserIdError(id, problem);
}

/**
 * Why a SCIM answer is not a User resource (a ListResponse, an empty object, an object without a
 * usable string `id`), or null when it is one. Such an answer is never shown as a user.
 */
export function notAUserProblem(data: Record<string, unknown>, listSchema: string): string | null {
  const schemas = data.schemas;
  if ('Resources' in data || (Array.isArray(schemas) && schemas.includes(listSchema))) {
    return 'a list of users';
  }
  if (typeof data.id !== 'string') return 'an object without a string id';
  const problem = userIdProblem(data.id);
  return problem ? `a user whose id ${problem}` : null;
}
