import { AccessPolicy, type PeopleDirectory, type SlackPerson } from '../../src/handlers/access';

const member: SlackPerson = { isAdmin: false, isGuest: false, isBot: false, deleted: false };

function slack(people: Record<string, Partial<SlackPerson>>, groups: Record<string, string[]> = {}) {
  const calls: string[] = [];
  const directory: PeopleDirectory = {
    async person(id) {
      calls.push(`users.info ${id}`);
      return id in people ? { ...member, ...people[id] } : null;
    },
    async groupMembers(id) {
      calls.push(`usergroups.users.list ${id}`);
      return groups[id] ?? [];
    },
  };
  return { directory, calls };
}

describe('AccessPolicy', () => {
  it('defaults to workspace admins and owners, for both roles', async () => {
    const { directory } = slack({ UADMIN: { isAdmin: true }, UMEMBER: {} });
    const policy = new AccessPolicy(directory, null, null);
    expect(await policy.permissions('UADMIN')).toEqual({ operator: true, approver: true });
    expect(await policy.permissions('UMEMBER')).toEqual({ operator: false, approver: false });
    expect(await policy.permissions('UNKNOWN')).toEqual({ operator: false, approver: false });
  });

  it('takes listed users and user-group members; approvers default to the operators', async () => {
    const { directory } = slack({ U1: {}, U2: {}, U3: { isAdmin: true } }, { SOPS: ['U2'] });
    const policy = new AccessPolicy(directory, ['U1', 'SOPS'], null);
    expect(await policy.isOperator('U1')).toBe(true);
    expect(await policy.isOperator('U2')).toBe(true);
    expect(await policy.isOperator('U3')).toBe(false);
    expect(await policy.isApprover('U2')).toBe(true);
  });

  it('keeps a separate approver list', async () => {
    const { directory } = slack({ U1: {}, U2: {} });
    const policy = new AccessPolicy(directory, ['U1'], ['U2']);
    expect(await policy.permissions('U1')).toEqual({ operator: true, approver: false });
    expect(await policy.permissions('U2')).toEqual({ operator: false, approver: true });
  });

  it('never lets guests, bots or deactivated accounts in, even when listed', async () => {
    const { directory } = slack({
      UGUEST: { isGuest: true, isAdmin: true },
      UBOT: { isBot: true },
      UGONE: { deleted: true },
    });
    const policy = new AccessPolicy(directory, ['UGUEST', 'UBOT', 'UGONE'], null);
    for (const id of ['UGUEST', 'UBOT', 'UGONE']) expect(await policy.isOperator(id)).toBe(false);
  });

  it('caches Slack answers for a while, then asks again', async () => {
    let now = 0;
    const { directory, calls } = slack({ U1: {} }, { SOPS: ['U1'] });
    const policy = new AccessPolicy(directory, ['SOPS'], null, () => now, 1000);
    await policy.isOperator('U1');
    await policy.isOperator('U1');
    expect(calls).toEqual(['users.info U1', 'usergroups.users.list SOPS']);
    now = 1001;
    await policy.isOperator('U1');
    expect(calls).toHaveLength(4);
  });

  it('does not remember a failed lookup', async () => {
    let fail = true;
    const directory: PeopleDirectory = {
      person: async () => {
        if (fail) throw new Error('ratelimited');
        return { ...member, isAdmin: true };
      },
      groupMembers: async () => [],
    };
    const policy = new AccessPolicy(directory, null, null);
    await expect(policy.isOperator('U1')).rejects.toThrow('ratelimited');
    fail = false;
    expect(await policy.isOperator('U1')).toBe(true);
  });
});
