/**
 * Group commands: in Atlassian Cloud, product access (Jira, Confluence, …) is given to groups, so
 * group membership is access. Same vocabulary as the user commands: one decision table per command,
 * an XSOAR-style result that also names the group, skips for what is already so.
 */
import { ScimRequestError } from '../scim/errors';
import { groupsOfUser } from '../scim/groups';
import type { ScimDirectory, ScimGroup, ScimUser } from '../scim/types';
import { textValueProblem } from '../scim/value-rules';
import { createUser, findUser, guarded, type IamContext, lookupPlan, type WriteOptions } from './commands';
import { ProfileError, type UserProfile } from './profile';
import { buildResult, type GroupSummary, type IamAction, type IamResult, SKIP_REASONS } from './result';

/** A group command that cannot go on (unknown group, deactivated user): a failed result, not a crash. */
export class GroupCommandError extends ScimRequestError {
  constructor(status: number | null, message: string) {
    super(status, message);
    this.name = 'GroupCommandError';
  }
}

const PAGE_SIZE = 100;
/** 10,000 groups at most are read to suggest names; a directory has far fewer. */
const MAX_PAGES = 100;
const SUGGESTIONS = 3;

/** Every group of the directory, page by page (startIndex/count). */
export async function listAllGroups(directory: ScimDirectory): Promise<ScimGroup[]> {
  const groups: ScimGroup[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const { groups: batch, totalResults } = await directory.listGroups(groups.length + 1, PAGE_SIZE);
    groups.push(...batch);
    if (batch.length === 0 || groups.length >= totalResults) break;
  }
  return groups;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}

/** The names nearest to `wanted` (a name containing it, or containing the other way, comes first). */
export function closestNames(wanted: string, names: readonly string[], max = SUGGESTIONS): string[] {
  const target = wanted.toLowerCase();
  const score = (name: string): number => {
    const lower = name.toLowerCase();
    const contains = lower.includes(target) || target.includes(lower);
    return editDistance(target, lower) - (contains ? 1000 : 0);
  };
  return [...names]
    .map((name) => ({ name, score: score(name) }))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map(({ name }) => name);
}

const ONLY_DIRECTORY_GROUPS =
  'Only groups of this SCIM directory can be managed, not groups created in Atlassian administration.';

/** The group of this name, or a GroupCommandError naming the closest existing groups. */
export async function resolveGroup(directory: ScimDirectory, name: string): Promise<ScimGroup> {
  const found = await directory.findGroupsByName(name);
  const exact = found.filter((group) => group.displayName === name);
  if (found.length === 1) return found[0];
  if (exact.length === 1) return exact[0];
  if (found.length > 1) {
    throw new GroupCommandError(null, `${found.length} groups match "${name}"; nothing was changed`);
  }
  const names = (await listAllGroups(directory)).map((group) => group.displayName);
  const hint =
    names.length === 0
      ? 'the directory has no groups'
      : `closest: ${closestNames(name, names)
          .map((n) => `"${n}"`)
          .join(', ')}`;
  // Groups made in Atlassian administration are not the SCIM directory's: say so, they look like a typo.
  throw new GroupCommandError(
    404,
    `Group "${name}" does not exist in the directory (${hint}). ${ONLY_DIRECTORY_GROUPS}`,
  );
}

/**
 * The group a command names: a non-empty name of at most 255 characters (bad input otherwise, before
 * anything is sent: a 10 kB name would reach Atlassian as a 10 kB filter).
 */
function groupName(name: string | undefined): string {
  const trimmed = name?.trim() ?? '';
  if (trimmed === '') throw new ProfileError("give the group's name, e.g. jira-software-users");
  const problem = textValueProblem('the group name', trimmed);
  if (problem) throw new ProfileError(problem);
  return trimmed;
}

const summary = (group: ScimGroup): GroupSummary => ({ id: group.id, displayName: group.displayName });

function isMember(group: ScimGroup, user: ScimUser): boolean {
  return (
    (group.members?.some((member) => member.value === user.id) ?? false) ||
    groupsOfUser(user).some((reference) => reference.value === group.id)
  );
}

function deactivated(group: ScimGroup): GroupCommandError {
  return new GroupCommandError(
    null,
    `User is deactivated: enable the user before adding them to "${group.displayName}".`,
  );
}

/** Runs a group command; its result names the group (as resolved, else as asked for). */
async function groupCommand(
  context: IamContext,
  action: IamAction,
  profile: UserProfile,
  name: string,
  body: () => Promise<IamResult>,
): Promise<IamResult> {
  const result = await guarded(context, action, profile, body);
  result.IAM.Vendor.group ??= name;
  return result;
}

function groupResult(
  context: IamContext,
  action: IamAction,
  profile: UserProfile,
  group: ScimGroup,
  user: ScimUser | null,
  skippedReason?: string,
): IamResult {
  return buildResult({
    action,
    instanceName: context.instanceName,
    profile,
    user,
    group: group.displayName,
    ...(skippedReason === undefined ? {} : { skippedReason }),
  });
}

/** What a membership change would do: the group, the user, and why nothing would be sent (`skip`). */
export interface MembershipDecision {
  group: ScimGroup;
  user: ScimUser | null;
  skip?: string;
}

type MembershipAction = 'add-to-group' | 'remove-from-group';

/** Adding a user found to a group found: no user or a deactivated one is an error; a member is a skip. */
function decideAdd(group: ScimGroup, user: ScimUser | null): MembershipDecision {
  if (!user) throw new GroupCommandError(404, SKIP_REASONS.notFound);
  if (isMember(group, user)) return { group, user, skip: SKIP_REASONS.alreadyMember };
  if (user.active === false) throw deactivated(group);
  return { group, user };
}

/** Removing a user (if found) from a group found: an unknown user or a non-member is a skip. */
function decideRemove(group: ScimGroup, user: ScimUser | null): MembershipDecision {
  if (!user) return { group, user: null, skip: SKIP_REASONS.notFound };
  if (!isMember(group, user)) return { group, user, skip: SKIP_REASONS.notMember };
  return { group, user };
}

const DECIDE: Record<MembershipAction, (group: ScimGroup, user: ScimUser | null) => MembershipDecision> = {
  'add-to-group': decideAdd,
  'remove-from-group': decideRemove,
};

/**
 * What add-to-group or remove-from-group would do, with lookups only (also a dry run's plan). Bad input
 * (no group name, no identifier) throws ProfileError; an unknown group throws GroupCommandError.
 */
export async function decideMembership(
  context: IamContext,
  action: MembershipAction,
  profile: UserProfile,
  groupArgument: string | undefined,
): Promise<MembershipDecision> {
  const name = groupName(groupArgument);
  const plan = lookupPlan(context, profile, false);
  const group = await resolveGroup(context.directory, name);
  return DECIDE[action](group, await findUser(context, plan));
}

/** Carries a decision out: one PATCH, unless it is a skip. */
async function applyMembership(
  context: IamContext,
  action: MembershipAction,
  profile: UserProfile,
  { group, user, skip }: MembershipDecision,
): Promise<IamResult> {
  if (skip !== undefined || user === null) return groupResult(context, action, profile, group, user, skip);
  const change = action === 'add-to-group' ? 'addGroupMembers' : 'removeGroupMembers';
  await context.directory[change](group.id, [user.id as string]);
  return groupResult(context, action, profile, group, afterChange(action, user, group));
}

/** The user as the PATCH (which answers with the group) leaves them: `groups` with or without this one. */
function afterChange(action: MembershipAction, user: ScimUser, group: ScimGroup): ScimUser {
  const others = groupsOfUser(user).filter((reference) => reference.value !== group.id);
  const added = { value: group.id, display: group.displayName, type: 'direct' };
  return { ...user, groups: action === 'add-to-group' ? [...others, added] : others };
}

/** A membership change by the group's name: the decision, then the PATCH. */
async function changeMembership(
  context: IamContext,
  action: MembershipAction,
  profile: UserProfile,
  groupArgument: string | undefined,
): Promise<IamResult> {
  const name = groupName(groupArgument);
  return groupCommand(context, action, profile, name, async () =>
    applyMembership(context, action, profile, await decideMembership(context, action, profile, name)),
  );
}

/** Adds the user to the group: unknown group or user, or a deactivated user, is an error; a member is skipped. */
export const addToGroup = (context: IamContext, profile: UserProfile, group: string | undefined) =>
  changeMembership(context, 'add-to-group', profile, group);

/** Removes the user from the group: an unknown group is an error; an unknown user or a non-member is skipped. */
export const removeFromGroup = (context: IamContext, profile: UserProfile, group: string | undefined) =>
  changeMembership(context, 'remove-from-group', profile, group);

/**
 * A membership pinned when it was asked for (a grant): the user and the group by id, with the email or
 * username and the group's name for people to read.
 */
export interface PinnedMembership {
  user: { id: string; email?: string; username?: string };
  group: GroupSummary;
}

/** The pinned group as it is now; one deleted since is an error naming it. */
async function pinnedGroup(context: IamContext, group: GroupSummary): Promise<ScimGroup> {
  const found = await context.directory.getGroupById(group.id);
  if (!found)
    throw new GroupCommandError(404, `Group "${group.displayName}" no longer exists in the directory.`);
  return found;
}

/** Adds a pinned user to a pinned group (an approved grant), as addToGroup does by name. */
export function addPinnedMember(context: IamContext, pinned: PinnedMembership): Promise<IamResult> {
  return changePinned(context, 'add-to-group', pinned);
}

/** Removes a pinned user from a pinned group (a grant that ends), as removeFromGroup does by name. */
export function removePinnedMember(context: IamContext, pinned: PinnedMembership): Promise<IamResult> {
  return changePinned(context, 'remove-from-group', pinned);
}

/** A membership change of a pinned user and group, decided and carried out as by name. */
function changePinned(
  context: IamContext,
  action: MembershipAction,
  { user, group }: PinnedMembership,
): Promise<IamResult> {
  return groupCommand(context, action, user, group.displayName, async () => {
    const found = await pinnedGroup(context, group);
    const decided = DECIDE[action](found, await context.directory.getUserById(user.id));
    return applyMembership(context, action, user, decided);
  });
}

/** Where a pinned user stands in a pinned group now (read-only): what reconciling a removal finds. */
export type MembershipNow = 'member' | 'not a member' | 'user not found' | 'group not found';

/** Looks the membership up by ids; a SCIM failure throws (ScimRequestError), nothing is changed. */
export async function membershipNow(
  context: IamContext,
  pinned: { userId: string; groupId: string },
): Promise<MembershipNow> {
  const group = await context.directory.getGroupById(pinned.groupId);
  if (!group) return 'group not found';
  const user = await context.directory.getUserById(pinned.userId);
  if (!user) return 'user not found';
  return isMember(group, user) ? 'member' : 'not a member';
}

/** The group of this name as the directory shows it; unknown: a GroupCommandError naming the closest. */
export const lookUpGroup = (context: IamContext, name: string): Promise<ScimGroup> =>
  resolveGroup(context.directory, groupName(name));

/**
 * What a grant request needs before it is stored: the group (unknown: an error naming the closest) and
 * the user (unknown or deactivated: an error saying so), and whether the user is a member already.
 */
export async function previewMembership(
  context: IamContext,
  profile: UserProfile,
  name: string,
): Promise<{ group: ScimGroup; user: ScimUser; member: boolean }> {
  const group = await resolveGroup(context.directory, groupName(name));
  const user = await findUser(context, lookupPlan(context, profile, false));
  if (!user) throw new GroupCommandError(404, `${SKIP_REASONS.notFound}: no Atlassian user matches.`);
  if (user.active === false && !isMember(group, user)) throw deactivated(group);
  return { group, user, member: isMember(group, user) };
}

/** The directory's groups, or (with a profile) the groups of one user, in `groups` of the result. */
export async function getGroups(context: IamContext, profile?: UserProfile): Promise<IamResult> {
  const shown = profile ?? {};
  const plan = profile === undefined ? null : lookupPlan(context, profile, false);
  return guarded(context, 'get-groups', shown, async () => {
    if (plan === null) {
      const groups = (await listAllGroups(context.directory)).map(summary);
      return buildResult({
        action: 'get-groups',
        instanceName: context.instanceName,
        profile: shown,
        groups,
      });
    }
    const user = await findUser(context, plan);
    if (!user) throw new GroupCommandError(404, SKIP_REASONS.notFound);
    const groups = groupsOfUser(user).map((reference) => ({
      id: reference.value,
      displayName: reference.display ?? reference.value,
    }));
    return buildResult({
      action: 'get-groups',
      instanceName: context.instanceName,
      profile: shown,
      user,
      groups,
    });
  });
}

/** Group names of a profile (`groups`, normalised to a list by parseUserProfile). */
export function profileGroups(profile: UserProfile): string[] {
  return Array.isArray(profile.groups)
    ? profile.groups.filter((g): g is string => typeof g === 'string')
    : [];
}

/**
 * iam-create-user with `groups`: every group is resolved before anything is written (an unknown one
 * fails the command and nothing is created), then the created (or updated) user joins each. The
 * result lists the groups the user is in among those asked for; a join that fails fails the result,
 * which says the user itself was written.
 */
export async function createUserInGroups(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<IamResult> {
  const names = profileGroups(profile);
  if (names.length === 0 || !context.switches.createEnabled) return createUser(context, profile, options);
  const groups: ScimGroup[] = [];
  try {
    for (const name of names) groups.push(await resolveGroup(context.directory, name));
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    const message = `Nothing was created: ${error.message}`;
    return buildResult({
      action: 'create',
      instanceName: context.instanceName,
      profile,
      error: { status: error.status, message },
    });
  }
  const result = await createUser(context, profile, options);
  const vendor = result.IAM.Vendor;
  if (!vendor.success || vendor.skipped || vendor.details === null) return result;
  const user = vendor.details;
  const joined: GroupSummary[] = [];
  for (const group of groups) {
    try {
      if (!isMember(group, user)) {
        if (user.active === false) throw deactivated(group);
        await context.directory.addGroupMembers(group.id, [user.id as string]);
      }
      joined.push(summary(group));
    } catch (error) {
      if (!(error instanceof ScimRequestError)) throw error;
      vendor.success = false;
      vendor.errorCode = error.status;
      vendor.errorMessage = `The user was ${vendor.action}d, but adding them to "${group.displayName}" failed: ${error.message}`;
      break;
    }
  }
  vendor.groups = joined;
  return result;
}
