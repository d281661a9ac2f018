import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import {
  type ApprovalAction,
  type ApprovalPlan,
  applyWrite,
  carryOutPlan,
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
  type WritePreview,
  type UserProfile,
  outcomeOf,
  resultDetail,
  runCommand,
  targetOf,
} from '../iam';
import { checkScheduleLimit, directoryTarget } from '../iam/policy-target';
import { type PolicyAction, policyFor } from '../policy';
import { IDENTIFIER_ATTRIBUTES } from '../iam/commands';
import { isTransientFailure } from '../scim/client';
import type { ScimRequestError } from '../scim/errors';
import type { ScimUser } from '../scim/types';
import type { ApprovalRequest } from '../store/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  type ApprovalCard,
  type ApprovalChange,
  refusalMessage,
  requesterNotice,
  resultMessage,
  type SlackMessage,
} from '../views/slack';
import {
  type ApprovedRetry,
  audit,
  auditDone,
  AuditUnavailableError,
  type BotContext,
  pinnedUser,
  writeWithRecord,
} from './context';
import { type ClickOrigin, contextMismatch } from './decision-guards';
import { groupDetail, recordGrant, tellGrantee } from './grants';
import { storeFollowUps } from './reminders';
import { cardSchedule, expiryOf } from './schedule-card';
import { cannotPost, postMessage, tellEphemeral, updateMessage } from './posting';

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
  'iam-disable-user' | 'iam-enable-user' | 'iam-update-user' | 'iam-grant'
> = {
  disable: 'iam-disable-user',
  enable: 'iam-enable-user',
  update: 'iam-update-user',
  grant: 'iam-grant',
};

/** An update's changes as stored with it (read loosely: a card is shown even for a request that failed). */
function storedChanges(request: ApprovalRequest): ApprovalChange[] | undefined {
  const changes = request.profile.changes;
  return request.action === 'update' && Array.isArray(changes) ? (changes as ApprovalChange[]) : undefined;
}

/** A grant's group and length as stored with it (read loosely, likewise). */
function storedGrant(request: ApprovalRequest): ApprovalCard['grant'] {
  const { group } = groupDetail(request);
  const duration = request.profile.durationMs;
  return group === undefined
    ? undefined
    : { group, durationMs: typeof duration === 'number' ? duration : null };
}

export function cardOf(
  request: ApprovalRequest,
  current?: { active: boolean | null; id: string | null },
  retryDeadlineMs = 0,
): ApprovalCard {
  const reason = request.status === 'failed' ? request.result?.reason : undefined;
  const retrying = request.status === 'approved' && request.lastError !== undefined;
  return {
    id: request.id,
    action: request.action,
    changes: storedChanges(request),
    grant: storedGrant(request),
    failureReason: typeof reason === 'string' ? reason : null,
    requesterId: request.requesterId,
    target: request.target,
    reason: request.reason,
    status: request.status,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    decidedBy: request.decidedBy,
    decidedAt: request.decidedAt,
    currentActive: current?.active ?? null,
    currentId: current?.id ?? null,
    retryingUntil: retrying ? retryDeadline(request, retryDeadlineMs) : null,
    ...cardSchedule(request),
  };
}

/**
 * Until when approved work that meets transient Atlassian failures is retried: the deadline after its
 * approval, or after its time for a request scheduled ahead.
 */
export const retryDeadline = (request: ApprovalRequest, deadlineMs: number): Date => {
  const approved = (request.decidedAt ?? request.createdAt).getTime();
  return new Date(Math.max(approved, request.scheduledAt?.getTime() ?? 0) + deadlineMs);
};

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
  detail: resultDetail(result),
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

/** How long an instance may take to carry out an approved request before another may take over. */
export const APPROVAL_LEASE_MS = 2 * 60_000;

/** Retries of approved work: 1, 2, 4 … minutes apart (at most 30), until `deadlineMs` after approval. */
export const approvedRetry = (deadlineMs: number): ApprovedRetry => ({
  deadlineMs,
  firstDelayMs: 60_000,
  maxDelayMs: 30 * 60_000,
  leaseRenewMs: APPROVAL_LEASE_MS / 4,
});

/** Tells the requester privately: by response_url, else in a DM; a failure to tell is logged. */
export async function tellRequester(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  text: string,
) {
  const message = refusalMessage(text, { sandbox: context.sandbox });
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
  await requestApproval(context, client, input, { action, profile: pinUser(preview.user) }, preview.user);
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
  if (withGroups && 'notFound' in preview)
    return runNow(() => runCommand('iam-create-user', context.iam, profile, { allowEnable }));
  await carryOutPreview(context, client, { ...input, preview }, kind, runNow);
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
): Promise<void> {
  const { preview } = input;
  if ('update' in preview && preview.update.takesOver) {
    return requestApproval(context, client, input, updatePlan(preview.update), preview.update.user);
  }
  await runNow(() => applyWrite(context.iam, input.profile, preview, kind));
}

/** The policy action an approval carries out: an update needs one when it changes an identifier, else when it re-enables. */
function policyActionOf(plan: ApprovalPlan): PolicyAction {
  if (plan.action !== 'update') return plan.action;
  const identifier = plan.profile.changes.some((change) => IDENTIFIER_ATTRIBUTES.has(change.attribute));
  return identifier ? 'identifier-change' : 'enable';
}

/**
 * Asks for an approval: the "requested" audit row first (no audit row, nothing done), then the request
 * is stored, then its card is posted, so a card on screen always names a stored request. A request
 * that cannot be stored is never posted; one whose card cannot be posted ends as failed (nobody could
 * approve it), and either way the requester is told.
 */
export async function requestApproval(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  plan: ApprovalPlan,
  user: ScimUser,
): Promise<void> {
  const verb = plan.action;
  let checked: ApprovalPlan;
  try {
    // The same check as when it is loaded: a request that could never be carried out is not stored.
    checked = readApprovalPlan(plan.action, plan.profile);
  } catch (error) {
    // Atlassian's answer named no usable user (e.g. no id): nothing could be approved.
    return tellRequester(context, client, input, `Nothing was requested: ${(error as Error).message}.`);
  }
  const { profile } = checked;
  const now = context.clock();
  const draft = {
    id: context.newId(),
    action: checked.action,
    requesterId: input.requesterId,
    channelId: input.channelId,
    teamId: input.teamId,
    enterpriseId: input.enterpriseId,
    profile,
    target: profile.email ?? profile.username ?? profile.id,
    reason: input.reason,
    createdAt: now,
    expiresAt: expiryOf(now, context.approvalTtlMs, input.schedule),
    ...(input.schedule ? { schedule: input.schedule } : {}),
  };
  await audit(context, {
    actor: input.requesterId,
    kind: 'command',
    command: COMMAND_OF[verb],
    target: draft.target,
    outcome: input.schedule ? 'scheduled' : 'requested',
    requestId: draft.id,
    detail: {
      action: verb,
      reason: input.reason,
      profile,
      ...(input.schedule ?? {}),
      ...groupDetail(checked),
    },
  });
  let request: ApprovalRequest;
  try {
    request = await context.store.createApproval(draft);
  } catch (error) {
    context.logger.error('approval request not stored', { error: (error as Error).message });
    await tellRequester(
      context,
      client,
      input,
      `Your ${verb} request could not be stored, so it was not posted and nothing will be done. Try again.`,
    );
    return;
  }
  const rule = policyFor(context.policy, {
    action: policyActionOf(checked),
    target: directoryTarget(user),
    requesterId: input.requesterId,
  });
  await storeFollowUps(context, request, rule);
  const card = approvalRequestMessage(cardOf(request, { active: user.active ?? null, id: user.id ?? null }), {
    sandbox: context.sandbox,
  });
  let ts: string | null;
  try {
    ts = await postMessage(client, input.channelId, card);
  } catch (error) {
    // Nobody could approve a request nobody sees: it is closed (failed), and the requester told why.
    const notInChannel = cannotPost(error);
    context.logger.error('approval request not posted', { error: (error as Error).message });
    const reason = notInChannel ? 'the bot cannot post in this channel' : 'Slack refused the request message';
    await failRequest(context, client, request, reason, { announce: false });
    const told = notInChannel
      ? 'I cannot post the approval request in this channel, so no approver could see it: invite me with /invite and ask again.'
      : 'I could not post the approval request, so no approver could see it; it was closed and nothing will be done. Ask again.';
    await tellRequester(context, client, input, told);
    return;
  }
  if (ts) await context.store.setApprovalMessage(request.id, input.channelId, ts);
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

/**
 * Updates the request message (when it was posted) and tells the requester in its thread. Each step is
 * tried on its own: a card Slack will not update must not also cost the result and the requester's
 * notice; when Slack takes none of them, the requester is told by DM.
 */
export async function announceDecision(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  result?: IamResult,
) {
  const notice = requesterNotice(cardOf(request), result, { sandbox: context.sandbox });
  if (!request.messageTs) {
    // A failed request whose card was never posted still says so in its channel.
    if (request.status === 'failed') await postAbout(client, request, notice);
    return;
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
          approvalDecidedMessage(cardOf(request), { sandbox: context.sandbox, outcome: result }),
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
  if (failures === steps.length) {
    await postMessage(client, request.requesterId, notice).catch((error: Error) =>
      context.logger.error('the requester could not be told the outcome', {
        requestId: request.id,
        error: error.message,
      }),
    );
  }
}

/**
 * Ends a request that cannot be carried out (or posted) as failed, once across instances: its audit
 * row, then (unless told not to) its card and a message in its channel.
 */
async function failRequest(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  reason: string,
  options: { announce: boolean } = { announce: true },
): Promise<void> {
  const ended = await context.store.failApproval(request.id, reason);
  if (!ended) return; // another instance ended or completed it
  context.logger.warn('approval request failed', { requestId: request.id, reason });
  // The request has ended: its row records what happened and never stops the announcement.
  await auditDone(context, {
    actor: 'system',
    kind: 'result',
    command: COMMAND_OF[request.action],
    target: request.target,
    outcome: 'failed',
    requestId: request.id,
    detail: { reason, ...groupDetail(request) },
  });
  if (options.announce) await announceDecision(context, client, ended);
}

/**
 * Runs an approved request that this instance has claimed, keeps its result, and shows it. Safe to
 * repeat after a crash: a second run finds the change made and changes nothing, and a disable or enable
 * that finds it made after our own earlier attempt reports it as done. A transient Atlassian failure
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
    result = await carryOutPlan(context.iam, plan);
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
  const heartbeat = setInterval(() => {
    context.store
      .renewClaim(request.id, CLAIM_OWNER, context.clock(), APPROVAL_LEASE_MS)
      .catch((error: Error) =>
        context.logger.warn('could not renew a lease', { requestId: request.id, error: error.message }),
      );
  }, context.approvedRetry.leaseRenewMs);
  heartbeat.unref();
  try {
    await carryOutClaimed(context, client, request, announce);
  } finally {
    clearInterval(heartbeat);
  }
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
    await failRequest(context, client, request, reason);
    const text = `The approved ${request.action} of ${request.target} failed: ${reason}. Nothing was changed; ask again if it is still needed.`;
    for (const person of new Set([request.requesterId, request.decidedBy ?? request.requesterId])) {
      await tellPerson(context, client, person, text);
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
  if (!deferred.messageTs) return;
  try {
    const card = cardOf(deferred, undefined, deadlineMs);
    await updateMessage(
      client,
      deferred.channelId,
      deferred.messageTs,
      approvalDecidedMessage(card, { sandbox: context.sandbox }),
    );
  } catch (error) {
    // The retry is stored; the card catches up with the next attempt.
    context.logger.error('could not update the card of a retried request', {
      requestId: request.id,
      error: (error as Error).message,
    });
  }
}

/** A direct message to one person; a failure to send it is logged. */
async function tellPerson(context: BotContext, client: WebClient, userId: string, text: string) {
  try {
    await postMessage(client, userId, refusalMessage(text, { sandbox: context.sandbox }));
  } catch (error) {
    context.logger.error('could not send a direct message', { error: (error as Error).message });
  }
}

/**
 * Who holds a claim: `host/pid/boot`. One value per process (every bot in one process shares it, so
 * they never take each other's claims); `boot` tells this process from an earlier one with the same pid
 * (a restarted container's bot is often pid 1 again).
 */
export const CLAIM_OWNER = `${os.hostname()}/${process.pid}/${randomUUID()}`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it may be a live bot.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True only when the holder of a claim is certainly dead: a process on this very host that no longer
 * exists, or an earlier process that had our own pid. A holder on another host, or one whose liveness
 * cannot be told (no owner recorded, pid in use), is presumed alive and keeps its lease, so with
 * several instances (PostgreSQL) a starting instance never takes a disable out of a live peer's hands
 * (both could find the user active and send the PATCH); such a claim is taken over only when its
 * lease has run out, by the periodic sweep of any instance.
 */
export function claimHolderIsDead(owner: string | null | undefined, self = CLAIM_OWNER): boolean {
  if (!owner || owner === self) return false;
  const [host, pidText, boot] = owner.split('/');
  const [ownHost, ownPid] = self.split('/');
  const pid = Number(pidText);
  if (host !== ownHost || !Number.isSafeInteger(pid) || pid <= 0 || !boot) return false;
  if (String(pid) === ownPid) return true; // same pid, other boot: an earlier incarnation of this process
  return !isAlive(pid);
}

/**
 * Claims an approved request (one instance at a time) and carries it out; false when another holds it.
 * With `takeOverFrom`, the lease of that (dead) holder is taken over even though it is still running.
 */
async function claimAndCarryOut(
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

export interface DecisionInput {
  requestId: string;
  userId: string;
  decision: 'approved' | 'denied';
  respond: RespondFn;
  origin: ClickOrigin;
}

async function refuse(context: BotContext, input: DecisionInput, reason: string, target: string | null) {
  await tellEphemeral(input.respond, refusalMessage(reason, { sandbox: context.sandbox }));
  await auditDone(context, {
    actor: input.userId,
    kind: 'refusal',
    command: input.decision === 'approved' ? 'approve' : 'deny',
    target,
    outcome: 'refused',
    requestId: input.requestId,
    detail: { reason },
  });
}

/** An Approve or Deny click. Only an approver other than the requester decides, and only once. */
export async function decide(context: BotContext, client: WebClient, input: DecisionInput): Promise<void> {
  // A tampered button value with a NUL byte names no request, and PostgreSQL text cannot hold one: the
  // lookup (and the refusal's audit row) would fail and the click would go unanswered.
  if (input.requestId.includes('\u0000')) {
    const requestId = input.requestId.replaceAll('\u0000', '\uFFFD');
    return refuse(context, { ...input, requestId }, 'This approval request does not exist.', null);
  }
  const request = await context.store.getApproval(input.requestId);
  if (!request) return refuse(context, input, 'This approval request does not exist.', null);
  const mismatch = contextMismatch(request, input.origin);
  if (mismatch) return refuse(context, input, mismatch, request.target);
  const what = `${request.action} request`;
  let approver: boolean;
  try {
    // Live: a permission removed in Slack stops a decision at once, whatever the cache holds.
    approver = await context.access.isApprover(input.userId, { live: true });
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    return refuse(
      context,
      input,
      'Could not check your permissions with Slack; nothing was decided. Try again.',
      request.target,
    );
  }
  if (!approver) {
    return refuse(context, input, `Only approvers (IAM_APPROVERS) can decide ${what}s.`, request.target);
  }
  if (input.userId === request.requesterId) {
    return refuse(
      context,
      input,
      `You asked for this ${request.action}, so someone else has to decide it.`,
      request.target,
    );
  }
  if (request.status === 'pending') {
    // Validated when loaded: a stored request that could never be carried out is not decided but ended.
    try {
      readApprovalPlan(request.action, request.profile);
    } catch (error) {
      const reason = (error as Error).message;
      await failRequest(context, client, request, reason);
      return refuse(
        context,
        input,
        `This ${what} cannot be carried out (${reason}); it was closed.`,
        request.target,
      );
    }
  }
  const now = context.clock();
  // The decision's row is written with it, in one transaction: no row, nothing decided, clicker told.
  let decided: ApprovalRequest | null;
  try {
    decided = await context.store.decideApproval(request.id, input.decision, input.userId, now, {
      at: now,
      source: 'slack',
      actor: input.userId,
      kind: 'decision',
      command: input.decision === 'approved' ? 'approve' : 'deny',
      target: request.target,
      outcome: input.decision,
      requestId: request.id,
      detail: { requesterId: request.requesterId, reason: request.reason, ...groupDetail(request) },
    });
  } catch (error) {
    context.metrics.auditWriteFailure();
    context.logger.error('decision not recorded; nothing was decided', {
      requestId: request.id,
      error: (error as Error).message,
    });
    throw new AuditUnavailableError(error);
  }
  if (decided) context.metrics.decision(decided.status);
  if (!decided) {
    const latest = (await context.store.getApproval(request.id)) ?? request;
    if (latest.status === 'pending') {
      await expireDue(context, client);
      return refuse(
        context,
        input,
        `This ${what} has expired; ask for it again if it is still needed.`,
        request.target,
      );
    }
    const state =
      latest.status === 'completed'
        ? 'approved'
        : latest.status === 'failed'
          ? 'closed as failed'
          : latest.status;
    return refuse(context, input, `This ${what} was already ${state}.`, request.target);
  }
  if (decided.status === 'denied') return announceDecision(context, client, decided);
  // Approved ahead: shown as scheduled; src/handlers/scheduled.ts carries it out at its time.
  if (decided.scheduledAt && decided.scheduledAt > now) return announceDecision(context, client, decided);
  // The change first, then the card: a Slack outage must not hold up (or lose) an approved change.
  await claimAndCarryOut(context, client, decided.id);
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
