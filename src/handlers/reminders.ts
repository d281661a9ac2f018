/**
 * Reminders and escalation notices of pending approval requests (docs/POLICY.md): stored with the
 * request from its rule, then sent by the periodic sweep of whichever instance claims each first, once
 * across instances and restarts, and never after the request was decided or has expired.
 */
import type { WebClient } from '@slack/web-api';
import {
  currentApprovers,
  type FollowUp,
  followUps,
  namedApprovers,
  type PolicyAction,
  type PolicyRule,
} from '../policy';
import { LEGACY_RULE } from '../store';
import type { ApprovalRequest, ClaimedFollowUp, NewApprovalFollowUp } from '../store/types';
import { followUpThreadMessage, isSlackUserId, reminderDirectMessage } from '../views/slack';
import { cardOf, postAbout } from './approvals';
import { CLAIM_OWNER } from './claims';
import { currentRuleOf } from './decision-guards';
import { auditDone, type BotContext } from './context';
import { postMessage } from './posting';

/** How many follow-ups one claim takes; the sweep claims again until none is due. */
const CLAIM_BATCH = 20;

type FollowUpRule = Pick<PolicyRule, 'remind' | 'escalate' | 'approvers'>;

/** An escalation names whom it adds; a reminder the approvers, and the escalated ones once escalation has come. */
function whomToNotify(followUp: FollowUp, rule: FollowUpRule, createdAt: Date): string[] {
  const added = rule.escalate?.to ?? [];
  if (followUp.kind === 'escalate') return [...added];
  const escalated =
    rule.escalate !== null && followUp.at.getTime() >= createdAt.getTime() + rule.escalate.afterMs;
  return [...new Set([...rule.approvers.ids, ...(escalated ? added : [])])];
}

/**
 * Stores the reminders and escalation `rule` gives a request just stored, timed from its creation and
 * before its own expiry. A failure is logged, not thrown: the request stands, only its follow-ups are missing.
 */
export async function storeFollowUps(
  context: BotContext,
  request: ApprovalRequest,
  rule: FollowUpRule,
): Promise<void> {
  const expiresMs = request.expiresAt.getTime() - request.createdAt.getTime();
  const due = followUps({ ...rule, expiresMs }, request.createdAt);
  if (due.length === 0) return;
  const stored: NewApprovalFollowUp[] = due.map((followUp) => ({
    requestId: request.id,
    kind: followUp.kind,
    n: followUp.n,
    dueAt: followUp.at,
    notify: whomToNotify(followUp, rule, request.createdAt),
  }));
  try {
    await context.store.addFollowUps(stored);
  } catch (error) {
    context.logger.error('the reminders of a request were not stored; none will be sent', {
      requestId: request.id,
      error: (error as Error).message,
    });
  }
}

/** Sends every due follow-up this instance claims; returns how many it claimed. Any instance may run it. */
export async function sendDueFollowUps(context: BotContext, client: WebClient): Promise<number> {
  let count = 0;
  for (;;) {
    let batch: ClaimedFollowUp[];
    try {
      batch = await context.store.claimDueFollowUps(context.clock(), CLAIM_OWNER, CLAIM_BATCH);
    } catch (error) {
      context.logger.error('could not claim due reminders', { error: (error as Error).message });
      return count;
    }
    for (const followUp of batch) await sendFollowUp(context, client, followUp);
    count += batch.length;
    if (batch.length < CLAIM_BATCH) return count;
  }
}

/** The policy actions a stored request was asked under: an update is an identifier change or asks as enable does. */
const policyActionsOf = (request: ApprovalRequest): PolicyAction[] =>
  request.action === 'update' ? ['identifier-change', 'enable'] : [request.action];

/**
 * Whom a follow-up names: those stored with it who are still approvers (or escalation targets) under
 * the policy this instance runs with (of the rule it gives the request now, as a click is checked, see
 * currentRuleOf; of any rule for its action when the request was stored without its target), never the
 * requester. Someone removed from the policy or IAM_APPROVERS since the request was made is not told
 * about a disable they can no longer decide.
 */
function stillToNotify(context: BotContext, followUp: ClaimedFollowUp): string[] {
  const { request } = followUp;
  const rule = currentRuleOf(context.policy, request, request.rule ?? LEGACY_RULE);
  const current = rule ? namedApprovers(rule) : currentApprovers(context.policy, policyActionsOf(request));
  return followUp.notify.filter((id) => id !== request.requesterId && current.has(id));
}

/**
 * One follow-up, claimed (so marked sent) by this instance: the reply in the request's thread, and for a
 * reminder a DM to each approver named as a person, never the requester. Each is tried on its own;
 * the audit row records what went out.
 */
async function sendFollowUp(context: BotContext, client: WebClient, followUp: ClaimedFollowUp) {
  const { request } = followUp;
  const notify = stillToNotify(context, followUp);
  const card = cardOf(request);
  const options = { sandbox: context.sandbox };
  const failures: string[] = [];
  let attempts = 0;
  const attempt = async (what: string, send: () => Promise<unknown>) => {
    attempts += 1;
    try {
      await send();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  };
  await attempt('thread', () =>
    postAbout(client, request, followUpThreadMessage(card, { ...followUp, notify }, options)),
  );
  if (followUp.kind === 'remind') {
    for (const id of notify.filter((id) => isSlackUserId(id))) {
      await attempt(id, () => postMessage(client, id, reminderDirectMessage(request, options)));
    }
  }
  if (failures.length > 0) {
    context.logger.warn('a reminder did not reach everyone', { requestId: request.id, failures });
  }
  await auditDone(context, {
    actor: 'system',
    kind: 'command',
    command: followUp.kind,
    target: request.target,
    outcome: failures.length === 0 ? 'sent' : failures.length < attempts ? 'partly-sent' : 'failed',
    requestId: request.id,
    detail: {
      n: followUp.n,
      dueAt: followUp.dueAt.toISOString(),
      notify,
      ...(failures.length ? { failures } : {}),
    },
  });
}
