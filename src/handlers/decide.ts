/**
 * Approve and Deny clicks: a click counts once it passes the guards (its own message, an approver of
 * the request's rule, not the requester, a request that can still be carried out). A Deny from any
 * approver ends the request; Approves are counted until the rule's N distinct approvers, then the
 * request is carried out as any approved request (claims, leases, retries).
 */
import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { readApprovalPlan } from '../iam';
import { LEGACY_RULE } from '../store';
import type { ApprovalRequest, ApprovalVote, NewAuditEntry } from '../store/types';
import { approvalRequestMessage, refusalMessage, voteRecordedNotice } from '../views/slack';
import { cardOf, statusWhenRequested } from './approval-card';
import { announceDecision, claimAndCarryOut, expireDue, failRequest, refreshCard } from './approvals';
import { AuditUnavailableError, auditDone, type BotContext } from './context';
import { groupDetail } from './grants';
import {
  approverStanding,
  type Click,
  type ClickOrigin,
  contextMismatch,
  type DecisionGuard,
  decisionGuards,
} from './decision-guards';
import { tellEphemeral } from './posting';

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

/** A pending request whose stored form (plan or rule) could never be carried out is not decided but ended. */
function carriedOutOnly(context: BotContext, client: WebClient): DecisionGuard {
  return async ({ request }) => {
    if (request.status !== 'pending') return null;
    let reason = request.ruleProblem ?? null;
    try {
      readApprovalPlan(request.action, request.profile);
    } catch (error) {
      reason ??= (error as Error).message;
    }
    if (reason === null) return null;
    await failRequest(context, client, request, reason);
    return `This ${request.action} request cannot be carried out (${reason}); it was closed.`;
  };
}

/**
 * A crash between posting a request's card and recording where it went leaves the request without its
 * message, and every click on that card would be refused until it expired. The first click from the
 * request's own workspace and channel binds the card it came from: only the bot posts cards, and the
 * button carries the request's unguessable id.
 */
async function bindUnrecordedCard(
  context: BotContext,
  request: ApprovalRequest,
  origin: ClickOrigin,
): Promise<ApprovalRequest> {
  if (request.messageTs !== null || origin.messageTs === null || request.status !== 'pending') return request;
  const bound = { ...request, messageTs: origin.messageTs };
  if (contextMismatch(bound, origin) !== null) return request;
  await context.store.setApprovalMessage(request.id, request.channelId, origin.messageTs);
  return bound;
}

/** An Approve or Deny click. Only an approver of the request's rule, other than the requester, decides. */
export async function decide(context: BotContext, client: WebClient, input: DecisionInput): Promise<void> {
  // A tampered button value with a NUL byte names no request, and PostgreSQL text cannot hold one: the
  // lookup (and the refusal's audit row) would fail and the click would go unanswered.
  if (input.requestId.includes('\u0000')) {
    const requestId = input.requestId.replaceAll('\u0000', '\uFFFD');
    return refuse(context, { ...input, requestId }, 'This approval request does not exist.', null);
  }
  const stored = await context.store.getApproval(input.requestId);
  if (!stored) return refuse(context, input, 'This approval request does not exist.', null);
  const request = await bindUnrecordedCard(context, stored, input.origin);
  const click: Click = { ...input, request, rule: request.rule ?? LEGACY_RULE, now: context.clock() };
  for (const guard of [...decisionGuards(context), carriedOutOnly(context, client)]) {
    const refusal = await guard(click);
    if (refusal) return refuse(context, input, refusal, request.target);
  }
  return input.decision === 'denied'
    ? deny(context, client, input, click)
    : approve(context, client, input, click);
}

/**
 * The click's audit row, written by the store with the decision or vote it records; a vote's names the
 * earlier voters it did not count (`notCounted`, see lapsedVoters).
 */
function decisionRow(
  click: Click,
  outcome: string,
  vote?: Omit<ApprovalVote, 'request'>,
  lapsed: readonly string[] = [],
): NewAuditEntry {
  const { request } = click;
  return {
    at: click.now,
    source: 'slack',
    actor: click.userId,
    kind: 'decision',
    command: click.decision === 'approved' ? 'approve' : 'deny',
    target: request.target,
    outcome,
    requestId: request.id,
    detail: {
      requesterId: request.requesterId,
      reason: request.reason,
      ...groupDetail(request),
      ...(vote ? { approvedBy: vote.voters, approvals: click.rule.approvals } : {}),
      ...(lapsed.length > 0 ? { notCounted: lapsed } : {}),
    },
  };
}

/** A decision or vote whose row is written with it, in one transaction: no row, nothing decided, clicker told. */
async function recorded<T>(context: BotContext, requestId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    context.metrics.auditWriteFailure();
    context.logger.error('decision not recorded; nothing was decided', {
      requestId,
      error: (error as Error).message,
    });
    throw new AuditUnavailableError(error);
  }
}

async function deny(context: BotContext, client: WebClient, input: DecisionInput, click: Click) {
  const { request, now } = click;
  const decided = await recorded(context, request.id, () =>
    context.store.decideApproval(request.id, 'denied', input.userId, now, decisionRow(click, 'denied')),
  );
  if (!decided) return notPending(context, client, input, request);
  context.metrics.decision(decided.status);
  await announceDecision(context, client, decided);
}

/**
 * The earlier voters who no longer qualify as approvers, asked live as the clicker was (deactivated,
 * no longer in the rule's people or user group, taken out of IAM_APPROVERS or the policy running now):
 * their votes do not count towards N. A voter after this check was checked by their own click.
 */
async function lapsedVoters(context: BotContext, click: Click): Promise<string[]> {
  const earlier = (await context.store.listVoters(click.request.id)).filter((id) => id !== click.userId);
  const standings = await Promise.all(
    earlier.map((userId) => approverStanding(context, { ...click, userId })),
  );
  return earlier.filter((_, i) => standings[i] !== 'approver');
}

async function approve(context: BotContext, client: WebClient, input: DecisionInput, click: Click) {
  const { request, now } = click;
  let lapsed: string[];
  try {
    lapsed = await lapsedVoters(context, click);
  } catch (error) {
    context.logger.error('could not check the earlier approvers', { error: (error as Error).message });
    const reason =
      'Could not check whether the earlier approvals still count; nothing was decided. Try again.';
    return refuse(context, input, reason, request.target);
  }
  const vote = await recorded(context, request.id, () =>
    context.store.voteApproval(
      request.id,
      input.userId,
      now,
      (tally) => decisionRow(click, tally.decided ? 'approved' : 'voted', tally, lapsed),
      lapsed,
    ),
  );
  if (!vote) return notPending(context, client, input, request);
  const missing = Math.max(0, click.rule.approvals - vote.voters.length);
  if (!vote.counted) {
    const more = `${missing} more ${missing === 1 ? 'approval is' : 'approvals are'} needed from other approvers`;
    return refuse(context, input, `You approved this ${request.action} already; ${more}.`, request.target);
  }
  if (!vote.decided) return showProgress(context, client, input, vote, click.rule.approvals);
  const decided = vote.request;
  context.metrics.decision(decided.status);
  // Approved ahead: shown as scheduled; src/handlers/scheduled.ts carries it out at its time.
  if (decided.scheduledAt && decided.scheduledAt > now) return announceDecision(context, client, decided);
  // The change first, then the card: a Slack outage must not hold up (or lose) an approved change.
  await claimAndCarryOut(context, client, decided.id);
}

/** A click on a request no longer pending: it expired (and is marked so now), or was decided already. */
async function notPending(
  context: BotContext,
  client: WebClient,
  input: DecisionInput,
  request: ApprovalRequest,
) {
  const what = `${request.action} request`;
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

/** An Approve that counted but did not decide: the card shows who approved and how many more are needed. */
async function showProgress(
  context: BotContext,
  client: WebClient,
  input: DecisionInput,
  vote: ApprovalVote,
  needed: number,
) {
  const { request, voters } = vote;
  const notice = voteRecordedNotice({ approvedBy: voters.length, needed }, { sandbox: context.sandbox });
  await tellEphemeral(input.respond, notice).catch((error: Error) =>
    context.logger.warn('could not tell the approver', { requestId: request.id, error: error.message }),
  );
  const card = cardOf(request, statusWhenRequested(request), 0, voters);
  const message = approvalRequestMessage(card, { sandbox: context.sandbox });
  // The vote is stored: the next one (or the decision) updates the card again.
  await refreshCard(context, client, request, message, 'show the approvals so far');
}
