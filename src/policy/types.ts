import type { PolicyAction, TargetKey } from './actions';

/**
 * A set of Slack people: user ids (U…, W…) and user-group ids (S…); `admins`: the workspace's admins
 * and owners count too (what an unset IAM_OPERATORS means).
 */
export interface Audience {
  ids: readonly string[];
  admins: boolean;
}

/** What a rule's target matches: each given key is a list of case-insensitive globs, any of which may match. */
export type TargetPatterns = Partial<Record<TargetKey, readonly string[]>>;

export interface Reminders {
  afterMs: number;
  /** At `afterMs`, 2 × `afterMs`, … at most this many times, while the request is pending. */
  times: number;
}

export interface Escalation {
  afterMs: number;
  /** Added to the approvers once `afterMs` has passed with the request still pending. */
  to: readonly string[];
}

export interface PolicyRule {
  /** Position in the file, from 1 (as `policy check` numbers them); null for a built-in default. */
  number: number | null;
  /** Line of the rule in the file; null for a built-in default. */
  line: number | null;
  name: string | null;
  actions: readonly PolicyAction[];
  /** Empty: every target. */
  target: TargetPatterns;
  /** Who may ask. */
  requesters: Audience;
  /** Who may approve; never the requester. */
  approvers: Audience;
  /** True when `approvers` came from IAM_APPROVERS (or IAM_OPERATORS, or the admins) rather than the rule. */
  approversFromConfig: boolean;
  /** Distinct approvers needed, none of them the requester; 0 only in the built-in create/update default (acts at once). */
  approvals: number;
  reason: 'required' | 'optional';
  expiresMs: number;
  /** Channel id where the request is posted; null: the channel where it was asked. */
  channel: string | null;
  remind: Reminders | null;
  escalate: Escalation | null;
  /** The requester may act alone with a justification; every approver is told at once. */
  breakGlass: boolean;
  /** Latest a schedulable action may be scheduled ahead; null for actions that cannot be scheduled. */
  maxScheduleAheadMs: number | null;
  /** `members` among the requesters (time-bound actions only): any workspace member may ask, for themselves. */
  membersMayAsk: boolean;
  /** Longest time-bound access a request may ask for; null: no limit (or not a time-bound action). */
  maxDurationMs: number | null;
  /** How long before the end of time-bound access its holder is told, longest first; [] for other actions. */
  notifyBeforeMs: readonly number[];
}

/** Today's settings, from the environment: what a rule leaves out, and the built-in rules. */
export interface PolicyDefaults {
  /** IAM_OPERATORS; null: workspace admins and owners. */
  operators: readonly string[] | null;
  /** IAM_APPROVERS; null: the operators. */
  approvers: readonly string[] | null;
  /** IAM_APPROVAL_TTL. */
  approvalTtlMs: number;
}

export interface Policy {
  /** The file it came from; null: no IAM_POLICY_FILE, only the built-in rules. */
  file: string | null;
  /** In file order: the first that matches wins. */
  rules: readonly PolicyRule[];
  defaults: PolicyDefaults;
}

/** The user (and for grants the group) a request acts on, as the directory shows it. */
export interface PolicyTarget {
  email?: string | null;
  username?: string | null;
  department?: string | null;
  group?: string | null;
}

export interface PolicyRequest {
  action: PolicyAction;
  target: PolicyTarget;
  /** Slack user id of the person asking. */
  requesterId: string;
}

export interface EffectiveRule extends PolicyRule {
  action: PolicyAction;
  /** 'file': rule `number` of the file matched; 'default': no rule matched, the built-in rule applies. */
  source: 'file' | 'default';
  /**
   * Non-null when no approval can ever complete for this requester (the approvers are named people and
   * too few of them are someone other than the requester): the flow refuses at once with this text.
   */
  impossible: string | null;
  /** The target it was matched against, kept with the request so a click can be matched again later. */
  matchedTarget: PolicyTarget;
}

export interface PolicyProblem {
  file: string;
  /** From 1; 0 when no line applies (the file cannot be read). */
  line: number;
  /** The key the problem is about, e.g. `rule 2 approvals` or `rules`. */
  key: string;
  message: string;
}

/** Thrown by loadPolicy / parsePolicy; `problems` are in file order, each printable as `FILE:LINE: KEY: message`. */
export class PolicyError extends Error {
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
  }
}

/** `FILE:LINE: KEY: message`; `FILE: KEY: message` when no line applies (the file cannot be read). */
export function formatProblem(problem: PolicyProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file;
  return `${where}: ${problem.key}: ${problem.message}`;
}
