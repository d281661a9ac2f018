import type { IamResult, VendorResult } from '../iam/result';
import { showInvisible } from './invisible';

/** Columns of the human-readable result table, in XSOAR's order. */
export const RESULT_COLUMNS = [
  'brand',
  'instanceName',
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
  'brand',
  'instanceName',
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
export function resultTable(result: IamResult, options: { detailsMax?: number } = {}): TextTable {
  const vendor = result.IAM.Vendor;
  if (vendor.success && vendor.groups !== undefined && vendor.action === 'get-groups') {
    // A listing: one row per group; whose groups (if a user's) goes in the title.
    const whose = vendor.username ?? vendor.email ?? vendor.id;
    return {
      title: `${resultTitle(vendor)}${whose === null ? '' : ` for ${cellText(whose)}`}`,
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
  return { title: resultTitle(vendor), columns, rows: [columns.map(cell)] };
}

/**
 * Renders a table as aligned plain text: title line, header, rule, rows. Bidi controls and zero-width
 * characters are shown as `<U+XXXX>`, so no value can reorder or hide what the terminal shows.
 */
export function renderTextTable(shown: TextTable): string {
  const table: TextTable = {
    title: showInvisible(shown.title),
    columns: shown.columns.map(showInvisible),
    rows: shown.rows.map((row) => row.map(showInvisible)),
  };
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    table.title,
    line(table.columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.rows.map((row) => line(row)),
  ].join('\n');
}
