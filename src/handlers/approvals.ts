import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { disableUser, type IamResult, previewDisable, type UserProfile } from '../iam';
import type { ApprovalRequest } from '../store/types';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  type ApprovalCard,
  refusalMessage,
  requesterNotice,
  resultMessage,
} from '../views/slack';
import { audit, type BotContext, targetOf } from './context';
import { type ClickOrigin, contextMismatch } from './decision-guards';
import { cannotPost, postMessage, tellEphemeral, updateMessage } from './posting';

export function cardOf(
  request: ApprovalRequest,
  current?: { active: boolean | null; id: string | null },
): ApprovalCard {
  return {
    id: request.id,
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
  };
}

export const outcomeOf = (result: IamResult): string =>
  !result.IAM.Vendor.success ? 'failure' : result.IAM.Vendor.skipped ? 'skipped' : 'success';

async function auditResult(
  context: BotContext,
  actorId: string,
  result: IamResult,
  requestId: string | null,
) {
  await audit(context, {
    actor: actorId,
    kind: 'result',
    command: 'iam-disable-user',
    target: targetOf(result.IAM.UserProfile),
    outcome: outcomeOf(result),
    requestId,
    detail: result as unknown as Record<string, unknown>,
  });
}

export interface DisableRequestInput {
  requesterId: string;
  channelId: string;
  /** The workspace and Grid org of the command (Slack's team_id, enterprise_id): decisions count only there. */
  teamId: string | null;
  enterpriseId: string | null;
  profile: UserProfile;
  reason: string | null;
  respond?: RespondFn;
}

/** How long an instance may take to carry out an approved disable before another may take over. */
export const APPROVAL_LEASE_MS = 2 * 60_000;

/**
 * /iam-disable-user: never immediate. An active user gets an approval request in the channel; a user
 * who cannot be disabled (switch off, not found, already inactive, lookup failed) gets the result at once.
 */
export async function requestDisable(
  context: BotContext,
  client: WebClient,
  input: DisableRequestInput,
): Promise<void> {
  const preview = await previewDisable(context.iam, input.profile);
  if ('final' in preview) {
    const result = preview.final;
    await postMessage(
      client,
      input.channelId,
      resultMessage(result, { sandbox: context.sandbox, actorId: input.requesterId }),
      { respond: input.respond },
    );
    await auditResult(context, input.requesterId, result, null);
    return;
  }
  const user = preview.user;
  const email = user.emails?.find((e) => e.primary)?.value ?? user.emails?.[0]?.value;
  // The request pins the user's id, so the approval disables exactly the person shown to the approver.
  const profile: Record<string, unknown> = {
    id: user.id,
    ...(email ? { email } : {}),
    ...(user.userName ? { username: user.userName } : {}),
  };
  const now = context.clock();
  const draft = {
    id: context.newId(),
    requesterId: input.requesterId,
    channelId: input.channelId,
    teamId: input.teamId,
    enterpriseId: input.enterpriseId,
    profile,
    target: email ?? user.userName ?? targetOf(input.profile),
    reason: input.reason,
    createdAt: now,
    expiresAt: new Date(now.getTime() + context.approvalTtlMs),
  };
  const card = cardOf(
    { ...draft, messageTs: null, status: 'pending', decidedBy: null, decidedAt: null, result: null },
    { active: user.active ?? null, id: user.id ?? null },
  );
  // Posted before it is stored: a request that approvers cannot see must not exist (it could only expire).
  let ts: string | null;
  try {
    ts = await postMessage(
      client,
      input.channelId,
      approvalRequestMessage(card, { sandbox: context.sandbox }),
    );
  } catch (error) {
    if (!cannotPost(error) || !input.respond) throw error;
    await tellEphemeral(
      input.respond,
      refusalMessage(
        'I cannot post the approval request in this channel, so no approver could see it: invite me with /invite and ask again.',
        { sandbox: context.sandbox },
      ),
    );
    return;
  }
  const request = await context.store.createApproval(draft);
  if (ts) await context.store.setApprovalMessage(request.id, input.channelId, ts);
  await audit(context, {
    actor: input.requesterId,
    kind: 'command',
    command: 'iam-disable-user',
    target: request.target,
    outcome: 'requested',
    requestId: request.id,
    detail: { reason: input.reason, profile },
  });
}

/** Updates the request message (when it was posted) and tells the requester in its thread. */
async function announceDecision(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
  result?: IamResult,
) {
  if (!request.messageTs) return;
  await updateMessage(
    client,
    request.channelId,
    request.messageTs,
    approvalDecidedMessage(cardOf(request), { sandbox: context.sandbox, outcome: result }),
  );
  if (result) {
    const actor = request.decidedBy ?? request.requesterId;
    await postMessage(
      client,
      request.channelId,
      resultMessage(result, { sandbox: context.sandbox, actorId: actor }),
      {
        threadTs: request.messageTs,
      },
    );
  }
  await postMessage(
    client,
    request.channelId,
    requesterNotice(cardOf(request), result, { sandbox: context.sandbox }),
    {
      threadTs: request.messageTs,
    },
  );
}

/**
 * Runs an approved disable that this instance has claimed, keeps its result, and shows it. Safe to
 * repeat after a crash: a second run finds the user inactive and changes nothing.
 */
async function carryOut(context: BotContext, client: WebClient, request: ApprovalRequest): Promise<void> {
  const result = await disableUser(context.iam, request.profile);
  const stored = result as unknown as Record<string, unknown>;
  if (!(await context.store.completeApproval(request.id, stored))) return; // another instance finished it
  await auditResult(context, request.decidedBy ?? request.requesterId, result, request.id);
  await announceDecision(context, client, { ...request, status: 'completed', result: stored }, result);
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
  await audit(context, {
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
    return refuse(context, { ...input, requestId }, 'This disable request does not exist.', null);
  }
  const request = await context.store.getApproval(input.requestId);
  if (!request) return refuse(context, input, 'This disable request does not exist.', null);
  const mismatch = contextMismatch(request, input.origin);
  if (mismatch) return refuse(context, input, mismatch, request.target);
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
    return refuse(
      context,
      input,
      'Only approvers (IAM_APPROVERS) can decide disable requests.',
      request.target,
    );
  }
  if (input.userId === request.requesterId) {
    return refuse(
      context,
      input,
      'You asked for this disable, so someone else has to decide it.',
      request.target,
    );
  }
  const now = context.clock();
  const decided = await context.store.decideApproval(request.id, input.decision, input.userId, now);
  if (!decided) {
    const latest = (await context.store.getApproval(request.id)) ?? request;
    if (latest.status === 'pending') {
      await expireDue(context, client);
      return refuse(
        context,
        input,
        'This disable request has expired; ask for it again if it is still needed.',
        request.target,
      );
    }
    return refuse(
      context,
      input,
      `This disable request was already ${latest.status === 'completed' ? 'approved' : latest.status}.`,
      request.target,
    );
  }
  await audit(context, {
    actor: input.userId,
    kind: 'decision',
    command: input.decision === 'approved' ? 'approve' : 'deny',
    target: decided.target,
    outcome: decided.status,
    requestId: decided.id,
    detail: { requesterId: decided.requesterId, reason: decided.reason },
  });
  if (decided.status === 'denied') return announceDecision(context, client, decided);
  if (decided.messageTs) {
    await updateMessage(
      client,
      decided.channelId,
      decided.messageTs,
      approvalDecidedMessage(cardOf(decided), { sandbox: context.sandbox }),
    );
  }
  await claimAndCarryOut(context, client, decided.id);
}

/** Marks pending requests past their expiry as expired and updates their messages; any instance may run it. */
export async function expireDue(context: BotContext, client: WebClient): Promise<void> {
  const expired = await context.store.expireApprovals(context.clock());
  for (const request of expired) {
    await audit(context, {
      actor: 'system',
      kind: 'decision',
      command: 'expire',
      target: request.target,
      outcome: 'expired',
      requestId: request.id,
      detail: null,
    });
    await announceDecision(context, client, request);
  }
}

/**
 * At start (and on every sweep): approved disables that a crash interrupted are carried out, each by one
 * instance (the claim), and the disable itself finds an already inactive user unchanged. A claim whose
 * holder is certainly dead (killed on this host, see claimHolderIsDead) is taken over at once: without
 * that, a bot restarted after `kill -9` mid-disable would leave the approved disable stuck until the
 * lease ran out, and, recovery running only at start, until some later restart. Other claims wait for
 * their lease to run out.
 */
export async function recoverApproved(context: BotContext, client: WebClient): Promise<number> {
  let count = 0;
  for (const request of await context.store.listApprovedIncomplete()) {
    const dead = claimHolderIsDead(request.claimedBy) ? (request.claimedBy ?? undefined) : undefined;
    if (await claimAndCarryOut(context, client, request.id, dead)) count += 1;
  }
  return count;
}
