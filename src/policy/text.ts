/** Small text helpers for the policy room: glob patterns ("did you mean" is src/closest-word.ts). */

/**
 * A glob (`*` any run of characters, `?` one character, everything else literal) as a case-insensitive
 * whole-string test.
 */
export function globMatches(pattern: string, value: string): boolean {
  const source = [...pattern.replace(/\*+/g, '*')]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'is').test(value);
}
