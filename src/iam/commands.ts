import type { CommandSwitches } from '../config';
import { ScimRequestError } from '../scim/errors';
import type { LookupAttribute, PatchOperation, ScimDirectory, ScimUser } from '../scim/types';
import { clearablePath, type Mapper, toScimUser, toUserProfile } from './mappers';
import { oldUserData, ProfileError, type UserProfile } from './profile';
import { buildResult, type IamAction, type IamResult, primaryEmail, SKIP_REASONS } from './result';

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
  /** An approved create: a user found by then is not updated (nobody approved that); the create fails. */
  createOnly?: boolean;
  /**
   * With createOnly: carried out again after our own attempt was cut short (a crash or a time-out after
   * Atlassian may have created the user). A user found with exactly the userName and primary email this
   * create sends is that attempt's work and is reported as created (see createdByEarlierAttempt); any
   * other user found still fails it.
   */
  afterOwnAttempt?: boolean;
}

export interface Identifiers {
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
    return failed(context, action, profile, error);
  }
}

/** The Atlassian failure behind each failed result (not part of the result's JSON; see failureCause). */
const causes = new WeakMap<IamResult, ScimRequestError>();

/** Why a result failed, when Atlassian or the network failed it: status and code tell transient from permanent. */
export const failureCause = (result: IamResult): ScimRequestError | undefined => causes.get(result);

const earlierCreates = new WeakSet<IamResult>();

/** True for a create result that found the user our own cut-short attempt created (WriteOptions.afterOwnAttempt). */
export const createdByEarlierAttempt = (result: IamResult): boolean => earlierCreates.has(result);

function failed(context: IamContext, action: IamAction, profile: UserProfile, error: ScimRequestError) {
  const result = buildResult({
    action,
    instanceName: context.instanceName,
    profile,
    error: { status: error.status, message: error.message },
  });
  causes.set(result, error);
  return result;
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
export interface Clearing {
  keys: readonly string[];
  operations: PatchOperation[];
}

const NO_CLEARING: Clearing = { keys: [], operations: [] };

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
 * PATCH of the mapped attributes only. `active` from the profile is never applied here: enabling is
 * governed by allow-enable and IAM_ENABLE_USER_ENABLED, and disabling is the disable command's job (which
 * has its own switch and, in Slack, an approval) — an update must not lock anybody out.
 */
function updateValue(
  context: IamContext,
  profile: UserProfile,
  user: ScimUser,
  options: WriteOptions,
): Record<string, unknown> {
  const value = updateAttributes(context, profile);
  if (user.active === false && options.allowEnable && context.switches.enableEnabled) value.active = true;
  return value;
}

/**
 * Sends one update's PATCH: the `replace` of `value` plus a `remove` per cleared key (none when there is
 * nothing to change). The result's profile shows a cleared key as null.
 */
async function patchUpdate(
  context: IamContext,
  profile: UserProfile,
  user: ScimUser,
  value: Record<string, unknown>,
  clear: Clearing = NO_CLEARING,
): Promise<IamResult> {
  const operations: PatchOperation[] = [
    ...(Object.keys(value).length > 0 ? [{ op: 'replace' as const, value }] : []),
    ...clear.operations,
  ];
  const updated =
    operations.length === 0 ? user : await context.directory.patchUser(user.id as string, operations);
  const shown = { ...profile, ...Object.fromEntries(clear.keys.map((key) => [key, null])) };
  return buildResult({ action: 'update', instanceName: context.instanceName, profile: shown, user: updated });
}

/** The user a create POSTs: the mapped profile without id. Throws ProfileError when it has no userName. */
export function createBody(context: IamContext, profile: UserProfile): ScimUser {
  const { id: _id, ...scimUser } = toScimUser(context.outgoing, profile);
  if (!scimUser.userName) {
    throw new ProfileError('user-profile needs an email or username to create a user');
  }
  return scimUser;
}

/**
 * Why creating `profile` would give a second account to someone who has one, or null. The lookup found
 * no user by the profile's first identifier (its userName), but its email may be another account's
 * userName, or its externalId another account's: a create would then make a second, active account with
 * that person's email or employee id (even one a second person just disabled). Atlassian filters on
 * userName and externalId only, so these are the two checks there are.
 */
async function identityConflict(context: IamContext, profile: UserProfile): Promise<ScimRequestError | null> {
  let body: ScimUser;
  try {
    body = createBody(context, profile);
  } catch {
    return null; // the create itself refuses the profile, saying why
  }
  const userName = body.userName?.toLowerCase();
  const checks: [LookupAttribute, string, string][] = [
    ...(body.emails ?? [])
      .map((email) => email.value)
      .filter((email): email is string => typeof email === 'string' && email.toLowerCase() !== userName)
      .map((email): [LookupAttribute, string, string] => ['userName', email, `the email ${email}`]),
    ...(typeof body.externalId === 'string' && body.externalId !== ''
      ? [
          ['externalId', body.externalId, `the employee id ${body.externalId}`] as [
            LookupAttribute,
            string,
            string,
          ],
        ]
      : []),
  ];
  for (const [attribute, value, what] of checks) {
    let found: ScimUser[];
    try {
      found = await context.directory.findUsers(attribute, value);
    } catch (error) {
      if (error instanceof ScimRequestError) return error;
      throw error;
    }
    const [owner] = found;
    if (owner) {
      const state = owner.active === false ? 'inactive' : 'active';
      return new ScimRequestError(
        409,
        `Nothing was created: ${what} already belongs to the ${state} Atlassian user ${owner.userName ?? owner.id} (id ${owner.id}); update that user instead`,
      );
    }
  }
  return null;
}

async function createNew(context: IamContext, profile: UserProfile): Promise<IamResult> {
  const { user } = await context.directory.createUser(createBody(context, profile));
  return buildResult({ action: 'create', instanceName: context.instanceName, profile, user });
}

/** A create or update, run through its own preview: the real change and the preview cannot disagree. */
export async function createUser(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<IamResult> {
  const preview = await previewCreate(context, profile, options);
  if (options.createOnly && 'update' in preview) {
    const { user } = preview.update;
    if (options.afterOwnAttempt && sendsIdentityOf(context, profile, user)) {
      const result = buildResult({ action: 'create', instanceName: context.instanceName, profile, user });
      earlierCreates.add(result);
      return result;
    }
    return existsAlready(context, profile, user);
  }
  return applyWrite(context, profile, preview, 'create');
}

/** True when `user` has exactly the userName and primary email a create of `profile` sends (case aside). */
function sendsIdentityOf(context: IamContext, profile: UserProfile, user: ScimUser): boolean {
  let body: ScimUser;
  try {
    body = createBody(context, profile);
  } catch {
    return false;
  }
  const same = (a: string | null | undefined, b: string | null | undefined) =>
    (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
  return same(user.userName, body.userName) && same(primaryEmail(user), primaryEmail(body));
}

function existsAlready(context: IamContext, profile: UserProfile, user: ScimUser): IamResult {
  const who = user.userName ?? user.id;
  const message = `Nothing was created: the Atlassian user ${who} (id ${user.id}) exists already; ask for an update of that user instead`;
  return failed(context, 'create', profile, new ScimRequestError(409, message));
}

export async function updateUser(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<IamResult> {
  return applyWrite(context, profile, await previewUpdate(context, profile, options), 'update');
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

/**
 * Enable in two steps, for approvals: like previewDisable. `user` is the inactive user an approver must
 * decide about.
 */
export async function previewEnable(
  context: IamContext,
  profile: UserProfile,
): Promise<{ final: IamResult } | { user: ScimUser }> {
  const inspected = await inspectActive(context, profile, 'enable');
  return 'result' in inspected ? { final: inspected.result } : inspected;
}

/** One attribute an update would change, as a person reads it (null: no value). */
export interface AttributeChange {
  /** SCIM attribute, dotted for a sub-attribute: `title`, `name.givenName`, `emails`, `active`. */
  attribute: string;
  before: string | null;
  after: string | null;
}

/** What an update of an existing user would do, found without changing anything. */
export interface UpdatePreview {
  user: ScimUser;
  /** The PATCH `replace` value the update sends (the mapped attributes, `active: true` when it re-enables). */
  value: Record<string, unknown>;
  /** The attributes it empties (PATCH `remove`). */
  clear: Clearing;
  /** The attributes whose value differs from the user's, in the order the update names them. */
  changes: AttributeChange[];
  /** It would make an inactive user active (allow-enable). */
  reenables: boolean;
  /** It would change a sign-in identifier: userName, an email address or externalId. */
  changesIdentifier: boolean;
  /**
   * It would hand the account to someone (re-enable it, or change how one signs in as it): a change a
   * second person should approve where one is at hand (Slack). The command line runs it as XSOAR does.
   */
  takesOver: boolean;
}

/** Attributes whose change changes who can sign in as the account. */
export const IDENTIFIER_ATTRIBUTES = new Set(['userName', 'emails', 'externalId']);
/** Compared without regard to case (RFC 7643: userName and email values are not case-exact). */
const CASE_INSENSITIVE = new Set(['userName', 'emails']);

function shown(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (Array.isArray(value)) {
    const items = value
      .map((item) => (item && typeof item === 'object' && 'value' in item ? shown(item.value) : shown(item)))
      .filter((item): item is string => item !== null);
    return items.length > 0 ? items.join(', ') : null;
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The value's leaves: sub-attributes of a complex attribute one by one, a multi-valued one whole. */
function leaves(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, inner]) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? leaves(inner as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, inner] as [string, unknown]],
  );
}

function readLeaf(user: ScimUser, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (current, key) =>
        current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined,
      user,
    );
}

function comparable(attribute: string, value: unknown): string | null {
  const text = Array.isArray(value) ? (shown(value)?.split(', ').sort().join(', ') ?? null) : shown(value);
  return text !== null && CASE_INSENSITIVE.has(attribute) ? text.toLowerCase() : text;
}

/** The attributes of `value` that differ from the user's, then those it empties that have a value. */
export function changesOf(
  user: ScimUser,
  value: Record<string, unknown>,
  clear: Clearing = NO_CLEARING,
): AttributeChange[] {
  const removed: [string, unknown][] = clear.operations.map((operation) => [operation.path ?? '', null]);
  return [...leaves(value), ...removed]
    .filter(
      ([attribute, after]) =>
        comparable(attribute, readLeaf(user, attribute)) !== comparable(attribute, after),
    )
    .map(([attribute, after]) => ({
      attribute,
      before: shown(readLeaf(user, attribute)),
      after: shown(after),
    }));
}

/** What a create or update would do, found with one lookup and no change (see previewCreate, previewUpdate). */
export type WritePreview = { final: IamResult } | { notFound: true } | { update: UpdatePreview };

/** The lookup and, for a user found, the update the decision table would send. */
async function previewExisting(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
  action: 'create' | 'update',
  clear: Clearing = NO_CLEARING,
): Promise<WritePreview> {
  const plan = lookupPlan(context, profile, action === 'update');
  let user: ScimUser | null;
  try {
    user = await findUser(context, plan);
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    return { final: failed(context, action, profile, error) };
  }
  if (!user) {
    if (!createsWhenNotFound(context, action)) return { notFound: true };
    const conflict = await identityConflict(context, profile);
    return conflict ? { final: failed(context, action, profile, conflict) } : { notFound: true };
  }
  if (!context.switches.updateEnabled)
    return { final: skipped(context, 'update', profile, SKIP_REASONS.disabled, user) };
  const value = updateValue(context, profile, user, options);
  const changes = changesOf(user, value, clear);
  const reenables = value.active === true && user.active === false;
  const changesIdentifier = changes.some((c) => IDENTIFIER_ATTRIBUTES.has(c.attribute));
  return {
    update: {
      user,
      value,
      clear,
      changes,
      reenables,
      changesIdentifier,
      takesOver: reenables || changesIdentifier,
    },
  };
}

/**
 * Update in two steps, for approvals: the decision table up to the change. `final` when nothing is to be
 * done (switch off, lookup failed); `notFound` when no user matches (the update then creates or skips);
 * otherwise the `update` it would make to the user found. One lookup, no change.
 */
export async function previewUpdate(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<WritePreview> {
  if (!context.switches.updateEnabled)
    return { final: skipped(context, 'update', profile, SKIP_REASONS.disabled) };
  const clear = clearing(context, profile, options.clear);
  return previewExisting(context, profile, options, 'update', clear);
}

/**
 * Create in two steps, like previewUpdate. A create that finds the user updates them (XSOAR's
 * semantics), so that update is previewed (and may take the account over); `notFound` is the create.
 */
export async function previewCreate(
  context: IamContext,
  profile: UserProfile,
  options: WriteOptions,
): Promise<WritePreview> {
  if (!context.switches.createEnabled)
    return { final: skipped(context, 'create', profile, SKIP_REASONS.disabled) };
  return previewExisting(context, profile, options, 'create');
}

/** A write whose user is not found creates it: a create always, an update with IAM_CREATE_IF_NOT_FOUND. */
export const createsWhenNotFound = (context: IamContext, action: 'create' | 'update'): boolean =>
  action === 'create' || (context.switches.createIfNotFound && context.switches.createEnabled);

/**
 * Carries out a previewed create or update with no second lookup: the previewed update's PATCH; for a
 * user not found, the create (an update creates only with IAM_CREATE_IF_NOT_FOUND and create enabled).
 */
export async function applyWrite(
  context: IamContext,
  profile: UserProfile,
  preview: WritePreview,
  action: 'create' | 'update',
): Promise<IamResult> {
  if ('final' in preview) return preview.final;
  if ('update' in preview) {
    const { user, value, clear } = preview.update;
    return guarded(context, action, profile, () => patchUpdate(context, profile, user, value, clear));
  }
  if (!createsWhenNotFound(context, action))
    return skipped(context, 'update', profile, SKIP_REASONS.notFound);
  return guarded(context, action, profile, () => createNew(context, profile));
}

/**
 * Carries out an approved update: the `value` an approver saw, sent to the user pinned by id. The
 * switches are read again (they may have changed since the request); a user gone since is not found.
 */
export async function applyPinnedUpdate(
  context: IamContext,
  profile: UserProfile,
  id: string,
  value: Record<string, unknown>,
  clear: Clearing = NO_CLEARING,
): Promise<IamResult> {
  const off = !context.switches.updateEnabled || (value.active === true && !context.switches.enableEnabled);
  if (off) return skipped(context, 'update', profile, SKIP_REASONS.disabled);
  return guarded(context, 'update', profile, async () => {
    const user = await context.directory.getUserById(id);
    if (!user) return skipped(context, 'update', profile, SKIP_REASONS.notFound);
    return patchUpdate(context, profile, user, value, clear);
  });
}
