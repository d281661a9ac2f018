/** `atlassian-iam audit` options, parsed without touching the store. */
import {
  AuditUsageError,
  DEFAULT_AUDIT_LIMIT,
  describeQuery,
  MAX_AUDIT_LIMIT,
  parseAgo,
  parseAuditArgs,
  parseIsoDate,
  parseSince,
} from '../../src/cli/audit-options';

const NOW = new Date('2026-11-29T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('--since', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 30 * 60_000],
    ['24h', 24 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['2w', 14 * 86_400_000],
  ])('takes the duration %s back from now', (text, ms) => {
    expect(parseAgo(text)).toBe(ms);
    expect(parseSince(text, NOW)).toEqual(ago(ms));
  });

  it.each([
    ['2025-01-15', '2025-01-15T00:00:00.000Z'],
    ['2025-01-15T09:30', '2025-01-15T09:30:00.000Z'],
    ['2025-01-15T09:30Z', '2025-01-15T09:30:00.000Z'],
    ['2025-01-15 09:30:05', '2025-01-15T09:30:05.000Z'],
    ['2025-01-15T09:30:05.25Z', '2025-01-15T09:30:05.250Z'],
    ['2025-01-15T09:30:05+01:00', '2025-01-15T08:30:05.000Z'],
    ['2025-01-15T09:30:05-0230', '2025-01-15T12:00:05.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('takes the ISO date %s (no zone means UTC)', (text, iso) => {
    expect(parseIsoDate(text)?.toISOString()).toBe(iso);
    expect(parseSince(` ${text} `, NOW).toISOString()).toBe(iso);
  });

  it.each([
    '',
    '7',
    '7 d',
    '7days',
    '1y',
    '-1h',
    '1.5h',
    'yesterday',
    '2025-1-15',
    '2025-02-30',
    '2025-02-29',
    '2025-13-01',
    '2025-01-15T24:00',
    '2025-01-15T09:60',
    '2025-01-15T09:30+25:00',
    '15/01/2025',
    '1736933400',
  ])('refuses %j', (text) => {
    expect(() => parseSince(text, NOW)).toThrow(AuditUsageError);
  });

  it('refuses a zero duration', () => {
    expect(() => parseSince('0h', NOW)).toThrow('more than 0');
  });
});

describe('parseAuditArgs', () => {
  it('defaults to the latest 100 entries as a text table', () => {
    expect(parseAuditArgs([], NOW)).toEqual({
      query: { limit: DEFAULT_AUDIT_LIMIT },
      format: 'text',
      all: false,
    });
  });

  it('builds the query from --since, --user and --limit', () => {
    expect(
      parseAuditArgs(['--since', '24h', '--user', ' Jane@Example.com ', '--limit', '5', '--csv'], NOW),
    ).toEqual({
      query: { since: ago(24 * 3_600_000), target: 'Jane@Example.com', limit: 5 },
      format: 'csv',
      all: false,
    });
    expect(parseAuditArgs(['--since=2025-01-15', '--json'], NOW)).toEqual({
      query: { since: new Date('2025-01-15T00:00:00Z'), limit: DEFAULT_AUDIT_LIMIT },
      format: 'json',
      all: false,
    });
  });

  it('--group NAME filters by the group an entry names, trimmed', () => {
    expect(parseAuditArgs(['--group', ' jira-software-users ', '--user', 'jane@example.com'], NOW)).toEqual({
      query: { group: 'jira-software-users', target: 'jane@example.com', limit: DEFAULT_AUDIT_LIMIT },
      format: 'text',
      all: false,
    });
    expect(describeQuery({ target: 'jane@example.com', group: 'jira-software-users' })).toBe(
      ' about jane@example.com in group jira-software-users',
    );
  });

  it('--all reads every entry a page (the most --limit allows) at a time, for --csv or --json', () => {
    expect(parseAuditArgs(['--all', '--csv', '--before', '2025-01-01'], NOW)).toEqual({
      query: { before: new Date('2025-01-01T00:00:00Z'), limit: MAX_AUDIT_LIMIT },
      format: 'csv',
      all: true,
    });
  });

  it('answers help for -h and --help', () => {
    expect(parseAuditArgs(['-h'], NOW)).toBe('help');
    expect(parseAuditArgs(['--user', 'x', '--help'], NOW)).toBe('help');
  });

  it.each([
    [['--json', '--csv'], 'choose one of --json and --csv'],
    [['--since', 'soon'], '--since "soon" is neither a duration'],
    [['--since'], '--since needs a value'],
    [['--user', ''], '--user needs an email'],
    [['--group', ' '], '--group needs a group name, e.g. --group jira-software-users'],
    [['--group'], '--group needs a value'],
    [['--limit', '0'], '--limit "0" must be a whole number from 1 to 10000'],
    [['--limit', '10001'], 'from 1 to 10000'],
    [['--limit', '2.5'], 'from 1 to 10000'],
    [['--limit', 'all'], 'from 1 to 10000'],
    [['--verbose'], 'unknown option --verbose'],
    [['--user-profile', '{}'], 'unknown option --user-profile'],
    [['jane@example.com'], 'unexpected argument "jane@example.com"'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseAuditArgs(argv, NOW)).toThrow(AuditUsageError);
    expect(() => parseAuditArgs(argv, NOW)).toThrow(message);
  });

  it('describes the filters for the "no audit entries" line', () => {
    expect(describeQuery({})).toBe('');
    expect(describeQuery({ target: 'jane@example.com', since: new Date('2025-01-15T00:00:00Z') })).toBe(
      ' about jane@example.com since 2025-01-15T00:00:00.000Z',
    );
  });
});
