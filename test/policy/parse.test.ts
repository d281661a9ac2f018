/**
 * Reading a policy file: every kind of mistake is reported as FILE:LINE: KEY: message, pointing at the
 * line to fix, and nothing is loaded; a good file gives complete rules.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  formatProblem,
  loadPolicy,
  parsePolicy,
  type PolicyDefaults,
  PolicyError,
  parsePolicyDuration,
  formatPolicyDuration,
} from '../../src/policy';
import { MAX_POLICY_BYTES } from '../../src/policy/parse';
import { aliasBomb } from '../support/policy-files';

const DEFAULTS: PolicyDefaults = { operators: null, approvers: null, approvalTtlMs: 24 * 3_600_000 };
const FILE = 'policy.yaml';

/** The problems of a file, formatted as `policy check` prints them. */
function problemsOf(text: string, defaults: PolicyDefaults = DEFAULTS): string[] {
  try {
    parsePolicy(text, FILE, defaults);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return error.problems.map(formatProblem);
  }
  throw new Error('the policy was accepted');
}

const lines = (...text: string[]) => text.join('\n') + '\n';

describe('a policy file with a mistake is refused with FILE:LINE: KEY: message', () => {
  it.each<[string, string, string]>([
    [
      'unknown key, with the closest known key',
      lines('rules:', '  - action: disable', '    aprovers: [U0AAA]'),
      'policy.yaml:3: rule 1 aprovers: unknown key; did you mean approvers?',
    ],
    [
      'unknown key inside remind',
      lines('rules:', '  - action: disable', '    remind:', '      afer: 2h'),
      'policy.yaml:4: rule 1 remind.afer: unknown key; did you mean after?',
    ],
    [
      'unknown top-level key',
      lines('rule:', '  - action: disable'),
      'policy.yaml:1: rule: unknown key; did you mean rules?',
    ],
    [
      'unknown action',
      lines('rules:', '  - action: disabel'),
      'policy.yaml:2: rule 1 action: unknown action "disabel"; did you mean disable? (known: disable, enable, identifier-change, update, create, grant)',
    ],
    [
      'duration that does not parse',
      lines('rules:', '  - action: grant', '    expires: 3 fortnights'),
      'policy.yaml:3: rule 1 expires: "3 fortnights" is not a duration such as 30m, 4h, 1d12h or 7d (units s, m, h, d, w)',
    ],
    [
      'a bare number as a duration',
      lines('rules:', '  - action: disable', '    expires: 3600'),
      'policy.yaml:3: rule 1 expires: must be a duration such as 30m, 4h, 1d12h or 7d (units s, m, h, d, w)',
    ],
    [
      'approvals below 1',
      lines('rules:', '  - action: disable', '    approvals: 0'),
      'policy.yaml:3: rule 1 approvals: must be at least 1 (distinct approvers needed, never the requester)',
    ],
    [
      'empty approvers',
      lines('rules:', '  - action: disable', '    approvers: []'),
      'policy.yaml:3: rule 1 approvers: is empty: no one could ever approve',
    ],
    [
      'an approver given by name',
      lines('rules:', '  - action: disable', '    approvers: [U0AAA, "@alice"]'),
      'policy.yaml:3: rule 1 approvers: "@alice" must be a Slack user id (U…, W…) or user-group id (S…), not a name or handle: in Slack, open the profile or group and copy its ID',
    ],
    [
      'a channel by name',
      lines('rules:', '  - action: disable', '    channel: "#security"'),
      'policy.yaml:3: rule 1 channel: must be a channel id (C…), not a name: in Slack, open the channel details and copy the Channel ID',
    ],
    [
      'breakGlass that is not a boolean',
      lines('rules:', '  - action: disable', '    breakGlass: yes'),
      'policy.yaml:3: rule 1 breakGlass: must be true or false',
    ],
    [
      'a rule without action',
      lines('rules:', '  - approvals: 1', '  - approvals: 2'),
      'policy.yaml:2: rule 1 action: is required',
    ],
    [
      'approvals larger than the named approvers',
      lines(
        'rules:',
        '  - action: disable',
        '    approvers: [U0AAA, U0BBB]',
        '    requesters: [U0CCC]',
        '    approvals: 3',
      ),
      'policy.yaml:5: rule 1 approvals: 3 distinct approvers are needed, never the requester, but approvers lists only 2 people: it could never be approved. List more approvers or a user group, or lower approvals',
    ],
    [
      'approvals that a requester among the approvers makes impossible',
      lines('rules:', '  - action: disable', '    approvers: [U0AAA, U0BBB]', '    approvals: 2'),
      'policy.yaml:4: rule 1 approvals: 2 distinct approvers are needed, never the requester, but approvers lists only 2 people and a requester (an operator) may be one of them: such a request could never be approved. List more approvers or a user group, or lower approvals',
    ],
    [
      'approvers who are only the requesters themselves',
      lines('rules:', '  - action: enable', '    requesters: [U0AAA]', '    approvers: [U0AAA]'),
      'policy.yaml:4: rule 1 approvers: 1 distinct approver is needed, never the requester, but approvers lists only 1 person and requester U0AAA is one of them: such a request could never be approved. List more approvers or a user group, or lower approvals',
    ],
    [
      'reminders starting at or after expiry',
      lines('rules:', '  - action: disable', '    expires: 4h', '    remind: {after: 4h}'),
      'policy.yaml:4: rule 1 remind.after: 4h is not before the expiry: requests expire after 4h, so no reminder would ever be sent',
    ],
    [
      'more reminders than fit before expiry',
      lines(
        'rules:',
        '  - action: disable',
        '    expires: 4h',
        '    remind:',
        '      after: 1h',
        '      times: 4',
      ),
      'policy.yaml:6: rule 1 remind.times: 4 reminders every 1h do not fit: requests expire after 4h, so at most 3 would be sent; lower times or remind.after',
    ],
    [
      'escalation at or after expiry (the IAM_APPROVAL_TTL default)',
      lines('rules:', '  - action: disable', '    escalate:', '      after: 2d', '      to: [S0SEC]'),
      'policy.yaml:4: rule 1 escalate.after: 2d is not before the expiry: requests expire after 1d (IAM_APPROVAL_TTL), so it would never escalate',
    ],
    [
      'a target key the action has not',
      lines('rules:', '  - action: disable', '    target: {group: jira-*}'),
      'policy.yaml:3: rule 1 target.group: does not apply to disable (it targets domain, email, username, department); put it in a rule of its own',
    ],
    [
      'maxScheduleAhead on an action that cannot be scheduled',
      lines('rules:', '  - action: create', '    maxScheduleAhead: 7d'),
      'policy.yaml:3: rule 1 maxScheduleAhead: does not apply: create cannot be scheduled',
    ],
    [
      'maxDuration on an action that is not time-bound',
      lines('rules:', '  - action: [disable, grant]', '    maxDuration: 8h'),
      'policy.yaml:3: rule 1 maxDuration: does not apply to disable (only to time-bound access: grant); put it in a rule of its own',
    ],
    [
      'notifyBefore on an action that is not time-bound',
      lines('rules:', '  - action: enable', '    notifyBefore: 1h'),
      'policy.yaml:3: rule 1 notifyBefore: does not apply to enable (only to time-bound access: grant); put it in a rule of its own',
    ],
    [
      'the requester members on an action that is not time-bound',
      lines('rules:', '  - action: disable', '    requesters:', '      - operators', '      - members'),
      'policy.yaml:5: rule 1 requesters: members does not apply to disable (only to time-bound access: grant); put it in a rule of its own',
    ],
    [
      'a notifyBefore that does not parse',
      lines('rules:', '  - action: grant', '    notifyBefore: [1h, 3 fortnights]'),
      'policy.yaml:3: rule 1 notifyBefore: "3 fortnights" is not a duration such as 30m, 4h, 1d12h or 7d (units s, m, h, d, w)',
    ],
    [
      'an unknown key of a grant rule, with the closest known key',
      lines('rules:', '  - action: grant', '    maxDurration: 8h'),
      'policy.yaml:3: rule 1 maxDurration: unknown key; did you mean maxDuration?',
    ],
    [
      'a rule hidden behind an earlier catch-all',
      lines('rules:', '  - action: disable', '  - action: disable', '    target: {domain: example.com}'),
      'policy.yaml:3: rule 2 action: is never used for disable: rule 1 (line 2) matches every such disable first (the first matching rule wins); move this rule above it',
    ],
    [
      'a YAML syntax error',
      lines('rules:', '  - action: disable', '    action: enable'),
      'policy.yaml:3: (yaml): Map keys must be unique',
    ],
    [
      'not a mapping',
      lines('- action: disable'),
      'policy.yaml:1: (file): the policy file must be a mapping with a "rules:" list',
    ],
    ['an empty file', '', 'policy.yaml:1: rules: is required'],
  ])('%s', (_name, text, expected) => {
    expect(problemsOf(text)).toContain(expected);
  });

  it('F9: caps rule names, refuses bidi controls in them, quotes which id is wrong, and says "too long"', () => {
    expect(
      problemsOf(
        lines(
          'rules:',
          '  - name: "\\u202eelbasid\\u202c"',
          '    action: disable',
          '    approvers: ["@jane", "#security", U0AAA]',
          '    expires: 99999999999w',
          `  - name: ${'n'.repeat(81)}`,
          '    action: enable',
          '    maxScheduleAhead: 3651d',
        ),
      ),
    ).toEqual([
      'policy.yaml:2: rule 1 name: contains an invisible or control character (U+202E), which can make the name read differently; remove it',
      'policy.yaml:4: rule 1 approvers: "@jane" must be a Slack user id (U…, W…) or user-group id (S…), not a name or handle: in Slack, open the profile or group and copy its ID',
      'policy.yaml:4: rule 1 approvers: "#security" must be a Slack user id (U…, W…) or user-group id (S…), not a name or handle: in Slack, open the profile or group and copy its ID',
      'policy.yaml:5: rule 1 expires: "99999999999w" is too long: at most 3650d (10 years)',
      'policy.yaml:6: rule 2 name: must be at most 80 characters (a short label)',
      'policy.yaml:8: rule 2 maxScheduleAhead: "3651d" is too long: at most 3650d (10 years)',
    ]);
  });

  it('reports every problem of the file at once, in line order', () => {
    const problems = problemsOf(
      lines('rules:', '  - action: disable', '    approvals: two', '  - action: enabel', '    reason: maybe'),
    );
    expect(problems.map((p) => p.split(': ')[0])).toEqual([
      'policy.yaml:3',
      'policy.yaml:4',
      'policy.yaml:5',
    ]);
  });

  it('checks approvals against IAM_APPROVERS when the rule names no approvers', () => {
    expect(
      problemsOf(lines('rules:', '  - action: disable', '    approvals: 2'), {
        ...DEFAULTS,
        approvers: ['U0AAA'],
      }),
    ).toEqual([
      'policy.yaml:3: rule 1 approvals: 2 distinct approvers are needed, never the requester, but IAM_APPROVERS (U0AAA) lists only 1 person: it could never be approved. List more approvers or a user group, or lower approvals',
    ]);
  });

  it('cannot count the members of a user group, so approvals above the named ids are accepted with one', () => {
    expect(() =>
      parsePolicy(
        lines('rules:', '  - action: disable', '    approvers: [S0SEC]', '    approvals: 5'),
        FILE,
        DEFAULTS,
      ),
    ).not.toThrow();
  });
});

describe('loadPolicy', () => {
  it('names the file when it cannot be read, without a line', () => {
    expect(() => loadPolicy('/nonexistent/policy.yaml', DEFAULTS)).toThrow(
      new PolicyError([
        { file: '/nonexistent/policy.yaml', line: 0, key: 'file', message: 'there is no such file' },
      ]),
    );
    expect(() => loadPolicy('/nonexistent/policy.yaml', DEFAULTS)).toThrow(
      '/nonexistent/policy.yaml: file: there is no such file',
    );
  });

  it('F7: refuses a YAML alias bomb as a problem at the line of the alias, not an unexpected error', () => {
    expect(problemsOf(aliasBomb())).toEqual([
      'policy.yaml:12: (yaml): too many aliases: they expand to more than 100 copies; write the values out',
    ]);
  });

  it('F8: refuses a FIFO and a character device without blocking, and a file over 1 MB, naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-files-'));
    try {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const big = path.join(dir, 'big.yaml');
      fs.writeFileSync(big, `# ${'x'.repeat(MAX_POLICY_BYTES)}\nrules: []\n`);
      const problemOf = (file: string) => {
        try {
          loadPolicy(file, DEFAULTS);
        } catch (error) {
          return (error as PolicyError).problems.map(formatProblem);
        }
        return [];
      };
      const notRegular =
        'file: is not a regular file (a FIFO, device or socket?): give the path of a YAML file';
      expect(problemOf(fifo)).toEqual([`${fifo}: ${notRegular}`]);
      expect(problemOf('/dev/zero')).toEqual([`/dev/zero: ${notRegular}`]);
      expect(problemOf(big)).toEqual([
        `${big}: file: is 1000013 bytes; a policy file may be at most 1000000 bytes (1 MB)`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('F8: checks a file of thousands of rules in well under a second per thousand (no quadratic pass)', () => {
    const rules = Array.from(
      { length: 8000 },
      (_, i) => `  - action: disable\n    target: { email: "u${i}@example.com" }`,
    );
    const started = Date.now();
    const policy = parsePolicy(['rules:', ...rules, ''].join('\n'), FILE, DEFAULTS);
    expect(policy.rules).toHaveLength(8000);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('reads a good file into complete rules, with defaults filled in', () => {
    const text = lines(
      'rules:',
      '  - name: admins',
      '    action: [disable, enable]',
      '    target: {domain: example.com}',
      '    approvers: S0SEC',
      '    approvals: 2',
      '    reason: required',
      '    expires: 8h',
      '    channel: C0SEC',
      '    remind: {after: 2h, times: 2}',
      '    escalate: {after: 6h, to: [S0ONCALL]}',
      '    breakGlass: true',
      '    maxScheduleAhead: 30d',
      '  - action: identifier-change',
    );
    const policy = loadPolicy('p.yaml', DEFAULTS, () => text);
    expect(policy.file).toBe('p.yaml');
    expect(policy.rules).toEqual([
      {
        number: 1,
        line: 2,
        name: 'admins',
        actions: ['disable', 'enable'],
        target: { domain: ['example.com'] },
        requesters: { ids: [], admins: true },
        approvers: { ids: ['S0SEC'], admins: false },
        approversFromConfig: false,
        approvals: 2,
        reason: 'required',
        expiresMs: 8 * 3_600_000,
        channel: 'C0SEC',
        remind: { afterMs: 2 * 3_600_000, times: 2 },
        escalate: { afterMs: 6 * 3_600_000, to: ['S0ONCALL'] },
        breakGlass: true,
        maxScheduleAheadMs: 30 * 86_400_000,
        membersMayAsk: false,
        maxDurationMs: null,
        notifyBeforeMs: [],
      },
      expect.objectContaining({
        number: 2,
        line: 14,
        actions: ['identifier-change'],
        approvals: 1,
        approversFromConfig: true,
        expiresMs: DEFAULTS.approvalTtlMs,
        maxScheduleAheadMs: null,
      }),
    ]);
  });
});

describe('policy durations', () => {
  it.each<[string, number | null]>([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['4h', 14_400_000],
    ['1d12h', 129_600_000],
    ['2w', 1_209_600_000],
    ['4H', 14_400_000],
    ['3600', null],
    ['4 h', null],
    ['3 fortnights', null],
    ['', null],
    ['-1h', null],
  ])('%j → %j ms', (text, ms) => {
    expect(parsePolicyDuration(text)).toBe(ms);
  });

  it('prints back the way a file writes it', () => {
    expect([129_600_000, 14_400_000, 90_000, 0].map(formatPolicyDuration)).toEqual([
      '1d12h',
      '4h',
      '1m30s',
      '0s',
    ]);
  });
});

describe('docs/POLICY.md', () => {
  it('its example is a valid policy with the four rules it describes', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/POLICY.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const policy = parsePolicy(example, 'POLICY.md', DEFAULTS);
    expect(policy.rules.map((rule) => [rule.name, rule.actions, rule.approvals, rule.breakGlass])).toEqual([
      ['admin-disable', ['disable'], 2, true],
      ['disable', ['disable'], 1, true],
      ['enable', ['enable'], 1, false],
      ['identifier-change', ['identifier-change'], 2, false],
    ]);
    expect(policy.rules[3].reason).toBe('required');
  });

  it('its grant example makes jira-* and confluence-users requestable by members, for at most 7 days', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/POLICY.md'), 'utf8');
    const example = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)][1]?.[1] ?? '';
    const [rule] = parsePolicy(example, 'POLICY.md', DEFAULTS).rules;
    expect(rule).toMatchObject({
      actions: ['grant'],
      target: { group: ['jira-*', 'confluence-users'] },
      membersMayAsk: true,
      maxDurationMs: 7 * 86_400_000,
      notifyBeforeMs: [86_400_000, 3_600_000],
    });
  });
});
