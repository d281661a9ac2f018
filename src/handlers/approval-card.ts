/** An approval request as its card shows it: the input of the approval renderers in src/views/slack. */
import { LEGACY_RULE } from '../store';
import type { ApprovalRequest } from '../store/types';
import type { ApprovalCard, ApprovalChange } from '../views/slack';
import { groupDetail } from './grants';
import { cardSchedule } from './schedule-card';

/** An update's or a create's changes as stored with it (read loosely: a card is shown even for a request that failed). */
function storedChanges(request: ApprovalRequest): ApprovalChange[] | undefined {
  const changes = request.profile.changes;
  const shown = request.action === 'update' || request.action === 'create';
  return shown && Array.isArray(changes) ? (changes as ApprovalChange[]) : undefined;
}

/** A grant's group and length as stored with it (read loosely, likewise). */
function storedGrant(request: ApprovalRequest): ApprovalCard['grant'] {
  const { group } = groupDetail(request);
  const duration = request.profile.durationMs;
  return group === undefined
    ? undefined
    : { group, durationMs: typeof duration === 'number' ? duration : null };
}

/** The user as the request found them: a disable was asked of an active user, an enable of an inactive one. */
export function statusWhenRequested(request: ApprovalRequest): { active: boolean | null; id: string | null } {
  const active = request.action === 'disable' ? true : request.action === 'enable' ? false : null;
  return { active, id: typeof request.profile.id === 'string' ? request.profile.id : null };
}

/** The card of a request; `voters`: who approved so far, when known (a pending N-of-M request's progress). */
export function cardOf(
  request: ApprovalRequest,
  current?: { active: boolean | null; id: string | null },
  retryDeadlineMs = 0,
  voters: string[] = [],
): ApprovalCard {
  const reason = request.status === 'failed' ? request.result?.reason : undefined;
  const retrying = request.status === 'approved' && request.lastError !== undefined;
  return {
    id: request.id,
    action: request.action,
    changes: storedChanges(request),
    grant: storedGrant(request),
    failureReason: typeof reason === 'string' ? reason : null,
    requesterId: request.requesterId,
    target: request.target,
    reason: request.reason,
    status: request.status,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    decidedBy: request.decidedBy,
    decidedAt: request.decidedAt,
    currentActive: current?.active ?? null,
    currentId: current?.id ?? null,
    retryingUntil: retrying ? retryDeadline(request, retryDeadlineMs) : null,
    approvals: { needed: (request.rule ?? LEGACY_RULE).approvals, by: voters },
    ...cardSchedule(request),
  };
}

/**
 * Until when approved work that meets transient Atlassian failures is retried: the deadline after its
 * approval, or after its time for a request scheduled ahead.
 */
export const retryDeadline = (request: ApprovalRequest, deadlineMs: number): Date => {
  const approved = (request.decidedAt ?? request.createdAt).getTime();
  return new Date(Math.max(approved, request.scheduledAt?.getTime() ?? 0) + deadlineMs);
};
