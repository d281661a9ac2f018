/**
 * The retry budget of SCIM requests: which failures are worth another try, how long to wait before
 * it (Atlassian's Retry-After, else full-jitter exponential backoff), and when the budget is spent.
 */
import type { ScimRequestError } from './errors';
import { seconds, withSuffix } from './messages';

export interface RetryLimits {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff cap of the first retry; doubles each retry (full jitter: the wait is random below the cap). */
  baseDelayMs: number;
  /** Largest backoff cap. */
  maxDelayMs: number;
  /** Sum of all waits between attempts; a wait that would pass it ends the retries. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY: RetryLimits = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxTotalWaitMs: 30_000,
};

export const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Network failures worth another try. */
export const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Failures that happen before a request could reach Atlassian, so a POST surely did not land. */
export const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/**
 * A failure that may pass if the same request is sent later: 429, a 5xx the client retries, a timeout
 * or a network failure worth another try. Anything else (400, 404, 409, TLS, DNS…) will fail again.
 */
export function isTransientFailure(error: ScimRequestError): boolean {
  if (error.status !== null) return RETRYABLE_STATUSES.has(error.status);
  return error.code !== null && RETRYABLE_CODES.has(error.code);
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** The wait before the attempt after `attempt`: Atlassian's Retry-After, else full-jitter backoff. */
export function waitBefore(
  limits: RetryLimits,
  attempt: number,
  retryAfterMs: number | null,
  random: () => number,
): number {
  return (
    retryAfterMs ??
    Math.floor(random() * Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** (attempt - 1)))
  );
}

/**
 * The error to give up with when waiting `wait` more, after `attempt` attempts and `waitedMs` already
 * waited, would pass the budget; null when the wait fits.
 */
export function budgetSpent(
  error: ScimRequestError,
  limits: RetryLimits,
  attempt: number,
  waitedMs: number,
  wait: number,
  retryAfterMs: number | null,
): ScimRequestError | null {
  if (waitedMs + wait <= limits.maxTotalWaitMs) return null;
  if (retryAfterMs !== null) {
    const left = seconds(Math.max(0, limits.maxTotalWaitMs - waitedMs));
    return withSuffix(
      error,
      `; Atlassian asked to wait ${seconds(wait)} s before retrying, more than the ${left} s left of the retry budget: try again later`,
      '',
    );
  }
  return withSuffix(
    error,
    `(gave up after ${attempt} attempts: the ${seconds(limits.maxTotalWaitMs)} s retry budget is spent)`,
  );
}
