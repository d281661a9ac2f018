/** Which rule governs a request, and what it implies over the request's life. */
import type { PolicyAction, TargetKey } from './actions';
import { approverShortfall, builtInRule } from './rules';
import { globMatches } from './text';
import type { EffectiveRule, Policy, PolicyRequest, PolicyRule, PolicyTarget } from './types';

/** The domain of the email, else of a username that is an email address (Atlassian's usual userName). */
function domainOf(target: PolicyTarget): string | null {
  for (const address of [target.email, target.username]) {
    const at = address?.lastIndexOf('@') ?? -1;
    if (address && at > 0) return address.slice(at + 1);
  }
  return null;
}

function attribute(target: PolicyTarget, key: TargetKey): string | null {
  const value = key === 'domain' ? domainOf(target) : target[key];
  return value === undefined || value === null || value.trim() === '' ? null : value.trim();
}

/** Every key the rule gives must match (any of its patterns); an attribute the target lacks matches nothing. */
function targetMatches(rule: PolicyRule, target: PolicyTarget): boolean {
  return Object.entries(rule.target).every(([key, patterns]) => {
    const value = attribute(target, key as TargetKey);
    return value !== null && (patterns ?? []).some((pattern) => globMatches(pattern, value));
  });
}

/**
 * The rule governing a request: the first rule of the file whose action and target match, else the
 * built-in rule for the action (today's behaviour). Matching looks at the action and the target only:
 * whether the requester may ask is then `rule.requesters`, so a requester the rule does not list is
 * refused rather than passed on to a later, weaker rule. Pass the target as the directory shows it
 * (after the lookup), not as typed, so that an id cannot slip past a rule written for an email domain.
 */
export function policyFor(policy: Policy, request: PolicyRequest): EffectiveRule {
  const matched = policy.rules.find(
    (rule) => rule.actions.includes(request.action) && targetMatches(rule, request.target),
  );
  const rule = matched ?? builtInRule(request.action, policy.defaults);
  return {
    ...rule,
    action: request.action,
    source: matched ? 'file' : 'default',
    impossible: rule.approvals > 0 ? approverShortfall(rule, request.requesterId) : null,
    matchedTarget: request.target,
  };
}

export interface ApprovalProgress {
  /** Distinct approvers so far, in click order; the requester never counts. */
  approvedBy: string[];
  /** Approvals still needed. */
  missing: number;
  complete: boolean;
}

/**
 * Tally of Approve clicks (already checked to come from the rule's approvers), for the N-of-M message
 * and to know when to act: a second click by the same person and the requester's own click do not count.
 */
export function approvalProgress(
  rule: Pick<EffectiveRule, 'approvals'>,
  requesterId: string,
  clicks: readonly string[],
): ApprovalProgress {
  const approvedBy = [...new Set(clicks)].filter((id) => id !== requesterId);
  const missing = Math.max(0, rule.approvals - approvedBy.length);
  return { approvedBy, missing, complete: missing === 0 };
}

/**
 * When the holder of time-bound access from `start` to `endsAt` is told its end is near: `notifyBefore`
 * before the end, soonest first, leaving out those at or before `start`. None for access without an end.
 */
export function grantNotices(
  rule: Pick<PolicyRule, 'notifyBeforeMs'>,
  start: Date,
  endsAt: Date | null,
): Date[] {
  if (endsAt === null) return [];
  return rule.notifyBeforeMs
    .map((beforeMs) => new Date(endsAt.getTime() - beforeMs))
    .filter((at) => at.getTime() > start.getTime())
    .sort((a, b) => a.getTime() - b.getTime());
}

export interface FollowUp {
  kind: 'remind' | 'escalate';
  at: Date;
  /** 1 for the first reminder, 2 for the second…; 1 for the escalation. */
  n: number;
}

/** When a request made at `requestedAt` gets its reminders and escalation, if still pending; all before expiry. */
export function followUps(
  rule: Pick<PolicyRule, 'remind' | 'escalate' | 'expiresMs'>,
  requestedAt: Date,
): FollowUp[] {
  const start = requestedAt.getTime();
  const due: FollowUp[] = [];
  for (let n = 1; rule.remind && n <= rule.remind.times; n++) {
    due.push({ kind: 'remind', at: new Date(start + n * rule.remind.afterMs), n });
  }
  if (rule.escalate) due.push({ kind: 'escalate', at: new Date(start + rule.escalate.afterMs), n: 1 });
  return due
    .filter((followUp) => followUp.at.getTime() < start + rule.expiresMs)
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** `rule 2 (admin-disable) of IAM_POLICY_FILE`, or `the built-in rule`, as people read it. */
export function ruleLabel(rule: Pick<EffectiveRule, 'source' | 'number' | 'name'>): string {
  if (rule.source === 'default') return 'the built-in rule';
  return `rule ${rule.number ?? '?'}${rule.name ? ` (${rule.name})` : ''} of IAM_POLICY_FILE`;
}

/**
 * Everyone the policy names today as an approver, or escalation target, of any of `actions`: its rules'
 * ids and IAM_APPROVERS (or the operators) where a rule or the built-in rule takes them. A reminder
 * goes only to these, so someone removed since the request was made is no longer told about it.
 */
export function currentApprovers(policy: Policy, actions: readonly PolicyAction[]): Set<string> {
  const rules = [
    ...policy.rules.filter((rule) => rule.actions.some((action) => actions.includes(action))),
    ...actions.map((action) => builtInRule(action, policy.defaults)),
  ];
  return new Set(rules.flatMap((rule) => [...namedApprovers(rule)]));
}

/** The ids a rule names as approvers (IAM_APPROVERS or the operators where it takes them) and escalation targets. */
export function namedApprovers(rule: Pick<PolicyRule, 'approvers' | 'escalate'>): Set<string> {
  return new Set([...rule.approvers.ids, ...(rule.escalate?.to ?? [])]);
}
