/** `atlassian-iam audit` output: text table, JSON and RFC 4180 CSV that no spreadsheet evaluates. */
import type { AuditEntry } from '../../src/store/types';
import {
  AUDIT_CELL_MAX,
  auditTime,
  csvField,
  renderAuditCsv,
  renderAuditJson,
  renderAuditText,
  terminalSafe,
  toCsv,
} from '../../src/views/audit-table';
import { EXPECTED_AUDIT_CSV_HEADER, EXPECTED_AUDIT_TABLE_HEADER, readCsv } from '../support/audit-output';

const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 1,
  at: new Date('2025-01-15T09:30:05.123Z'),
  actor: 'U0OPS',
  source: 'slack',
  kind: 'result',
  command: 'iam-get-user',
  target: 'jane@example.com',
  outcome: 'success',
  requestId: null,
  detail: { IAM: { Vendor: { success: true } } },
  ...overrides,
});

/** Reads CSV back with a real parser (csv-parse), to check that what we write round-trips. */

describe('text table', () => {
  it('has the columns, one row per entry, UTC times and dashes for missing values', () => {
    const text = renderAuditText([
      entry({ id: 2, requestId: 'req-1', kind: 'decision', command: 'approve', outcome: 'approved' }),
      entry({ actor: 'cli:alice', source: 'cli', target: null }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Audit log: 2 entries, newest first');
    expect(lines[1].split(/\s{2,}/)).toEqual(EXPECTED_AUDIT_TABLE_HEADER);
    expect(lines[3].split(/\s{2,}/)).toEqual([
      '2025-01-15 09:30:05Z',
      'U0OPS',
      'slack',
      'decision',
      'approve',
      'jane@example.com',
      'approved',
      'req-1',
    ]);
    expect(lines[4].split(/\s{2,}/)).toEqual([
      '2025-01-15 09:30:05Z',
      'cli:alice',
      'cli',
      'result',
      'iam-get-user',
      '-',
      'success',
      '-',
    ]);
    expect(lines).toHaveLength(5);
    expect(renderAuditText([entry()]).split('\n')[0]).toBe('Audit log: 1 entry, newest first');
  });

  it('keeps terminal control sequences and line breaks out, and cuts long cells', () => {
    const text = renderAuditText([
      entry({ target: '\u001b[2J\u001b[31mred\u0007\nsecond line\u009b', actor: 'x'.repeat(500) }),
    ]);
    // No control character but the line feeds between rows.
    expect([...text].filter((c) => c !== '\n' && (c < ' ' || (c >= '\u007f' && c <= '\u009f')))).toEqual([]);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toContain('\uFFFD[2J\uFFFD[31mred\uFFFD second line\uFFFD');
    expect(text).toContain('x'.repeat(AUDIT_CELL_MAX - 1) + '…');
    expect(text).not.toContain('x'.repeat(AUDIT_CELL_MAX));
    expect(terminalSafe('a\tb\r\nc')).toBe('a b c');
  });

  it('writes an invalid date as unknown time', () => {
    expect(auditTime(new Date(Number.NaN))).toBe('unknown time');
  });
});

describe('JSON', () => {
  it('is an array of entries with ISO times and their details', () => {
    const entries = [entry({ id: 7, requestId: 'req-7' })];
    expect(JSON.parse(renderAuditJson(entries))).toEqual([
      {
        id: 7,
        at: '2025-01-15T09:30:05.123Z',
        actor: 'U0OPS',
        source: 'slack',
        kind: 'result',
        command: 'iam-get-user',
        target: 'jane@example.com',
        outcome: 'success',
        requestId: 'req-7',
        detail: { IAM: { Vendor: { success: true } } },
      },
    ]);
    expect(JSON.parse(renderAuditJson([]))).toEqual([]);
  });
});

describe('CSV', () => {
  it('quotes fields with commas, quotes, CR or LF, doubling the quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('')).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(
      toCsv([
        ['a', 'b'],
        ['c,d', 'e'],
      ]),
    ).toBe('a,b\r\n"c,d",e\r\n');
  });

  it.each([
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('neutralises the formula %j with a leading apostrophe', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it('leaves values that merely contain those characters alone', () => {
    expect(csvField('jane+tag@example.com')).toBe('jane+tag@example.com');
    expect(csvField('a=b')).toBe('a=b');
  });

  it('has a header row and one record per entry, every record ended by CRLF, reading back intact', () => {
    const tricky = entry({
      id: 3,
      actor: "=cmd|' /C calc'!A0",
      target: 'o"brien, jr.\nline 2',
      requestId: '@req',
      detail: { note: 'a,b "c"\r\nd' },
    });
    const csv = renderAuditCsv([tricky, entry({ id: 2, target: null, detail: null })]);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = readCsv(csv);
    expect(rows[0]).toEqual(EXPECTED_AUDIT_CSV_HEADER);
    expect(rows[1]).toEqual([
      '3',
      '2025-01-15T09:30:05.123Z',
      "'=cmd|' /C calc'!A0",
      'slack',
      'result',
      'iam-get-user',
      'o"brien, jr.\nline 2',
      'success',
      "'@req",
      '{"note":"a,b \\"c\\"\\r\\nd"}',
    ]);
    expect(rows[2]).toEqual([
      '2',
      '2025-01-15T09:30:05.123Z',
      'U0OPS',
      'slack',
      'result',
      'iam-get-user',
      '',
      'success',
      '',
      '',
    ]);
    expect(rows).toHaveLength(3);
    expect(renderAuditCsv([])).toBe('id,at,actor,source,kind,command,target,outcome,request_id,detail\r\n');
  });
});
