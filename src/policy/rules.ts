/** From what the file says (or leaves out) to complete rules, and the built-in rule of each action. */
import { type PolicyAction, actionSpec } from './actions';
import type { RawRule } from './schema';
import type { Audience, PolicyDefaults, PolicyRule, TargetPatterns } from './types';

/** How far ahead a schedulable action may be scheduled when no rule says. */
export const DEFAULT_MAX_SCHEDULE_AHEAD_MS = 90 * 86_400_000;

/** When the holder of time-bound access is told its end is near, when no rule says: 24 h and 1 h before. */
export const DEFAULT_NOTIFY_BEFORE_MS: readonly number[] = [24 * 3_600_000, 3_600_000];

/** IAM_OPERATORS, or the workspace admins and owners when it is unset. */
function operatorsOf(defaults: PolicyDefaults): Audience {
  return defaults.operators === null ? { ids: [], admins: true } : { ids: defaults.operators, admins: false };
}

/** IAM_APPROVERS, else the operators: whom today's two-person rule asks. */
function configApprovers(defaults: PolicyDefaults): Audience {
  return defaults.approvers === null ? operatorsOf(defaults) : { ids: defaults.approvers, admins: false };
}

function requestersOf(listed: readonly string[] | undefined, defaults: PolicyDefaults): Audience {
  const entries = listed ?? ['operators'];
  const named = entries.filter((entry) => entry !== 'operators' && entry !== 'members');
  if (!entries.includes('operators')) return { ids: unique(named), admins: false };
  const operators = operatorsOf(defaults);
  return { ids: unique([...named, ...operators.ids]), admins: operators.admins };
}

const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

const anySchedulable = (actions: readonly PolicyAction[]) =>
  actions.some((action) => actionSpec(action).schedulable);

const anyTimeBound = (actions: readonly PolicyAction[]) =>
  actions.some((action) => actionSpec(action).timeBound);

const longestFirst = (durations: readonly number[]): number[] => unique(durations).sort((a, b) => b - a);

/** Today's behaviour for one action: what applies when no rule of the file matches. */
export function builtInRule(action: PolicyAction, defaults: PolicyDefaults): PolicyRule {
  return {
    number: null,
    line: null,
    name: null,
    actions: [action],
    target: {},
    requesters: operatorsOf(defaults),
    approvers: configApprovers(defaults),
    approversFromConfig: true,
    approvals: actionSpec(action).approvalByDefault ? 1 : 0,
    reason: 'optional',
    expiresMs: defaults.approvalTtlMs,
    channel: null,
    remind: null,
    escalate: null,
    breakGlass: false,
    maxScheduleAheadMs: actionSpec(action).schedulable ? DEFAULT_MAX_SCHEDULE_AHEAD_MS : null,
    membersMayAsk: false,
    maxDurationMs: null,
    notifyBeforeMs: actionSpec(action).timeBound ? DEFAULT_NOTIFY_BEFORE_MS : [],
  };
}

export function ruleFromFile(
  raw: RawRule,
  index: number,
  line: number,
  defaults: PolicyDefaults,
): PolicyRule {
  const actions = unique(raw.action);
  const target: TargetPatterns = Object.fromEntries(
    Object.entries(raw.target ?? {}).filter(([, patterns]) => patterns !== undefined),
  );
  return {
    number: index + 1,
    line,
    name: raw.name ?? null,
    actions,
    target,
    requesters: requestersOf(raw.requesters, defaults),
    approvers: raw.approvers ? { ids: unique(raw.approvers), admins: false } : configApprovers(defaults),
    approversFromConfig: raw.approvers === undefined,
    approvals: raw.approvals ?? 1,
    reason: raw.reason ?? 'optional',
    expiresMs: raw.expires ?? defaults.approvalTtlMs,
    channel: raw.channel ?? null,
    remind: raw.remind ? { afterMs: raw.remind.after, times: raw.remind.times } : null,
    escalate: raw.escalate ? { afterMs: raw.escalate.after, to: unique(raw.escalate.to) } : null,
    breakGlass: raw.breakGlass ?? false,
    maxScheduleAheadMs: anySchedulable(actions)
      ? (raw.maxScheduleAhead ?? DEFAULT_MAX_SCHEDULE_AHEAD_MS)
      : null,
    membersMayAsk: anyTimeBound(actions) && (raw.requesters ?? []).includes('members'),
    maxDurationMs: anyTimeBound(actions) ? (raw.maxDuration ?? null) : null,
    notifyBeforeMs: anyTimeBound(actions) ? longestFirst(raw.notifyBefore ?? DEFAULT_NOTIFY_BEFORE_MS) : [],
  };
}

/** Why a requester of the rule might be one of its named approvers; null when none can be. */
function requesterOverlap(rule: PolicyRule, requesterId: string | undefined): string | null {
  const { approvers, requesters } = rule;
  if (requesterId !== undefined) return approvers.ids.includes(requesterId) ? 'you are one of them' : null;
  // The approvers from IAM_APPROVERS are today's two-person rule as configured: only the count is checked.
  if (rule.approversFromConfig) return null;
  const named = requesters.ids.filter((id) => approvers.ids.includes(id));
  if (named.length > 0) return `requester ${named.join(', ')} is one of them`;
  if (rule.membersMayAsk) return 'a requester (any member) may be one of them';
  if (requesters.admins) return 'a requester (an operator) may be one of them';
  const group = requesters.ids.find((id) => id.startsWith('S'));
  return group ? `a requester (from user group ${group}) may be one of them` : null;
}

/**
 * Why `rule.approvals` distinct approvers other than the requester can never be found, or null when they
 * might be. Only approvers who are all named people can be counted (a user group or the admins can
 * grow), and the requester never approves their own request: with `requesterId` this is exact; without,
 * the count drops by one when a requester could be one of the rule's named approvers.
 */
export function approverShortfall(rule: PolicyRule, requesterId?: string): string | null {
  const { approvers, approvals } = rule;
  if (approvers.admins || approvers.ids.some((id) => id.startsWith('S'))) return null;
  const overlap = requesterOverlap(rule, requesterId);
  const available = approvers.ids.length - (overlap ? 1 : 0);
  if (available >= approvals) return null;
  const list = rule.approversFromConfig ? `IAM_APPROVERS (${approvers.ids.join(', ')})` : 'approvers';
  const count = `${approvers.ids.length} ${approvers.ids.length === 1 ? 'person' : 'people'}`;
  return (
    `${approvals} distinct approver${approvals === 1 ? ' is' : 's are'} needed, never the requester, but ` +
    `${list} lists only ${count}${overlap ? ` and ${overlap}` : ''}: ${overlap ? 'such a request' : 'it'} could never be approved. ` +
    'List more approvers or a user group, or lower approvals'
  );
}
