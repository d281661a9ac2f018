/** Directory id and base URL the product uses while it runs against the embedded sandbox. */
export const SANDBOX_DIRECTORY_ID = 'sandbox';
export const SANDBOX_BASE_URL = 'http://sandbox.invalid';
export const SCIM_CONTENT_TYPE = 'application/scim+json';
