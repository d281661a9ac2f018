import type { BlockAction } from '@slack/bolt';
import type { Logger } from '../log';
import type { ApprovalRequest, ApprovalRule } from '../store/types';
import type { AccessPolicy } from './access';
import { ruleLabel } from '../policy';

/** Where an Approve / Deny click came from, as Slack's block_actions payload says. */
export interface ClickOrigin {
  teamId: string | null;
  enterpriseId: string | null;
  channelId: string | null;
  messageTs: string | null;
}

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Reads the click's team, enterprise, channel and message from the payload (absent parts are null). */
export function originOf(body: BlockAction): ClickOrigin {
  return {
    teamId: body.team?.id ?? body.user.team_id ?? null,
    enterpriseId: body.enterprise?.id ?? body.team?.enterprise_id ?? null,
    channelId: body.channel?.id ?? textOrNull(body.container?.channel_id),
    messageTs: textOrNull(body.container?.message_ts) ?? body.message?.ts ?? null,
  };
}

/**
 * Why a click does not count for `request`, or null when it does: it must come from the request's own
 * workspace (and Grid org, when the request has one), in its channel, on its message. A request stored
 * before its team was recorded (teamId null) is bound to its channel and message only. The answer names
 * no part of the request, so it may be shown to whoever clicked.
 */
export function contextMismatch(request: ApprovalRequest, origin: ClickOrigin): string | null {
  if (request.teamId !== null && origin.teamId !== request.teamId) {
    return 'This button was clicked from another Slack workspace than the one the request was made in.';
  }
  if (request.enterpriseId !== null && origin.enterpriseId !== request.enterpriseId) {
    return 'This button was clicked from another Slack organisation than the one the request was made in.';
  }
  if (origin.channelId !== request.channelId) {
    return 'This button does not belong to a request made in this channel.';
  }
  if (request.messageTs === null || origin.messageTs !== request.messageTs) {
    return 'This button does not belong to this message; decide from the request message itself.';
  }
  return null;
}

/** An Approve or Deny click on a stored request, under the rule it was made under. */
export interface Click {
  userId: string;
  decision: 'approved' | 'denied';
  origin: ClickOrigin;
  request: ApprovalRequest;
  rule: ApprovalRule;
  now: Date;
}

/** Why a click does not count (a sentence for the clicker), or null when it does; checked in order. */
export type DecisionGuard = (click: Click) => Promise<string | null>;

/** Once the rule's escalation is due (its `afterMs` after the request was made), its `to` may approve too. */
export function escalated(click: Pick<Click, 'request' | 'rule' | 'now'>): boolean {
  const { escalate } = click.rule;
  return escalate !== null && click.now.getTime() - click.request.createdAt.getTime() >= escalate.afterMs;
}

/**
 * Whether the clicker is one of the rule's approvers (IAM_APPROVERS when the rule names none), or of its
 * escalation once due. Asked live: a permission removed in Slack stops a decision at once.
 */
export async function mayDecide(
  access: AccessPolicy,
  click: Pick<Click, 'userId' | 'request' | 'rule' | 'now'>,
): Promise<boolean> {
  const live = { live: true };
  const { rule, userId } = click;
  const approver =
    rule.approvers === null
      ? await access.isApprover(userId, live)
      : await access.inAudience(userId, rule.approvers, live);
  if (approver || !escalated(click) || !rule.escalate) return approver;
  return access.inAudience(userId, { ids: rule.escalate.to, admins: false }, live);
}

const inContext: DecisionGuard = async ({ request, origin }) => contextMismatch(request, origin);

function approverOnly(access: AccessPolicy, logger: Logger): DecisionGuard {
  return async (click) => {
    try {
      if (await mayDecide(access, click)) return null;
    } catch (error) {
      logger.error('permission check failed', { error: (error as Error).message });
      return 'Could not check your permissions with Slack; nothing was decided. Try again.';
    }
    const what = `${click.request.action} request`;
    return click.rule.approvers === null
      ? `Only approvers (IAM_APPROVERS) can decide ${what}s.`
      : `Only the approvers of ${ruleLabel(click.rule)} can decide this ${what}.`;
  };
}

const notTheRequester: DecisionGuard = async ({ request, userId }) =>
  userId === request.requesterId
    ? `You asked for this ${request.action}, so someone else has to decide it.`
    : null;

/**
 * The checks every click passes before it counts, in order: from the request's own message, not by the
 * requester (told so even when the rule does not list them as an approver), by an approver.
 */
export const decisionGuards = (access: AccessPolicy, logger: Logger): DecisionGuard[] => [
  inContext,
  notTheRequester,
  approverOnly(access, logger),
];
