/**
 * Time-bound grants end by themselves (docs/GROUPS.md). A sweep, run by every instance (periodically
 * and once at start) and by `atlassian-iam run-scheduled`, claims due ends (Store.claimDueGrantEnds:
 * each to one caller across instances, for a lease), removes the member, ends the grant
 * (Store.endGrant, reason expired: exactly one caller wins) and only then says so in the grant's thread
 * and to its holder by DM. A transient Atlassian failure leaves the grant claimed: when the lease runs
 * out the next sweep, on any instance, tries again; so does a crash or SIGKILL mid-way.
 */
import type { WebClient } from '@slack/web-api';
import { failureCause, type IamResult, madeByEarlierAttempt, removePinnedMember, SKIP_REASONS } from '../iam';
import { isTransientFailure } from '../scim/client';
import type { Grant } from '../store/grants';
import { type ExpiryOutcome, type GrantEndCause, grantEndMessage, type SlackMessage } from '../views/slack';
import { CLAIM_OWNER } from './claims';
import { audit, type BotContext, writeWithRecord } from './context';
import { postMessage } from './posting';

/** Claimed per statement: an instance killed mid-batch strands few, for its peers to take when the lease ends. */
export const GRANT_END_BATCH = 25;
/**
 * How long a claimed end is held: short, because a peer takes a killed instance's grants only when it
 * runs out; a removal is three requests. One that outlasts it may be removed twice (the second finds
 * no member and sends nothing), but endGrant lets one caller end it and tell people.
 */
export const GRANT_END_LEASE_MS = 5_000;
/** The actor of the audit rows of expiries. */
const SYSTEM = 'system';

/** The removal's outcome for people, or null when it failed and the grant must wait for the next sweep. */
function expiryOutcome(result: IamResult): ExpiryOutcome | null {
  const vendor = result.IAM.Vendor;
  if (vendor.success) return vendor.skipped ? 'already-removed' : 'removed';
  const cause = failureCause(result);
  // The group was deleted: nobody has its access any more, so the grant ends with nothing to remove.
  if (cause?.status === 404 && /^Group ".*" no longer exists/.test(cause.message)) return 'group-gone';
  return null;
}

/** Our attempts to end the grant before this one: the sweeps that claimed it, but for this sweep's own claim. */
const earlierAttempts = (grant: Grant, cause: GrantEndCause): number =>
  grant.endAttempts - (cause.reason === 'expired' ? 1 : 0);

/** What removing the grant's member did: the result, its outcome for people, and whether an earlier attempt of ours made it. */
interface Removal {
  result: IamResult;
  outcome: ExpiryOutcome;
  byEarlierAttempt: boolean;
}

/**
 * Removes the grant's member; null when that failed (logged). A member found gone after an earlier
 * attempt of ours (cut short between its PATCH and the end being stored) was removed by that attempt.
 */
async function removeMember(
  context: BotContext,
  grant: Grant,
  cause: GrantEndCause,
): Promise<Removal | null> {
  const found = await removePinnedMember(context.iam, {
    user: { id: grant.userId },
    group: { id: grant.groupId, displayName: grant.groupName },
  });
  const result =
    earlierAttempts(grant, cause) > 0 ? madeByEarlierAttempt(found, SKIP_REASONS.notMember) : found;
  const outcome = expiryOutcome(result);
  if (outcome !== null) return { result, outcome, byEarlierAttempt: result !== found };
  const failure = failureCause(result);
  const log = failure && isTransientFailure(failure) ? context.logger.warn : context.logger.error;
  log.call(context.logger, 'a grant could not be ended yet', {
    grantId: grant.id,
    group: grant.groupName,
    error: result.IAM.Vendor.errorMessage,
  });
  return null;
}

const endCommand = (cause: GrantEndCause): string =>
  `grant-${cause.reason === 'expired' ? 'expiry' : 'done'}`;

/** The row of an attempt to end a grant, written before its member is removed (no action without its row). */
function attemptEntry(grant: Grant, cause: GrantEndCause, by: string) {
  return {
    actor: by,
    kind: 'command' as const,
    command: endCommand(cause),
    target: grant.target,
    outcome: 'received',
    requestId: grant.requestId,
    detail: { group: grant.groupName, grantId: grant.id, userId: grant.userId, groupId: grant.groupId },
  };
}

/**
 * Whether an earlier attempt of the sweep already recorded its `received` row for this grant: an expiry
 * retried every lease through an Atlassian outage writes it once, not once per attempt.
 */
async function attemptRecorded(context: BotContext, grant: Grant, cause: GrantEndCause): Promise<boolean> {
  if (cause.reason !== 'expired' || grant.endAttempts <= 1) return false;
  const rows = await context.store.listAudit({ target: grant.target, group: grant.groupName, limit: 1_000 });
  return rows.some(
    (row) => row.command === endCommand(cause) && row.kind === 'command' && row.detail?.grantId === grant.id,
  );
}

/** The audit row of a grant's end, written with the end itself (Store.endGrant). */
function endEntry(grant: Grant, cause: GrantEndCause, by: string, now: Date, removal: Removal) {
  return {
    actor: by,
    kind: 'result' as const,
    command: endCommand(cause),
    target: grant.target,
    outcome: removal.outcome === 'removed' ? 'success' : 'skipped',
    requestId: grant.requestId,
    detail: {
      group: grant.groupName,
      grantId: grant.id,
      endsAt: grant.endsAt?.toISOString() ?? null,
      lateMs: grant.endsAt ? now.getTime() - grant.endsAt.getTime() : null,
      outcome: removal.outcome,
      ...(removal.byEarlierAttempt
        ? { removedBy: 'an earlier attempt of ours, cut short', attempts: grant.endAttempts }
        : {}),
      result: removal.result,
    },
  };
}

/** The grant's member was removed but its end could not be stored with its audit row: it stays active. */
export class GrantEndUnrecorded extends Error {
  constructor(grant: Grant, cause: unknown) {
    super(
      `The member of "${grant.groupName}" was removed, but the audit log is unavailable, so the end of the grant is not recorded yet (${(cause as Error).message}).`,
    );
    this.name = 'GrantEndUnrecorded';
  }
}

/**
 * Records the attempt, removes a grant's member and ends the grant (`cause`: expired, or done by its
 * holder) with its audit row, in one store write; true when this caller ended it. Only that caller tells the thread and the
 * holder. A failed removal ends nothing: an expiry waits for the next sweep, a click says so. An end
 * whose row cannot be written ends nothing either: logged, and thrown as GrantEndUnrecorded (an expiry
 * is tried again once its lease has run out, and then reads as removed by this attempt).
 */
export async function endGrantNow(
  context: BotContext,
  client: WebClient,
  grant: Grant,
  cause: GrantEndCause,
): Promise<boolean> {
  const by = cause.reason === 'expired' ? SYSTEM : cause.by;
  // Recorded before the member is removed: while the audit log refuses rows nothing is sent
  // (AuditUnavailableError), an expiry stays claimed for a later sweep and a click is told.
  if (!(await attemptRecorded(context, grant, cause))) await audit(context, attemptEntry(grant, cause, by));
  const removal = await removeMember(context, grant, cause);
  if (removal === null) return false;
  const now = context.clock();
  const entry = endEntry(grant, cause, by, now, removal);
  let ended: Grant | null;
  try {
    ended = await writeWithRecord(context, entry, (record) =>
      context.store.endGrant(grant.id, { by, at: now, reason: cause.reason }, record),
    );
  } catch (error) {
    context.logger.error('AUDIT ROW MISSING: a grant end was not recorded; the grant stays active', {
      grantId: grant.id,
      command: entry.command,
      target: grant.target,
      outcome: entry.outcome,
      error: (error as Error).message,
    });
    throw new GrantEndUnrecorded(grant, error);
  }
  if (!ended) return false; // ended meanwhile (revoked, done, or a peer's sweep)
  const message = grantEndMessage(ended, cause, removal.outcome, context.sandbox);
  await tellGrantEvent(context, client, ended, message);
  return true;
}

/** Posts in the grant's thread and DMs its holder; a failure to post is logged (what happened stands). */
export async function tellGrantEvent(
  context: BotContext,
  client: WebClient,
  grant: Grant,
  message: SlackMessage,
  where: { thread: boolean; holder: boolean } = { thread: true, holder: true },
) {
  const posts: [string, { threadTs?: string }][] = [];
  if (where.thread && grant.channelId) {
    posts.push([grant.channelId, grant.threadTs ? { threadTs: grant.threadTs } : {}]);
  }
  if (where.holder && grant.slackUserId) posts.push([grant.slackUserId, {}]);
  for (const [channel, options] of posts) {
    await postMessage(client, channel, message, options).catch((error: Error) =>
      context.logger.error('could not post about a grant', { grantId: grant.id, error: error.message }),
    );
  }
}

/**
 * Ends every due grant this caller can claim, a batch at a time, until none is left to claim (those
 * that failed stay claimed until their lease runs out). Returns how many it ended.
 */
export async function endDueGrants(context: BotContext, client: WebClient): Promise<number> {
  let count = 0;
  for (;;) {
    const claimed = await context.store.claimDueGrantEnds(
      context.clock(),
      GRANT_END_LEASE_MS,
      CLAIM_OWNER,
      GRANT_END_BATCH,
    );
    if (claimed.length === 0) return count;
    const ended = await Promise.all(
      claimed.map((grant) =>
        endGrantNow(context, client, grant, { reason: 'expired' }).catch((error: Error) => {
          context.logger.error('could not end a grant', { grantId: grant.id, error: error.message });
          return false;
        }),
      ),
    );
    count += ended.filter(Boolean).length;
  }
}
