/**
 * Requests of which at most one may be open (pending or approved) at a time, across every instance on
 * one database: one scheduled request per user (docs/POLICY.md, "one pending schedule per user") and
 * one Extend per grant (docs/GROUPS.md). Both stores keep the key in a column under a partial unique
 * index, so the check and the insert are one atomic step; the loser of a race gets AlreadyOpenError.
 */
import type { ApprovalRequest, NewApproval } from './types';

/** The key a new request shares with those it excludes, or null when any number may be open. */
export function openRequestKey({ action, profile, schedule }: NewApproval): string | null {
  if (schedule && typeof profile.id === 'string') return `schedule:${profile.id}`;
  if (action === 'grant' && typeof profile.extends === 'string') return `extend:${profile.extends}`;
  return null;
}

/** A request not stored because `existing` (pending or approved) holds its key; nothing was stored. */
export class AlreadyOpenError extends Error {
  constructor(readonly existing: ApprovalRequest) {
    super(`The approval request ${existing.id} for ${existing.target} is still open; nothing was stored.`);
    this.name = 'AlreadyOpenError';
  }
}
