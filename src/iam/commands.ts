import type { CommandSwitches } from '../config';
import { ScimRequestError } from '../scim/errors';
import type { PatchOperation, ScimDirectory, ScimUser } from '../scim/types';
import { clearablePath, type Mapper, toScimUser, toUserProfile } from './mappers';
import { oldUserData, ProfileError, type UserProfile } from './profile';
import { buildResult, type IamAction, type IamResult, SKIP_REASONS } from './result';

/** Everything a command needs; the entry points build it from the configuration. */
export interface IamContext {
  directory: ScimDirectory;
  switches: CommandSwitches;
  instanceName: string;
  outgoing: Mapper;
  incoming: Mapper;
}

export interface WriteOptions {
  /** XSOAR's allow-enable: an update (or a create that finds the user) may re-activate an inactive user. */
  allowEnable: boolean;
  /** Profile keys to empty on an existing user (update): sent as PATCH `remove` of the mapped attribute. */
  clear?: readonly string[];
}

interface Identifiers {
  id?: string;
  userName?: string;
  externalId?: string;
}

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

function identifiersOf(profile: UserProfile, mapped: ScimUser): Identifiers {
  return {
    id: nonEmpty(profile.id),
    userName: nonEmpty(mapped.userName),
    externalId: nonEmpty(mapped.externalId),
  };
}

const hasIdentifier = (ids: Identifiers): boolean => Boolean(ids.id || ids.userName || ids.externalId);

/** The identifiers to try, in order: olduserdata's first (for update), then the profile's own. */
export function lookupPlan(context: IamContext, profile: UserProfile, useOldData: boolean): Identifiers[] {
  const plan: Identifiers[] = [];
  const old = useOldData ? oldUserData(profile) : null;
  if (old) {
    const ids = identifiersOf(old, toScimUser(context.outgoing, old));
    if (hasIdentifier(ids)) plan.push(ids);
  }
  const own = identifiersOf(profile, toScimUser(context.outgoing, profile));
  if (hasIdentifier(own)) plan.push(own);
  if (plan.length === 0) {
    throw new ProfileError('user-profile has no identifier: give id, email, username or employeeid');
  }
  return plan;
}

/** One lookup per identifier set: by id, else userName, else externalId (Atlassian filters on these only). */
async function findOne(directory: ScimDirectory, ids: Identifiers): Promise<ScimUser | null> {
  if (ids.id) return directory.getUserById(ids.id);
  const [attribute, value] = ids.userName
    ? (['userName', ids.userName] as const)
    : (['externalId', ids.externalId as string] as const);
  const users = await directory.findUsers(attribute, value);
  if (users.length > 1) {
    throw new ScimRequestError(
      null,
      `${users.length} users match ${attribute} "${value}"; nothing was changed`,
    );
  }
  return users[0] ?? null;
}

export async function findUser(context: IamContext, plan: Identifiers[]): Promise<ScimUser | null> {
  for (const ids of plan) {
    const user = await findOne(context.directory, ids);
    if (user) return user;
  }
  return null;
}

/** Runs a command body, turning Atlassian and network failures into the failed result of that action. */
export async function guarded(
  context: IamContext,
  action: IamAction,
  profile: UserProfile,
  body: () => Promise<IamResult>,
): Promise<IamResult> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    return buildResult({
      action,
      instanceName: context.instanceName,
      profile,
      error: { status: error.status, message: error.message },
    });
  }
}

function skipped(
  context: IamContext,
  action: IamAction,
  profile: UserProfile,
  reason: string,
  user?: ScimUser,
) {
  return buildResult({ action, instanceName: context.instanceName, profile, user, skippedReason: reason });
}

/** Attributes an update sends: the mapped ones, without id and without `active` (see updateExisting). */
function updateAttributes(context: IamContext, profile: UserProfile): Record<string, unknown> {
  const { id: _id, active: _active, ...attributes } = toScimUser(context.outgoing, profile);
  return attributes;
}

/** Profile keys to empty and the PATCH `remove` operations that do it. */
interface Clearing {
  keys: readonly string[];
  operations: PatchOperation[];
}

/**
 * Checked before anything is sent: a key that also has a value, or that the outgoing mapper does not
 * map plainly, is refused.
 */
function clearing(context: IamContext, profile: UserProfile, keys: readonly string[] = []): Clearing {
  const operations = keys.map((key): PatchOperation => {
    if (profile[key] !== undefined) throw new ProfileError(`${key} is both given a value and cleared`);
    const path = clearablePath(context.outgoing, key);
    if (path === null)
      throw new ProfileError(`${key} cannot be cleared: the outgoing mapper has no plain path for it`);
    return { op: 'remove', path };
  });
  return { keys, operations };
}

/**
 * PATCH of the mapped attributes only, plus a `remove` per cleared key. `active` from the profile is
 * never applied here: enabling is governed by allow-enable and IAM_ENABLE_USER_ENABLED, and disabling is
 * the disable command's job (which has its own switch and, in Slack, an approval) — an update must not
 * lock anybody out. The result's profile shows a cleared key as null.
 */
async function updateExisting(
  context: IamContext,
  profile: UserProfile,
  user: ScimUser,
  options: WriteOptions,
  clear: Clearing = { keys: [], operations: [] },
): Promise<IamResult> {
  const value = updateAttributes(context, profile);
  if (user.active === false && options.allowEnable && context.switches.enableEnabled) value.active = true;
  const operations: PatchOperation[] = [
    ...(Object.keys(value).length > 0 ? [{ op: 'replace' as const, value }] : []),
    ...clear.operations,
  ];
  const updated =
    operations.length === 0 ? user : await context.directory.patchUser(user.id as string, operations);
  const shown = { ...profile, ...Object.fromEntries(clear.keys.map((key) => [key, null])) };
  return buildResult({ action: 'update', instanceName: context.instanceName, profile: shown, user: updated });
}

async function createNew(context: IamContext, profile: UserProfile): Promise<IamResult> {
  const { id: _id, ...scimUser } = toScimUser(context.outgoing, profile);
  if (!scimUser.userName) {
    throw new ProfileError('user-profile needs an email or username to create a user');
  }
  const { user } = await context.directory.createUser(scimUser);
  return buildResult({ action: 'create', instanceName: context.instanceName, profile, user });
}

export async function createUser(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<IamResult> {
  if (!context.switches.createEnabled) return skipped(context, 'create', profile, SKIP_REASONS.disabled);
  const plan = lookupPlan(context, profile, false);
  return guarded(context, 'create', profile, async () => {
    const existing = await findUser(context, plan);
    if (!existing) return createNew(context, profile);
    if (!context.switches.updateEnabled)
      return skipped(context, 'update', profile, SKIP_REASONS.disabled, existing);
    return updateExisting(context, profile, existing, options);
  });
}

export async function updateUser(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<IamResult> {
  if (!context.switches.updateEnabled) return skipped(context, 'update', profile, SKIP_REASONS.disabled);
  const plan = lookupPlan(context, profile, true);
  const clear = clearing(context, profile, options.clear);
  return guarded(context, 'update', profile, async () => {
    const existing = await findUser(context, plan);
    if (existing) return updateExisting(context, profile, existing, options, clear);
    // Creating is a create: with IAM_CREATE_USER_ENABLED=false an update never creates anybody.
    if (context.switches.createIfNotFound && context.switches.createEnabled)
      return createNew(context, profile);
    return skipped(context, 'update', profile, SKIP_REASONS.notFound);
  });
}

export async function getUser(context: IamContext, profile: UserProfile): Promise<IamResult> {
  const plan = lookupPlan(context, profile, false);
  return guarded(context, 'get', profile, async () => {
    const user = await findUser(context, plan);
    if (!user) {
      return buildResult({
        action: 'get',
        instanceName: context.instanceName,
        profile,
        success: false,
        error: { status: 404, message: SKIP_REASONS.notFound },
      });
    }
    return buildResult({
      action: 'get',
      instanceName: context.instanceName,
      profile: toUserProfile(context.incoming, user),
      user,
    });
  });
}

/**
 * The part of disable/enable that changes nothing: switch, lookup, already-in-that-state. Returns the
 * final result when there is nothing to do, else the user to change.
 */
async function inspectActive(
  context: IamContext,
  profile: UserProfile,
  action: 'disable' | 'enable',
): Promise<{ result: IamResult } | { user: ScimUser }> {
  const enabled = action === 'disable' ? context.switches.disableEnabled : context.switches.enableEnabled;
  if (!enabled) return { result: skipped(context, action, profile, SKIP_REASONS.disabled) };
  const plan = lookupPlan(context, profile, false);
  let found: ScimUser | null = null;
  const result = await guarded(context, action, profile, async () => {
    const user = await findUser(context, plan);
    if (!user) return skipped(context, action, profile, SKIP_REASONS.notFound);
    const target = action === 'enable';
    if (user.active === target) {
      const reason = target ? SKIP_REASONS.alreadyEnabled : SKIP_REASONS.alreadyDisabled;
      return buildResult({
        action,
        instanceName: context.instanceName,
        profile,
        user,
        skippedReason: reason,
      });
    }
    found = user;
    return buildResult({ action, instanceName: context.instanceName, profile, user });
  });
  return found ? { user: found } : { result };
}

async function setActive(
  context: IamContext,
  profile: UserProfile,
  action: 'disable' | 'enable',
): Promise<IamResult> {
  const inspected = await inspectActive(context, profile, action);
  if ('result' in inspected) return inspected.result;
  const target = action === 'enable';
  return guarded(context, action, profile, async () => {
    const updated = await context.directory.patchUser(inspected.user.id as string, [
      { op: 'replace', value: { active: target } },
    ]);
    return buildResult({
      action,
      instanceName: context.instanceName,
      profile,
      user: updated,
      active: target,
    });
  });
}

export const disableUser = (context: IamContext, profile: UserProfile): Promise<IamResult> =>
  setActive(context, profile, 'disable');

export const enableUser = (context: IamContext, profile: UserProfile): Promise<IamResult> =>
  setActive(context, profile, 'enable');

/**
 * Disable in two steps, for approvals: the decision table up to the change. `final` is the disable's
 * result when nothing is to be done (switch off, not found, already inactive, error); otherwise `user`
 * is the active user an approver must decide about. One lookup, no change.
 */
export async function previewDisable(
  context: IamContext,
  profile: UserProfile,
): Promise<{ final: IamResult } | { user: ScimUser }> {
  const inspected = await inspectActive(context, profile, 'disable');
  return 'result' in inspected ? { final: inspected.result } : inspected;
}
