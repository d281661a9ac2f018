/** Short notices: refusals (ephemeral), errors, "working on it", and usage help for bad slash-command input. */
import { context, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, mention, oneLine } from './escape';
import type { SlackMessage } from './limits';

export interface NoticeOptions {
  sandbox?: boolean;
}

const NOTICE_MAX = 2500;

function notice(icon: string, body: string, options: NoticeOptions, extra: string[] = []): SlackMessage {
  const line = `${icon} ${body}`;
  return {
    text: `${sandboxPrefix(options.sandbox === true)}${line}`,
    blocks: [
      section(line),
      ...(extra.length > 0 ? [context(...extra)] : []),
      ...(options.sandbox ? [sandboxContext()] : []),
    ],
  };
}

/** Ephemeral refusal for someone not allowed to do what they tried; nothing was done. */
export function refusalMessage(reason: string, options: NoticeOptions = {}): SlackMessage {
  // Said once: many reasons already say so themselves.
  const closing = /nothing was (done|decided|changed)/i.test(reason) ? '' : ' Nothing was done.';
  return notice('🚫', `${escapeTruncate(reason, NOTICE_MAX)}${closing}`, options);
}

/**
 * A grant's Extend refused because an extension of it is open already: the group, whether that one
 * waits for approval or is being given, and who asked (you, or a mention). Nothing was done.
 */
export function extendWaitingNotice(
  open: { group: string; requesterId: string; approved: boolean },
  viewerId: string,
  options: NoticeOptions = {},
): SlackMessage {
  const group = `\`${escapeTruncate(oneLine(open.group), 300)}\``;
  const state = open.approved ? 'approved and being given' : 'waiting for approval';
  const who = open.requesterId === viewerId ? 'you' : mention(open.requesterId);
  return notice(
    '🚫',
    `More time for ${group} is already ${state} (asked by ${who}). Nothing was done.`,
    options,
  );
}

/** Tells the requester that their request was posted in the channel its rule names, not where they asked. */
export function postedElsewhereNotice(
  posted: { verb: string; target: string; channelId: string; rule: string },
  options: NoticeOptions = {},
): SlackMessage {
  const channel = /^[CG][A-Z0-9]+$/.test(posted.channelId)
    ? `<#${posted.channelId}>`
    : `\`${escapeTruncate(oneLine(posted.channelId), 100)}\``;
  const target = `\`${escapeTruncate(oneLine(posted.target), 500)}\``;
  const rule = escapeTruncate(oneLine(posted.rule), 300);
  return notice(
    '📨',
    `Your request to ${posted.verb} ${target} was posted in ${channel} (${rule}), where its approvers decide it.`,
    options,
  );
}

/** Tells an approver, privately, that their Approve counted and how many more are needed. */
export function voteRecordedNotice(
  progress: { approvedBy: number; needed: number },
  options: NoticeOptions = {},
): SlackMessage {
  const missing = Math.max(0, progress.needed - progress.approvedBy);
  const more = `${missing} more ${missing === 1 ? 'approval is' : 'approvals are'} needed before it is carried out`;
  return notice(
    '✅',
    `Your approval is recorded (${progress.approvedBy} of ${progress.needed}); ${more}.`,
    options,
  );
}

/** Something went wrong outside a command result (the message may carry user text: it is escaped). */
export function errorNotice(message: string, options: NoticeOptions = {}): SlackMessage {
  return notice('❌', escapeTruncate(message, NOTICE_MAX), options);
}

/** Acknowledgement while the SCIM work runs. */
export function workingNotice(commandText: string, options: NoticeOptions = {}): SlackMessage {
  return notice('⏳', `Working on \`${escapeTruncate(oneLine(commandText), 500)}\`…`, options);
}

/** What JSON.parse's messages mean, in words a Slack user understands (V8's wording, Node 20 and later). */
const JSON_PROBLEMS: [RegExp, string][] = [
  [/^Unexpected end of JSON input/, 'it ends too early (a closing } or " is missing)'],
  [/^Unterminated string/, 'a text value has no closing "'],
  [/^Expected ',' or '}' after property value/, 'a comma or } is missing after a value'],
  [/^Expected ',' or ']' after array element/, 'a comma or ] is missing in a list'],
  [/^Expected (double-quoted property name|property name or '\}')/, 'every key needs "double quotes"'],
  [/^Unexpected non-whitespace character after JSON/, 'there is more text after the closing }'],
  [/^Bad (control|escaped) character/, 'a text value has a line break, tab or stray \\ in it'],
  [/^Unexpected token '(.+?)'/, 'unexpected $1 (is a value missing, or a quote?)'],
];

/**
 * "That profile isn't valid JSON: a comma or } is missing after a value (near character 14)." from
 * the parser's own message (`Expected ',' or '}' after property value in JSON at position 13`).
 */
export function invalidJsonProblem(syntaxError: string): string {
  let reason = 'check the quotes, colons and commas';
  for (const [pattern, words] of JSON_PROBLEMS) {
    const match = pattern.exec(syntaxError);
    if (match) {
      reason = match[0].replace(pattern, words);
      break;
    }
  }
  const position = /at position (\d+)/.exec(syntaxError);
  const where = position ? ` (near character ${Number(position[1]) + 1})` : '';
  return `That profile isn't valid JSON: ${reason}${where}.`;
}

/** Longest typed text quoted back in a usage message. */
export const TYPED_QUOTE_MAX = 300;

/** What the user typed, as inline code on one line (backticks inside would end the code span). */
const typedQuote = (typed: string): string =>
  `You typed: \`${escapeTruncate(oneLine(typed).trim().replace(/`/g, "'"), TYPED_QUOTE_MAX)}\``;

export interface UsageOptions extends NoticeOptions {
  /** The command text as typed: quoted back under the problem. */
  typed?: string;
}

/** The fallback text of a usage message: the problem alone, one line, short. */
const FALLBACK_PROBLEM_MAX = 130;

export const SLASH_COMMANDS = [
  '/iam-create-user',
  '/iam-update-user',
  '/iam-get-user',
  '/iam-disable-user',
  '/iam-enable-user',
  '/iam-audit',
  '/iam-grant',
  '/iam-revoke',
] as const;

/** How to use the group-access commands, which read words rather than a profile. */
const ACCESS_USAGE: Record<string, { how: string; note: string }> = {
  '/iam-grant': {
    how:
      '`/iam-grant <user> <group> [for <duration>] [reason="…"]`, e.g. ' +
      '`/iam-grant jane@example.com jira-software-users for 8h reason="incident 42"` or ' +
      '`/iam-grant me confluence-users for 3d`',
    note: 'The user is an email or `me`; durations are like 30m, 8h, 3d, 1w. With no text at all, a form opens. Access is given once another person approves, and ends by itself.',
  },
  '/iam-revoke': {
    how: '`/iam-revoke <user> <group>`, e.g. `/iam-revoke jane@example.com jira-software-users` or `/iam-revoke me jira-software-users`',
    note: 'Operators remove anyone at once; anyone may end their own grant early.',
  },
};

/**
 * Help for a slash command whose text could not be understood: what to type, with the three text
 * forms (JSON, key=value, bare email). `problem` says what was wrong (escaped).
 */
export function usageMessage(command: string, problem?: string, options: UsageOptions = {}): SlackMessage {
  const name = `/${command.trim().replace(/^\/+/, '')}`;
  const known = (SLASH_COMMANDS as readonly string[]).includes(name);
  const typed = options.typed?.trim() ? `${typedQuote(options.typed)}\n` : '';
  const lead = problem ? `⚠️ ${escapeTruncate(problem, 1000)}\n${typed}` : '';
  const prefix = sandboxPrefix(options.sandbox === true);
  const short = (fallback: string): string =>
    problem
      ? `${prefix}⚠️ ${escapeTruncate(oneLine(problem), FALLBACK_PROBLEM_MAX)}`
      : `${prefix}${fallback}`;
  if (!known) {
    const body = `${lead}Unknown command \`${escapeTruncate(oneLine(name), 100)}\`. Commands: ${SLASH_COMMANDS.map((c) => `\`${c}\``).join(', ')}.`;
    return {
      text: short(`Unknown command ${escapeTruncate(oneLine(name), 100)}.`),
      blocks: [section(body), ...(options.sandbox ? [sandboxContext()] : [])],
    };
  }
  if (name === '/iam-audit') {
    const body = `${lead}*How to use \`/iam-audit\`*: give the user's email, a group, or both, e.g. \`/iam-audit jane@example.com\` or \`/iam-audit group=jira-software-users\`.`;
    return {
      text: short("How to use /iam-audit: give the user's email."),
      blocks: [
        section(body),
        context('Shows the latest audit entries about that user, to you alone. Operators only.'),
        ...(options.sandbox ? [sandboxContext()] : []),
      ],
    };
  }
  const access = ACCESS_USAGE[name];
  if (access) {
    return {
      text: short(`How to use ${name}: ${access.how.replace(/`/g, '')}`),
      blocks: [
        section(`${lead}*How to use \`${name}\`*: ${access.how}`),
        context(access.note),
        ...(options.sandbox ? [sandboxContext()] : []),
      ],
    };
  }
  return profileUsage(name, lead, short, options.sandbox === true);
}

/** Help for a command that takes a user profile: the three text forms, with what this command adds. */
function profileUsage(
  name: string,
  lead: string,
  short: (fallback: string) => string,
  sandbox: boolean,
): SlackMessage {
  const writes = name === '/iam-create-user' || name === '/iam-update-user';
  const extras = writes
    ? ' title="Team Lead" allow-enable=false'
    : name === '/iam-disable-user'
      ? ' reason="left the company"'
      : '';
  const examples = [
    `• JSON profile: \`${name} {"email":"jane@example.com","givenname":"Jane","surname":"Doe"}\``,
    `• key=value pairs: \`${name} email=jane@example.com${extras}\``,
    `• a bare email: \`${name} jane@example.com\``,
  ];
  const notes: string[] = [];
  if (writes) notes.push('With no text at all, a form opens.');
  if (name === '/iam-update-user')
    notes.push('A bare email opens the form filled with the user’s current values.');
  if (name === '/iam-disable-user')
    notes.push(
      'A disable is carried out only after another person approves it; where the policy allows break-glass, `jane@example.com break-glass reason="…"` acts at once and tells every approver.',
    );
  notes.push(
    'Profile keys: email, username, givenname, surname, displayname, title, department, organization, timezone, preferredlanguage, id, employeeid.',
  );
  const body = `${lead}*How to use \`${name}\`*: give the user in one of three forms:\n${examples.join('\n')}`;
  return {
    text: short(`How to use ${name}: JSON, key=value pairs or a bare email.`),
    blocks: [section(body), context(...notes), ...(sandbox ? [sandboxContext()] : [])],
  };
}
