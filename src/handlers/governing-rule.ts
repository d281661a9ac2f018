/** Which policy rule governs a request about a user, looked up first (docs/POLICY.md, "How a request is matched"). */
import type { ApprovalPlan } from '../iam/approval-plan';
import { IDENTIFIER_ATTRIBUTES } from '../iam/commands';
import { primaryEmail } from '../iam/result';
import { type EffectiveRule, type Policy, type PolicyAction, policyFor } from '../policy';
import type { ScimUser } from '../scim/types';

/**
 * The rule for `action` on `user` as the directory shows them (not as typed, so an id cannot slip past
 * a rule written for an email domain), asked by `requesterId`.
 */
export function ruleForUser(
  policy: Policy,
  action: PolicyAction,
  user: ScimUser,
  requesterId: string,
): EffectiveRule {
  const target = {
    email: primaryEmail(user),
    username: user.userName ?? null,
    department: user.department ?? null,
  };
  return policyFor(policy, { action, target, requesterId });
}

/** The policy action an approval carries out: an update needs approval when it changes an identifier, else when it re-enables. */
export function policyActionOf(plan: ApprovalPlan): PolicyAction {
  if (plan.action !== 'update') return plan.action;
  const identifier = plan.profile.changes.some((change) => IDENTIFIER_ATTRIBUTES.has(change.attribute));
  return identifier ? 'identifier-change' : 'enable';
}
