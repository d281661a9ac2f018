/**
 * The JSON-lines report of a bulk run: one line per row as it completes, appended and written straight
 * to the file (one write system call per line), so a run that is interrupted — Ctrl-C, a crash,
 * SIGKILL — loses at most the rows that were in flight. A rerun reads it back: a row whose line says
 * success or skipped, for the same row number and content, is not run again; failed and malformed
 * rows are. Lines are only ever appended, so the file is also the history of every attempt.
 *
 * Before a row's first write request leaves (a create, a PATCH), a `sent` line is written. A row a
 * rerun finds sent but never finished was cut short with its request in flight: when the directory is
 * already as the row wants it, that earlier run made the change, and the rerun reports it as done
 * (success), not as skipped.
 */
import fs from 'node:fs';
import type { IamResult } from '../iam';
import { type BulkRow, BulkFileError } from './csv';

export type RowOutcome = 'success' | 'skipped' | 'failed' | 'malformed';

/** Outcomes after which a row is done: a rerun does not repeat it. */
export const FINAL_OUTCOMES: ReadonlySet<RowOutcome> = new Set<RowOutcome>(['success', 'skipped']);

const OUTCOMES: ReadonlySet<string> = new Set(['success', 'skipped', 'failed', 'malformed']);

export interface ReportLine {
  /** The line of the CSV file the row starts on. */
  row: number;
  outcome: RowOutcome;
  /** Email, username, employee id or id of the row's user, when it has one. */
  identifier: string | null;
  /** The IAM result object (as `--json` prints it) when the operation ran. */
  result?: IamResult;
  /** Why the row failed or is malformed, when there is no result saying it. */
  error?: string;
  operation: string;
  /** The row's content key (see `rowKey`): a rerun redoes a row whose content changed. */
  key: string;
  /** When the row finished (ISO 8601). */
  at: string;
  /** Why a success needed no request of this run: `DONE_BY_INTERRUPTED_RUN`. */
  note?: string;
}

/** The line written before a row's first write request is sent (see the file's comment). */
export interface SentLine {
  row: number;
  outcome: 'sent';
  identifier: string | null;
  operation: string;
  key: string;
  /** When the request was about to be sent (ISO 8601). */
  at: string;
}

/** The note of a row a rerun found done by the interrupted run that sent its request. */
export const DONE_BY_INTERRUPTED_RUN =
  'done by an earlier run that was interrupted with its request in flight (the report has its "sent" line)';

export interface PreviousReport {
  /** `doneKey(row, key)` of the rows done in earlier runs. */
  done: Set<string>;
  /** `doneKey(row, key)` of the rows an earlier run sent a write request for but never finished. */
  interrupted: Set<string>;
  /** Readable lines. */
  lines: number;
  /** Lines that are not report lines, e.g. the last one cut short by a kill mid-write. */
  unreadable: number;
}

export const doneKey = (row: number, key: string): string => `${row}:${key}`;

/** The default report of a CSV file: `<FILE>.report.jsonl` beside it. */
export const defaultReportPath = (csvPath: string): string => `${csvPath}.report.jsonl`;

function isReportLine(value: unknown): value is ReportLine | SentLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  return (
    Number.isInteger(line.row) &&
    typeof line.outcome === 'string' &&
    (OUTCOMES.has(line.outcome) || line.outcome === 'sent') &&
    typeof line.key === 'string' &&
    typeof line.operation === 'string'
  );
}

/** Reads an existing report; null when there is none. Throws BulkFileError when the file is not one. */
export function readReport(path: string): PreviousReport | null {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EISDIR') throw new BulkFileError(`the report ${path} is a directory`);
    throw new BulkFileError(`cannot read the report ${path}: ${(error as Error).message}`);
  }
  const done = new Set<string>();
  const sent = new Set<string>();
  let lines = 0;
  let unreadable = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      unreadable++;
      continue;
    }
    if (!isReportLine(value)) {
      unreadable++;
      continue;
    }
    lines++;
    const key = doneKey(value.row, value.key);
    if (value.outcome === 'sent') sent.add(key);
    else if (FINAL_OUTCOMES.has(value.outcome)) done.add(key);
  }
  if (lines === 0 && unreadable > 0) {
    throw new BulkFileError(
      `${path} exists but is not a bulk report (no line of it is one); give another --report file`,
    );
  }
  const interrupted = new Set([...sent].filter((key) => !done.has(key)));
  return { done, interrupted, lines, unreadable };
}

/** Splits the rows into those an earlier run finished (success or skipped) and those still to do. */
export function planResume(
  rows: BulkRow[],
  previous: PreviousReport | null,
): { alreadyDone: BulkRow[]; todo: BulkRow[] } {
  if (!previous) return { alreadyDone: [], todo: rows };
  const alreadyDone: BulkRow[] = [];
  const todo: BulkRow[] = [];
  for (const row of rows) (previous.done.has(doneKey(row.row, row.key)) ? alreadyDone : todo).push(row);
  return { alreadyDone, todo };
}

/** Appends report lines, each in one write as soon as it is given. */
export class ReportWriter {
  readonly path: string;
  #fd: number | null;
  readonly #scrub: (text: string) => string;

  private constructor(path: string, fd: number, scrub: (text: string) => string) {
    this.path = path;
    this.#fd = fd;
    this.#scrub = scrub;
  }

  /**
   * Opens `path` for appending (creating it); a line cut short by an earlier kill is ended first.
   * `scrub` sees each line before it is written (the secret filter).
   */
  static open(path: string, scrub: (text: string) => string = (text) => text): ReportWriter {
    let fd: number;
    try {
      fd = fs.openSync(path, 'a+');
    } catch (error) {
      throw new BulkFileError(`cannot write the report ${path}: ${(error as Error).message}`);
    }
    const size = fs.fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) fs.writeSync(fd, '\n');
    }
    return new ReportWriter(path, fd, scrub);
  }

  write(line: ReportLine | SentLine): void {
    if (this.#fd === null) throw new Error(`the report ${this.path} is closed`);
    fs.writeSync(this.#fd, this.#scrub(JSON.stringify(line)) + '\n');
  }

  /** Flushes to disk and closes; safe to call twice. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
