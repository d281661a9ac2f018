import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import {
  type ApprovalAction,
  type ApprovalPlan,
  applyWrite,
  carryOutPlan,
  createdByEarlierAttempt,
  failureCause,
  finishedByEarlierAttempt,
  type IamResult,
  pinUser,
  previewCreate,
  previewDisable,
  previewEnable,
  previewUpdate,
  ProfileError,
  profileGroups,
  readApprovalPlan,
  updatePlan,
  createPlan,
  type WritePreview,
  type UserProfile,
  outcomeOf,
  resultDetail,
  runCommand,
  targetOf,
} from '../iam';
import { checkScheduleLimit, directoryTarget } from '../iam/policy-target';
import { isTransientFailure } from '../scim/client';
import type { ScimRequestError } from '../scim/errors';
import type { ScimUser } from '../scim/types';
import { type EffectiveRule, ruleLabel } from '../policy';
import { AlreadyOpenError, LEGACY_RULE } from '../store';
import type { ApprovalRequest, NewApproval } from '../store/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  errorNotice,
  isSlackUserId,
  postedElsewhereNotice,
  refusalMessage,
  requesterNotice,
  resultMessage,
  type SlackMessage,
} from '../views/slack';
import { alreadyOpenRefusal } from './already-open';
import { audit, auditDone, type BotContext, pinnedUser, writeWithRecord } from './context';
import { APPROVAL_LEASE_MS, CLAIM_OWNER, claimHolderIsDead, withLease } from './claims';
import { profileTarget, ruleFor, storedRule, writeAction } from './policy-gate';
import { extendFirst, GRANT_ENDED_MEANWHILE, groupDetail, recordGrant, tellGrantee } from './grants';
import { storeFollowUps } from './reminders';
import { expiryOf } from './schedule-card';
import { cannotPost, postMessage, tellEphemeral, updateMessage } from './posting';
import { cardOf, retryDeadline, statusWhenRequested } from './approval-card';

/**
 * The command's "received" row, then `preview` (a lookup): with no row Atlassian is not asked anything
 * (the caller tells the person); a preview that throws (bad input found by the lookup) is recorded as
 * rejected.
 */
export async function receivedThen<T>(
  context: BotContext,
  input: ApprovalInput,
  command: string,
  profile: UserProfile,
  preview: () => Promise<T>,
): Promise<T> {
  const entry = { actor: input.requesterId, command, target: targetOf(profile), requestId: null };
  await audit(context, { ...entry, kind: 'command', outcome: 'received', detail: pinnedUser(profile.id) });
  try {
    return await preview();
  } catch (error) {
    const detail = { reason: (error as Error).message };
    await auditDone(context, { ...entry, kind: 'result', outcome: 'rejected', detail });
    throw error;
  }
}

/** The slash command whose approval each action is; audit rows name it. */
export const COMMAND_OF: Record<
  ApprovalAction,
  'iam-disable-user' | 'iam-enable-user' | 'iam-update-user' | 'iam-grant' | 'iam-create-user'
> = {
  disable: 'iam-disable-user',
  enable: 'iam-enable-user',
  update: 'iam-update-user',
  grant: 'iam-grant',
  create: 'iam-create-user',
};

/** What a create's result row says when it found the user our own cut-short attempt had created. */
export const CREATED_BY_EARLIER_ATTEMPT =
  'created by an earlier attempt of this request that was cut short: the user was found with exactly the approved userName and email';

/** The result row of something Atlassian answered. */
const resultEntry = (
  actorId: string,
  action: ApprovalAction,
  result: IamResult,
  requestId: string | null,
) => ({
  actor: actorId,
  kind: 'result' as const,
  command: COMMAND_OF[action],
  target: targetOf(result.IAM.UserProfile),
  outcome: outcomeOf(result.IAM.Vendor),
  requestId,
  detail: {
    ...resultDetail(result),
    ...(createdByEarlierAttempt(result) ? { finishedByEarlierAttempt: CREATED_BY_EARLIER_ATTEMPT } : {}),
  },
});

/** The result row of something Atlassian already answered: never throws (see auditDone). */
async function auditResult(
  context: BotContext,
  actorId: string,
  action: ApprovalAction,
  result: IamResult,
  requestId: string | null,
) {
  await auditDone(context, resultEntry(actorId, action, result, requestId));
}

/** Who asks, where, and how to reach them privately (a slash command's response_url, or a DM for a modal). */
export interface ApprovalInput {
  requesterId: string;
  channelId: string;
  /** The workspace and Grid org of the command (Slack's team_id, enterprise_id): decisions count only there. */
  teamId: string | null;
  enterpriseId: string | null;
  reason: string | null;
  respond?: RespondFn;
  /** Where to tell the requester when there is no response_url (a modal): their user id. */
  fallbackUserId?: string;
  /** Carry it out at this time once approved (see src/handlers/scheduled.ts), not at once. */
  schedule?: { at: Date; zone: string };
}

/** Tells the requester privately: by response_url, else in a DM; a failure to tell is logged. */
export async function tellRequester(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  said: string | SlackMessage,
) {
  const message = typeof said === 'string' ? refusalMessage(said, { sandbox: context.sandbox }) : said;
  try {
    if (input.respond) await tellEphemeral(input.respond, message);
    else await postMessage(client, input.fallbackUserId ?? input.requesterId, message);
  } catch (error) {
    context.logger.error('could not tell the requester', { error: (error as Error).message });
  }
}

/**
 * A result that needed no approval (nothing to do, or a lookup failure): audited, then posted at once
 * (the row never waits for Slack).
 */
export async function postFinal(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  action: ApprovalAction,
  result: IamResult,
) {
  await auditResult(context, input.requesterId, action, result, null);
  await postMessage(
    client,
    input.channelId,
    resultMessage(result, { sandbox: context.sandbox, actorId: input.requesterId }),
    { respond: input.respond, fallbackUserId: input.fallbackUserId },
  );
}

/**
 * /iam-disable-user and /iam-enable-user: never immediate. A user who can be changed gets an approval
 * request in the channel; one who cannot (switch off, not found, already in that state, lookup failed)
 * gets the result at once.
 */
export async function requestActiveChange(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput & { profile: UserProfile },
  action: 'disable' | 'enable',
): Promise<void> {
  const preview = await receivedThen(context, input, COMMAND_OF[action], input.profile, async () => {
    const found = await (action === 'disable' ? previewDisable : previewEnable)(context.iam, input.profile);
    if (input.schedule && 'user' in found) {
      const ask = { user: found.user, requesterId: input.requesterId, schedule: input.schedule };
      checkScheduleLimit(context.policy, { ...ask, now: context.clock() });
    }
    return found;
  });
  if ('final' in preview) return postFinal(context, client, input, action, preview.final);
  const gate = await ruleFor(context, input, action, directoryTarget(preview.user));
  if ('refused' in gate) return refuseUnderPolicy(context, client, input, COMMAND_OF[action], gate.refused);
  const plan: ApprovalPlan = { action, profile: pinUser(preview.user) };
  await requestApproval(context, client, input, plan, preview.user, gate.rule);
}

/** A request the policy refuses: its row (the command's "received" row is written), then the requester told. */
async function refuseUnderPolicy(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput & { profile: UserProfile },
  command: string,
  reason: string,
): Promise<void> {
  await auditDone(context, {
    actor: input.requesterId,
    kind: 'result',
    command,
    target: targetOf(input.profile),
    outcome: 'rejected',
    requestId: null,
    detail: { reason },
  });
  await tellRequester(context, client, input, reason);
}

/**
 * /iam-update-user and /iam-create-user (and their modal): a write that takes an account over (the core
 * says so: it re-enables the user or changes a sign-in identifier; a create that finds the user is an
 * update) waits for an approver, with exactly the changes previewed, pinned to the user found. Any
 * other write, and a create of a new user, runs at once through `runNow`, without a second lookup.
 * The command's "received" row is written here, before the lookup, so `runNow` must not write another
 * (runAndPost with `received: true`).
 */
export async function requestWrite(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput & { profile: UserProfile; allowEnable: boolean; clear?: readonly string[] },
  kind: 'create' | 'update',
  runNow: (execute: () => Promise<IamResult>) => Promise<void>,
): Promise<void> {
  const { profile, allowEnable, clear } = input;
  const command = kind === 'create' ? 'iam-create-user' : 'iam-update-user';
  const withGroups = kind === 'create' && profileGroups(profile).length > 0;
  const preview = await receivedThen(context, input, command, profile, async () => {
    const found = await (kind === 'create' ? previewCreate : previewUpdate)(context.iam, profile, {
      allowEnable,
      clear,
    });
    // Groups go to a user this command creates; an existing user's access is changed on its own.
    if (withGroups && 'update' in found) {
      throw new ProfileError(
        `groups are given only to a user this command creates, and ${targetOf(profile)} exists already: add them to a group with atlassian-iam iam-add-to-group`,
      );
    }
    return found;
  });
  // A new user with groups is created with them (no second lookup); any other write as previewed.
  const create =
    withGroups && 'notFound' in preview
      ? () => runCommand('iam-create-user', context.iam, profile, { allowEnable })
      : undefined;
  await carryOutPreview(context, client, { ...input, preview }, kind, runNow, create);
}

/**
 * Carries out a write already previewed and confirmed (the update modal's confirmation): its
 * "received" row first (no row, nothing done), then exactly that preview, or, when it takes the
 * account over, its approval request. `runNow` must not write another row (`received: true`).
 */
export async function requestPreviewedWrite(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput & { profile: UserProfile; preview: WritePreview },
  kind: 'create' | 'update',
  runNow: (execute: () => Promise<IamResult>) => Promise<void>,
): Promise<void> {
  await audit(context, {
    actor: input.requesterId,
    kind: 'command',
    command: kind === 'create' ? 'iam-create-user' : 'iam-update-user',
    target: targetOf(input.profile),
    outcome: 'received',
    requestId: null,
    detail: pinnedUser('update' in input.preview ? input.preview.update.user.id : input.profile.id),
  });
  await carryOutPreview(context, client, input, kind, runNow);
}

async function carryOutPreview(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput & { profile: UserProfile; preview: WritePreview },
  kind: 'create' | 'update',
  runNow: (execute: () => Promise<IamResult>) => Promise<void>,
  create?: () => Promise<IamResult>,
): Promise<void> {
  const { preview } = input;
  const execute = create ?? (() => applyWrite(context.iam, input.profile, preview, kind));
  const action = writeAction(preview);
  if (action === null) return runNow(execute);
  const target = 'update' in preview ? directoryTarget(preview.update.user) : profileTarget(input.profile);
  const gate = await ruleFor(context, input, action, target);
  if ('refused' in gate) {
    const command = kind === 'create' ? 'iam-create-user' : 'iam-update-user';
    return refuseUnderPolicy(context, client, input, command, gate.refused);
  }
  if (gate.rule.approvals === 0) return runNow(execute);
  // A user not found: the create, pinned to the profile (there is no user id yet).
  const [plan, user] =
    'update' in preview ? [updatePlan(preview.update), preview.update.user] : [createPlan(input.profile), {}];
  await requestApproval(context, client, input, plan, user, gate.rule);
}

/** The request to store: the plan, pinned to the user; the rule's expiry and channel (else where it was asked). */
function draftOf(
  context: BotContext,
  input: ApprovalInput,
  { action, profile }: ApprovalPlan,
  rule: EffectiveRule,
): NewApproval {
  const now = context.clock();
  return {
    id: context.newId(),
    action,
    requesterId: input.requesterId,
    channelId: rule.channel ?? input.channelId,
    teamId: input.teamId,
    enterpriseId: input.enterpriseId,
    profile,
    // A create has no id yet; its plan has an email or a username.
    target: profile.email ?? profile.username ?? ('id' in profile ? profile.id : ''),
    reason: input.reason,
    createdAt: now,
    expiresAt: expiryOf(now, rule.expiresMs, input.schedule),
    ...(input.schedule ? { schedule: input.schedule } : {}),
    rule: storedRule(rule),
  };
}

/**
 * Asks for an approval: the "requested" audit row first (no audit row, nothing done), then the request
 * is stored, then its card is posted, so a card on screen always names a stored request. A request
 * that cannot be stored (or that another open one excludes) is never posted; one whose card cannot be
 * posted ends as failed (nobody could approve it), and either way the requester is told. True when it
 * was stored.
 */
export async function requestApproval(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  plan: ApprovalPlan,
  user: ScimUser,
  rule: EffectiveRule,
): Promise<boolean> {
  let checked: ApprovalPlan;
  try {
    // The same check as when it is loaded: a request that could never be carried out is not stored.
    checked = readApprovalPlan(plan.action, plan.profile);
  } catch (error) {
    // Atlassian's answer named no usable user (e.g. no id): nothing could be approved.
    await tellRequester(context, client, input, `Nothing was requested: ${(error as Error).message}.`);
    return false;
  }
  const draft = draftOf(context, input, checked, rule);
  await auditRequested(context, input, checked, draft, rule);
  const request = await storeRequest(context, client, input, draft);
  if (request === null) return false;
  await storeFollowUps(context, request, rule);
  const current = { active: user.active ?? null, id: user.id ?? null };
  const ts = await postCard(context, client, input, request, current);
  if (ts === null) return true;
  await context.store.setApprovalMessage(request.id, request.channelId, ts);
  if (request.channelId !== input.channelId) {
    // The rule's channel, not where it was asked: the requester is told where to follow it.
    const notice = postedElsewhereNotice(
      { verb: plan.action, target: request.target, channelId: request.channelId, rule: ruleLabel(rule) },
      { sandbox: context.sandbox },
    );
    await tellRequester(context, client, input, notice);
  }
  return true;
}

/** The request's command row, before it is stored: no request without its record. */
function auditRequested(
  context: BotContext,
  input: ApprovalInput,
  checked: ApprovalPlan,
  draft: NewApproval,
  rule: EffectiveRule,
) {
  return audit(context, {
    actor: input.requesterId,
    kind: 'command',
    command: COMMAND_OF[checked.action],
    target: draft.target,
    outcome: input.schedule ? 'scheduled' : 'requested',
    requestId: draft.id,
    detail: {
      action: checked.action,
      reason: input.reason,
      profile: checked.profile,
      rule: ruleLabel(rule),
      ...(input.schedule ?? {}),
      ...groupDetail(checked),
    },
  });
}

/** Stores the request; null (the requester told) when the store refuses it. */
async function storeRequest(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  draft: NewApproval,
): Promise<ApprovalRequest | null> {
  try {
    return await context.store.createApproval(draft);
  } catch (error) {
    if (error instanceof AlreadyOpenError) {
      await refuseAlreadyOpen(context, client, input, draft, error.existing);
      return null;
    }
    context.logger.error('approval request not stored', { error: (error as Error).message });
    const verb = draft.action;
    const told = `Your ${verb} request could not be stored, so it was not posted and nothing will be done. Try again.`;
    await tellRequester(context, client, input, told);
    return null;
  }
}

/**
 * A request the store did not keep because another is open in its place (one schedule per user, one
 * Extend per grant): its "requested" row is closed by a rejected one, and the requester is told which.
 */
async function refuseAlreadyOpen(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  draft: NewApproval,
  open: ApprovalRequest,
): Promise<void> {
  const refusal = alreadyOpenRefusal(open, input.requesterId, context.sandbox);
  await auditDone(context, {
    actor: input.requesterId,
    kind: 'result',
    command: COMMAND_OF[draft.action],
    target: draft.target,
    outcome: 'rejected',
    requestId: draft.id,
    detail: { reason: refusal.reason, openRequest: open.id, ...groupDetail(draft) },
  });
  await tellRequester(context, client, input, refusal.message);
}

/**
 * Posts a stored request's card in its channel: its ts, or null when it was not posted. Nobody could
 * approve a request nobody sees: one that cannot be posted is closed (failed), and the requester told why.
 */
async function postCard(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  request: ApprovalRequest,
  current: { active: boolean | null; id: string | null },
): Promise<string | null> {
  const card = approvalRequestMessage(cardOf(request, current), { sandbox: context.sandbox });
  try {
    return await postMessage(client, request.channelId, card);
  } catch (error) {
    const notInChannel = cannotPost(error);
    context.logger.error('approval request not posted', { error: (error as Error).message });
    const reason = notInChannel ? 'the bot cannot post in this channel' : 'Slack refused the request message';
    await failRequest(context, client, request, reason, { announce: false });
    const where = request.channelId === input.channelId ? 'this channel' : `channel ${request.channelId}`;
    const told = notInChannel
      ? `I cannot post the approval request in ${where}, so no approver could see it: invite me with /invite and ask again.`
      : 'I could not post the approval request, so no approver could see it; it was closed and nothing will be done. Ask again.';
    await tellRequester(context, client, input, told);
    return null;
  }
}

/** Posts in the request's thread, or in its channel when its card was never posted. */
export async function postAbout(client: WebClient, request: ApprovalRequest, message: SlackMessage) {
  await postMessage(
    client,
    request.channelId,
    message,
    request.messageTs ? { threadTs: request.messageTs } : {},
  );
}

/** The approvers a decided card names: each voter of a request that needed more than one, else none. */
async function votersShown(context: BotContext, request: ApprovalRequest): Promise<string[]> {
  if ((request.rule ?? LEGACY_RULE).approvals < 2) return [];
  try {
    return await context.store.listVoters(request.id);
  } catch (error) {
    // The card then names the approver who decided, as for one approval.
    context.logger.warn('could not read who approved', {
      requestId: request.id,
      error: (error as Error).message,
    });
    return [];
  }
}

/**
 * Updates the request message (when it was posted) and tells the requester in its thread and, once it
 * has ended, by DM (`dm`: that DM instead of the thread's notice). Each step is tried on its own: a card
 * Slack will not update must not also cost the result and the requester's notice; when Slack takes none
 * of them, the requester is told by DM whatever the state.
 */
export async function announceDecision(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  result?: IamResult,
  dm?: SlackMessage,
) {
  const card = cardOf(request, statusWhenRequested(request), 0, await votersShown(context, request));
  const notice = requesterNotice(card, result, { sandbox: context.sandbox });
  if (!request.messageTs) {
    // A failed request whose card was never posted still says so in its channel.
    if (request.status === 'failed') await postAbout(client, request, notice);
    return tellOutcome(context, client, request, dm ?? notice);
  }
  const messageTs = request.messageTs;
  const actor = request.decidedBy ?? request.requesterId;
  const steps: [string, () => Promise<unknown>][] = [
    [
      'update the request message',
      () =>
        updateMessage(
          client,
          request.channelId,
          messageTs,
          approvalDecidedMessage(card, { sandbox: context.sandbox, outcome: result }),
        ),
    ],
    ...(result
      ? [
          [
            'post the result in its thread',
            () =>
              postAbout(client, request, resultMessage(result, { sandbox: context.sandbox, actorId: actor })),
          ] as [string, () => Promise<unknown>],
        ]
      : []),
    ['tell the requester in its thread', () => postAbout(client, request, notice)],
  ];
  let failures = 0;
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      failures += 1;
      context.logger.warn(`could not ${what}`, { requestId: request.id, error: (error as Error).message });
    }
  }
  await tellOutcome(context, client, request, dm ?? notice, failures === steps.length);
}

/** What ends a request: its requester is told by DM (announceDecision runs once for each). */
const OUTCOMES: ReadonlySet<string> = new Set(['completed', 'failed', 'denied', 'expired']);

/** Ended, or cancelled by someone else (a requester who cancelled knows it already). */
const endedForRequester = (request: ApprovalRequest): boolean =>
  OUTCOMES.has(request.status) ||
  (request.status === 'cancelled' && request.result?.cancelledBy !== request.requesterId);

/**
 * The requester's DM of the outcome (completed, failed, denied by whom, expired, cancelled by someone
 * else); of anything else only when `unseen`, Slack having taken none of the channel's messages. A
 * requester who is no Slack user (the command line's `cli:…`) is told nothing here, nor one granted
 * access themself (see tellGrantee).
 */
async function tellOutcome(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  notice: SlackMessage,
  unseen = false,
): Promise<void> {
  if (!isSlackUserId(request.requesterId) || !(endedForRequester(request) || unseen)) return;
  // Access granted to the requester themself: the grantee's DM (tellGrantee) is their outcome DM.
  const selfGrant = request.action === 'grant' && request.profile.grantee === request.requesterId;
  if (selfGrant && request.status === 'completed' && !unseen) return;
  await postMessage(client, request.requesterId, notice).catch((error: Error) =>
    context.logger.error('the requester could not be told the outcome', {
      requestId: request.id,
      error: error.message,
    }),
  );
}

/**
 * Ends a request that cannot be carried out (or posted) as failed, once across instances, with its audit
 * row (one transaction: if the row cannot be written nothing is failed, the request stays as it was and
 * this is logged), then (unless told not to) its card, a message in its channel and the requester's DM
 * (`told`: its text, instead of the standard notice).
 */
export async function failRequest(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  reason: string,
  options: { announce: boolean; told?: string } = { announce: true },
): Promise<void> {
  const entry = {
    actor: 'system',
    kind: 'result' as const,
    command: COMMAND_OF[request.action],
    target: request.target,
    outcome: 'failed',
    requestId: request.id,
    detail: { reason, ...groupDetail(request) },
  };
  let ended: ApprovalRequest | null;
  try {
    ended = await writeWithRecord(context, entry, (record) =>
      context.store.failApproval(request.id, reason, record),
    );
  } catch (error) {
    context.logger.error('AUDIT ROW MISSING: the failure was not recorded; the request stays as it was', {
      requestId: request.id,
      command: entry.command,
      reason,
      error: (error as Error).message,
    });
    return;
  }
  if (!ended) return; // another instance ended or completed it
  context.logger.warn('approval request failed', { requestId: request.id, reason });
  if (!options.announce) return;
  const dm = options.told === undefined ? undefined : errorNotice(options.told, { sandbox: context.sandbox });
  await announceDecision(context, client, ended, undefined, dm);
}

/**
 * Runs an approved request that this instance has claimed, keeps its result, and shows it. Safe to
 * repeat after a crash: a second run finds the change made and changes nothing, and a disable, enable,
 * grant or create that finds it made after our own earlier attempt reports it as done (a create only
 * for a user with exactly the approved userName and email, its result row saying so). A transient Atlassian failure
 * (429, 5xx, timeout, network) leaves the request approved for a later sweep (see retryLater). A
 * request whose stored form is invalid, or whose carrying out throws, ends as failed instead.
 */
async function carryOutClaimed(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  announce: Announce,
): Promise<void> {
  let plan: ApprovalPlan;
  let result: IamResult;
  try {
    plan = readApprovalPlan(request.action, request.profile);
    if (plan.action === 'grant' && plan.profile.extends !== undefined) {
      const extended = await extendFirst(context, { ...plan.profile, extends: plan.profile.extends });
      if (!extended) return failRequest(context, client, request, GRANT_ENDED_MEANWHILE);
    }
    result = await carryOutPlan(context.iam, plan, (request.attempts ?? 0) > 1);
  } catch (error) {
    return failRequest(context, client, request, (error as Error).message);
  }
  const cause = failureCause(result);
  if (cause && isTransientFailure(cause)) return retryLater(context, client, request, cause);
  if ((request.attempts ?? 0) > 1) result = finishedByEarlierAttempt(plan, result);
  if (plan.action === 'grant') result = await recordGrant(context, request, plan.profile, result);
  const stored = result as unknown as Record<string, unknown>;
  if (!(await complete(context, client, request, result))) return;
  await announceAndMark(context, client, { ...request, status: 'completed', result: stored }, announce);
}

/**
 * Keeps the result with its audit row (one transaction, so no kill comes between them): false when
 * another instance finished it, or when the row cannot be written. Then nothing is completed: the
 * request stays approved, its approver is told (on the first attempt), and once the lease has run out
 * a sweep carries it out again, finds the change made and completes it as done.
 */
async function complete(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  result: IamResult,
): Promise<boolean> {
  const approver = request.decidedBy ?? request.requesterId;
  const entry = resultEntry(approver, request.action, result, request.id);
  try {
    return await writeWithRecord(context, entry, (record) =>
      context.store.completeApproval(request.id, result as unknown as Record<string, unknown>, record),
    );
  } catch (error) {
    context.logger.error('AUDIT ROW MISSING: the result was not recorded; the request stays approved', {
      requestId: request.id,
      command: entry.command,
      outcome: entry.outcome,
      error: (error as Error).message,
    });
    if ((request.attempts ?? 1) <= 1) {
      const text = `The approved ${request.action} of ${request.target} was sent to Atlassian (${entry.outcome}), but the audit log is unavailable, so it is not recorded yet; it is checked again, recorded and announced once the audit log works.`;
      await tellPerson(context, client, approver, text);
    }
    return false;
  }
}

/** Tells of a completed request: its card, its thread, its requester (see announceDecision). */
export type Announce = (context: BotContext, client: WebClient, request: ApprovalRequest) => Promise<void>;

export const announceCompleted: Announce = async (context, client, request) => {
  await announceDecision(context, client, request, request.result as unknown as IamResult);
  if (request.action === 'grant') await tellGrantee(context, client, request);
};

/**
 * Announces a completed request, then marks it announced. A crash before the mark announces it again
 * at the next start (see Store.listUnannounced): a post may be repeated, never lost.
 */
export async function announceAndMark(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  announce: Announce,
): Promise<void> {
  await announce(context, client, request);
  await context.store.markAnnounced(request.id).catch((error: Error) =>
    context.logger.warn('could not mark a request announced; a restart may announce it again', {
      requestId: request.id,
      error: error.message,
    }),
  );
}

/**
 * Runs an approved request that this instance has claimed (see carryOutClaimed) and `announce`s its
 * completion, renewing its lease while the work and the announcement run (a heartbeat), so a live
 * holder is never taken over.
 */
export async function carryOut(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  announce: Announce = announceCompleted,
): Promise<void> {
  await withLease(context, request.id, () => carryOutClaimed(context, client, request, announce));
}

/**
 * Approved work that met a transient Atlassian failure stays approved: its next attempt waits 1, 2, 4 …
 * minutes (capped), its card says Atlassian is not answering and until when it is retried, and the
 * sweep of any instance tries again. Past the deadline it ends as failed with the reason, and the
 * approver and the requester are told in the thread and by DM.
 */
async function retryLater(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  cause: ScimRequestError,
): Promise<void> {
  const { deadlineMs, firstDelayMs, maxDelayMs } = context.approvedRetry;
  const deadline = retryDeadline(request, deadlineMs);
  const now = context.clock();
  const attempts = request.attempts ?? 1;
  if (now.getTime() >= deadline.getTime()) {
    const reason = `Atlassian did not answer until ${deadline.toISOString()}, after ${attempts} attempts: ${cause.message}`;
    const text = `The approved ${request.action} of ${request.target} failed: ${reason}. Nothing was changed; ask again if it is still needed.`;
    // The requester is told by the outcome's DM; the approver too.
    await failRequest(context, client, request, reason, { announce: true, told: text });
    if (request.decidedBy && request.decidedBy !== request.requesterId) {
      await tellPerson(context, client, request.decidedBy, text);
    }
    return;
  }
  const delay = Math.min(firstDelayMs * 2 ** Math.max(0, attempts - 1), maxDelayMs);
  const next = new Date(Math.min(now.getTime() + delay, deadline.getTime()));
  const deferred = await context.store.deferApproval(request.id, CLAIM_OWNER, next, cause.message);
  if (!deferred) return; // no longer ours: another instance took it over or ended it
  context.logger.warn('approved request retried later: Atlassian is not answering', {
    requestId: request.id,
    attempts,
    nextAttemptAt: next.toISOString(),
    error: cause.message,
  });
  await auditDone(context, {
    actor: 'system',
    kind: 'result',
    command: COMMAND_OF[request.action],
    target: request.target,
    outcome: 'retrying',
    requestId: request.id,
    detail: { reason: cause.message, attempts, nextAttemptAt: next.toISOString(), ...groupDetail(request) },
  });
  // The retry is stored; a card Slack will not update catches up with the next attempt.
  const card = approvalDecidedMessage(cardOf(deferred, statusWhenRequested(deferred), deadlineMs), {
    sandbox: context.sandbox,
  });
  await refreshCard(context, client, deferred, card, 'update the card of a retried request');
}

/**
 * Replaces a posted card with `message`. What it shows is stored already, so a card Slack will not
 * update is logged (could not `what`) and caught up by the request's next update.
 */
export async function refreshCard(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  message: SlackMessage,
  what: string,
): Promise<void> {
  if (!request.messageTs) return;
  try {
    await updateMessage(client, request.channelId, request.messageTs, message);
  } catch (error) {
    context.logger.error(`could not ${what}`, { requestId: request.id, error: (error as Error).message });
  }
}

/**
 * A direct message to one person about approved work that went wrong (not a refusal: what was done is
 * said by the text itself); a failure to send it is logged.
 */
async function tellPerson(context: BotContext, client: WebClient, userId: string, text: string) {
  try {
    await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
  } catch (error) {
    context.logger.error('could not send a direct message', { error: (error as Error).message });
  }
}

/**
 * Claims an approved request (one instance at a time) and carries it out; false when another holds it.
 * With `takeOverFrom`, the lease of that (dead) holder is taken over even though it is still running.
 */
export async function claimAndCarryOut(
  context: BotContext,
  client: WebClient,
  id: string,
  takeOverFrom?: string,
): Promise<boolean> {
  const claimed = await context.store.claimApproval(
    id,
    context.clock(),
    APPROVAL_LEASE_MS,
    CLAIM_OWNER,
    takeOverFrom,
  );
  if (!claimed) return false;
  await carryOut(context, client, claimed);
  return true;
}

/** Marks pending requests past their expiry as expired and updates their messages; any instance may run it. */
export async function expireDue(context: BotContext, client: WebClient): Promise<void> {
  let expired: ApprovalRequest[];
  try {
    expired = await context.store.expireApprovals(context.clock());
  } catch (error) {
    // Logged, not thrown: the sweep still goes on to recover approved requests.
    context.logger.error('could not expire due requests', { error: (error as Error).message });
    return;
  }
  for (const request of expired) {
    // One at a time: a message Slack refuses must not keep the others' from being updated. The
    // request has expired already: its row never throws.
    try {
      await auditDone(context, {
        actor: 'system',
        kind: 'decision',
        command: 'expire',
        target: request.target,
        outcome: 'expired',
        requestId: request.id,
        detail: request.action === 'grant' ? groupDetail(request) : null,
      });
      await announceDecision(context, client, request);
    } catch (error) {
      context.logger.error('could not announce an expired request', {
        requestId: request.id,
        error: (error as Error).message,
      });
    }
  }
}

/**
 * At start (and on every sweep): approved requests that a crash interrupted are carried out, each by
 * one instance (the claim), and carrying out again finds the change made and changes nothing. A claim
 * whose holder is certainly dead (killed on this host, see claimHolderIsDead) is taken over at once:
 * without that, a bot restarted after `kill -9` mid-change would leave the approved request stuck until
 * the lease ran out, and, recovery running only at start, until some later restart. Other claims wait
 * for their lease to run out. Each request is handled on its own: one that cannot be carried out ends
 * as failed (see carryOut), and any other error is logged and the next request is still handled, so
 * stored data never stops the start or the sweep.
 */
export async function recoverApproved(context: BotContext, client: WebClient): Promise<number> {
  let approved: ApprovalRequest[];
  try {
    approved = await context.store.listApprovedIncomplete();
  } catch (error) {
    context.logger.error('could not list approved requests', { error: (error as Error).message });
    return 0;
  }
  let count = 0;
  for (const request of approved) {
    if (request.scheduledAt) continue; // src/handlers/scheduled.ts carries these out at their time
    try {
      const dead = claimHolderIsDead(request.claimedBy) ? (request.claimedBy ?? undefined) : undefined;
      if (await claimAndCarryOut(context, client, request.id, dead)) count += 1;
    } catch (error) {
      context.logger.error('could not carry out an approved request', {
        requestId: request.id,
        error: (error as Error).message,
      });
    }
  }
  return count;
}
