import { checkStorable, looksLikeEmail, parseUserProfile, ProfileError, type UserProfile } from '../iam';

/** What a slash command's text asked for. */
export type CommandInput =
  | { kind: 'empty' }
  | {
      kind: 'profile';
      profile: UserProfile;
      /** `allow-enable=…` as typed (checked by parseAllowEnable). */
      allowEnable?: string;
      /** `reason=…` for a disable request. */
      reason?: string;
      /** The text was a bare email (or email=… alone): update opens the pre-filled modal. */
      identifierOnly: boolean;
    };

const OPTION_KEYS = new Set(['allow-enable', 'reason']);

/** Slack turns typed quotes into curly ones on some clients; treat them as straight quotes. */
function straightenQuotes(text: string): string {
  return text.replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'");
}

/** Slack may wrap emails and links: `<mailto:a@b.c|a@b.c>` → `a@b.c`. */
function unwrapSlackLinks(text: string): string {
  return text.replace(/<mailto:([^|>]+)(?:\|[^>]*)?>/g, '$1').replace(/<(https?:[^|>]+)(?:\|[^>]*)?>/g, '$1');
}

/** Splits `a=1 b="two words" c='x'` into pairs; throws on text that is not of that form. */
function keyValuePairs(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  const token = /\s*([A-Za-z][\w.-]*)=(?:"([^"]*)"|'([^']*)'|(\S*))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    token.lastIndex = index;
    const match = token.exec(text);
    if (!match) {
      const rest = text.slice(index).trim().split(/\s+/)[0];
      throw new ProfileError(
        `cannot read "${rest}": write key=value pairs such as email=jane@example.com title="Team Lead"`,
      );
    }
    pairs.push([match[1].toLowerCase(), match[2] ?? match[3] ?? match[4] ?? '']);
    index = token.lastIndex;
  }
  return pairs;
}

/** Parses the text of /iam-* commands: a JSON profile, key=value pairs, or a bare email. */
export function parseCommandText(raw: string): CommandInput {
  const text = unwrapSlackLinks(straightenQuotes(raw)).trim();
  if (text === '') return { kind: 'empty' };
  const unquoted = text.replace(/^`+|`+$/g, '').trim();
  if (unquoted.startsWith('{')) {
    return { kind: 'profile', profile: parseUserProfile(unquoted), identifierOnly: false };
  }
  if (!text.includes('=') && looksLikeEmail(text)) {
    return { kind: 'profile', profile: parseUserProfile({ email: text }), identifierOnly: true };
  }
  // `jane@example.com reason="left"`: a leading bare email is the email pair.
  const [first, ...rest] = text.split(/\s+/);
  if (!first.includes('=') && looksLikeEmail(first) && rest.length > 0)
    return parseCommandText(`email=${first} ${rest.join(' ')}`);
  if (!text.includes('=')) {
    throw new ProfileError(`"${text}" is not an email, key=value pairs or a JSON profile`);
  }
  const fields: Record<string, string> = {};
  const options: Record<string, string> = {};
  for (const [key, value] of keyValuePairs(text)) {
    const bucket = OPTION_KEYS.has(key) ? options : fields;
    if (key in bucket) throw new ProfileError(`${key} is given twice`);
    bucket[key] = value;
  }
  checkStorable(options, '');
  const profile = parseUserProfile(fields);
  const keys = Object.keys(profile);
  return {
    kind: 'profile',
    profile,
    allowEnable: options['allow-enable'],
    reason: options.reason,
    identifierOnly: keys.length === 1 && keys[0] === 'email' && options['allow-enable'] === undefined,
  };
}

/**
 * Words as typed: runs of unquoted text and quoted parts (straight or curly quotes), so that
 * `reason="break-glass drill"` is one word and its inside is never taken for the keyword.
 */
const WORD =
  /(?:"[^"]*"?|'[^']*'?|[\u201C\u201D\u201E][^\u201C\u201D\u201E]*[\u201C\u201D\u201E]?|[\u2018\u2019][^\u2018\u2019]*[\u2018\u2019]?|[^\s"'\u201C-\u201E\u2018\u2019])+/g;

/**
 * Takes `break-glass` off a disable or enable command's text, wherever it stands among the words:
 * `jane@example.com break-glass reason="…"`, `jane@example.com reason="…" break-glass` and
 * `id=… break-glass reason="…"` all give the text without it, and true. Text without it comes back
 * unchanged; inside a quoted value it is not the keyword.
 */
export function splitBreakGlass(text: string): { text: string; breakGlass: boolean } {
  const found = [...text.matchAll(WORD)].filter((word) => word[0].toLowerCase() === 'break-glass');
  if (found.length === 0) return { text, breakGlass: false };
  let rest = text;
  for (const word of found.reverse()) {
    rest = `${rest.slice(0, word.index).trimEnd()} ${rest.slice(word.index + word[0].length).trimStart()}`;
  }
  return { text: rest.trim(), breakGlass: true };
}
