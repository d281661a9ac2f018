/**
 * Approval policies (IAM_POLICY_FILE): who may ask for what, who approves, how many, and when requests
 * remind, escalate and expire. Pure: no Slack, no HTTP; reading the file is the only I/O. See docs/POLICY.md.
 */
export {
  ACTION_NAMES,
  ACTIONS,
  type ActionSpec,
  isPolicyAction,
  type PolicyAction,
  TARGET_KEYS,
} from './actions';
export { formatPolicyDuration, parsePolicyDuration } from './duration';
export {
  approvalProgress,
  type ApprovalProgress,
  currentApprovers,
  type FollowUp,
  followUps,
  grantNotices,
  namedApprovers,
  policyFor,
  ruleLabel,
} from './match';
export { defaultPolicy, loadPolicy, parsePolicy } from './parse';
export { builtInRule, DEFAULT_MAX_SCHEDULE_AHEAD_MS, DEFAULT_NOTIFY_BEFORE_MS } from './rules';
export {
  type Audience,
  type EffectiveRule,
  type Escalation,
  formatProblem,
  type Policy,
  type PolicyDefaults,
  PolicyError,
  type PolicyProblem,
  type PolicyRequest,
  type PolicyRule,
  type PolicyTarget,
  type Reminders,
  type TargetPatterns,
} from './types';
