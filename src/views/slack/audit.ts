/**
 * `/iam-audit <email>`: the latest audit entries about one user as a Slack `table` block (when, who,
 * what, outcome), with an empty state. Table cells are `raw_text` (shown literally); people are
 * mentioned only in mrkdwn, through `mention()`, which accepts valid Slack user ids alone.
 */
import type { KnownBlock, TableBlock } from '@slack/types';
import { context, header, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, isSlackUserId, mention, oneLine, truncate, truncateMrkdwn, utcText } from './escape';
import { showInvisible } from '../invisible';
import { LIMITS, type SlackMessage } from './limits';

/** What the message shows of an audit entry (the store's AuditEntry has these fields). */
export interface AuditHistoryEntry {
  at: Date;
  /** Slack user id, or `cli:<os user>`. */
  actor: string;
  /** e.g. `iam-get-user`, `approve`. */
  command: string;
  /** e.g. `received`, `success`, `refused`, `approved`. */
  outcome: string;
  requestId: string | null;
}

export interface AuditHistoryOptions {
  sandbox: boolean;
  /** Whom the history is about, as the operator typed it (absent: anyone, in `group`). */
  target?: string;
  /** Only entries about this group, as the operator typed it. */
  group?: string;
  /** How many entries were asked for: fewer came back means this is the whole history. */
  limit: number;
}

/** How many entries /iam-audit shows. */
export const AUDIT_HISTORY_LIMIT = 20;
/** Cell maxima: who, what, outcome (when is fixed-width). */
const WHO_MAX = 60;
const WHAT_MAX = 120;
const OUTCOME_MAX = 40;
/** Block text kept for the table rows; the rest of the message stays well inside messageBlockText. */
const TABLE_TEXT_BUDGET = 7000;
/** Slack users named in the "who" line below the table. */
const PEOPLE_MAX = 10;
const FALLBACK_MAX = 3000;

const OUTCOME_ICONS: Record<string, string> = {
  success: '✅',
  skipped: '⏭️',
  failure: '❌',
  rejected: '⚠️',
  refused: '🚫',
  received: '📥',
  requested: '⏳',
  approved: '👍',
  denied: '🚫',
  expired: '⌛',
};

const single = (text: string, max: number): string => {
  const line = truncate(oneLine(text).trim(), max);
  return line === '' ? '—' : line;
};

/** The actor as stored: a Slack user id (named in the "Who" line below the table) or `cli:<os user>`. */
const who = (entry: AuditHistoryEntry): string => single(entry.actor, WHO_MAX);

function what(entry: AuditHistoryEntry): string {
  const request = entry.requestId ? ` · request ${oneLine(entry.requestId)}` : '';
  return single(`${entry.command}${request}`, WHAT_MAX);
}

function outcome(entry: AuditHistoryEntry): string {
  const icon = OUTCOME_ICONS[entry.outcome];
  return single(icon ? `${icon} ${entry.outcome}` : entry.outcome, OUTCOME_MAX);
}

const when = (date: Date): string => (Number.isFinite(date.getTime()) ? utcText(date) : 'unknown time');

const rowCells = (entry: AuditHistoryEntry): string[] => [
  when(entry.at),
  who(entry),
  what(entry),
  outcome(entry),
];

/** The rows that fit (at most 99 beside the header row, within the text budget). */
function fittingRows(entries: readonly AuditHistoryEntry[]): string[][] {
  const rows: string[][] = [];
  let budget = TABLE_TEXT_BUDGET;
  for (const entry of entries.slice(0, LIMITS.tableRows - 1)) {
    const cells = rowCells(entry);
    const size = cells.reduce((sum, cell) => sum + cell.length, 0);
    if (size > budget) break;
    budget -= size;
    rows.push(cells);
  }
  return rows;
}

export function auditTableBlock(rows: string[][]): TableBlock {
  const cell = (text: string) => ({ type: 'raw_text' as const, text: showInvisible(text) });
  return {
    type: 'table',
    column_settings: [
      { is_wrapped: false },
      { is_wrapped: true },
      { is_wrapped: true },
      { is_wrapped: false },
    ],
    rows: [['When', 'Who', 'What', 'Outcome'].map(cell), ...rows.map((row) => row.map(cell))],
  };
}

/** What a history is about: `ann@example.com`, group `jira-users`, or both; as code, plain and CLI flags. */
function subjectOf(options: AuditHistoryOptions): {
  code: string;
  plain: string;
  flags: string;
  noun: string;
  matching: string;
} {
  const code = (text: string) => `\`${escapeTruncate(oneLine(text), 200)}\``;
  const flag = (name: string, text: string) => `--${name} ${escapeTruncate(oneLine(text), 200)}`;
  const { target, group } = options;
  const parts = {
    code: [target && code(target), group && `group ${code(group)}`],
    plain: [target && oneLine(target), group && `group ${oneLine(group)}`],
    flags: [target && flag('user', target), group && flag('group', group)],
  };
  const joined = (list: (string | undefined)[], sep: string) => list.filter(Boolean).join(sep);
  return {
    code: joined(parts.code, ' in '),
    plain: joined(parts.plain, ' in '),
    flags: joined(parts.flags, ' '),
    noun: target === undefined ? 'this group' : group === undefined ? 'this user' : 'this user and group',
    matching: joined([target && 'the user (email, username or id)', group && 'the group'], ' and '),
  };
}

const entryWord = (n: number): string => (n === 1 ? '1 entry' : `${n} entries`);

/**
 * The audit history of one user, for the operator who asked (posted ephemerally by the handler).
 * `entries` come newest first, as the store returns them.
 * Longer than 50 lines: the blocks of one message, in the order Slack shows them.
 */
export function auditHistoryMessage(
  entries: readonly AuditHistoryEntry[],
  options: AuditHistoryOptions,
): SlackMessage {
  const about = subjectOf(options);
  const top: KnownBlock[] = [
    header(`🧾 Audit history of ${about.plain}`),
    ...(options.sandbox ? [sandboxContext()] : []),
  ];
  const cliHint = `\`atlassian-iam audit ${about.flags}\``;
  if (entries.length === 0) {
    const line = `No audit entries about ${about.code}: no command, refusal or approval decision has named ${about.noun}.`;
    return {
      text: `${sandboxPrefix(options.sandbox)}${line}`,
      blocks: [
        ...top,
        section(line),
        context(
          `Only you can see this. The search matches ${about.matching} exactly as commands named it, ignoring case.`,
        ),
      ],
    };
  }
  const rows = fittingRows(entries);
  const shown = rows.length;
  const scope =
    entries.length < options.limit
      ? `All ${entryWord(entries.length)} about ${about.code}, newest first.`
      : `The latest ${entryWord(entries.length)} about ${about.code}, newest first.`;
  const people = [...new Set(entries.slice(0, shown).map((e) => e.actor))].filter(isSlackUserId);
  const notes = [
    ...(people.length > 0
      ? [
          `Who: ${people
            .slice(0, PEOPLE_MAX)
            .map((id) => `${mention(id)} (${id})`)
            .join(', ')}${people.length > PEOPLE_MAX ? ` and ${people.length - PEOPLE_MAX} more` : ''}`,
        ]
      : []),
    ...(shown < entries.length ? [`✂️ ${shown} of ${entryWord(entries.length)} shown.`] : []),
    `Only you can see this. The whole history: ${cliHint}`,
  ];
  const lines = entries
    .slice(0, shown)
    .map(
      (e) =>
        `• ${when(e.at)} · ${mention(e.actor)} · ${escapeTruncate(what(e), WHAT_MAX * 2)} · ${escapeTruncate(outcome(e), OUTCOME_MAX * 2)}`,
    );
  return {
    text: truncateMrkdwn(`${sandboxPrefix(options.sandbox)}${scope}\n${lines.join('\n')}`, FALLBACK_MAX),
    blocks: [...top, section(scope), auditTableBlock(rows), context(...notes)],
  };
}
