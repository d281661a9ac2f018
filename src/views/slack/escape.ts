/**
 * Text helpers for Block Kit. Slack's mrkdwn (and a message's top-level `text`) treats `<…>` as live
 * syntax: `<!channel>`, `<@U…>`, `<url|label>`. Every user- or directory-supplied string that goes into
 * mrkdwn passes through `escapeMrkdwn`, which turns `&`, `<` and `>` into entities so it renders inert.
 * plain_text objects and table `raw_text` cells are shown literally and need no escaping, only
 * truncation and `showInvisible`.
 */

import { showInvisible } from '../invisible';

const ELLIPSIS = '…';

/**
 * Escapes the three characters Slack's mrkdwn gives meaning to (`&`, `<`, `>`), after showing bidi
 * controls and zero-width characters as visible `<U+XXXX>` (see ../invisible.ts).
 */
export function escapeMrkdwn(text: string): string {
  return showInvisible(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/** Cuts `text` to at most `max` UTF-16 units, ending with an ellipsis when cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return ELLIPSIS.slice(0, Math.max(0, max));
  let end = max - ELLIPSIS.length;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * Truncates mrkdwn without leaving half an entity (`&am…`) or half a `<…>` token (`<@U12…`) at the
 * cut: the cut moves back to before the unfinished piece.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = truncate(text, max);
  let body = cut.slice(0, cut.length - ELLIPSIS.length);
  const open = body.lastIndexOf('<');
  if (open > body.lastIndexOf('>')) body = body.slice(0, open);
  const amp = body.lastIndexOf('&');
  if (amp >= 0 && amp > body.lastIndexOf(';') && body.length - amp <= 6) body = body.slice(0, amp);
  return body + ELLIPSIS;
}

/** Escapes a user-supplied string for mrkdwn and bounds the escaped result to `max` characters. */
export function escapeTruncate(text: string, max: number): string {
  return truncateMrkdwn(escapeMrkdwn(text), max);
}

/** Folds line breaks and tabs into single spaces (for values shown on one line). */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ');
}

const SLACK_USER_ID = /^[UW][A-Z0-9]+$/;

/** True for a Slack user id (`U…` / `W…`). */
export function isSlackUserId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 32 && SLACK_USER_ID.test(id);
}

/** `<@U…>` for a valid Slack user id; anything else is shown as escaped text, never as a mention. */
export function mention(id: string | null | undefined): string {
  if (id === null || id === undefined || id === '') return 'someone unknown';
  return isSlackUserId(id) ? `<@${id}>` : `\`${escapeTruncate(oneLine(id), 80)}\``;
}

const SLACK_GROUP_ID = /^S[A-Z0-9]+$/;

/** `<@U…>` for a user, `<!subteam^S…>` for a user group (which notifies its members); else as mention(). */
export function audienceMention(id: string): string {
  return id.length <= 32 && SLACK_GROUP_ID.test(id) ? `<!subteam^${id}>` : mention(id);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2025-01-15 09:30 UTC`: a fixed, locale-free rendering for fallbacks. */
export function utcText(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`
  );
}

/**
 * Slack date formatting, shown in each reader's own time zone:
 * `<!date^UNIX^{date_short_pretty} {time}|2025-01-15 09:30 UTC>`. An invalid date becomes `unknown time`.
 */
export function slackDate(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) return 'unknown time';
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${utcText(date)}>`;
}
