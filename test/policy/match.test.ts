/**
 * Which rule governs a request: first match wins over a table of rules, targets by domain, pattern and
 * department, and with no file (or no matching rule) exactly today's behaviour.
 */
import {
  approvalProgress,
  defaultPolicy,
  type EffectiveRule,
  followUps,
  grantNotices,
  parsePolicy,
  type Policy,
  type PolicyAction,
  type PolicyDefaults,
  policyFor,
  type PolicyTarget,
} from '../../src/policy';

const HOUR = 3_600_000;
const DEFAULTS: PolicyDefaults = {
  operators: ['S0OPS'],
  approvers: ['U0APP1', 'U0APP2'],
  approvalTtlMs: 24 * HOUR,
};

const POLICY_TEXT = `
rules:
  - name: admin-accounts
    action: disable
    target: { domain: example.com, email: "*-admin@*" }
    approvers: [S0SECURITY]
    approvals: 2
  - name: finance
    action: [disable, enable]
    target: { department: [Finance, "Accounts*"] }
    approvers: [U0FIN1, U0FIN2, U0FIN3]
    approvals: 2
    reason: required
  - name: subsidiaries
    action: disable
    target: { domain: "*.example.com" }
    channel: C0SUBS
  - name: ids
    action: identifier-change
    approvals: 2
    approvers: [S0SECURITY]
    reason: required
  - name: jira-admins
    action: grant
    target: { group: "jira-admin*" }
    approvers: [S0SECURITY]
  - name: example-disables
    action: disable
    target: { domain: example.com }
    breakGlass: true
    expires: 8h
`;

const policy: Policy = parsePolicy(POLICY_TEXT, 'policy.yaml', DEFAULTS);

function ruleFor(action: PolicyAction, target: PolicyTarget, requesterId = 'U0REQ'): EffectiveRule {
  return policyFor(policy, { action, target, requesterId });
}

describe('policyFor over a table of rules', () => {
  it.each<[string, PolicyAction, PolicyTarget, string | null]>([
    [
      'an admin account by email pattern and domain',
      'disable',
      { email: 'bob-admin@example.com' },
      'admin-accounts',
    ],
    ['domains and patterns ignore case', 'disable', { email: 'Bob-Admin@EXAMPLE.com' }, 'admin-accounts'],
    [
      'a userName that is an email gives the domain',
      'disable',
      { username: 'amy@example.com' },
      'example-disables',
    ],
    ['an admin account elsewhere is not one', 'disable', { email: 'bob-admin@other.org' }, null],
    [
      'an email pattern needs the email, not the userName',
      'disable',
      { username: 'amy-admin@example.com' },
      'example-disables',
    ],
    [
      'first match wins: Finance at example.com takes the finance rule',
      'disable',
      { email: 'f@example.com', department: 'Finance' },
      'finance',
    ],
    ['a department glob', 'enable', { email: 'f@other.org', department: 'accounts payable' }, 'finance'],
    ['a department the rule does not list', 'enable', { email: 'f@other.org', department: 'Sales' }, null],
    ['a subdomain pattern', 'disable', { email: 'x@eu.example.com' }, 'subsidiaries'],
    ['a plain example.com user', 'disable', { email: 'x@example.com' }, 'example-disables'],
    ['a target with no email matches no domain rule', 'disable', { username: 'jdoe' }, null],
    ['an identifier change, any target', 'identifier-change', { email: 'x@other.org' }, 'ids'],
    [
      'a grant by group pattern',
      'grant',
      { email: 'x@example.com', group: 'jira-administrators' },
      'jira-admins',
    ],
    ['a grant of another group', 'grant', { email: 'x@example.com', group: 'confluence-users' }, null],
    ['an action no rule names', 'update', { email: 'x@example.com' }, null],
  ])('%s', (_name, action, target, expected) => {
    const rule = ruleFor(action, target);
    expect(rule.name).toBe(expected);
    expect(rule.source).toBe(expected === null ? 'default' : 'file');
    expect(rule.action).toBe(action);
  });

  it('fills in what a rule leaves out from the configuration', () => {
    const rule = ruleFor('disable', { email: 'x@example.com' });
    expect(rule).toMatchObject({
      number: 6,
      requesters: { ids: ['S0OPS'], admins: false },
      approvers: { ids: ['U0APP1', 'U0APP2'], admins: false },
      approversFromConfig: true,
      approvals: 1,
      reason: 'optional',
      expiresMs: 8 * HOUR,
      channel: null,
      breakGlass: true,
      maxScheduleAheadMs: 90 * 24 * HOUR,
    });
  });

  it('says when no approval can complete for this requester', () => {
    const finance = (requesterId: string) =>
      ruleFor('disable', { email: 'f@other.org', department: 'Finance' }, requesterId).impossible;
    expect(finance('U0REQ')).toBeNull();
    // Two of three named approvers are needed; one of them asking leaves exactly two.
    expect(finance('U0FIN1')).toBeNull();
    const onlyApprover = defaultPolicy({ ...DEFAULTS, approvers: ['U0SOLE'] });
    expect(policyFor(onlyApprover, { action: 'disable', target: {}, requesterId: 'U0SOLE' }).impossible).toBe(
      '1 distinct approver is needed, never the requester, but IAM_APPROVERS (U0SOLE) lists only 1 person and you are one of them: such a request could never be approved. List more approvers or a user group, or lower approvals',
    );
  });
});

describe('without a policy file the bot behaves as today', () => {
  const today = (defaults: PolicyDefaults, action: PolicyAction) =>
    policyFor(defaultPolicy(defaults), {
      action,
      target: { email: 'jane@example.com' },
      requesterId: 'U0REQ',
    });

  it.each<PolicyAction>(['disable', 'enable', 'identifier-change', 'grant'])(
    '%s: one approver from IAM_APPROVERS, not the requester, expiring after IAM_APPROVAL_TTL',
    (action) => {
      expect(today(DEFAULTS, action)).toEqual({
        number: null,
        line: null,
        name: null,
        action,
        actions: [action],
        source: 'default',
        target: {},
        requesters: { ids: ['S0OPS'], admins: false },
        approvers: { ids: ['U0APP1', 'U0APP2'], admins: false },
        approversFromConfig: true,
        approvals: 1,
        reason: 'optional',
        expiresMs: 24 * HOUR,
        channel: null,
        remind: null,
        escalate: null,
        breakGlass: false,
        maxScheduleAheadMs: action === 'disable' ? 90 * 24 * HOUR : null,
        membersMayAsk: false,
        maxDurationMs: null,
        notifyBeforeMs: action === 'grant' ? [24 * HOUR, HOUR] : [],
        impossible: null,
        matchedTarget: { email: 'jane@example.com' },
      });
    },
  );

  it.each<PolicyAction>(['update', 'create'])('%s: no approval, the operator acts at once', (action) => {
    expect(today(DEFAULTS, action)).toMatchObject({
      approvals: 0,
      requesters: { ids: ['S0OPS'] },
      impossible: null,
    });
  });

  it('approvers default to the operators, and with neither set to the workspace admins (as AccessPolicy does)', () => {
    expect(today({ ...DEFAULTS, approvers: null }, 'disable').approvers).toEqual({
      ids: ['S0OPS'],
      admins: false,
    });
    expect(today({ operators: null, approvers: null, approvalTtlMs: HOUR }, 'disable')).toMatchObject({
      requesters: { ids: [], admins: true },
      approvers: { ids: [], admins: true },
      expiresMs: HOUR,
    });
  });

  it('an empty rules list is the same as no file', () => {
    const empty = parsePolicy('rules: []\n', 'empty.yaml', DEFAULTS);
    const request = { action: 'disable' as const, target: { email: 'a@b.c' }, requesterId: 'U0REQ' };
    expect(policyFor(empty, request)).toEqual(policyFor(defaultPolicy(DEFAULTS), request));
  });
});

describe('approvalProgress', () => {
  const twoOf = { approvals: 2 };

  it.each<[string, string[], string[], number]>([
    ['nobody yet', [], [], 2],
    ['one approver', ['U0A'], ['U0A'], 1],
    ['the same approver clicking twice counts once', ['U0A', 'U0A'], ['U0A'], 1],
    ["the requester's own click never counts", ['U0REQ', 'U0A'], ['U0A'], 1],
    ['two distinct approvers complete it', ['U0A', 'U0REQ', 'U0B'], ['U0A', 'U0B'], 0],
  ])('%s', (_name, clicks, approvedBy, missing) => {
    expect(approvalProgress(twoOf, 'U0REQ', clicks)).toEqual({
      approvedBy,
      missing,
      complete: missing === 0,
    });
  });
});

describe('followUps', () => {
  const at = new Date('2026-12-01T09:00:00Z');

  it('reminds every `after` at most `times`, escalates once, all before expiry', () => {
    const rule = ruleFor('disable', { email: 'x@example.com' });
    const due = followUps(
      {
        ...rule,
        remind: { afterMs: 2 * HOUR, times: 3 },
        escalate: { afterMs: 5 * HOUR, to: ['S0X'] },
        expiresMs: 7 * HOUR,
      },
      at,
    );
    expect(due.map((f) => [f.kind, f.n, f.at.toISOString()])).toEqual([
      ['remind', 1, '2026-12-01T11:00:00.000Z'],
      ['remind', 2, '2026-12-01T13:00:00.000Z'],
      ['escalate', 1, '2026-12-01T14:00:00.000Z'],
      ['remind', 3, '2026-12-01T15:00:00.000Z'],
    ]);
  });

  it('has none for a rule without reminders or escalation', () => {
    expect(followUps(ruleFor('update', {}), at)).toEqual([]);
  });
});

describe('grants: requestable groups, longest duration, notices (issue 15)', () => {
  const grants = parsePolicy(
    [
      'rules:',
      '  - name: sandbox-access',
      '    action: grant',
      '    target: { group: ["jira-*", confluence-users] }',
      '    requesters: [members, operators]',
      '    maxDuration: 8h',
      '    notifyBefore: [1h, 4h]',
      '  - name: other-groups',
      '    action: grant',
      '',
    ].join('\n'),
    'policy.yaml',
    DEFAULTS,
  );
  const grantRule = (group: string) =>
    policyFor(grants, {
      action: 'grant',
      target: { email: 'jane@example.com', group },
      requesterId: 'U0JANE',
    });

  it('makes a group requestable by any member when its grant rule lists members, matched by name or pattern', () => {
    expect(grantRule('jira-software-users')).toMatchObject({
      name: 'sandbox-access',
      membersMayAsk: true,
      requesters: { ids: ['S0OPS'], admins: false },
      maxDurationMs: 8 * HOUR,
      notifyBeforeMs: [4 * HOUR, HOUR],
    });
    expect(grantRule('Confluence-Users').membersMayAsk).toBe(true);
    expect(grantRule('finance-admins')).toMatchObject({
      name: 'other-groups',
      membersMayAsk: false,
      maxDurationMs: null,
      notifyBeforeMs: [24 * HOUR, HOUR],
    });
  });

  it('counts any member as a possible approver when members may ask', () => {
    const text = [
      'rules:',
      '  - action: grant',
      '    requesters: [members]',
      '    approvers: [U0APP1]',
      '',
    ].join('\n');
    expect(() => parsePolicy(text, 'p.yaml', DEFAULTS)).toThrow(
      'p.yaml:4: rule 1 approvers: 1 distinct approver is needed, never the requester, but approvers lists only 1 person and a requester (any member) may be one of them',
    );
  });

  it('tells the holder notifyBefore before the end, leaving out times before the grant starts', () => {
    const start = new Date('2030-01-01T00:00:00Z');
    const at = (hours: number) => new Date(start.getTime() + hours * HOUR);
    expect(grantNotices({ notifyBeforeMs: [24 * HOUR, HOUR] }, start, at(48))).toEqual([at(24), at(47)]);
    expect(grantNotices({ notifyBeforeMs: [24 * HOUR, HOUR] }, start, at(2))).toEqual([at(1)]);
    expect(grantNotices({ notifyBeforeMs: [HOUR] }, start, at(1))).toEqual([]);
    expect(grantNotices({ notifyBeforeMs: [HOUR] }, start, null)).toEqual([]);
  });
});
