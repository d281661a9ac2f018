import {
  AccessPolicy,
  type HomeTeam,
  type PeopleDirectory,
  type SlackPerson,
} from '../../src/handlers/access';

const member: SlackPerson = {
  isAdmin: false,
  isGuest: false,
  isBot: false,
  deleted: false,
  teamId: 'T1',
  enterpriseId: null,
  teams: [],
};
const HOME: HomeTeam = { teamId: 'T1', enterpriseId: null };

function slack(
  people: Record<string, Partial<SlackPerson>>,
  groups: Record<string, string[]> = {},
  home: HomeTeam = HOME,
) {
  const calls: string[] = [];
  const directory: PeopleDirectory = {
    async home() {
      calls.push('auth.test');
      return home;
    },
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

  it("tells whether someone is in a rule's audience: named users, group members, and admins when it says so", async () => {
    const people = { U1: {}, U2: {}, UADMIN: { isAdmin: true }, UGUEST: { isGuest: true } };
    const { directory } = slack(people, { SSEC: ['U2', 'UGUEST'] });
    const policy = new AccessPolicy(directory, ['U1'], null);
    const named = { ids: ['U1', 'SSEC'], admins: false };
    expect(await policy.inAudience('U1', named)).toBe(true);
    expect(await policy.inAudience('U2', named)).toBe(true);
    expect(await policy.inAudience('UADMIN', named)).toBe(false);
    expect(await policy.inAudience('UGUEST', named)).toBe(false); // a guest is never anyone, group or not
    expect(await policy.inAudience('UADMIN', { ids: ['U1'], admins: true })).toBe(true);
    expect(await policy.inAudience('U2', { ids: [], admins: true })).toBe(false);
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
    expect(calls).toEqual(['auth.test', 'users.info U1', 'usergroups.users.list SOPS']);
    now = 1001;
    await policy.isOperator('U1');
    expect(calls).toHaveLength(5);
  });

  it('does not remember a failed lookup', async () => {
    let fail = true;
    const directory: PeopleDirectory = {
      person: async () => {
        if (fail) throw new Error('ratelimited');
        return { ...member, isAdmin: true };
      },
      groupMembers: async () => [],
      home: async () => HOME,
    };
    const policy = new AccessPolicy(directory, null, null);
    await expect(policy.isOperator('U1')).rejects.toThrow('ratelimited');
    fail = false;
    expect(await policy.isOperator('U1')).toBe(true);
  });

  it('finding 9: a user of another workspace or Grid org is not an operator, whatever users.info says', async () => {
    const { directory } = slack({
      UHOME: { isAdmin: true },
      UFOREIGN: { isAdmin: true, teamId: 'T2' },
      UGRID: { isAdmin: true, teamId: 'T1', enterpriseId: 'E9' },
    });
    const policy = new AccessPolicy(directory, null, null);
    expect(await policy.permissions('UHOME')).toEqual({ operator: true, approver: true });
    expect(await policy.permissions('UFOREIGN')).toEqual({ operator: false, approver: false });
    expect(await policy.permissions('UGRID')).toEqual({ operator: false, approver: false });
    // Listed by id does not help a foreign account either.
    const listed = new AccessPolicy(directory, ['UFOREIGN'], null);
    expect(await listed.isOperator('UFOREIGN')).toBe(false);
  });

  it('finding 9: in a Grid org, counts members of the app’s workspace in the same org only', async () => {
    const { directory } = slack(
      {
        UHOMEWS: { isAdmin: true, teamId: 'T1', enterpriseId: 'E1' },
        UOTHERWS: { isAdmin: true, teamId: 'T7', enterpriseId: 'E1', teams: ['T7', 'T1'] },
        UNOTHERE: { isAdmin: true, teamId: 'T7', enterpriseId: 'E1', teams: ['T7'] },
        UOTHERORG: { isAdmin: true, teamId: 'T1', enterpriseId: 'E2', teams: ['T1'] },
      },
      {},
      { teamId: 'T1', enterpriseId: 'E1' },
    );
    const policy = new AccessPolicy(directory, null, null);
    expect(await policy.isOperator('UHOMEWS')).toBe(true);
    expect(await policy.isOperator('UOTHERWS')).toBe(true);
    expect(await policy.isOperator('UNOTHERE')).toBe(false);
    expect(await policy.isOperator('UOTHERORG')).toBe(false);
  });

  it('finding 9: believes a permission answer for 60 s at most, and not at all for a live check', async () => {
    let now = 0;
    const people: Record<string, Partial<SlackPerson>> = { U1: { isAdmin: true } };
    const { directory } = slack(people);
    const policy = new AccessPolicy(directory, null, null, () => now);
    expect(await policy.isOperator('U1')).toBe(true);
    people.U1 = { isAdmin: false }; // the admin right is removed in Slack
    now = 59_999;
    expect(await policy.isOperator('U1')).toBe(true);
    now = 60_000;
    expect(await policy.isOperator('U1')).toBe(false);
    people.U1 = { isAdmin: true };
    expect(await policy.isApprover('U1')).toBe(false); // cached
    expect(await policy.isApprover('U1', { live: true })).toBe(true);
    people.U1 = { isAdmin: false };
    expect(await policy.isApprover('U1', { live: true })).toBe(false);
  });

  it('does not remember a failed auth.test', async () => {
    let fail = true;
    const directory: PeopleDirectory = {
      person: async () => ({ ...member, isAdmin: true }),
      groupMembers: async () => [],
      home: async () => {
        if (fail) throw new Error('invalid_auth');
        return HOME;
      },
    };
    const policy = new AccessPolicy(directory, null, null);
    await expect(policy.isOperator('U1')).rejects.toThrow('invalid_auth');
    fail = false;
    expect(await policy.isOperator('U1')).toBe(true);
  });
});
