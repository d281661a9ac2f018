/** What a scheduled request adds to its card and its expiry (see src/handlers/scheduled.ts). */
import { formatInZone } from '../iam/schedule';
import type { ApprovalRequest } from '../store/types';
import type { ApprovalCard } from '../views/slack';

/** The card's schedule (the time as written in its zone) and who cancelled it; nothing for other requests. */
export function cardSchedule(request: ApprovalRequest): Pick<ApprovalCard, 'schedule' | 'cancelledBy'> {
  if (!request.scheduledAt) return {};
  const zone = request.scheduleZone ?? 'UTC';
  const cancelledBy = request.status === 'cancelled' ? request.result?.cancelledBy : undefined;
  return {
    schedule: { at: request.scheduledAt, local: formatInZone(request.scheduledAt, zone), zone },
    ...(typeof cancelledBy === 'string' ? { cancelledBy } : {}),
  };
}

/** A request expires unanswered after the approval TTL, and a scheduled one at the latest at its time. */
export function expiryOf(now: Date, ttlMs: number, schedule?: { at: Date }): Date {
  const expiry = now.getTime() + ttlMs;
  return new Date(schedule ? Math.min(expiry, schedule.at.getTime()) : expiry);
}
