/**
 * Result messages: one sentence saying what happened, a short table of what a person needs (user,
 * email, id, active, what changed), and, for a success, every attribute in the thread
 * (userDetailsThreadMessage). The top-level `text` is that sentence alone, for notifications.
 */
import type { KnownBlock, TableBlock } from '@slack/types';
import type { UserProfile } from '../../iam/profile';
import { type IamAction, type IamResult, type Outcome, outcomeOf, type VendorResult } from '../../iam/result';
import { showInvisible } from '../invisible';
import { resultTitle } from '../table';
import { context, header, md, sandboxContext, sandboxPrefix, section } from './blocks';
import {
  escapeMrkdwn,
  escapeTruncate,
  isSlackUserId,
  mention,
  oneLine,
  truncate,
  truncateMrkdwn,
} from './escape';
import { LIMITS, type SlackMessage } from './limits';

export interface ResultMessageOptions {
  sandbox: boolean;
  /** Slack user who ran the command; shown as a mention when it is a valid `U…`/`W…` id. */
  actorId?: string;
  /** The attribute list follows in the thread (see hasThreadDetails): the message says so. */
  detailsInThread?: boolean;
}

/** Any table cell is cut to this many characters. */
export const CELL_MAX = 200;
/** The columns a result table may have, in this order: at most five. */
export const RESULT_TABLE_COLUMNS = ['User', 'Email', 'ID', 'Active', 'Changed'] as const;
const ERROR_MESSAGE_MAX = 1800;
/** The one-sentence fallback text: its length, the user's name in it, and the least room for a reason. */
const FALLBACK_MAX = 145;
const FALLBACK_NAME_MAX = 50;
const FALLBACK_WHY_MIN = 60;

export const OUTCOME_ICON: Record<Outcome, string> = { success: '✅', skipped: '⏭️', failure: '❌' };

const DONE: Record<IamAction, string> = {
  create: 'Created',
  update: 'Updated',
  get: 'Found',
  disable: 'Disabled',
  enable: 'Enabled',
  'add-to-group': 'Added to the group',
  'remove-from-group': 'Removed from the group',
  'get-groups': 'Listed the groups',
};

/** The action as the object of "could not …" / "skipped …ing". */
const VERB: Record<IamAction, { base: string; ing: string }> = {
  create: { base: 'create', ing: 'creating' },
  update: { base: 'update', ing: 'updating' },
  get: { base: 'look up', ing: 'looking up' },
  disable: { base: 'disable', ing: 'disabling' },
  enable: { base: 'enable', ing: 'enabling' },
  'add-to-group': { base: 'add to the group', ing: 'adding to the group' },
  'remove-from-group': { base: 'remove from the group', ing: 'removing from the group' },
  'get-groups': { base: 'list the groups', ing: 'listing the groups' },
};

/** The user a result is about, unescaped: email, else username, else id. */
function whoText(vendor: VendorResult): string | null {
  return vendor.email ?? vendor.username ?? vendor.id;
}

/** The user a result is about, as escaped inline code. */
function who(vendor: VendorResult): string {
  const name = whoText(vendor);
  return name ? `\`${escapeTruncate(oneLine(name), 200)}\`` : 'the user';
}

const activeText = (active: boolean | null): string =>
  active === true ? '🟢 active' : active === false ? '⚪ inactive' : '❔ status unknown';

/** Display name of a SCIM user: displayName, else given + family name, else null. */
function displayName(vendor: VendorResult): string | null {
  const user = vendor.details;
  if (!user) return null;
  if (typeof user.displayName === 'string' && user.displayName.trim() !== '') return user.displayName;
  const parts = [user.name?.givenName, user.name?.familyName].filter(
    (p) => typeof p === 'string' && p.trim(),
  );
  return parts.length > 0 ? parts.join(' ') : null;
}

/** Profile keys that say who the user is, not what was written. */
const IDENTITY_KEYS = new Set(['id', 'email', 'olduserdata']);

/**
 * What a create or update wrote, from the profile it was given: `title: Team Lead`, `title cleared`
 * (a null value), or the bare key for a structured value (its value is in the thread).
 */
export function changedText(action: IamAction, profile: UserProfile): string {
  if (action === 'enable') return 'enabled';
  if (action === 'disable') return 'disabled';
  const parts = Object.entries(profile)
    // An update never applies `active` from the profile (see updateExisting in src/iam/commands.ts).
    .filter(([key, value]) => !IDENTITY_KEYS.has(key) && value !== undefined)
    .filter(([key]) => !(action === 'update' && key === 'active'))
    .map(([key, value]) =>
      value === null ? `${key} cleared` : typeof value === 'string' ? `${key}: ${value}` : key,
    );
  if (parts.length > 0) return parts.join(' · ');
  return action === 'create' ? 'new user' : 'nothing to change';
}

/** The cells of a result: only what a person reads, each column only when it has a value. */
function tableCells(vendor: VendorResult, profile: UserProfile): [string, string][] {
  const user = displayName(vendor) ?? vendor.username;
  const cells: [string, string | null][] = [
    ['User', user],
    ['Email', vendor.email === user ? null : vendor.email],
    ['ID', vendor.id],
    ['Active', vendor.active === null ? null : vendor.active ? 'yes' : 'no'],
    [
      'Changed',
      outcomeOf(vendor) === 'success' && vendor.action !== 'get' ? changedText(vendor.action, profile) : null,
    ],
  ];
  return cells
    .filter((cell): cell is [string, string] => cell[1] !== null && oneLine(cell[1]).trim() !== '')
    .map(([column, text]) => [column, truncate(oneLine(text), CELL_MAX)]);
}

/**
 * Slack `table` block of a result about a known user (one with an id): a header row, then the value
 * row. Null when there is no user record to show (the sentence above says everything).
 */
export function resultTableBlock(result: IamResult): TableBlock | null {
  const vendor = result.IAM.Vendor;
  if (vendor.id === null || vendor.details === null) return null;
  const cells = tableCells(vendor, result.IAM.UserProfile);
  const cell = (text: string) => ({ type: 'raw_text' as const, text: showInvisible(text) });
  return {
    type: 'table',
    column_settings: cells.map(([column]) => ({ is_wrapped: column === 'Changed' })),
    rows: [cells.map(([column]) => cell(column)), cells.map(([, text]) => cell(text))],
  };
}

/**
 * The top-level `text`: one sentence for notification previews and screen readers, e.g.
 * "Created jane@example.com (active) in Atlassian", "Could not disable jane@example.com: <error>".
 */
export function resultSentence(vendor: VendorResult, sandbox: boolean): string {
  const prefix = sandboxPrefix(sandbox);
  const name = escapeTruncate(oneLine(whoText(vendor) ?? 'the user'), FALLBACK_NAME_MAX);
  /** "<head>: <why>", the why cut to what is left of the sentence's budget. */
  const because = (head: string, why: string | null, fallback: string) => {
    const room = Math.max(FALLBACK_WHY_MIN, FALLBACK_MAX - prefix.length - head.length - 2);
    return `${head}: ${escapeTruncate(
      oneLine(why ?? fallback)
        .trim()
        .replace(/\.$/, ''),
      room,
    )}`;
  };
  switch (outcomeOf(vendor)) {
    case 'success': {
      const state = vendor.active === null ? '' : vendor.active ? ' (active)' : ' (inactive)';
      return `${prefix}${DONE[vendor.action]} ${name}${state}${sandbox ? '' : ' in Atlassian'}`;
    }
    case 'skipped':
      return prefix + because(`Skipped ${VERB[vendor.action].ing} ${name}`, vendor.reason, 'no reason given');
    case 'failure':
      return (
        prefix + because(`Could not ${VERB[vendor.action].base} ${name}`, vendor.errorMessage, 'no message')
      );
  }
}

function statusBlocks(vendor: VendorResult): KnownBlock[] {
  switch (outcomeOf(vendor)) {
    case 'success': {
      const name = displayName(vendor);
      const named = name ? `*${escapeTruncate(oneLine(name), 300)}* ` : '';
      return [section(`${DONE[vendor.action]} ${named}${who(vendor)} · ${activeText(vendor.active)}`)];
    }
    case 'skipped':
      return [
        section(
          `*Skipped*: ${escapeTruncate(oneLine(vendor.reason ?? 'no reason given'), 1000)} (${who(vendor)}). Nothing was changed.`,
        ),
      ];
    case 'failure': {
      const status = vendor.errorCode === null ? '' : `\n_HTTP status ${vendor.errorCode}_`;
      const message = escapeTruncate(vendor.errorMessage ?? 'no message', ERROR_MESSAGE_MAX);
      return [
        section(
          `*Failed*: could not ${VERB[vendor.action].base} ${who(vendor)}.\n>${message.replace(/\r?\n/g, '\n>')}${status}`,
        ),
      ];
    }
  }
}

function footer(options: ResultMessageOptions): KnownBlock | null {
  const actor = options.actorId !== undefined && isSlackUserId(options.actorId) ? options.actorId : undefined;
  const parts = [
    ...(actor ? [`Run by ${mention(actor)}`] : []),
    ...(options.detailsInThread ? ['🧵 Every attribute is in the thread.'] : []),
  ];
  return parts.length > 0 ? context(parts.join(' · ')) : null;
}

/** A success with a SCIM user: its attribute list belongs in the thread of the result. */
export function hasThreadDetails(result: IamResult): boolean {
  const vendor = result.IAM.Vendor;
  return outcomeOf(vendor) === 'success' && vendor.details !== null;
}

/** The result of any iam-* command, posted in the channel. */
export function resultMessage(result: IamResult, options: ResultMessageOptions): SlackMessage {
  const vendor = result.IAM.Vendor;
  const table = resultTableBlock(result);
  const foot = footer(options);
  const blocks: KnownBlock[] = [
    header(`${OUTCOME_ICON[outcomeOf(vendor)]} ${resultTitle(vendor)}`),
    ...(options.sandbox ? [sandboxContext()] : []),
    ...statusBlocks(vendor),
    ...(table ? [table] : []),
    ...(foot ? [foot] : []),
  ];
  return { text: resultSentence(vendor, options.sandbox), blocks };
}

/** Known SCIM attributes first, in a readable order; the rest follow as the directory sent them. */
const ATTRIBUTE_ORDER = [
  'id',
  'userName',
  'active',
  'displayName',
  'name',
  'nickName',
  'emails',
  'title',
  'department',
  'organization',
  'timezone',
  'preferredLanguage',
  'phoneNumbers',
  'externalId',
];

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function scalar(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/** `value (type, primary)` for multi-valued SCIM items such as emails and phone numbers. */
function multiValue(item: Record<string, unknown>): string {
  const extras = Object.entries(item)
    .filter(([key, value]) => key !== 'value' && value !== null && value !== undefined && value !== false)
    .map(([key, value]) =>
      value === true ? key : key === 'type' ? scalar(value) : `${key}: ${scalar(value)}`,
    );
  return extras.length > 0 ? `${scalar(item.value)} (${extras.join(', ')})` : scalar(item.value);
}

function flatten(value: unknown, path: string, out: [string, string][]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    if (value.every((item) => item === null || typeof item !== 'object')) {
      out.push([path, value.map(scalar).join(', ')]);
      return;
    }
    value.forEach((item, i) => {
      if (isObject(item) && item.value !== undefined && !isObject(item.value))
        out.push([path, multiValue(item)]);
      else flatten(item, `${path}[${i}]`, out);
    });
    return;
  }
  if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, path ? `${path}.${key}` : key, out);
    return;
  }
  out.push([path, scalar(value)]);
}

/** The SCIM user as `[attribute path, value]` pairs: `name.givenName` → `Jane`, one `emails` pair per address. */
export function userAttributeLines(user: Record<string, unknown>): [string, string][] {
  const keys = [
    ...ATTRIBUTE_ORDER.filter((key) => key in user),
    ...Object.keys(user).filter((key) => !ATTRIBUTE_ORDER.includes(key)),
  ];
  const out: [string, string][] = [];
  for (const key of keys) flatten(user[key], key, out);
  return out;
}

const LINE_MAX = 1000;
/** Block text kept for the attribute sections (the header and notes take the rest of the budget). */
const DETAILS_TEXT_BUDGET = LIMITS.messageBlockText - 1000;

/**
 * Thread reply of iam-get-user: every attribute of the SCIM user as readable lines, packed into
 * sections of at most 3,000 characters; when the list does not fit one message it says so and points
 * to the CLI's `--json`. Pass `options.sandbox` so the reply says SANDBOX while the sandbox is in use.
 * Longer than 50 lines: the blocks of one message, in the order Slack shows them.
 */
export function userDetailsThreadMessage(
  result: IamResult,
  options: { sandbox: boolean } = { sandbox: false },
): SlackMessage {
  const vendor = result.IAM.Vendor;
  const name = vendor.username ?? vendor.email ?? vendor.id ?? 'the user';
  const blocks: KnownBlock[] = [header(`Attributes of ${oneLine(name)}`)];
  if (options.sandbox) blocks.push(sandboxContext());
  const user = vendor.details;
  if (!user) {
    blocks.push(section('No SCIM user details in this result.'));
    return {
      text: `${sandboxPrefix(options.sandbox)}No attributes for ${escapeMrkdwn(truncate(name, 200))}`,
      blocks,
    };
  }
  const lines = userAttributeLines(user).map(([key, value]) =>
    truncateMrkdwn(`*${escapeMrkdwn(key)}*: ${escapeMrkdwn(oneLine(value))}`, LINE_MAX),
  );
  const maxSections = LIMITS.messageBlocks - blocks.length - 1;
  const sections: string[][] = [[]];
  let budget = DETAILS_TEXT_BUDGET;
  let shown = 0;
  for (const line of lines) {
    let current = sections[sections.length - 1];
    const size = current.reduce((sum, l) => sum + l.length + 1, 0);
    if (size + line.length > LIMITS.sectionText) {
      if (sections.length >= maxSections) break;
      current = [];
      sections.push(current);
    }
    if (line.length + 1 > budget) break;
    current.push(line);
    budget -= line.length + 1;
    shown += 1;
  }
  for (const chunk of sections) {
    if (chunk.length > 0) blocks.push({ type: 'section', text: md(chunk.join('\n'), LIMITS.sectionText) });
  }
  if (shown < lines.length) {
    const profile = escapeTruncate(JSON.stringify(vendor.id ? { id: vendor.id } : { email: name }), 300);
    blocks.push(
      context(
        `✂️ The list was cut: ${shown} of ${lines.length} attributes shown. ` +
          `For all of them use the CLI: \`atlassian-iam iam-get-user --user-profile '${profile}' --json\``,
      ),
    );
  }
  return {
    text: `${sandboxPrefix(options.sandbox)}Attributes of ${escapeTruncate(oneLine(name), 200)} (${lines.length})`,
    blocks,
  };
}
