/** The text of /iam-grant and /iam-revoke: `<user> <group> [for <duration>] [reason="…"]`. */
import { checkStorable, looksLikeEmail, ProfileError } from '../iam';
import { parsePolicyDuration } from '../policy';

/** Whom the access is for: the person typing, a Slack mention, or an Atlassian user by email. */
export type AccessUser =
  { kind: 'me' } | { kind: 'slack'; slackId: string } | { kind: 'email'; email: string };

export interface AccessRequestText {
  user: AccessUser;
  group: string;
  /** null: no `for …` (until revoked, unless the policy sets a longest duration). */
  durationMs: number | null;
  reason: string | null;
}

const UNIT_WORDS: Record<string, string> = {
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  d: 'd', day: 'd', days: 'd',
  w: 'w', wk: 'w', wks: 'w', week: 'w', weeks: 'w',
}; // prettier-ignore

const DURATION_HINT = 'write a duration such as 30m, 8h, 3d or 1w (or "8 hours", "3 days")';

/** `8h`, `1d12h`, `8 hours`, `3 days 4 hours`: milliseconds; anything else is bad input saying what to write. */
export function parseGrantDuration(text: string): number {
  const parts = [
    ...text
      .trim()
      .toLowerCase()
      .matchAll(/(\d+)\s*([a-z]+)/g),
  ];
  const rest = text
    .trim()
    .toLowerCase()
    .replace(/(\d+)\s*([a-z]+)/g, '')
    .trim();
  const units = parts.map(([, amount, word]) => (UNIT_WORDS[word] ? `${amount}${UNIT_WORDS[word]}` : null));
  const ms =
    rest === '' && parts.length > 0 && !units.includes(null) ? parsePolicyDuration(units.join('')) : null;
  if (ms === null) throw new ProfileError(`"for ${text.trim()}" is not a duration: ${DURATION_HINT}`);
  if (ms === 0)
    throw new ProfileError(
      `"for ${text.trim()}" is no time at all: a grant must last longer than zero, ${DURATION_HINT}`,
    );
  return ms;
}

/** Slack turns typed quotes into curly ones on some clients. */
const straighten = (text: string): string =>
  text.replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'");

/** `reason="…"` (or '…', or one word) taken out of the text. */
function takeReason(text: string): { rest: string; reason: string | null } {
  const match = /(?:^|\s)reason=(?:"([^"]*)"|'([^']*)'|(\S*))/i.exec(text);
  if (!match) return { rest: text, reason: null };
  const reason = (match[1] ?? match[2] ?? match[3] ?? '').trim();
  return {
    rest: `${text.slice(0, match.index)} ${text.slice(match.index + match[0].length)}`,
    reason: reason || null,
  };
}

/** Words, keeping "quoted group names" whole. */
const words = (text: string): string[] =>
  [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);

export function readAccessUser(word: string): AccessUser {
  const unwrapped = word.replace(/^<mailto:([^|>]+)(?:\|[^>]*)?>$/, '$1');
  if (unwrapped.toLowerCase() === 'me') return { kind: 'me' };
  const mention = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(unwrapped);
  if (mention) return { kind: 'slack', slackId: mention[1] };
  if (looksLikeEmail(unwrapped)) return { kind: 'email', email: unwrapped };
  throw new ProfileError(`"${word}" is not a user: give an email, @someone or me`);
}

/** Reads `<user> <group> [for <duration>] [reason="…"]`; `withDuration` false (revoke) refuses `for` and reason. */
export function parseAccessText(raw: string, command: '/iam-grant' | '/iam-revoke'): AccessRequestText {
  const { rest, reason } = takeReason(straighten(raw));
  const [who, group, ...more] = words(rest);
  if (who === undefined || group === undefined) {
    throw new ProfileError(`say whom and which group, e.g. ${command} jane@example.com jira-software-users`);
  }
  const grant = command === '/iam-grant';
  if (more.length > 0 && (!grant || more[0].toLowerCase() !== 'for' || more.length === 1)) {
    const hint = grant ? ': a duration goes after "for", e.g. for 8h' : '';
    throw new ProfileError(
      `unexpected "${more.join(' ')}"${hint}; a group name with spaces goes in "quotes"`,
    );
  }
  if (!grant && reason !== null) throw new ProfileError('/iam-revoke takes no reason');
  checkStorable({ group, ...(reason === null ? {} : { reason }) }, '');
  return {
    user: readAccessUser(who),
    group,
    durationMs: more.length > 1 ? parseGrantDuration(more.slice(1).join(' ')) : null,
    reason,
  };
}
