/**
 * Characters that change how text around them is shown without being seen themselves: bidi embeddings,
 * overrides, isolates and marks (U+202E can make `exe.txt` read as `txt.exe`) and zero-width characters.
 * Renderers for people (terminal tables, Slack text) show them as a visible `<U+202E>`; the directory,
 * the store and JSON output keep them as they are. One exception: a zero-width joiner inside an emoji
 * sequence (👩‍💻, 🏳️‍🌈) is part of the emoji and stays.
 */

/** The characters, as the inside of a RegExp character class. */
export const INVISIBLE_CHARACTERS = String.raw`\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF`;
const INVISIBLE = new RegExp(`[${INVISIBLE_CHARACTERS}]`, 'g');

const ZWJ = '\u200D';
/** What may come before a joiner in an emoji sequence: a pictograph, a skin tone, or VS16. */
const EMOJI_BEFORE = /(?:[\p{Extended_Pictographic}\u{1F3FB}-\u{1F3FF}]|\uFE0F)$/u;
const EMOJI_AFTER = /^\p{Extended_Pictographic}/u;

function joinsEmoji(text: string, offset: number): boolean {
  return (
    EMOJI_BEFORE.test(text.slice(Math.max(0, offset - 2), offset)) &&
    EMOJI_AFTER.test(text.slice(offset + 1, offset + 3))
  );
}

/** `text` with every bidi control and zero-width character replaced by a visible `<U+XXXX>`. */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (char: string, offset: number) =>
    char === ZWJ && joinsEmoji(text, offset)
      ? char
      : `<U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}>`,
  );
}
