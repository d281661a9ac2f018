import type { DueGrantNotice, Grant, GrantEndReason, GrantQuery, NewGrant } from './grants';
import type { RowDecoder } from './rows';

/** A grants row as both backends store it; `T` is how a backend hands back times (see rows.ts). */
export interface GrantRow<T> {
  id: string;
  request_id: string | null;
  user_id: string;
  target: string;
  slack_user_id: string | null;
  group_id: string;
  group_name: string;
  granted_by: string;
  granted_at: T;
  ends_at: T | null;
  channel_id: string | null;
  thread_ts: string | null;
  ended_at: T | null;
  ended_by: string | null;
  end_reason: GrantEndReason | null;
  claimed_by: string | null;
  end_attempts: number;
}

/** A grant row joined with the time of the notice claimed (claimDueGrantNotices). */
export type GrantNoticeRow<T> = GrantRow<T> & { notice_due_at: T };

export function grantFromRow<T, J>(row: GrantRow<T>, decode: RowDecoder<T, J>): Grant {
  const time = (value: T | null): Date | null => (value === null ? null : decode.time(value));
  return {
    id: row.id,
    requestId: row.request_id,
    userId: row.user_id,
    target: row.target,
    slackUserId: row.slack_user_id,
    groupId: row.group_id,
    groupName: row.group_name,
    grantedBy: row.granted_by,
    grantedAt: decode.time(row.granted_at),
    endsAt: time(row.ends_at),
    channelId: row.channel_id,
    threadTs: row.thread_ts,
    endedAt: time(row.ended_at),
    endedBy: row.ended_by,
    endReason: row.end_reason,
    claimedBy: row.claimed_by,
    endAttempts: row.end_attempts,
  };
}

export const noticeFromRow = <T, J>(row: GrantNoticeRow<T>, decode: RowDecoder<T, J>): DueGrantNotice => ({
  grant: grantFromRow(row, decode),
  dueAt: decode.time(row.notice_due_at),
});

/** Soonest end first, grants without an end last; ties by grant time, then id (both backends alike). */
export const byEnd = (a: Grant, b: Grant): number =>
  (a.endsAt?.getTime() ?? Infinity) - (b.endsAt?.getTime() ?? Infinity) ||
  a.grantedAt.getTime() - b.grantedAt.getTime() ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Notices soonest first; ties by grant id. */
export const byNotice = (a: DueGrantNotice, b: DueGrantNotice): number =>
  a.dueAt.getTime() - b.dueAt.getTime() || (a.grant.id < b.grant.id ? -1 : a.grant.id > b.grant.id ? 1 : 0);

/** The text columns of a new grant, by field name, for assertStorable. */
export const grantTexts = (grant: NewGrant): Record<string, string | null> => ({
  id: grant.id,
  requestId: grant.requestId,
  userId: grant.userId,
  target: grant.target,
  slackUserId: grant.slackUserId,
  groupId: grant.groupId,
  groupName: grant.groupName,
  grantedBy: grant.grantedBy,
  channelId: grant.channelId,
  threadTs: grant.threadTs,
});

/** The text filters of a grant query; one no store can hold matches nothing. */
export const queryTexts = (query: GrantQuery): string[] =>
  [query.slackUserId, query.userId, query.groupId].filter((v): v is string => v !== undefined);
