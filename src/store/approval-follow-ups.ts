/**
 * Reminders and escalation notices of pending approval requests (docs/POLICY.md, "What a rule means"):
 * stored with the request from its rule, each sent exactly once across instances and restarts by
 * whichever instance claims it first, and never once the request was decided or has expired.
 */
import type { RowDecoder } from './rows';
import type { ApprovalRequest } from './types';

export type FollowUpKind = 'remind' | 'escalate';

export interface NewApprovalFollowUp {
  requestId: string;
  kind: FollowUpKind;
  /** 1 for the first reminder, 2 for the second…; 1 for the escalation. */
  n: number;
  dueAt: Date;
  /**
   * The Slack user and user-group ids it mentions (the approvers; for an escalation, those it adds),
   * fixed when the request is stored, as the rest of its rule is.
   */
  notify: readonly string[];
}

export interface ClaimedFollowUp extends NewApprovalFollowUp {
  sentAt: Date;
  /** The instance that claimed it (the claim owner). */
  sentBy: string;
  /** The request as it was when claimed: pending and unexpired. */
  request: ApprovalRequest;
}

export interface ApprovalFollowUpStore {
  /** Stores a request's follow-ups; one already stored (same request, kind and n) is left as it is. */
  addFollowUps(followUps: readonly NewApprovalFollowUp[]): Promise<void>;
  /**
   * Marks up to `limit` follow-ups due at or before `now`, not yet sent, of requests still pending and
   * unexpired at `now`, as sent by `owner`, and returns them (soonest first) in one atomic statement:
   * each to exactly one caller across connections and instances. A follow-up of a request decided or
   * expired is never returned. Claimed means sent: a crash before the message went out loses that one
   * message rather than ever sending it twice.
   */
  claimDueFollowUps(now: Date, owner: string, limit: number): Promise<ClaimedFollowUp[]>;
}

/** Soonest first; ties by request id, kind and n, so both backends hand them out in the same order. */
export const byDue = (a: NewApprovalFollowUp, b: NewApprovalFollowUp): number =>
  a.dueAt.getTime() - b.dueAt.getTime() ||
  (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0) ||
  (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
  a.n - b.n;

/** A stored follow-up joined with its request's row; `T` and `J` as in rows.ts (times, JSON). */
export interface FollowUpRow<T, J> {
  request_id: string;
  kind: FollowUpKind;
  n: number;
  due_at: T;
  notify: J;
  sent_at: T;
  sent_by: string;
}

export function claimedFromRow<T, J>(
  row: FollowUpRow<T, J>,
  decode: RowDecoder<T, J>,
  request: ApprovalRequest,
): ClaimedFollowUp {
  const notify: unknown = decode.json(row.notify);
  return {
    requestId: row.request_id,
    kind: row.kind,
    n: Number(row.n),
    dueAt: decode.time(row.due_at),
    notify: Array.isArray(notify) ? notify.filter((id): id is string => typeof id === 'string') : [],
    sentAt: decode.time(row.sent_at),
    sentBy: row.sent_by,
    request,
  };
}

/** The text columns of new follow-ups, for assertStorable. */
export const followUpTexts = (followUp: NewApprovalFollowUp): Record<string, string> => ({
  requestId: followUp.requestId,
  notify: followUp.notify.join(','),
});
