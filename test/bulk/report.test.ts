/** The JSON-lines report: written line by line, read back for resuming. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BulkFileError, type BulkRow, readCsv, toBulkRows } from '../../src/bulk/csv';
import {
  defaultReportPath,
  doneKey,
  planResume,
  readReport,
  type ReportLine,
  ReportWriter,
} from '../../src/bulk/report';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-report-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function line(row: BulkRow, outcome: ReportLine['outcome']): ReportLine {
  return {
    row: row.row,
    outcome,
    identifier: row.identifier,
    ...(outcome === 'failed' || outcome === 'malformed' ? { error: 'it went wrong' } : {}),
    operation: 'disable',
    key: row.key,
    at: '2026-11-29T12:00:00.000Z',
  };
}

const csvRows = (emails: string[]) => toBulkRows(readCsv(`email\n${emails.join('\n')}\n`), 'disable');

it('names the default report after the CSV file', () => {
  expect(defaultReportPath('in/leavers.csv')).toBe('in/leavers.csv.report.jsonl');
});

it('writes each line to the file as it is given, before close', () => {
  const file = path.join(dir, 'r.jsonl');
  const [a, b] = csvRows(['a@example.com', 'b@example.com']);
  const writer = ReportWriter.open(file);
  writer.write(line(a, 'success'));
  // Another process (a rerun after SIGKILL) would read exactly this.
  expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  writer.write(line(b, 'failed'));
  expect(JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n')[1])).toMatchObject({
    row: 3,
    outcome: 'failed',
    identifier: 'b@example.com',
    error: 'it went wrong',
  });
  writer.close();
  writer.close(); // twice is fine
  expect(() => writer.write(line(a, 'success'))).toThrow(/closed/);
});

it('passes each line through the secret filter', () => {
  const file = path.join(dir, 'r.jsonl');
  const [a] = csvRows(['a@example.com']);
  const writer = ReportWriter.open(file, (text) => text.split('it went wrong').join('[REDACTED]'));
  writer.write(line(a, 'failed'));
  writer.close();
  expect(fs.readFileSync(file, 'utf8')).toContain('[REDACTED]');
});

it('appends to an existing report, ending a line a kill cut short first', () => {
  const file = path.join(dir, 'r.jsonl');
  const [a, b] = csvRows(['a@example.com', 'b@example.com']);
  fs.writeFileSync(file, JSON.stringify(line(a, 'success')) + '\n{"row":3,"outc');
  const writer = ReportWriter.open(file);
  writer.write(line(b, 'success'));
  writer.close();
  const previous = readReport(file);
  expect(previous).toEqual({
    done: new Set([doneKey(a.row, a.key), doneKey(b.row, b.key)]),
    interrupted: new Set(),
    lines: 2,
    unreadable: 1,
  });
});

it('a row with a "sent" line and no success or skipped after it is one an interrupted run left in flight', () => {
  const file = path.join(dir, 'r.jsonl');
  const [a, b, c] = csvRows(['a@example.com', 'b@example.com', 'c@example.com']);
  const sent = (row: BulkRow) => ({ ...line(row, 'success'), outcome: 'sent' as const });
  const writer = ReportWriter.open(file);
  for (const written of [sent(a), sent(b), sent(c), line(a, 'success'), line(b, 'failed')])
    writer.write(written);
  writer.close();
  const previous = readReport(file);
  expect(previous?.done).toEqual(new Set([doneKey(a.row, a.key)]));
  expect(previous?.interrupted).toEqual(new Set([doneKey(b.row, b.key), doneKey(c.row, c.key)]));
});

it('reads no report when there is none, and refuses a file that is not one', () => {
  expect(readReport(path.join(dir, 'absent.jsonl'))).toBeNull();
  const csv = path.join(dir, 'users.csv');
  fs.writeFileSync(csv, 'email\na@example.com\n');
  expect(() => readReport(csv)).toThrow(BulkFileError);
  expect(() => readReport(csv)).toThrow(/is not a bulk report/);
  expect(() => readReport(dir)).toThrow(/is a directory/);
});

describe('resuming', () => {
  it('does not redo rows done (success or skipped) and redoes failed and malformed ones', () => {
    const file = path.join(dir, 'r.jsonl');
    const rows = csvRows([
      'a@example.com',
      'b@example.com',
      'c@example.com',
      'd@example.com',
      'e@example.com',
    ]);
    const [a, b, c, d] = rows;
    const writer = ReportWriter.open(file);
    writer.write(line(a, 'success'));
    writer.write(line(b, 'skipped'));
    writer.write(line(c, 'failed'));
    writer.write(line(d, 'malformed'));
    writer.close();
    const { alreadyDone, todo } = planResume(rows, readReport(file));
    expect(alreadyDone.map((r) => r.identifier)).toEqual(['a@example.com', 'b@example.com']);
    expect(todo.map((r) => r.identifier)).toEqual(['c@example.com', 'd@example.com', 'e@example.com']);
  });

  it('a row failed first and done on the retry is done', () => {
    const file = path.join(dir, 'r.jsonl');
    const rows = csvRows(['a@example.com']);
    const writer = ReportWriter.open(file);
    writer.write(line(rows[0], 'failed'));
    writer.write(line(rows[0], 'success'));
    writer.close();
    expect(planResume(rows, readReport(file)).todo).toEqual([]);
  });

  it('redoes a row whose content changed, or that another operation did', () => {
    const file = path.join(dir, 'r.jsonl');
    const [a] = csvRows(['a@example.com']);
    const writer = ReportWriter.open(file);
    writer.write(line(a, 'success'));
    writer.close();
    const previous = readReport(file);
    expect(planResume(csvRows(['a.changed@example.com']), previous).todo).toHaveLength(1);
    const enableRows = toBulkRows(readCsv('email\na@example.com\n'), 'enable');
    expect(planResume(enableRows, previous).todo).toHaveLength(1);
  });

  it('without a report, every row is to do', () => {
    const rows = csvRows(['a@example.com']);
    expect(planResume(rows, null)).toEqual({ alreadyDone: [], todo: rows });
  });
});
