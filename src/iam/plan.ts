/**
 * Dry runs: what a write command would do, computed by the same previews the real commands carry out
 * (previewCreate / previewUpdate / previewDisable / previewEnable), so a plan and the real change cannot
 * disagree. Lookups only: nothing is sent that changes the directory.
 */
import { createHash } from 'node:crypto';
import { ScimRequestError } from '../scim/errors';
import type { ScimUser } from '../scim/types';
import {
  type AttributeChange,
  changesOf,
  createBody,
  createsWhenNotFound,
  type IamContext,
  previewCreate,
  previewDisable,
  previewEnable,
  previewUpdate,
  type WriteOptions,
  type WritePreview,
} from './commands';
import { decideMembership, profileGroups, resolveGroup } from './groups';
import type { UserProfile } from './profile';
import { type IamResult, primaryEmail, SKIP_REASONS } from './result';

export const WRITE_COMMANDS = [
  'iam-create-user',
  'iam-update-user',
  'iam-disable-user',
  'iam-enable-user',
] as const;
export type WriteCommand = (typeof WRITE_COMMANDS)[number];
/** Membership changes, planned by planMembership (bulk add-to-group / remove-from-group --dry-run). */
export type MembershipCommand = 'iam-add-to-group' | 'iam-remove-from-group';
type PlannedCommand = WriteCommand | MembershipCommand;

/** iam-create-user with `groups`: the groups (each found in the directory) the user would then join. */
interface Joins {
  groups?: string[];
}

/** The user a plan concerns, as people read it. */
export interface PlannedUser {
  id: string | null;
  email: string | null;
  username: string | null;
}

/**
 * What a write would do. `change`: these attributes of that user, before → after (`takesOver`: Slack
 * asks a second person to approve it). `no-change`: the user already holds every value. `create`: a new
 * user with these attributes (before is null). `skip`: nothing, and why. `fail`: the lookup failed.
 */
export type CommandPlan =
  | ({
      command: PlannedCommand;
      kind: 'change';
      user: PlannedUser;
      changes: AttributeChange[];
      takesOver: boolean;
    } & Joins)
  | ({ command: WriteCommand; kind: 'no-change'; user: PlannedUser } & Joins)
  | ({ command: WriteCommand; kind: 'create'; changes: AttributeChange[] } & Joins)
  | { command: PlannedCommand; kind: 'skip'; user: PlannedUser | null; reason: string }
  | { command: PlannedCommand; kind: 'fail'; status: number | null; reason: string };

const plannedUser = (user: ScimUser): PlannedUser => ({
  id: user.id ?? null,
  email: primaryEmail(user),
  username: user.userName ?? null,
});

/** A preview's final result (switch off, not found, already in that state, lookup failed) as a plan. */
function finalPlan(command: WriteCommand, result: IamResult): CommandPlan {
  const vendor = result.IAM.Vendor;
  if (!vendor.success)
    return { command, kind: 'fail', status: vendor.errorCode, reason: vendor.errorMessage ?? 'failed' };
  const user = vendor.id || vendor.email || vendor.username;
  return {
    command,
    kind: 'skip',
    user: user ? { id: vendor.id, email: vendor.email, username: vendor.username } : null,
    reason: vendor.reason ?? 'nothing to do',
  };
}

/**
 * The plan of a previewed create or update (pure: the preview holds everything). A user not found is
 * created when the write would create it (a create; an update with IAM_CREATE_IF_NOT_FOUND).
 */
export function planOfWrite(
  command: 'iam-create-user' | 'iam-update-user',
  context: IamContext,
  profile: UserProfile,
  preview: WritePreview,
): CommandPlan {
  if ('final' in preview) return finalPlan(command, preview.final);
  if ('update' in preview) {
    const { user, changes, takesOver } = preview.update;
    return changes.length === 0
      ? { command, kind: 'no-change', user: plannedUser(user) }
      : { command, kind: 'change', user: plannedUser(user), changes, takesOver };
  }
  const action = command === 'iam-create-user' ? 'create' : 'update';
  if (!createsWhenNotFound(context, action)) {
    return { command, kind: 'skip', user: null, reason: SKIP_REASONS.notFound };
  }
  return { command, kind: 'create', changes: changesOf({}, createBody(context, profile)) };
}

async function planActive(
  command: 'iam-disable-user' | 'iam-enable-user',
  context: IamContext,
  profile: UserProfile,
): Promise<CommandPlan> {
  const enable = command === 'iam-enable-user';
  const preview = await (enable ? previewEnable : previewDisable)(context, profile);
  if ('final' in preview) return finalPlan(command, preview.final);
  const { user } = preview;
  const before = typeof user.active === 'boolean' ? String(user.active) : null;
  const changes = [{ attribute: 'active', before, after: String(enable) }];
  return { command, kind: 'change', user: plannedUser(user), changes, takesOver: enable };
}

/**
 * A create with `groups` (createUserInGroups): every group is looked up first, as the real command
 * does, and an unknown one fails the plan as it fails the command (nothing would be created).
 */
async function planCreateInGroups(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<CommandPlan> {
  const command = 'iam-create-user';
  const names = context.switches.createEnabled ? profileGroups(profile) : [];
  const groups: string[] = [];
  try {
    for (const name of names) groups.push((await resolveGroup(context.directory, name)).displayName);
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    return {
      command,
      kind: 'fail',
      status: error.status,
      reason: `Nothing would be created: ${error.message}`,
    };
  }
  const plan = planOfWrite(command, context, profile, await previewCreate(context, profile, options));
  const joins = plan.kind === 'change' || plan.kind === 'no-change' || plan.kind === 'create';
  return joins && groups.length > 0 ? { ...plan, groups } : plan;
}

/**
 * What `name` would do for `profile`, found with lookups only. Bad input (no identifier, a create
 * without a username, a field both given and cleared) throws ProfileError, as the real command does.
 */
export async function planCommand(
  name: WriteCommand,
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<CommandPlan> {
  switch (name) {
    case 'iam-create-user':
      return planCreateInGroups(context, profile, options);
    case 'iam-update-user':
      return planOfWrite(name, context, profile, await previewUpdate(context, profile, options));
    case 'iam-disable-user':
    case 'iam-enable-user':
      return planActive(name, context, profile);
  }
}

/**
 * What a membership change would do, with lookups only: a change `member of GROUP: no → yes` (or yes →
 * no), a skip (already a member, not a member, no such user to remove), or a failure (unknown group
 * with the closest names, no such user to add, a deactivated user). Bad input throws ProfileError.
 */
export async function planMembership(
  command: MembershipCommand,
  context: IamContext,
  profile: UserProfile,
  group: string | undefined,
): Promise<CommandPlan> {
  const adds = command === 'iam-add-to-group';
  try {
    const decided = await decideMembership(
      context,
      adds ? 'add-to-group' : 'remove-from-group',
      profile,
      group,
    );
    const user = decided.user === null ? null : plannedUser(decided.user);
    if (decided.skip !== undefined || user === null) {
      return { command, kind: 'skip', user, reason: decided.skip ?? SKIP_REASONS.notFound };
    }
    const [before, after] = adds ? ['no', 'yes'] : ['yes', 'no'];
    const changes = [{ attribute: `member of ${decided.group.displayName}`, before, after }];
    return { command, kind: 'change', user, changes, takesOver: false };
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    return { command, kind: 'fail', status: error.status, reason: error.message };
  }
}

/**
 * Names one plan exactly (user, every before → after, the kind): a confirmation carries it, and the
 * confirmed write goes ahead only when the plan found again has the same fingerprint.
 */
export const planFingerprint = (plan: CommandPlan): string =>
  createHash('sha256').update(JSON.stringify(plan)).digest('base64url');
