/** Result messages: the XSOAR result table as a Slack `table` block, with the outcome obvious at a glance. */
import type { KnownBlock, TableBlock } from '@slack/types';
import type { IamAction, IamResult, VendorResult } from '../../iam/result';
import { renderTextTable, resultTable, type TextTable } from '../table';
import { context, fields, header, md, sandboxContext, sandboxPrefix, section } from './blocks';
import {
  escapeMrkdwn,
  escapeTruncate,
  isSlackUserId,
  mention,
  oneLine,
  truncate,
  truncateMrkdwn,
} from './escape';
import { showInvisible } from '../invisible';
import { LIMITS, type SlackMessage } from './limits';

export interface ResultMessageOptions {
  sandbox: boolean;
  /** Slack user who ran the command; shown as a mention when it is a valid `U…`/`W…` id. */
  actorId?: string;
}

export type ResultOutcome = 'success' | 'skipped' | 'failure';

/** The `details` cell (SCIM user JSON) is cut to this many characters in the table. */
export const DETAILS_CELL_MAX = 300;
/** Any other table cell. */
export const CELL_MAX = 500;
/** The text table inside the top-level `text` fallback. */
const FALLBACK_TABLE_MAX = 3000;
const ERROR_MESSAGE_MAX = 1800;

export const OUTCOME_ICON: Record<ResultOutcome, string> = { success: '✅', skipped: '⏭️', failure: '❌' };

export function resultOutcome(vendor: VendorResult): ResultOutcome {
  if (!vendor.success) return 'failure';
  return vendor.skipped ? 'skipped' : 'success';
}

const DONE: Record<IamAction, string> = {
  create: 'Created',
  update: 'Updated',
  get: 'Found',
  disable: 'Disabled',
  enable: 'Enabled',
};

/** The user a result is about, as escaped inline code: username, else email, else id. */
function who(vendor: VendorResult): string {
  const name = vendor.username ?? vendor.email ?? vendor.id;
  return name ? `\`${escapeTruncate(oneLine(name), 200)}\`` : 'the user';
}

const activeText = (active: boolean | null): string =>
  active === true ? '🟢 active' : active === false ? '⚪ inactive' : '❔ status unknown';

/** The result table with long cells cut: `details` to 300 characters, others to 500. */
export function slackResultTable(result: IamResult): TextTable {
  const table = resultTable(result);
  const rows = table.rows.map((row) =>
    row.map((cell, i) => {
      const max = table.columns[i] === 'details' ? DETAILS_CELL_MAX : CELL_MAX;
      const text = truncate(cell, max);
      return text.trim() === '' ? '—' : text;
    }),
  );
  return { ...table, rows };
}

const WRAPPED = new Set(['details', 'errorMessage', 'reason']);

/** Slack `table` block: a header row with the column names, then the values (never an empty cell). */
export function resultTableBlock(result: IamResult): TableBlock {
  const table = slackResultTable(result);
  const columns = table.columns.slice(0, LIMITS.tableCells);
  const cell = (text: string) => ({
    type: 'raw_text' as const,
    text: text.trim() === '' ? '—' : showInvisible(text),
  });
  return {
    type: 'table',
    column_settings: columns.map((column) => ({ is_wrapped: WRAPPED.has(column) })),
    rows: [
      columns.map(cell),
      ...table.rows.slice(0, LIMITS.tableRows - 1).map((row) => row.slice(0, columns.length).map(cell)),
    ],
  };
}

/** The text fallback: status line, then the text table in a code block (escaped, cut). */
function fallbackText(result: IamResult, sandbox: boolean): string {
  const vendor = result.IAM.Vendor;
  const table = slackResultTable(result);
  // renderTextTable's first line is the title, already on the status line.
  const body = truncateMrkdwn(
    escapeMrkdwn(renderTextTable(table).split('\n').slice(1).join('\n')),
    FALLBACK_TABLE_MAX,
  );
  const first = `${sandboxPrefix(sandbox)}${OUTCOME_ICON[resultOutcome(vendor)]} ${escapeMrkdwn(table.title)}`;
  return [first, '```', body, '```'].join('\n');
}

function statusBlocks(vendor: VendorResult): KnownBlock[] {
  switch (resultOutcome(vendor)) {
    case 'success':
      return [
        section(
          `*Succeeded*: ${DONE[vendor.action].toLowerCase()} ${who(vendor)} · ${activeText(vendor.active)}`,
        ),
      ];
    case 'skipped':
      return [
        section(
          `*Skipped*: ${escapeTruncate(oneLine(vendor.reason ?? 'no reason given'), 1000)} (${who(vendor)}). Nothing was changed.`,
        ),
      ];
    case 'failure':
      return [
        section(`*Failed*: could not ${vendor.action} ${who(vendor)}.`),
        fields([
          `*Error code*\n${vendor.errorCode === null ? 'none (no HTTP status)' : String(vendor.errorCode)}`,
          `*Error message*\n${escapeTruncate(vendor.errorMessage ?? 'no message', ERROR_MESSAGE_MAX)}`,
        ]),
      ];
  }
}

function footer(vendor: VendorResult, options: ResultMessageOptions): KnownBlock {
  const instance = `instance \`${escapeTruncate(oneLine(vendor.instanceName), 200)}\``;
  const actor = options.actorId !== undefined && isSlackUserId(options.actorId) ? options.actorId : undefined;
  return context(
    actor
      ? `Run by ${mention(actor)} · ${instance}`
      : `${instance.charAt(0).toUpperCase()}${instance.slice(1)}`,
  );
}

function build(
  result: IamResult,
  options: ResultMessageOptions,
  middle: KnownBlock[],
  extra: KnownBlock[],
): SlackMessage {
  const vendor = result.IAM.Vendor;
  const table = resultTable(result);
  const blocks: KnownBlock[] = [
    header(`${OUTCOME_ICON[resultOutcome(vendor)]} ${table.title}`),
    ...(options.sandbox ? [sandboxContext()] : []),
    ...middle,
    resultTableBlock(result),
    footer(vendor, options),
    ...extra,
  ];
  return { text: fallbackText(result, options.sandbox), blocks };
}

/** The result of any iam-* command, posted in the channel. */
export function resultMessage(result: IamResult, options: ResultMessageOptions): SlackMessage {
  return build(result, options, statusBlocks(result.IAM.Vendor), []);
}

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

/** iam-get-user: a short summary (who, active or not, id) and the result table; details go to the thread. */
export function getSummaryMessage(result: IamResult, options: ResultMessageOptions): SlackMessage {
  const vendor = result.IAM.Vendor;
  if (resultOutcome(vendor) !== 'success') return resultMessage(result, options);
  const name = displayName(vendor);
  const id = vendor.id ? ` · id \`${escapeTruncate(oneLine(vendor.id), 200)}\`` : '';
  const summary = section(
    `${name ? `*${escapeTruncate(oneLine(name), 300)}* ` : ''}${who(vendor)}\n${activeText(vendor.active)}${id}`,
  );
  const extra = vendor.details ? [context('🧵 The full attribute list is in the thread.')] : [];
  return build(result, options, [summary], extra);
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
