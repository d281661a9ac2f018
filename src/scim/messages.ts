/**
 * What a failed SCIM request says to a person: Atlassian's own words when it gave some, else a sentence
 * naming what to check; the token redacted (a server could echo it back) and the length bounded.
 */
import { redact } from '../log';
import { ScimRequestError } from './errors';
import type { RequestSpec } from './transport';

const MAX_MESSAGE_LENGTH = 500;

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

export function isTlsErrorCode(code: string): boolean {
  return TLS_CODES.has(code) || /CERT|SELF_SIGNED/.test(code);
}

/** Redacts the token and bounds the length. */
export function cleanMessage(message: string, token: string): string {
  const text = redact(message, [token]);
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
}

/** `detail` of a ScimError, else `error` of a Failure, else a `message`; ignores empty and "None". */
export function serverMessage(data: unknown): string | null {
  if (!isObject(data)) return null;
  for (const key of ['detail', 'error', 'message']) {
    const value = data[key];
    if (typeof value !== 'string') continue;
    const text = value.trim();
    if (text !== '' && !['none', 'null', 'undefined'].includes(text.toLowerCase())) return text;
  }
  return null;
}

export function defaultMessage(status: number, scope: RequestSpec['scope']): string {
  switch (status) {
    case 400:
      return 'Atlassian rejected the request as invalid (HTTP 400)';
    case 401:
      return 'Atlassian rejected the access token (401): check ATLASSIAN_ACCESS_TOKEN';
    case 403:
      return 'the access token is not authorized for this directory (403): check ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID';
    case 404:
      return scope === 'directory'
        ? 'directory not found (404): check ATLASSIAN_DIRECTORY_ID'
        : 'user not found (HTTP 404)';
    case 409:
      return 'a user with this userName already exists (HTTP 409)';
    case 429:
      return 'Atlassian is rate limiting requests (HTTP 429)';
    case 500:
      return 'Atlassian had an internal error (HTTP 500)';
    case 502:
      return 'bad gateway between here and Atlassian (HTTP 502)';
    case 503:
      return 'Atlassian is unavailable (HTTP 503)';
    case 504:
      return 'gateway timeout between here and Atlassian (HTTP 504)';
    default:
      if (status >= 300 && status < 400)
        return `Atlassian answered with a redirect (HTTP ${status}): check ATLASSIAN_URL`;
      return `Atlassian answered HTTP ${status}`;
  }
}

/**
 * A write that failed after an attempt that may have reached Atlassian (timeout, reset, 5xx, an
 * unreadable 2xx) may have been carried out all the same: say so, rather than let "failed" read as
 * "nothing happened".
 */
export function uncertain(spec: RequestSpec, error: ScimRequestError, reached: boolean): ScimRequestError {
  if (!reached || spec.method === 'GET') return error;
  const subject = spec.path.startsWith('/Groups') ? 'group' : 'user';
  const what =
    spec.method === 'POST' ? `the ${subject} may have been created` : 'the change may have been made';
  return withSuffix(error, `; ${what} all the same: look the ${subject} up before trying again`, '');
}

export function withSuffix(error: ScimRequestError, suffix: string, separator = ' '): ScimRequestError {
  return error.withMessage(`${error.message}${separator}${suffix}`);
}

export function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error for a request that got no HTTP answer (`code`: the system's error code, or ours). */
export function failureError(
  failure: { code: string; timedOut: boolean; detail: string | null },
  where: { host: string; timeoutMs: number; token: string },
): ScimRequestError {
  const { code, detail } = failure;
  const { host } = where;
  if (failure.timedOut) {
    return new ScimRequestError(null, `Atlassian did not answer within ${where.timeoutMs} ms`, 'ETIMEDOUT');
  }
  if (isTlsErrorCode(code)) {
    return new ScimRequestError(
      null,
      `TLS certificate of ${host} is not trusted (${code}); fix the certificate or set ATLASSIAN_INSECURE=true`,
      code,
    );
  }
  if (code === 'PROXY_SETTING') {
    return new ScimRequestError(null, detail ?? 'the proxy setting cannot be used');
  }
  // System errors (ECONNRESET, ENOTFOUND, …) name the problem; others get their short message.
  const message = /^E[A-Z0-9_]+$/.test(code)
    ? `cannot reach ${host}: ${code}`
    : `request to ${host} failed: ${detail ?? code}`;
  return new ScimRequestError(null, cleanMessage(message, where.token), code);
}

/** The error for an HTTP answer: Atlassian's own words when it gave some, else a sentence. */
export function httpError(
  reply: { status: number; data: unknown; nonJson: boolean },
  scope: RequestSpec['scope'],
  where: { host: string; token: string },
): ScimRequestError {
  const { status } = reply;
  if (reply.nonJson) {
    return new ScimRequestError(
      status,
      `unexpected non-JSON response (HTTP ${status}) from ${where.host}; check ATLASSIAN_URL and any proxy in between`,
    );
  }
  const said = serverMessage(reply.data);
  return new ScimRequestError(status, cleanMessage(said ?? defaultMessage(status, scope), where.token));
}
