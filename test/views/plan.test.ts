import type { CommandPlan } from '../../src/iam';
import { renderDryRunSummary, renderPlan, renderRowPlan } from '../../src/views/plan';

const user = { id: 'u-1', email: 'jane@example.com', username: 'jane@example.com' };

describe('renderPlan (CLI --dry-run)', () => {
  it('a change: who, how many, then each attribute before → after, names aligned, (none) for no value', () => {
    const plan: CommandPlan = {
      command: 'iam-update-user',
      kind: 'change',
      user,
      changes: [
        { attribute: 'title', before: 'Engineer', after: 'Staff Engineer' },
        { attribute: 'name.familyName', before: null, after: 'Doe' },
      ],
      takesOver: false,
    };
    expect(renderPlan(plan, { sandbox: false })).toBe(
      [
        'DRY RUN: iam-update-user: nothing was sent',
        'would change jane@example.com (id u-1): 2 attributes',
        '  title            Engineer → Staff Engineer',
        '  name.familyName  (none) → Doe',
      ].join('\n'),
    );
  });

  it('says SANDBOX, "no change", the skip reason, a failed lookup', () => {
    const noChange: CommandPlan = { command: 'iam-update-user', kind: 'no-change', user };
    expect(renderPlan(noChange, { sandbox: true })).toBe(
      'DRY RUN (SANDBOX): iam-update-user: nothing was sent\nno change: jane@example.com (id u-1) already has these values',
    );
    const skip: CommandPlan = {
      command: 'iam-enable-user',
      kind: 'skip',
      user,
      reason: 'User is already enabled.',
    };
    expect(renderPlan(skip, { sandbox: false })).toContain(
      'would skip jane@example.com (id u-1): User is already enabled.',
    );
    const fail: CommandPlan = { command: 'iam-disable-user', kind: 'fail', status: 500, reason: 'HTTP 500' };
    expect(renderPlan(fail, { sandbox: false })).toContain('cannot tell: the lookup failed: HTTP 500');
  });

  it('shows invisible characters in values (a bidi override cannot disguise a value)', () => {
    const plan: CommandPlan = {
      command: 'iam-update-user',
      kind: 'change',
      user,
      changes: [{ attribute: 'title', before: null, after: 'a\u202Eb' }],
      takesOver: false,
    };
    expect(renderPlan(plan, { sandbox: false })).toContain('(none) → a<U+202E>b');
  });

  it('a bulk row is one headline marked dry-run, its changes indented under it', () => {
    const plan: CommandPlan = {
      command: 'iam-create-user',
      kind: 'create',
      changes: [{ attribute: 'userName', before: null, after: 'new@example.com' }],
    };
    expect(renderRowPlan(7, 'new@example.com', plan)).toBe(
      'row 7 (new@example.com): dry-run: would create new@example.com\n    userName  (none) → new@example.com',
    );
  });

  it('the bulk summary counts every kind and says nothing was sent', () => {
    const text = renderDryRunSummary('bulk update', {
      change: 2,
      'no-change': 1,
      create: 3,
      skip: 0,
      fail: 0,
      malformed: 1,
      alreadyDone: 4,
    });
    expect(text).toContain('DRY RUN: bulk update: nothing was sent');
    expect(text).toContain(
      '2 would change, 3 would be created, 1 no change, 0 would skip, 0 lookup failed, 1 malformed, 4 already done',
    );
  });
});
