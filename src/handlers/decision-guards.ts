import type { BlockAction } from '@slack/bolt';
import type { Logger } from '../log';
import type { ApprovalRequest, ApprovalRule } from '../store/types';
import type { AccessPolicy } from './access';
import { type EffectiveRule, isPolicyAction, type Policy, policyFor, ruleLabel } from '../policy';
import { storedRule } from './policy-gate';

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
async function approverOf(
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

/**
 * The rule the policy running now gives a stored request, matched again on the target its rule was
 * matched on; null for a request stored without that target (its stored rule alone decides).
 */
export function currentRuleOf(
  policy: Policy,
  request: ApprovalRequest,
  rule: ApprovalRule,
): EffectiveRule | null {
  if (!rule.target || !isPolicyAction(rule.action)) return null;
  return policyFor(policy, { action: rule.action, target: rule.target, requesterId: request.requesterId });
}

/**
 * Whether the clicker may decide (or cancel) the request: an approver of its stored rule, and still one
 * under the policy running now, so that removing an approver from IAM_POLICY_FILE or IAM_APPROVERS takes
 * the power away from requests already made. `removed`: of the stored rule, but not of today's.
 */
export async function approverStanding(
  context: { access: AccessPolicy; policy: Policy },
  click: Pick<Click, 'userId' | 'request' | 'rule' | 'now'>,
): Promise<'approver' | 'not-approver' | 'removed'> {
  if (!(await approverOf(context.access, click))) return 'not-approver';
  const current = currentRuleOf(context.policy, click.request, click.rule);
  if (current === null) return 'approver';
  const stillApprover = await approverOf(context.access, { ...click, rule: storedRule(current) });
  return stillApprover ? 'approver' : 'removed';
}

/** Said to someone who approved under the stored rule but no longer does under the policy running now. */
export const NO_LONGER_APPROVER =
  'You are no longer an approver of this request under the current policy (IAM_POLICY_FILE or IAM_APPROVERS changed since it was made); nothing was changed.';

interface GuardContext {
  access: AccessPolicy;
  policy: Policy;
  logger: Logger;
}

const inContext: DecisionGuard = async ({ request, origin }) => contextMismatch(request, origin);

function approverOnly(context: GuardContext): DecisionGuard {
  return async (click) => {
    let standing: Awaited<ReturnType<typeof approverStanding>>;
    try {
      standing = await approverStanding(context, click);
    } catch (error) {
      context.logger.error('permission check failed', { error: (error as Error).message });
      return 'Could not check your permissions with Slack; nothing was decided. Try again.';
    }
    if (standing === 'approver') return null;
    if (standing === 'removed') return NO_LONGER_APPROVER;
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
export const decisionGuards = (context: GuardContext): DecisionGuard[] => [
  inContext,
  notTheRequester,
  approverOnly(context),
];
