/**
 * The approval policy at request time (docs/POLICY.md): which rule governs a request, and whether this
 * requester may make it under that rule. Refusals are sentences for the requester; nothing is done.
 */
import type { UserProfile, WritePreview } from '../iam';
import { type EffectiveRule, type PolicyAction, type PolicyTarget, policyFor, ruleLabel } from '../policy';
import type { ApprovalRule } from '../store/types';
import type { BotContext } from './context';

/**
 * The policy action of a write the core previewed; the one place that says so. A change of a sign-in
 * identifier is an `identifier-change`, else a re-enable is an `enable`, else an `update`; no user found:
 * a `create`. null: nothing will be written or changed (the result is known at once).
 */
export function writeAction(preview: WritePreview): PolicyAction | null {
  if ('final' in preview) return null;
  if ('notFound' in preview) return 'create';
  // Nothing differs: there is nothing to approve, whatever a rule says (the update reports no change).
  if (preview.update.changes.length === 0 && !preview.update.reenables) return null;
  if (preview.update.changesIdentifier) return 'identifier-change';
  return preview.update.reenables ? 'enable' : 'update';
}

/** A user not in the directory yet (a create), as the profile gives them. */
export function profileTarget(profile: UserProfile): PolicyTarget {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    email: text(profile.email),
    username: text(profile.username),
    department: text(profile.department),
  };
}

/** What deciding the request needs later, stored with it (see src/store/approval-rule.ts). */
export function storedRule(rule: EffectiveRule): ApprovalRule {
  return {
    source: rule.source,
    number: rule.number,
    name: rule.name,
    action: rule.action,
    approvals: rule.approvals,
    approvers: rule.approversFromConfig
      ? null
      : { ids: [...rule.approvers.ids], admins: rule.approvers.admins },
    escalate: rule.escalate ? { afterMs: rule.escalate.afterMs, to: [...rule.escalate.to] } : null,
    remind: rule.remind ? { ...rule.remind } : null,
    reason: rule.reason,
    breakGlass: rule.breakGlass,
    target: matchedOn(rule.matchedTarget),
  };
}

/** The attributes rules match on, copied so that nothing else of the caller's object is stored. */
function matchedOn({
  email,
  username,
  department,
  group,
}: PolicyTarget): NonNullable<ApprovalRule['target']> {
  return { email, username, department, group };
}

export interface PolicyAsk {
  requesterId: string;
  reason: string | null;
}

/** Why `ask` may not go ahead under `rule`, or null when it may (the requester's permission asked live of Slack). */
async function refusalUnder(
  context: BotContext,
  rule: EffectiveRule,
  ask: PolicyAsk,
): Promise<string | null> {
  const label = ruleLabel(rule);
  // The built-in rule's requesters are the operators, whom the command has checked already.
  if (rule.source === 'file' && !(await context.access.inAudience(ask.requesterId, rule.requesters))) {
    return `You may not ask for this ${rule.action}: ${label} lets only its requesters ask (${audienceText(rule.requesters)}).`;
  }
  if (rule.reason === 'required' && !ask.reason?.trim()) {
    return `A reason is required for this ${rule.action} (${label}): ask again with reason="…" after the user, e.g. reason="left the company".`;
  }
  if (rule.impossible)
    return `This ${rule.action} could never be approved under ${label}: ${rule.impossible}.`;
  return null;
}

function audienceText(audience: EffectiveRule['requesters']): string {
  const parts = [...(audience.admins ? ['workspace admins'] : []), ...audience.ids];
  return parts.length > 0 ? parts.join(', ') : 'nobody';
}

/**
 * The rule governing `action` on `target` for this requester, or the sentence refusing it: the requester
 * is not one the rule lets ask, a required reason is missing, or nobody could ever approve it.
 */
export async function ruleFor(
  context: BotContext,
  ask: PolicyAsk,
  action: PolicyAction,
  target: PolicyTarget,
): Promise<{ rule: EffectiveRule } | { refused: string }> {
  const rule = policyFor(context.policy, { action, target, requesterId: ask.requesterId });
  let refused: string | null;
  try {
    refused = await refusalUnder(context, rule, ask);
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    refused = 'Could not check your permissions with Slack; nothing was requested. Try again.';
  }
  return refused ? { refused } : { rule };
}
