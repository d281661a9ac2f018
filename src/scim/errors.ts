/**
 * Every failure of a SCIM request becomes this: an HTTP status (null when no response came back) and
 * one sentence for a person. It never carries the request's headers, so the token cannot leak through it.
 */
export class ScimRequestError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'ScimRequestError';
  }
}
