/**
 * Break-glass (docs/POLICY.md): `/iam-disable-user jane@example.com break-glass reason="…"` carries the
 * disable (or enable) out at once, by its requester alone, where the governing rule says `breakGlass:
 * true`; every approver of the rule is told at once, and its audit rows are marked.
 */
import type { WebClient } from '@slack/web-api';
import {
  carryOutPlan,
  outcomeOf,
  targetOf,
  type IamResult,
  pinUser,
  previewDisable,
  previewEnable,
  type UserProfile,
} from '../iam';
import { directoryTarget } from '../iam/policy-target';
import { type EffectiveRule, policyFor, ruleLabel } from '../policy';
import type { ScimUser } from '../scim/types';
import {
  type BreakGlassNotice,
  breakGlassNoticeMessage,
  breakGlassResultMessage,
  isSlackUserId,
  resultMessage,
} from '../views/slack';
import { type ApprovalInput, COMMAND_OF, postFinal, receivedThen, tellRequester } from './approvals';
import { audit, auditDone, type BotContext } from './context';
import { postMessage } from './posting';

export type BreakGlassInput = ApprovalInput & { profile: UserProfile; justification: string };

/** Why this requester may not use break-glass under `rule`, or null when they may. */
async function refusalOf(
  context: BotContext,
  rule: EffectiveRule,
  requesterId: string,
): Promise<string | null> {
  const name = ruleLabel(rule);
  if (!rule.breakGlass) {
    return `Break-glass is not allowed here: ${name} does not say breakGlass: true. Ask for an approval instead (leave out break-glass).`;
  }
  // Live: acting alone, the requester must be one of the rule's requesters as Slack says now.
  try {
    if (await context.access.inAudience(requesterId, rule.requesters, { live: true })) return null;
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    return 'Could not check with Slack whether you may use break-glass; nothing was done. Try again.';
  }
  return `Break-glass is not allowed to you: you are not one of the requesters of ${name}.`;
}

/** The looked-up user's break-glass `action`, at once; a user who cannot be changed gets the result at once. */
export async function breakGlass(
  context: BotContext,
  client: WebClient,
  input: BreakGlassInput,
  action: 'disable' | 'enable',
): Promise<void> {
  const command = COMMAND_OF[action];
  const preview = await receivedThen(context, input, command, input.profile, () =>
    (action === 'disable' ? previewDisable : previewEnable)(context.iam, input.profile),
  );
  if ('final' in preview) return postFinal(context, client, input, action, preview.final);
  const requesterId = input.requesterId;
  const rule = policyFor(context.policy, { action, target: directoryTarget(preview.user), requesterId });
  const refusal = await refusalOf(context, rule, input.requesterId);
  const target = targetOf(pinUser(preview.user));
  const marks = { breakGlass: true, justification: input.justification, rule: ruleLabel(rule) };
  if (refusal) {
    const detail = { ...marks, reason: refusal };
    const entry = { actor: input.requesterId, command, target, requestId: null, detail };
    await auditDone(context, { ...entry, kind: 'refusal', outcome: 'refused' });
    return tellRequester(context, client, input, refusal);
  }
  const result = await actAlone(context, input, action, preview.user, marks);
  const notice: BreakGlassNotice = {
    requesterId: input.requesterId,
    action,
    target,
    justification: input.justification,
    rule: marks.rule,
    approvers: rule.approvers.ids,
    outcome: outcomeOf(result.IAM.Vendor),
  };
  try {
    await postResult(context, client, input, result, notice);
  } catch (error) {
    // Done and recorded: the approvers are still told.
    context.logger.error('the result of a break-glass action could not be posted', {
      error: (error as Error).message,
    });
  }
  await tellApprovers(context, client, input, rule, notice);
}

/** The marked "break-glass" row first (no row, nothing done), the action, then its marked result row. */
async function actAlone(
  context: BotContext,
  input: BreakGlassInput,
  action: 'disable' | 'enable',
  user: ScimUser,
  marks: Record<string, unknown>,
): Promise<IamResult> {
  const profile = pinUser(user);
  const entry = {
    actor: input.requesterId,
    command: COMMAND_OF[action],
    target: targetOf(profile),
    requestId: null,
  };
  await audit(context, { ...entry, kind: 'command', outcome: 'break-glass', detail: { ...marks, profile } });
  let result: IamResult;
  try {
    result = await carryOutPlan(context.iam, { action, profile });
  } catch (error) {
    const detail = { ...marks, reason: (error as Error).message };
    await auditDone(context, { ...entry, kind: 'result', outcome: 'failure', detail });
    throw error;
  }
  const detail = { ...(result as unknown as Record<string, unknown>), ...marks };
  await auditDone(context, { ...entry, kind: 'result', outcome: outcomeOf(result.IAM.Vendor), detail });
  return result;
}

async function postResult(
  context: BotContext,
  client: WebClient,
  input: BreakGlassInput,
  result: IamResult,
  notice: BreakGlassNotice,
) {
  const options = { sandbox: context.sandbox };
  const plain = resultMessage(result, { ...options, actorId: input.requesterId });
  await postMessage(client, input.channelId, breakGlassResultMessage(plain, notice, options), {
    respond: input.respond,
    fallbackUserId: input.fallbackUserId,
  });
}

/**
 * Every approver of the rule at once: a DM to each named person (not the requester), and the notice in
 * the rule's channel when it is not where the break-glass was asked (the result posted there already
 * mentions them all, user groups included). Each is tried on its own; a failure is logged.
 */
async function tellApprovers(
  context: BotContext,
  client: WebClient,
  input: BreakGlassInput,
  rule: EffectiveRule,
  notice: BreakGlassNotice,
) {
  const message = breakGlassNoticeMessage(notice, input.channelId, { sandbox: context.sandbox });
  const people = rule.approvers.ids.filter((id) => isSlackUserId(id) && id !== input.requesterId);
  const channels = rule.channel && rule.channel !== input.channelId ? [rule.channel] : [];
  for (const where of [...channels, ...people]) {
    try {
      await postMessage(client, where, message);
    } catch (error) {
      context.logger.error('an approver was not told of a break-glass action', {
        where,
        error: (error as Error).message,
      });
    }
  }
}
