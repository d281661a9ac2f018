import type { CommandSwitches } from '../../src/config';
import {
  addToGroup,
  closestNames,
  createUserInGroups,
  addPinnedMember,
  getGroups,
  previewMembership,
  removeFromGroup,
  removePinnedMember,
} from '../../src/iam/groups';
import { parseUserProfile, ProfileError } from '../../src/iam/profile';
import type { ScimUser } from '../../src/scim/types';
import { sandboxContext, sandboxHarness, type SandboxHarness } from '../support/sandbox-directory';

let harness: SandboxHarness;
beforeEach(() => {
  harness = sandboxHarness();
});
afterEach(() => harness.close());

const context = (switches: Partial<CommandSwitches> = {}) => sandboxContext(harness, switches);

const profile = (value: Record<string, unknown>) => parseUserProfile(value);
const JANE = { email: 'jane@example.com' };
const JIRA = 'jira-software-users';

async function seed(userName: string, extra: Partial<ScimUser> = {}): Promise<ScimUser> {
  const { user } = await harness.client.createUser({
    userName,
    emails: [{ value: userName, type: 'work', primary: true }],
    ...extra,
  });
  harness.calls.length = 0;
  return user;
}

async function groupId(name: string): Promise<string> {
  const [group] = await harness.client.findGroupsByName(name);
  harness.calls.length = 0;
  return group.id;
}

async function membersOf(name: string): Promise<string[]> {
  const [group] = await harness.client.findGroupsByName(name);
  return (group.members ?? []).map((m) => m.value);
}

const calls = () => harness.calls.map((c) => `${c.method} ${c.path}`);

describe('iam-add-to-group decision table', () => {
  it('adds an active user who is not a member: success, one PATCH, the result names the group', async () => {
    const jane = await seed('jane@example.com');
    const result = await addToGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({
      action: 'add-to-group',
      success: true,
      skipped: false,
      group: JIRA,
      id: jane.id,
      errorCode: null,
    });
    expect(calls().filter((c) => c.startsWith('PATCH'))).toEqual([`PATCH /Groups/${await groupId(JIRA)}`]);
    expect(await membersOf(JIRA)).toEqual([jane.id]);
  });

  it('a member already in is skipped "User is already a member." and nothing is sent', async () => {
    await seed('jane@example.com');
    await addToGroup(context(), profile(JANE), JIRA);
    harness.calls.length = 0;
    const result = await addToGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({
      success: true,
      skipped: true,
      reason: 'User is already a member.',
      group: JIRA,
    });
    expect(calls().some((c) => c.startsWith('PATCH'))).toBe(false);
  });

  it('an unknown group is an error naming the closest existing groups; nothing is changed', async () => {
    await seed('jane@example.com');
    const result = await addToGroup(context(), profile(JANE), 'jira-users');
    expect(result.IAM.Vendor).toMatchObject({ success: false, errorCode: 404, group: 'jira-users' });
    expect(result.IAM.Vendor.errorMessage).toBe(
      'Group "jira-users" does not exist in the directory (closest: "jira-software-users", "confluence-users"). Only groups of this SCIM directory can be managed, not groups created in Atlassian administration.',
    );
    expect(calls().some((c) => c.startsWith('PATCH'))).toBe(false);
  });

  it('a deactivated user cannot be added (error, nothing sent)', async () => {
    await seed('jane@example.com', { active: false });
    const result = await addToGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({ success: false, skipped: false });
    expect(result.IAM.Vendor.errorMessage).toMatch(/deactivated: enable the user before adding them/);
    expect(calls().some((c) => c.startsWith('PATCH'))).toBe(false);
    expect(await membersOf(JIRA)).toEqual([]);
  });

  it('an unknown user is an error "User does not exist"', async () => {
    const result = await addToGroup(context(), profile({ email: 'nobody@example.com' }), JIRA);
    expect(result.IAM.Vendor).toMatchObject({
      success: false,
      errorCode: 404,
      errorMessage: 'User does not exist',
      group: JIRA,
    });
  });

  it('no group name, or no identifier, is bad input before anything is sent', async () => {
    await expect(addToGroup(context(), profile(JANE), '  ')).rejects.toThrow(ProfileError);
    await expect(addToGroup(context(), profile({ title: 'x' }), JIRA)).rejects.toThrow(ProfileError);
    expect(calls()).toEqual([]);
  });

  it('Atlassian failing is a failed result with its status (500 retried up to five attempts)', async () => {
    await seed('jane@example.com');
    await groupId(JIRA);
    harness.failNext(
      { status: 500, body: { detail: 'boom' } },
      { status: 500, body: { detail: 'boom' } },
      { status: 500, body: { detail: 'boom' } },
      { status: 500, body: { detail: 'boom' } },
      { status: 500, body: { detail: 'boom' } },
    );
    const result = await addToGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({ success: false, errorCode: 500, group: JIRA });
    expect(calls()).toHaveLength(5);
  });
});

describe('iam-remove-from-group decision table', () => {
  it('removes a member: success, one PATCH', async () => {
    const jane = await seed('jane@example.com');
    await addToGroup(context(), profile(JANE), JIRA);
    harness.calls.length = 0;
    const result = await removeFromGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({
      action: 'remove-from-group',
      success: true,
      skipped: false,
      group: JIRA,
      id: jane.id,
    });
    expect(calls().filter((c) => c.startsWith('PATCH'))).toHaveLength(1);
    expect(await membersOf(JIRA)).toEqual([]);
  });

  it('details show the user as after the change, as a fresh read does: the group listed after add, gone after remove', async () => {
    const jane = await seed('jane@example.com');
    await addToGroup(context(), profile(JANE), 'confluence-users');
    const displays = (result: Awaited<ReturnType<typeof removeFromGroup>>) =>
      ((result.IAM.Vendor.details as ScimUser).groups as { display: string }[]).map((g) => g.display).sort();
    const fresh = async () =>
      (((await harness.client.getUserById(jane.id as string)) as ScimUser).groups as { display: string }[])
        .map((g) => g.display)
        .sort();

    const added = await addToGroup(context(), profile(JANE), JIRA);
    expect(displays(added)).toEqual(['confluence-users', JIRA]);
    expect(displays(added)).toEqual(await fresh());

    const removed = await removeFromGroup(context(), profile(JANE), JIRA);
    expect(displays(removed)).toEqual(['confluence-users']);
    expect(displays(removed)).toEqual(await fresh());
  });

  it('a non-member is skipped "User is not a member." and nothing is sent', async () => {
    await seed('jane@example.com');
    const result = await removeFromGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({
      success: true,
      skipped: true,
      reason: 'User is not a member.',
    });
    expect(calls().some((c) => c.startsWith('PATCH'))).toBe(false);
  });

  it('an unknown user is skipped "User does not exist" (their access is already gone)', async () => {
    const result = await removeFromGroup(context(), profile({ email: 'nobody@example.com' }), JIRA);
    expect(result.IAM.Vendor).toMatchObject({ success: true, skipped: true, reason: 'User does not exist' });
  });

  it('a deactivated member can still be removed', async () => {
    const jane = await seed('jane@example.com');
    await harness.client.addGroupMembers(await groupId(JIRA), [jane.id as string]);
    await harness.client.patchUser(jane.id as string, [{ op: 'replace', value: { active: false } }]);
    const result = await removeFromGroup(context(), profile(JANE), JIRA);
    expect(result.IAM.Vendor).toMatchObject({ success: true, skipped: false });
    expect(await membersOf(JIRA)).toEqual([]);
  });

  it('an unknown group is an error naming the closest groups', async () => {
    await seed('jane@example.com');
    const result = await removeFromGroup(context(), profile(JANE), 'confluence');
    expect(result.IAM.Vendor.success).toBe(false);
    expect(result.IAM.Vendor.errorMessage).toMatch(
      /^Group "confluence" does not exist.*closest: "confluence-users"/,
    );
  });
});

describe('iam-get-groups', () => {
  it("lists the directory's groups: the sandbox starts with the two example groups", async () => {
    const result = await getGroups(context());
    expect(result.IAM.Vendor).toMatchObject({ action: 'get-groups', success: true });
    expect(result.IAM.Vendor.groups?.map((g) => g.displayName)).toEqual([JIRA, 'confluence-users']);
  });

  it('pages through more groups than one page holds', async () => {
    for (let i = 0; i < 120; i++) await harness.client.createGroup(`team-${String(i).padStart(3, '0')}`);
    harness.calls.length = 0;
    const result = await getGroups(context());
    expect(result.IAM.Vendor.groups).toHaveLength(122);
    expect(calls()).toEqual(['GET /Groups', 'GET /Groups']);
  });

  it("with a profile, lists that user's groups", async () => {
    await seed('jane@example.com');
    await addToGroup(context(), profile(JANE), 'confluence-users');
    const result = await getGroups(context(), profile(JANE));
    expect(result.IAM.Vendor).toMatchObject({ success: true, username: 'jane@example.com' });
    expect(result.IAM.Vendor.groups?.map((g) => g.displayName)).toEqual(['confluence-users']);
  });

  it('an unknown user is an error', async () => {
    const result = await getGroups(context(), profile({ email: 'nobody@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({ success: false, errorCode: 404 });
  });
});

describe('iam-create-user with groups', () => {
  it('creates the user, then adds them to every group; the result lists the groups', async () => {
    const result = await createUserInGroups(
      context(),
      profile({ ...JANE, groups: 'jira-software-users, confluence-users' }),
      { allowEnable: true },
    );
    expect(result.IAM.Vendor).toMatchObject({ action: 'create', success: true });
    expect(result.IAM.Vendor.groups?.map((g) => g.displayName)).toEqual([JIRA, 'confluence-users']);
    const id = result.IAM.Vendor.id as string;
    expect(await membersOf(JIRA)).toEqual([id]);
    expect(await membersOf('confluence-users')).toEqual([id]);
  });

  it('an unknown group is an error before the user is created: nothing is created', async () => {
    const result = await createUserInGroups(context(), profile({ ...JANE, groups: [JIRA, 'jira-admins'] }), {
      allowEnable: true,
    });
    expect(result.IAM.Vendor).toMatchObject({ action: 'create', success: false, errorCode: 404 });
    expect(result.IAM.Vendor.errorMessage).toMatch(
      /^Nothing was created: Group "jira-admins" does not exist/,
    );
    expect(calls().some((c) => c.startsWith('POST') || c.startsWith('PATCH'))).toBe(false);
    expect(await harness.client.findUsers('userName', 'jane@example.com')).toEqual([]);
  });

  it('without groups it is the plain create', async () => {
    const result = await createUserInGroups(context(), profile(JANE), { allowEnable: true });
    expect(result.IAM.Vendor).toMatchObject({ success: true });
    expect(result.IAM.Vendor.groups).toBeUndefined();
    expect(calls().some((c) => c.includes('/Groups'))).toBe(false);
  });

  it('groups in a profile: a list or a comma-separated string, trimmed, without empties or repeats in any case', () => {
    expect(profile({ Groups: ' jira-software-users , ,Confluence-Users,confluence-users' }).groups).toEqual([
      'jira-software-users',
      'Confluence-Users',
    ]);
    expect(profile({ groups: ['a', 'A', ' b '] }).groups).toEqual(['a', 'b']);
    expect(profile({ groups: '' })).not.toHaveProperty('groups');
  });

  it('groups must be names: a number is bad input', () => {
    expect(() => profile({ ...JANE, groups: [1] })).toThrow(ProfileError);
  });
});

describe('pinned memberships (grants): by ids, as asked for', () => {
  const pinned = async (user: ScimUser, name = JIRA) => ({
    user: { id: user.id as string, email: 'jane@example.com' },
    group: { id: await groupId(name), displayName: name },
  });

  it('adds once and removes once; a repeat is skipped, and a user or member gone is skipped too', async () => {
    const jane = await seed('jane@example.com');
    const membership = await pinned(jane);
    expect((await addPinnedMember(context(), membership)).IAM.Vendor).toMatchObject({
      success: true,
      skipped: false,
      group: JIRA,
    });
    expect((await addPinnedMember(context(), membership)).IAM.Vendor).toMatchObject({
      skipped: true,
      reason: 'User is already a member.',
    });
    expect(await membersOf(JIRA)).toEqual([jane.id]);
    expect((await removePinnedMember(context(), membership)).IAM.Vendor).toMatchObject({
      success: true,
      skipped: false,
    });
    expect((await removePinnedMember(context(), membership)).IAM.Vendor).toMatchObject({
      skipped: true,
      reason: 'User is not a member.',
    });
    const gone = { ...membership, user: { id: 'no-such-user' } };
    expect((await removePinnedMember(context(), gone)).IAM.Vendor).toMatchObject({
      skipped: true,
      reason: 'User does not exist',
    });
    expect(calls().filter((c) => c.startsWith('PATCH'))).toHaveLength(2);
  });

  it('a group deleted since is a failed result naming it', async () => {
    const jane = await seed('jane@example.com');
    const membership = {
      user: { id: jane.id as string },
      group: { id: 'deleted-group', displayName: 'old-group' },
    };
    expect((await removePinnedMember(context(), membership)).IAM.Vendor).toMatchObject({
      success: false,
      errorMessage: 'Group "old-group" no longer exists in the directory.',
    });
  });

  it('previews a membership: group and user found, whether a member; unknown or deactivated is an error', async () => {
    const jane = await seed('jane@example.com');
    await seed('gone@example.com', { active: false });
    expect(await previewMembership(context(), profile(JANE), JIRA)).toMatchObject({
      user: { id: jane.id },
      group: { displayName: JIRA },
      member: false,
    });
    await expect(previewMembership(context(), profile(JANE), 'jira-users')).rejects.toThrow(
      'closest: "jira-software-users"',
    );
    await expect(
      previewMembership(context(), profile({ email: 'nobody@example.com' }), JIRA),
    ).rejects.toThrow('User does not exist');
    await expect(previewMembership(context(), profile({ email: 'gone@example.com' }), JIRA)).rejects.toThrow(
      'User is deactivated',
    );
  });
});

describe('closestNames', () => {
  it('puts names containing the wanted one first, then the nearest by edits', () => {
    expect(closestNames('jira', ['confluence-users', 'jira-software-users', 'jura'])).toEqual([
      'jira-software-users',
      'jura',
      'confluence-users',
    ]);
  });
});
