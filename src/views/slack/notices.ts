/** Short notices: refusals (ephemeral), errors, "working on it", and usage help for bad slash-command input. */
import { context, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, oneLine } from './escape';
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
  return notice('🚫', `${escapeTruncate(reason, NOTICE_MAX)} Nothing was done.`, options);
}

/** Something went wrong outside a command result (the message may carry user text: it is escaped). */
export function errorNotice(message: string, options: NoticeOptions = {}): SlackMessage {
  return notice('❌', escapeTruncate(message, NOTICE_MAX), options);
}

/** Acknowledgement while the SCIM work runs. */
export function workingNotice(commandText: string, options: NoticeOptions = {}): SlackMessage {
  return notice('⏳', `Working on \`${escapeTruncate(oneLine(commandText), 500)}\`…`, options);
}

export const SLASH_COMMANDS = [
  '/iam-create-user',
  '/iam-update-user',
  '/iam-get-user',
  '/iam-disable-user',
  '/iam-enable-user',
  '/iam-audit',
] as const;

/**
 * Help for a slash command whose text could not be understood: what to type, with the three text
 * forms (JSON, key=value, bare email). `problem` says what was wrong (escaped).
 */
export function usageMessage(command: string, problem?: string, options: NoticeOptions = {}): SlackMessage {
  const name = `/${command.trim().replace(/^\/+/, '')}`;
  const known = (SLASH_COMMANDS as readonly string[]).includes(name);
  const lead = problem ? `⚠️ ${escapeTruncate(problem, 1000)}\n` : '';
  if (!known) {
    const body = `${lead}Unknown command \`${escapeTruncate(oneLine(name), 100)}\`. Commands: ${SLASH_COMMANDS.map((c) => `\`${c}\``).join(', ')}.`;
    return {
      text: `${sandboxPrefix(options.sandbox === true)}${body}`,
      blocks: [section(body), ...(options.sandbox ? [sandboxContext()] : [])],
    };
  }
  if (name === '/iam-audit') {
    const body = `${lead}*How to use \`/iam-audit\`*: give the user's email, e.g. \`/iam-audit jane@example.com\`.`;
    return {
      text: `${sandboxPrefix(options.sandbox === true)}${lead}How to use /iam-audit: give the user's email.`,
      blocks: [
        section(body),
        context('Shows the latest audit entries about that user, to you alone. Operators only.'),
        ...(options.sandbox ? [sandboxContext()] : []),
      ],
    };
  }
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
    notes.push('A disable is carried out only after another person approves it.');
  notes.push(
    'Profile keys: email, username, givenname, surname, displayname, title, department, organization, timezone, preferredlanguage, id, employeeid.',
  );
  const body = `${lead}*How to use \`${name}\`*: give the user in one of three forms:\n${examples.join('\n')}`;
  return {
    text: `${sandboxPrefix(options.sandbox === true)}${lead}How to use ${name}: JSON, key=value pairs or a bare email.`,
    blocks: [section(body), context(...notes), ...(options.sandbox ? [sandboxContext()] : [])],
  };
}
