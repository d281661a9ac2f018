/** The approval policy's view of a user the directory shows (docs/POLICY.md, "How a request is matched"). */
import {
  DEFAULT_MAX_SCHEDULE_AHEAD_MS,
  type EffectiveRule,
  type Policy,
  type PolicyTarget,
  policyFor,
  ruleLabel,
} from '../policy';
import type { ScimUser } from '../scim/types';
import { primaryEmail } from './result';
import { checkScheduleAhead, type Schedule } from './schedule';

/** The user as the directory shows it, for matching a rule's target (so an id cannot slip past a domain rule). */
export function directoryTarget(user: ScimUser): PolicyTarget {
  return {
    email: primaryEmail(user),
    username: user.userName ?? null,
    department: typeof user.department === 'string' ? user.department : null,
  };
}

/**
 * Refuses (ScheduleError) a disable of `user` scheduled further ahead than its governing rule's
 * `maxScheduleAhead`, naming the rule; the same check for Slack and the CLI's `--at`. Returns the rule.
 */
export function checkScheduleLimit(
  policy: Policy,
  ask: { user: ScimUser; requesterId: string; schedule: Schedule; now: Date },
): EffectiveRule {
  const rule = policyFor(policy, {
    action: 'disable',
    target: directoryTarget(ask.user),
    requesterId: ask.requesterId,
  });
  const limit = rule.maxScheduleAheadMs ?? DEFAULT_MAX_SCHEDULE_AHEAD_MS;
  checkScheduleAhead(ask.schedule, ask.now, limit, ruleLabel(rule));
  return rule;
}
