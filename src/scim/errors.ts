/**
 * Every failure of a SCIM request becomes this: an HTTP status (null when no response came back), the
 * network error code when the request got no answer (ENOTFOUND, ECONNRESET, a TLS code, ETIMEDOUT for
 * our own timeout), and one sentence for a person. It never carries the request's headers, so the
 * token cannot leak through it. Callers decide on `status` and `code`, never on the message.
 */
export class ScimRequestError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ScimRequestError';
  }

  /** The same failure said differently (the client adds what it tried); the type and facts stay. */
  withMessage(message: string): ScimRequestError {
    return new ScimRequestError(this.status, message, this.code);
  }
}

/**
 * Atlassian answered 429 and the client stopped retrying (its attempts or its wait budget ran out):
 * `retryAfterMs` is what Atlassian asked to wait (null when it did not say). A caller that can wait
 * longer than a person at a terminal (a bulk run) pauses and sends again.
 */
export class ScimRateLimitedError extends ScimRequestError {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(429, message);
    this.name = 'ScimRateLimitedError';
  }

  override withMessage(message: string): ScimRateLimitedError {
    return new ScimRateLimitedError(message, this.retryAfterMs);
  }
}
