/**
 * `atlassian-iam audit` output: the audit log as a readable text table, as JSON, or as RFC 4180 CSV
 * that a spreadsheet opens without running anything. Pure functions of the entries.
 */
import type { AuditEntry } from '../store/types';
import { INVISIBLE_CHARACTERS, showInvisible } from './invisible';
import { truncate } from './slack/escape';
import { renderTextTable, type TextTable } from './table';

export const AUDIT_TEXT_COLUMNS = [
  'time',
  'actor',
  'source',
  'kind',
  'command',
  'target',
  'outcome',
  'request id',
] as const;

/** A text-table cell is cut to this many characters so one odd value cannot push the table off screen. */
export const AUDIT_CELL_MAX = 80;

// C0 controls (but tab, LF, CR: folded to spaces first), DEL and C1 controls: ANSI escapes included.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * One line of terminal-safe text: line breaks and tabs become spaces and any other control character
 * (such as the ESC of an ANSI sequence hidden in a profile value) becomes U+FFFD; bidi controls and
 * zero-width characters are shown as `<U+XXXX>`.
 */
export function terminalSafe(text: string): string {
  return showInvisible(text.replace(/[\r\n\t]+/g, ' ').replace(CONTROL, '\uFFFD'));
}

/** `2025-01-15 09:30:05Z`: UTC, second precision, fixed width. */
export function auditTime(date: Date): string {
  return Number.isFinite(date.getTime())
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
    : 'unknown time';
}

const entryWord = (n: number): string => (n === 1 ? '1 entry' : `${n} entries`);

/** The entries as a text table (newest first, as given). */
export function auditTextTable(entries: readonly AuditEntry[]): TextTable {
  const cell = (value: string | null): string =>
    value === null || value === '' ? '-' : truncate(terminalSafe(value), AUDIT_CELL_MAX);
  return {
    title: `Audit log: ${entryWord(entries.length)}, newest first`,
    columns: [...AUDIT_TEXT_COLUMNS],
    rows: entries.map((e) => [
      auditTime(e.at),
      cell(e.actor),
      cell(e.source),
      cell(e.kind),
      cell(e.command),
      cell(e.target),
      cell(e.outcome),
      cell(e.requestId),
    ]),
  };
}

export function renderAuditText(entries: readonly AuditEntry[]): string {
  return renderTextTable(auditTextTable(entries));
}

/** One entry as the JSON output shows it: fixed key order, `at` as an ISO string, the detail included. */
export function auditJsonEntry(entry: AuditEntry): Record<string, unknown> {
  return {
    id: entry.id,
    at: Number.isFinite(entry.at.getTime()) ? entry.at.toISOString() : null,
    actor: entry.actor,
    source: entry.source,
    kind: entry.kind,
    command: entry.command,
    target: entry.target,
    outcome: entry.outcome,
    requestId: entry.requestId,
    detail: entry.detail,
  };
}

export function renderAuditJson(entries: readonly AuditEntry[]): string {
  return JSON.stringify(entries.map(auditJsonEntry), null, 2);
}

/**
 * The entries as the items of renderAuditJson's array (its lines between `[` and `]`, without the
 * separator after the last): an export too large for one read is written a page at a time.
 */
export function renderAuditJsonItems(entries: readonly AuditEntry[]): string {
  return entries
    .map((e) => `  ${JSON.stringify(auditJsonEntry(e), null, 2).replace(/\n/g, '\n  ')}`)
    .join(',\n');
}

/**
 * A cell a spreadsheet would take for a formula (or DDE payload) when opened: `=`, `+`, `-`, `@` or
 * their full-width forms (`＝＋－＠`), after any leading whitespace (space, NBSP, …) or invisible
 * characters (zero-width space, BOM, bidi controls), which spreadsheets may skip; or a tab or CR first.
 */
const FORMULA_START = new RegExp(
  String.raw`^[\s${INVISIBLE_CHARACTERS}]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\t\r]`,
);

/**
 * One RFC 4180 field. A value that starts like a formula (see FORMULA_START) gets a leading `'` so a
 * spreadsheet shows it as text instead of evaluating it (CSV formula injection); a value holding a
 * comma, a double quote, CR or LF is quoted, with its double quotes doubled.
 */
export function csvField(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180: fields separated by commas, every record (the last too) ended by CRLF. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'source',
  'kind',
  'command',
  'target',
  'outcome',
  'request_id',
  'detail',
] as const;

/**
 * Header row (unless `header` is false: a later page of an export), then one record per entry; `detail`
 * is the JSON of the entry's details (empty when none).
 */
export function renderAuditCsv(entries: readonly AuditEntry[], header = true): string {
  const records = entries.map((e) => {
    const json = auditJsonEntry(e);
    return [
      String(e.id),
      (json.at as string | null) ?? '',
      e.actor,
      e.source,
      e.kind,
      e.command,
      e.target ?? '',
      e.outcome,
      e.requestId ?? '',
      e.detail === null ? '' : JSON.stringify(e.detail),
    ];
  });
  return toCsv(header ? [[...AUDIT_CSV_COLUMNS], ...records] : records);
}
