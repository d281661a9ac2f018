/**
 * Reading a bulk CSV file: the header row names profile keys, each further record is one user profile.
 * File-level problems (empty, no header row, a quote never closed) throw BulkFileError: the command
 * stops with exit status 2 before anything is sent. Row-level problems (wrong number of cells, a value
 * the profile parser refuses) make that row malformed; the other rows still run.
 */
import { createHash } from 'node:crypto';
import {
  checkProfileKey,
  parseUserProfile,
  ProfileError,
  type ProfileOptions,
  type UserProfile,
} from '../iam';

export class BulkFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BulkFileError';
  }
}

export interface CsvRecord {
  /** Line of the file where the record starts (1 is the first line); a quoted cell may span lines. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  /** The header row's names, trimmed, as written. */
  header: string[];
  delimiter: string;
  /** The data records; blank lines (and lines of empty cells only) are left out. */
  records: CsvRecord[];
}

/** One data row, ready to run or to report as malformed. */
export interface BulkRow {
  /** The line the row starts on: what an editor or a spreadsheet shows for it. */
  row: number;
  /** Identifies the row's content (with the operation) so a rerun can tell it is the same row. */
  key: string;
  /** Email, username, employee id or id: what the report and the audit log name the user by. */
  identifier: string | null;
  profile?: UserProfile;
  /** The group the row names (add-to-group, remove-from-group: the `group` column). */
  group?: string;
  /** Why the row cannot run (malformed). */
  problem?: string;
}

const DELIMITERS = [',', ';', '\t'] as const;

/** A header name: a profile key (`email`), a SCIM attribute (`userName`) or `object.key` (`olduserdata.email`). */
const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_:-]*(\.[A-Za-z_][A-Za-z0-9_:-]*)?$/;

/** Profile keys whose value is an object or a list: such a cell may hold JSON (`[{"value":…}]`). */
const JSON_KEYS = new Set(['emails', 'name', 'phonenumbers', 'olduserdata', 'schemas', 'groups']);

/** Spreadsheets in some locales write `;`-separated files: the header line's most frequent separator wins. */
function detectDelimiter(text: string): string {
  const firstLine = text.split(/\r\n|\n|\r/).find((line) => line.trim() !== '') ?? '';
  let best: string = ',';
  let bestCount = 0;
  for (const delimiter of DELIMITERS) {
    const count = firstLine.split(delimiter).length - 1;
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number; empty_lines: number };
}

/** Parses the CSV text (a UTF-8 byte order mark is dropped) and checks the header row. */
export function readCsv(text: string): CsvTable {
  const delimiter = detectDelimiter(text.replace(/^\uFEFF/, ''));
  // Loaded here, not at the top: every CLI command imports this module, only bulk reads CSV.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('csv-parse/sync') as typeof import('csv-parse/sync');
  let parsed: ParsedRecord[];
  try {
    parsed = parse(text, {
      bom: true,
      delimiter,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as unknown as ParsedRecord[];
  } catch (error) {
    const { code, lines } = error as { code?: string; lines?: number };
    const where = typeof lines === 'number' ? ` (line ${lines})` : '';
    if (code === 'CSV_QUOTE_NOT_CLOSED') {
      throw new BulkFileError(
        `a quoted cell is never closed${where}: the rest of the file cannot be read; fix the quotes and run again`,
      );
    }
    throw new BulkFileError(`not a readable CSV file${where}: ${(error as Error).message}`);
  }

  const records: CsvRecord[] = [];
  let previousEnd = 0;
  let previousEmpty = 0;
  for (const { record, info } of parsed) {
    // csv-parse reports the line a record ends on; it starts after the previous one and any blank lines.
    const line = previousEnd + 1 + (info.empty_lines - previousEmpty);
    previousEnd = info.lines;
    previousEmpty = info.empty_lines;
    if (record.every((cell) => cell.trim() === '')) continue;
    records.push({ line, cells: record });
  }
  const headerRecord = records.shift();
  if (!headerRecord) {
    throw new BulkFileError(
      'the file is empty: its first line must be a header row of profile keys, e.g. email,givenname,surname',
    );
  }
  const header = headerRecord.cells.map((cell) => cell.trim());
  checkHeader(header, headerRecord.line);
  return { header, delimiter, records };
}

function checkHeader(header: string[], line: number): void {
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    const column = i + 1;
    if (name === '') {
      throw new BulkFileError(
        `column ${column} of the header row (line ${line}) is empty: every column needs a profile key such as email`,
      );
    }
    if (!KEY_NAME.test(name)) {
      throw new BulkFileError(
        `line ${line} must be the header row of profile keys (email, username, givenname, …), but ${JSON.stringify(
          name,
        )} is not a key name: add a header row`,
      );
    }
    const lower = name.toLowerCase();
    const before = seen.get(lower);
    if (before !== undefined) {
      throw new BulkFileError(
        `columns ${before} and ${column} of the header row are both ${JSON.stringify(name)} (keys are case-insensitive)`,
      );
    }
    seen.set(lower, column);
  });
  for (const [lower, column] of seen) {
    const outer = lower.includes('.') ? lower.slice(0, lower.indexOf('.')) : null;
    const whole = outer === null ? undefined : seen.get(outer);
    if (whole !== undefined) {
      throw new BulkFileError(
        `columns ${whole} (${header[whole - 1]}) and ${column} (${header[column - 1]}) both give ${outer}: use one or the other`,
      );
    }
  }
}

/** The row's identity for resuming: the operation, the header and the cells, hashed. */
export function rowKey(operation: string, header: string[], cells: string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, header, cells]))
    .digest('hex')
    .slice(0, 16);
}

/** Email, username, employee id or id (the audit log's choice), else the SCIM userName/externalId given. */
export function identifierOf(profile: Record<string, unknown>): string | null {
  for (const key of ['email', 'username', 'employeeid', 'id', 'userName', 'externalId']) {
    const value = profile[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return null;
}

/** The raw key → value object of a record: empty cells left out, `a.b` columns nested, JSON cells read. */
function rawProfile(header: string[], cells: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  header.forEach((name, i) => {
    const text = (cells[i] ?? '').trim();
    if (text === '') return;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const [outer, inner] = [name.slice(0, dot), name.slice(dot + 1)];
      const nested = (raw[outer] ??= {}) as Record<string, unknown>;
      nested[inner] = text;
      return;
    }
    if (JSON_KEYS.has(name.toLowerCase()) && /^[[{]/.test(text)) {
      try {
        raw[name] = JSON.parse(text) as unknown;
      } catch (error) {
        throw new ProfileError(`${name} is not valid JSON (${(error as Error).message})`);
      }
      return;
    }
    raw[name] = text;
  });
  return raw;
}

/**
 * Every column must name a profile key (the parser's rule, with the same "did you mean"): a misspelt
 * header is one error for the file, not a malformed row for every user.
 */
function checkColumns(header: string[], options: ProfileOptions): void {
  header.forEach((name, i) => {
    const label = `column ${i + 1} of the header row (${JSON.stringify(name)})`;
    const [outer, inner] = name.split('.');
    try {
      checkProfileKey(outer, label, options);
      if (inner !== undefined && outer.toLowerCase() === 'olduserdata')
        checkProfileKey(inner, label, options);
    } catch (error) {
      if (error instanceof ProfileError) throw new BulkFileError(error.message);
      throw error;
    }
  });
}

const NO_IDENTIFIER = 'the row names no user: give an email, username, employeeid or id';

/** The column a group operation reads each row's group from; every other column is a profile key. */
const GROUP_COLUMN = 'group';

/** Where the `group` column is (group operations: it must be there), else -1. */
function groupColumnOf(header: string[], operation: string, groupColumn: boolean): number {
  if (!groupColumn) return -1;
  const at = header.findIndex((name) => name.toLowerCase() === GROUP_COLUMN);
  if (at < 0) {
    throw new BulkFileError(
      `bulk ${operation} needs a "${GROUP_COLUMN}" column naming each row's group, beside the user's identifier (e.g. email,group)`,
    );
  }
  return at;
}

/**
 * Turns each record into a row: a parsed profile, or the reason it is malformed. A column that names
 * no profile key throws BulkFileError. With `groupColumn` (add-to-group, remove-from-group) the `group`
 * column is required and read apart: a row whose group cell is empty is malformed.
 */
export function toBulkRows(
  table: CsvTable,
  operation: string,
  options: ProfileOptions & { groupColumn?: boolean } = {},
): BulkRow[] {
  const groupAt = groupColumnOf(table.header, operation, options.groupColumn ?? false);
  const withoutGroup = <T>(list: T[]): T[] => list.filter((_, i) => i !== groupAt);
  const header = withoutGroup(table.header);
  checkColumns(header, options);
  return table.records.map(({ line, cells }) => {
    const key = rowKey(operation, table.header, cells);
    if (cells.length !== table.header.length) {
      const guess = identifierGuess(table.header, cells);
      return {
        row: line,
        key,
        identifier: guess,
        problem: `has ${cells.length} ${cells.length === 1 ? 'cell' : 'cells'} but the header row has ${
          table.header.length
        } columns`,
      };
    }
    const group = groupAt < 0 ? undefined : cells[groupAt].trim();
    try {
      if (group === '') throw new ProfileError(`the ${GROUP_COLUMN} cell is empty: give the group's name`);
      const profile = parseUserProfile(rawProfile(header, withoutGroup(cells)), options);
      const identifier = identifierOf(profile);
      // Refused here, like any other malformed row: no audit row, where the runner would write "received".
      if (identifier === null) throw new ProfileError(NO_IDENTIFIER);
      return { row: line, key, identifier, profile, ...(group ? { group } : {}) };
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      return { row: line, key, identifier: identifierGuess(table.header, cells), problem: error.message };
    }
  });
}

/** For a malformed row: the identifier its cells seem to hold, so the report still says whose row it was. */
function identifierGuess(header: string[], cells: string[]): string | null {
  const byKey: Record<string, unknown> = {};
  header.forEach((name, i) => {
    const key = name.toLowerCase();
    const text = (cells[i] ?? '').trim();
    if (text !== '' && !(key in byKey)) byKey[key] = text;
  });
  return identifierOf(byKey);
}
