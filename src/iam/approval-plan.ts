/**
 * What an approval request carries out: an action and the profile to apply, pinned to the Atlassian
 * user found when it was asked for, so the approver approves exactly what will be done. A new action is
 * a new case here (schema, plan, carry-out), not a new flow. Stored requests are read back through
 * `readApprovalPlan`, which refuses a stored form that cannot be carried out.
 */
import { z } from 'zod';
import type { ScimUser } from '../scim/types';
import {
  applyPinnedUpdate,
  type Clearing,
  disableUser,
  enableUser,
  type IamContext,
  type UpdatePreview,
} from './commands';
import { addPinnedMember, createUserInGroups } from './groups';
import type { UserProfile } from './profile';
import { madeByEarlierAttempt, primaryEmail, type IamResult, SKIP_REASONS } from './result';

export const APPROVAL_ACTIONS = ['disable', 'enable', 'update', 'grant', 'create'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/** An id that names one user in `/Users/{id}`: not empty, not a dot segment, no `/`. */
const userId = z
  .string()
  .trim()
  .refine((id) => id !== '' && id !== '.' && id !== '..' && !id.includes('/'), {
    message: 'not a usable Atlassian user id (empty, "." or "..", or with "/")',
  });

const pinnedUser = z.object({ id: userId, email: z.string().optional(), username: z.string().optional() });

const attributeChange = z.object({
  attribute: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
});

const pinnedUpdate = pinnedUser
  .extend({
    value: z.record(z.string(), z.unknown()),
    /** Profile keys the update empties, and the SCIM paths it sends a PATCH `remove` for. */
    cleared: z.array(z.string()).default([]),
    remove: z.array(z.string().min(1)).default([]),
    changes: z.array(attributeChange),
  })
  .refine((update) => Object.keys(update.value).length > 0 || update.remove.length > 0, {
    message: 'has no attribute to change',
    path: ['value'],
  });

/**
 * A grant: the user and the group pinned by id, how long (null: until revoked), and the Slack user who
 * gets access (told by DM; null when not known). `extends`: the grant an approved Extend lengthens.
 */
const pinnedGrant = pinnedUser.extend({
  group: z.object({ id: userId, displayName: z.string().min(1) }),
  durationMs: z.number().int().positive().nullable(),
  grantee: z.string().min(1).nullable(),
  extends: z.string().min(1).optional(),
});

/**
 * A create: the profile as asked for (no user id exists yet), shown to the approver as `changes` (each
 * attribute from none to its value). Carried out as that create only: a user found by then fails it,
 * unless our own cut-short attempt made exactly that user (see carryOutPlan).
 */
const pinnedCreate = z
  .object({
    email: z.string().optional(),
    username: z.string().optional(),
    user: z
      .record(z.string(), z.unknown())
      .refine((user) => Object.keys(user).length > 0, { message: 'has no attribute to create' }),
    changes: z.array(attributeChange),
  })
  .refine((create) => create.email !== undefined || create.username !== undefined, {
    message: 'needs an email or username to create a user',
  });

export type PinnedUser = z.infer<typeof pinnedUser>;
export type PinnedUpdate = z.infer<typeof pinnedUpdate>;
export type PinnedGrant = z.infer<typeof pinnedGrant>;
export type PinnedCreate = z.infer<typeof pinnedCreate>;

export type ApprovalPlan =
  | { action: 'disable' | 'enable'; profile: PinnedUser }
  | { action: 'update'; profile: PinnedUpdate }
  | { action: 'grant'; profile: PinnedGrant }
  | { action: 'create'; profile: PinnedCreate };

/** A stored request that cannot be carried out; the message says why, for the request's `failed` reason. */
export class ApprovalPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalPlanError';
  }
}

/** The user as an approval pins them: id, and email and username for people to read. */
export function pinUser(user: ScimUser): PinnedUser {
  const email = primaryEmail(user);
  return {
    id: user.id ?? '',
    ...(email ? { email } : {}),
    ...(user.userName ? { username: user.userName } : {}),
  };
}

/** The plan of an update that needs approval: exactly the PATCH value previewUpdate found, for that user. */
export const updatePlan = (preview: UpdatePreview): ApprovalPlan => ({
  action: 'update',
  profile: {
    ...pinUser(preview.user),
    value: preview.value,
    cleared: [...preview.clear.keys],
    remove: preview.clear.operations.map((operation) => operation.path ?? ''),
    changes: preview.changes,
  },
});

const shownValue = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** The plan of a create that needs approval: the profile to create, each attribute shown as it will be set. */
export function createPlan(profile: UserProfile): ApprovalPlan {
  const email = typeof profile.email === 'string' ? profile.email : undefined;
  const username = typeof profile.username === 'string' ? profile.username : undefined;
  const changes = Object.entries(profile)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([attribute, value]) => ({ attribute, before: null, after: shownValue(value) }));
  return {
    action: 'create',
    profile: {
      ...(email ? { email } : {}),
      ...(username ? { username } : {}),
      user: { ...profile },
      changes,
    },
  };
}

const describe = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || 'profile'}: ${issue.message}`).join('; ');

/** Reads a stored (or about to be stored) request; throws ApprovalPlanError when it cannot be carried out. */
export function readApprovalPlan(action: string, profile: unknown): ApprovalPlan {
  switch (action) {
    case 'disable':
    case 'enable': {
      const parsed = pinnedUser.safeParse(profile);
      if (!parsed.success) throw new ApprovalPlanError(`${action} request ${describe(parsed.error)}`);
      return { action, profile: parsed.data };
    }
    case 'update': {
      const parsed = pinnedUpdate.safeParse(profile);
      if (!parsed.success) throw new ApprovalPlanError(`update request ${describe(parsed.error)}`);
      return { action, profile: parsed.data };
    }
    case 'grant': {
      const parsed = pinnedGrant.safeParse(profile);
      if (!parsed.success) throw new ApprovalPlanError(`grant request ${describe(parsed.error)}`);
      return { action, profile: parsed.data };
    }
    case 'create': {
      const parsed = pinnedCreate.safeParse(profile);
      if (!parsed.success) throw new ApprovalPlanError(`create request ${describe(parsed.error)}`);
      return { action, profile: parsed.data };
    }
    default:
      throw new ApprovalPlanError(`unknown action ${JSON.stringify(action)}`);
  }
}

/**
 * Carries out an approved plan; repeating it after a crash finds the change made and changes nothing.
 * `afterOwnAttempt`: an earlier attempt of ours was cut short, so a create finding the user it would
 * have made (same userName and email) reports it as created (see WriteOptions.afterOwnAttempt).
 */
export function carryOutPlan(
  context: IamContext,
  plan: ApprovalPlan,
  afterOwnAttempt = false,
): Promise<IamResult> {
  switch (plan.action) {
    case 'disable':
      return disableUser(context, plan.profile);
    case 'enable':
      return enableUser(context, plan.profile);
    case 'update': {
      const { value, cleared, remove, changes: _changes, ...who } = plan.profile;
      const clear: Clearing = { keys: cleared, operations: remove.map((path) => ({ op: 'remove', path })) };
      return applyPinnedUpdate(context, who, plan.profile.id, value, clear);
    }
    case 'grant': {
      const { group, durationMs: _duration, grantee: _grantee, extends: _extends, ...user } = plan.profile;
      return addPinnedMember(context, { user, group });
    }
    case 'create':
      return createUserInGroups(context, plan.profile.user, {
        allowEnable: false,
        createOnly: true,
        afterOwnAttempt,
      });
  }
}

/** What a disable, enable or grant finds when the change is made already. */
const ALREADY_DONE: Partial<Record<ApprovalAction, string>> = {
  disable: SKIP_REASONS.alreadyDisabled,
  enable: SKIP_REASONS.alreadyEnabled,
  grant: SKIP_REASONS.alreadyMember,
};

/**
 * The result of a disable, enable or grant carried out again after our own attempt was cut short (a
 * crash, a timeout): finding the user already in the target state means that attempt made the change,
 * so it is reported as done, not as skipped. Any other result is returned as it is.
 */
export function finishedByEarlierAttempt(plan: ApprovalPlan, result: IamResult): IamResult {
  const already = ALREADY_DONE[plan.action];
  return already === undefined ? result : madeByEarlierAttempt(result, already);
}
