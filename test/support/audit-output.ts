/**
 * Reading `atlassian-iam audit` output in tests, and the headers its table and CSV must have: written
 * out rather than taken from the code, so that a renamed or reordered column fails the tests.
 */
import { parse } from 'csv-parse/sync';

export const readCsv = (text: string): string[][] => parse(text, { record_delimiter: '\r\n' }) as string[][];

export const EXPECTED_AUDIT_CSV_HEADER = [
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
];

export const EXPECTED_AUDIT_TABLE_HEADER = [
  'time',
  'actor',
  'source',
  'kind',
  'command',
  'target',
  'outcome',
  'request id',
];
