import type { IamResult, VendorResult } from '../iam/result';
import { showInvisible } from './invisible';

/**
 * Columns of the human-readable result table, in XSOAR's order, without the constant brand (it is in
 * the title) and instanceName (--json has it), so that the table fits a terminal.
 */
export const RESULT_COLUMNS = [
  'success',
  'active',
  'id',
  'username',
  'email',
  'group',
  'groups',
  'errorCode',
  'errorMessage',
  'details',
] as const satisfies readonly (keyof VendorResult)[];

export const SKIPPED_COLUMNS = [
  'group',
  'skipped',
  'reason',
] as const satisfies readonly (keyof VendorResult)[];

const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

const GROUP_TITLES: Partial<Record<VendorResult['action'], string>> = {
  'add-to-group': 'Add User To Group',
  'remove-from-group': 'Remove User From Group',
  'get-groups': 'Get Groups',
};

export function resultTitle(vendor: VendorResult): string {
  const what = GROUP_TITLES[vendor.action] ?? `${capitalise(vendor.action)} User`;
  return `${what} Results (${vendor.brand})`;
}

const isEmpty = (value: unknown): boolean => value === null || value === undefined || value === '';

export function cellText(value: unknown): string {
  if (isEmpty(value)) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[\r\n\t]+/g, ' ');
}

export interface TextTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** Title, the columns that have a value in some row, and the cells; skipped results use the short layout. */
export function resultTable(
  result: IamResult,
  options: { detailsMax?: number; titleSuffix?: string } = {},
): TextTable {
  const vendor = result.IAM.Vendor;
  if (vendor.success && vendor.groups !== undefined && vendor.action === 'get-groups') {
    // A listing: one row per group; whose groups (if a user's) goes in the title.
    const whose = vendor.username ?? vendor.email ?? vendor.id;
    return {
      title: `${resultTitle(vendor)}${whose === null ? '' : ` for ${cellText(whose)}`}${options.titleSuffix ?? ''}`,
      columns: ['group', 'id'],
      rows: vendor.groups.map((group) => [cellText(group.displayName), cellText(group.id)]),
    };
  }
  const layout: readonly (keyof VendorResult)[] = vendor.skipped ? SKIPPED_COLUMNS : RESULT_COLUMNS;
  const columns = layout.filter((column) => !isEmpty(vendor[column]));
  const cell = (column: keyof VendorResult): string => {
    const text =
      column === 'groups'
        ? (vendor.groups ?? []).map((group) => cellText(group.displayName)).join(', ')
        : cellText(vendor[column]);
    // The SCIM user can be long: a terminal table may show its start; --json shows all of it.
    const max = options.detailsMax ?? Infinity;
    return column === 'details' && text.length > max ? `${text.slice(0, max - 1)}…` : text;
  };
  return { title: resultTitle(vendor) + (options.titleSuffix ?? ''), columns, rows: [columns.map(cell)] };
}

/** Narrowest a column is squeezed to before the table may run over the width. */
const MIN_COLUMN_WIDTH = 6;

/** The text cut to `width` characters, its end shown as an ellipsis. */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * Column widths that fit `maxWidth` with two spaces between columns. The `shrinkFirst` columns give way
 * first, down to their header's width; then every column is capped at the one widest cap that fits, so
 * long cells share the room. A cap never goes under MIN_COLUMN_WIDTH (the table may then run over).
 */
function fitWidths(columns: string[], natural: number[], maxWidth: number, shrinkFirst: string[]): number[] {
  const widths = [...natural];
  const total = (): number => widths.reduce((sum, w) => sum + w, 2 * (widths.length - 1));
  for (const name of shrinkFirst) {
    const i = columns.indexOf(name);
    if (i < 0 || total() <= maxWidth) continue;
    const floor = Math.min(widths[i], Math.max(MIN_COLUMN_WIDTH, name.length));
    widths[i] = Math.max(floor, widths[i] - (total() - maxWidth));
  }
  let cap = Math.max(...widths);
  const widthAt = (limit: number): number =>
    widths.reduce((sum, w) => sum + Math.min(w, limit), 2 * (widths.length - 1));
  while (cap > MIN_COLUMN_WIDTH && widthAt(cap) > maxWidth) cap -= 1;
  return widths.map((w) => Math.min(w, cap));
}

export interface RenderOptions {
  /** The terminal's width: cells are cut (with an ellipsis) so that every line fits. Default: no limit. */
  maxWidth?: number;
  /** Columns that give way before the others (raw detail the person can get in full with --json). */
  shrinkFirst?: string[];
}

/**
 * A result table cut to `maxWidth`, followed by the error message in full when the table had to cut
 * it: that is the one cell a person must read whole.
 */
export function renderResultText(table: TextTable, vendor: VendorResult, options: RenderOptions): string {
  const rendered = renderTextTable(table, options);
  const message = cellText(vendor.errorMessage);
  const shown = showInvisible(message);
  return message === '' || rendered.includes(shown) ? rendered : `${rendered}\nerror: ${shown}`;
}

/** The width a CLI table gets: the terminal's, or 100 columns when stdout is not a terminal. */
export function terminalWidth(columns: number | undefined): number {
  return columns !== undefined && columns > 0 ? columns : 100;
}

/**
 * Renders a table as aligned plain text: title line, header, rule, rows. Bidi controls and zero-width
 * characters are shown as `<U+XXXX>`, so no value can reorder or hide what the terminal shows; then
 * cells are cut to fit `maxWidth`.
 */
export function renderTextTable(shown: TextTable, options: RenderOptions = {}): string {
  const table: TextTable = {
    title: showInvisible(shown.title),
    columns: shown.columns.map(showInvisible),
    rows: shown.rows.map((row) => row.map(showInvisible)),
  };
  const natural = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const maxWidth = options.maxWidth ?? Infinity;
  const widths = fitWidths(table.columns, natural, maxWidth, options.shrinkFirst ?? []);
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => {
        const text = fit(cell, widths[i]);
        return i === cells.length - 1 ? text : text.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [
    fit(table.title, maxWidth),
    line(table.columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.rows.map((row) => line(row)),
  ].join('\n');
}

/** The widest line of `text`, in characters. */
export function widestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => line.length));
}

/**
 * A table too wide for the terminal as one block per row: its first cell as a heading, then one
 * `column  value` line per other column, each cut to `maxWidth`. Invisible characters are shown as in
 * renderTextTable.
 */
export function renderRecords(shown: TextTable, maxWidth: number): string {
  const columns = shown.columns.map(showInvisible);
  const keyWidth = Math.max(...columns.slice(1).map((column) => column.length));
  const block = (row: string[]): string[] => [
    fit(showInvisible(row[0] ?? ''), maxWidth),
    ...columns
      .slice(1)
      .map((column, i) => fit(`  ${column.padEnd(keyWidth)}  ${showInvisible(row[i + 1] ?? '')}`, maxWidth)),
  ];
  const title = wrap(showInvisible(shown.title), maxWidth);
  return [...title, ...shown.rows.flatMap((row) => ['', ...block(row)])].join('\n');
}

/** `text` broken at spaces into lines of at most `width` characters (a longer word is cut). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = fit(line === '' ? word : `${line} ${word}`, width);
  }
  return [...lines, line];
}
