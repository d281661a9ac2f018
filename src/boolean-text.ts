/**
 * The one reading of a yes/no word, for configuration variables, CLI flags and profile values alike:
 * true/false, yes/no, on/off and 1/0, in any case, surrounding spaces ignored.
 */
const WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};

/** The boolean a word means, or null when it is not one of the words. */
export function booleanFromText(text: string): boolean | null {
  return WORDS[text.trim().toLowerCase()] ?? null;
}
