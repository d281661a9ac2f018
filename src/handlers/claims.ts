/**
 * Claims and leases on approved requests: one instance at a time carries a request out, holding a lease
 * it renews while it works; a crashed holder's lease runs out (or, when the holder is certainly dead,
 * is taken over at once), so another instance can finish the work.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ApprovedRetry, BotContext } from './context';

/** How long an instance may take to carry out an approved request before another may take over. */
export const APPROVAL_LEASE_MS = 2 * 60_000;

/** Retries of approved work: 1, 2, 4 … minutes apart (at most 30), until `deadlineMs` after approval. */
export const approvedRetry = (deadlineMs: number): ApprovedRetry => ({
  deadlineMs,
  firstDelayMs: 60_000,
  maxDelayMs: 30 * 60_000,
  leaseRenewMs: APPROVAL_LEASE_MS / 4,
});

/**
 * Who holds a claim: `host/pid/boot`. One value per process (every bot in one process shares it, so
 * they never take each other's claims); `boot` tells this process from an earlier one with the same pid
 * (a restarted container's bot is often pid 1 again).
 */
export const CLAIM_OWNER = `${os.hostname()}/${process.pid}/${randomUUID()}`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, so it may be a live bot.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True only when the holder of a claim is certainly dead: a process on this very host that no longer
 * exists, or an earlier process that had our own pid. A holder on another host, or one whose liveness
 * cannot be told (no owner recorded, pid in use), is presumed alive and keeps its lease, so with
 * several instances (PostgreSQL) a starting instance never takes a disable out of a live peer's hands
 * (both could find the user active and send the PATCH); such a claim is taken over only when its
 * lease has run out, by the periodic sweep of any instance.
 */
export function claimHolderIsDead(owner: string | null | undefined, self = CLAIM_OWNER): boolean {
  if (!owner || owner === self) return false;
  const [host, pidText, boot] = owner.split('/');
  const [ownHost, ownPid] = self.split('/');
  const pid = Number(pidText);
  if (host !== ownHost || !Number.isSafeInteger(pid) || pid <= 0 || !boot) return false;
  if (String(pid) === ownPid) return true; // same pid, other boot: an earlier incarnation of this process
  return !isAlive(pid);
}

/**
 * Runs `work` on a request this instance has claimed, renewing its lease while the work runs (a
 * heartbeat), so a live holder is never taken over.
 */
export async function withLease<T>(
  context: BotContext,
  requestId: string,
  work: () => Promise<T>,
): Promise<T> {
  const heartbeat = setInterval(() => {
    context.store
      .renewClaim(requestId, CLAIM_OWNER, context.clock(), APPROVAL_LEASE_MS)
      .catch((error: Error) =>
        context.logger.warn('could not renew a lease', { requestId, error: error.message }),
      );
  }, context.approvedRetry.leaseRenewMs);
  heartbeat.unref();
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
  }
}
