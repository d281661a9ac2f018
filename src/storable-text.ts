/**
 * The one rule for text that may be kept: both stores must keep a string exactly or refuse it alike.
 * PostgreSQL `text` cannot hold U+0000, and neither store can keep an unpaired UTF-16 surrogate (it has
 * no UTF-8 form; SQLite silently turns it into U+FFFD). Such text is refused at input, naming the field
 * (src/iam/profile.ts, the slash-command text, modal fields, CSV rows), and the stores refuse it too, so
 * whatever slips past input fails the same way on both. JSON columns are not affected: JSON.stringify
 * writes these characters as `\u` escapes, which both stores keep.
 */

/** What makes `text` unstorable, as a person reads it ("a NUL character (U+0000)"), or null if none. */
export function unstorableCharacter(text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return 'a NUL character (U+0000)';
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      return `an unpaired surrogate (U+${code.toString(16).toUpperCase()})`;
    }
  }
  return null;
}

/** True when both stores keep `text` exactly; a lookup by text that is not can match no row. */
export function isStorable(text: string): boolean {
  return unstorableCharacter(text) === null;
}

/** The message for a field whose text cannot be kept: "`email` contains a NUL character (U+0000); remove it". */
export function unstorableMessage(field: string, problem: string): string {
  return `\`${field}\` contains ${problem}; remove it`;
}

/** A store was given text it cannot keep exactly (see unstorableCharacter). */
export class UnstorableTextError extends Error {
  constructor(field: string, problem: string) {
    super(unstorableMessage(field, problem));
    this.name = 'UnstorableTextError';
  }
}

/** Throws UnstorableTextError for the first field whose text cannot be kept; null and undefined pass. */
export function assertStorable(fields: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const problem = unstorableCharacter(value);
    if (problem) throw new UnstorableTextError(field, problem);
  }
}
