import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { disableUser, getUser, type IamResult, type UserProfile } from '../iam';
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
import { postMessage, tellEphemeral, updateMessage } from './posting';

export function cardOf(request: ApprovalRequest, current?: IamResult): ApprovalCard {
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
    currentActive: current ? current.IAM.Vendor.active : null,
    currentId: current ? current.IAM.Vendor.id : null,
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
  profile: UserProfile;
  reason: string | null;
  respond?: RespondFn;
}

/**
 * /iam-disable-user: never immediate. An active user gets an approval request in the channel; a user
 * who cannot be disabled (switch off, not found, already inactive, lookup failed) gets the result at once.
 */
export async function requestDisable(
  context: BotContext,
  client: WebClient,
  input: DisableRequestInput,
): Promise<void> {
  const current = context.iam.switches.disableEnabled ? await getUser(context.iam, input.profile) : null;
  if (!current || !current.IAM.Vendor.success || current.IAM.Vendor.active === false) {
    // disableUser gives the XSOAR answer for these cases: disabled command, not found, already disabled, errors.
    const result = await disableUser(context.iam, input.profile);
    await postMessage(
      client,
      input.channelId,
      resultMessage(result, { sandbox: context.sandbox, actorId: input.requesterId }),
      {
        respond: input.respond,
      },
    );
    await auditResult(context, input.requesterId, result, null);
    return;
  }
  const vendor = current.IAM.Vendor;
  // The request pins the user's id, so the approval disables exactly the person shown to the approver.
  const profile: UserProfile = {
    id: vendor.id,
    email: vendor.email ?? undefined,
    username: vendor.username ?? undefined,
  };
  const now = context.clock();
  const request = await context.store.createApproval({
    id: context.newId(),
    requesterId: input.requesterId,
    channelId: input.channelId,
    profile: JSON.parse(JSON.stringify(profile)) as Record<string, unknown>,
    target: vendor.email ?? vendor.username ?? targetOf(input.profile),
    reason: input.reason,
    createdAt: now,
    expiresAt: new Date(now.getTime() + context.approvalTtlMs),
  });
  const ts = await postMessage(
    client,
    input.channelId,
    approvalRequestMessage(cardOf(request, current), { sandbox: context.sandbox }),
    {
      respond: input.respond,
    },
  );
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

/** Runs an approved disable, keeps its result, and shows it. Safe to repeat: a second run finds the user inactive. */
export async function carryOut(
  context: BotContext,
  client: WebClient,
  request: ApprovalRequest,
): Promise<void> {
  const result = await disableUser(context.iam, request.profile);
  await context.store.completeApproval(request.id, result as unknown as Record<string, unknown>);
  await auditResult(context, request.decidedBy ?? request.requesterId, result, request.id);
  await announceDecision(
    context,
    client,
    { ...request, status: 'completed', result: result as unknown as Record<string, unknown> },
    result,
  );
}

export interface DecisionInput {
  requestId: string;
  userId: string;
  decision: 'approved' | 'denied';
  respond: RespondFn;
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
  const request = await context.store.getApproval(input.requestId);
  if (!request) return refuse(context, input, 'This disable request does not exist.', null);
  if (!(await context.access.isApprover(input.userId))) {
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
  await carryOut(context, client, decided);
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

/** At start: approved disables that a crash interrupted are carried out (the disable itself is idempotent). */
export async function recoverApproved(context: BotContext, client: WebClient): Promise<number> {
  const interrupted = await context.store.listApprovedIncomplete();
  for (const request of interrupted) await carryOut(context, client, request);
  return interrupted.length;
}
