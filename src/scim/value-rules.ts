/**
 * The value rules of Atlassian's user schema that both sides check: the profile parser before anything
 * is sent, and the sandbox as Atlassian would. Atlassian's OpenAPI document types every user attribute
 * as a string (booleans aside) and documents no lengths; 255 characters is our limit for a text value,
 * and an email address must look like one (local@domain.tld, no spaces).
 */
export const MAX_TEXT_LENGTH = 255;

const EMAIL_SHAPE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function looksLikeEmail(text: string): boolean {
  return EMAIL_SHAPE.test(text);
}

/** What is wrong with a text value of `attribute`, or null when it is fine. */
export function textValueProblem(attribute: string, text: string): string | null {
  if (text.length > MAX_TEXT_LENGTH) {
    return `${attribute} is ${text.length} characters long; at most ${MAX_TEXT_LENGTH} are allowed`;
  }
  return null;
}

/** What is wrong with an email address, or null when it looks like one. */
export function emailProblem(attribute: string, text: string): string | null {
  if (!looksLikeEmail(text)) return `${attribute} must be an email address such as jane@example.com`;
  return textValueProblem(attribute, text);
}
