import { isStorable } from '../storable-text';
import { LEGACY_RULE, readApprovalRule } from './approval-rule';
import type {
  ApprovalAction,
  ApprovalRequest,
  ApprovalVote,
  ApprovalStatus,
  AuditEntry,
  AuditKind,
  NewApproval,
  NewAuditEntry,
} from './types';

/**
 * Table rows as both backends store them; `T` is how a backend hands back times (SQLite: ISO text,
 * PostgreSQL: Date), `J` JSON (SQLite: text, PostgreSQL: parsed), `N` the audit id (number or bigint text).
 */
export interface ApprovalRow<T, J> {
  id: string;
  requester_id: string;
  channel_id: string;
  team_id: string | null;
  enterprise_id: string | null;
  message_ts: string | null;
  action: ApprovalAction;
  profile: J;
  target: string;
  reason: string | null;
  status: ApprovalStatus;
  created_at: T;
  expires_at: T;
  decided_by: string | null;
  decided_at: T | null;
  result: J | null;
  claimed_by?: string | null;
  scheduled_at?: T | null;
  schedule_zone?: string | null;
  attempts?: number;
  next_attempt_at?: T | null;
  last_error?: string | null;
  policy_rule?: J | null;
}

export interface AuditRow<T, J, N> {
  id: N;
  at: T;
  actor: string;
  source: 'slack' | 'cli';
  kind: AuditKind;
  command: string;
  target: string | null;
  outcome: string;
  request_id: string | null;
  detail: J | null;
}

/** How a backend's column values become Dates and objects. */
export interface RowDecoder<T, J> {
  time(value: T): Date;
  json(value: J): Record<string, unknown>;
}

/**
 * A stored JSON value; one that cannot be read (a damaged or hand-edited SQLite row) reads as an object
 * saying so, so that one bad row is handled on its own (a request with it ends as failed) instead of
 * failing every listing it is part of.
 */
function readJson<T, J>(decode: RowDecoder<T, J>, value: J, what: string): Record<string, unknown> {
  try {
    return decode.json(value);
  } catch {
    return { unreadable: `the stored ${what} is not valid JSON` };
  }
}

export function approvalFromRow<T, J>(row: ApprovalRow<T, J>, decode: RowDecoder<T, J>): ApprovalRequest {
  return {
    id: row.id,
    requesterId: row.requester_id,
    channelId: row.channel_id,
    teamId: row.team_id,
    enterpriseId: row.enterprise_id,
    messageTs: row.message_ts,
    action: row.action,
    profile: readJson(decode, row.profile, 'profile'),
    target: row.target,
    reason: row.reason,
    status: row.status,
    createdAt: decode.time(row.created_at),
    expiresAt: decode.time(row.expires_at),
    decidedBy: row.decided_by,
    decidedAt: row.decided_at === null ? null : decode.time(row.decided_at),
    result: row.result === null ? null : readJson(decode, row.result, 'result'),
    // Only once claimed, so a request that never was reads as before.
    ...(row.claimed_by ? { claimedBy: row.claimed_by } : {}),
    ...(row.scheduled_at ? { scheduledAt: decode.time(row.scheduled_at) } : {}),
    ...(row.schedule_zone ? { scheduleZone: row.schedule_zone } : {}),
    // Only once carried out at least once (see Store.claimApproval), likewise.
    ...(row.attempts ? { attempts: row.attempts } : {}),
    ...(row.next_attempt_at ? { nextAttemptAt: decode.time(row.next_attempt_at) } : {}),
    ...(row.last_error ? { lastError: row.last_error } : {}),
    ...(row.policy_rule ? ruleFields(readJson(decode, row.policy_rule, 'approval rule')) : {}),
  };
}

/** A stored rule as `rule`, or as `ruleProblem` when it cannot be read. */
function ruleFields(value: Record<string, unknown>): Pick<ApprovalRequest, 'rule' | 'ruleProblem'> {
  const rule = readApprovalRule(value);
  return 'problem' in rule ? { ruleProblem: rule.problem } : { rule };
}

export function auditFromRow<T, J, N>(row: AuditRow<T, J, N>, decode: RowDecoder<T, J>): AuditEntry {
  return {
    id: Number(row.id),
    at: decode.time(row.at),
    actor: row.actor,
    source: row.source,
    kind: row.kind,
    command: row.command,
    target: row.target,
    outcome: row.outcome,
    requestId: row.request_id,
    detail: row.detail === null ? null : readJson(decode, row.detail, 'detail'),
  };
}

/**
 * The tally after a vote (`counted`: it was new), for Store.voteApproval: decided when the distinct
 * voters, less those who no longer qualify (`lapsed`), reach the request's rule's `approvals`.
 */
export function tallyVote(
  request: ApprovalRequest,
  stored: readonly string[],
  counted: boolean,
  lapsed: readonly string[],
): Omit<ApprovalVote, 'request'> {
  const needed = (request.rule ?? LEGACY_RULE).approvals;
  const voters = stored.filter((voter) => !lapsed.includes(voter));
  return { voters, counted, decided: counted && voters.length >= needed };
}

/** The earlier voters a vote leaves out (see Store.voteApproval): never the voter themself. */
export const lapsedOf = (lapsed: readonly string[] | undefined, voterId: string): string[] =>
  (lapsed ?? []).filter((voter) => voter !== voterId);

/** How long a handled Slack trigger_id is remembered (see Store.claimTrigger). */
export const TRIGGER_MEMORY_MS = 24 * 60 * 60_000;

/** The columns a new request's schedule and ahead-approval fill (ISO text times, as SQLite keeps them). */
export function scheduleColumns(request: NewApproval): Record<string, string | null> {
  return {
    status: request.approvedBy ? 'approved' : 'pending',
    scheduledAt: request.schedule ? request.schedule.at.toISOString() : null,
    scheduleZone: request.schedule?.zone ?? null,
    decidedBy: request.approvedBy ?? null,
    decidedAt: request.approvedBy ? request.createdAt.toISOString() : null,
  };
}

/** Soonest first; ties by id. */
export const bySchedule = (a: ApprovalRequest, b: ApprovalRequest): number =>
  (a.scheduledAt?.getTime() ?? 0) - (b.scheduledAt?.getTime() ?? 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Oldest first; ties by id, so both backends list in the same order. */
export const byCreation = (a: ApprovalRequest, b: ApprovalRequest): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The text columns of an audit entry, by field name, for assertStorable. */
export const auditTexts = (entry: NewAuditEntry): Record<string, string | null> => ({
  actor: entry.actor,
  source: entry.source,
  kind: entry.kind,
  command: entry.command,
  target: entry.target,
  outcome: entry.outcome,
  requestId: entry.requestId,
});

/** The text columns of a new approval request, by field name, for assertStorable. */
export const approvalTexts = (request: NewApproval): Record<string, string | null> => ({
  id: request.id,
  requesterId: request.requesterId,
  channelId: request.channelId,
  teamId: request.teamId,
  enterpriseId: request.enterpriseId,
  target: request.target,
  reason: request.reason,
});

/**
 * A deferral's texts as a row can hold them: null when the id or owner cannot be stored (no request
 * has them), the error escaped when it holds what cannot be kept.
 */
export function deferralTexts(id: string, owner: string, lastError: string): { error: string } | null {
  if (!isStorable(id) || !isStorable(owner)) return null;
  return { error: isStorable(lastError) ? lastError : JSON.stringify(lastError) };
}
