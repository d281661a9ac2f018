/**
 * Time-bound grants end by themselves (docs/GROUPS.md). A sweep, run by every instance (periodically
 * and once at start) and by `atlassian-iam run-scheduled`, claims due ends (Store.claimDueGrantEnds:
 * each to one caller across instances, for a lease), removes the member, ends the grant
 * (Store.endGrant, reason expired: exactly one caller wins) and only then says so in the grant's thread
 * and to its holder by DM. A transient Atlassian failure leaves the grant claimed: when the lease runs
 * out the next sweep, on any instance, tries again; so does a crash or SIGKILL mid-way.
 */
import type { WebClient } from '@slack/web-api';
import { failureCause, type IamResult, removePinnedMember } from '../iam';
import { isTransientFailure } from '../scim/client';
import type { Grant } from '../store/grants';
import { type ExpiryOutcome, type GrantEndCause, grantEndMessage, type SlackMessage } from '../views/slack';
import { CLAIM_OWNER } from './claims';
import { auditDone, type BotContext } from './context';
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

/**
 * Removes a grant's member and ends the grant (`cause`: expired, or done by its holder); true when this
 * caller ended it. Only that caller writes the audit row and tells the thread and the holder. A failed
 * removal ends nothing: an expiry waits for the next sweep, a click says so.
 */
export async function endGrantNow(
  context: BotContext,
  client: WebClient,
  grant: Grant,
  cause: GrantEndCause,
): Promise<boolean> {
  const result = await removePinnedMember(context.iam, {
    user: { id: grant.userId },
    group: { id: grant.groupId, displayName: grant.groupName },
  });
  const outcome = expiryOutcome(result);
  if (outcome === null) {
    const failure = failureCause(result);
    const log = failure && isTransientFailure(failure) ? context.logger.warn : context.logger.error;
    log.call(context.logger, 'a grant could not be ended yet', {
      grantId: grant.id,
      group: grant.groupName,
      error: result.IAM.Vendor.errorMessage,
    });
    return false;
  }
  const now = context.clock();
  const by = cause.reason === 'expired' ? SYSTEM : cause.by;
  const ended = await context.store.endGrant(grant.id, by, now, cause.reason);
  if (!ended) return false; // ended meanwhile (revoked, done, or a peer's sweep)
  await auditDone(context, {
    actor: by,
    kind: 'result',
    command: `grant-${cause.reason === 'expired' ? 'expiry' : 'done'}`,
    target: grant.target,
    outcome: outcome === 'removed' ? 'success' : 'skipped',
    requestId: grant.requestId,
    detail: {
      group: grant.groupName,
      grantId: grant.id,
      endsAt: grant.endsAt?.toISOString() ?? null,
      lateMs: grant.endsAt ? now.getTime() - grant.endsAt.getTime() : null,
      outcome,
      result,
    },
  });
  await tellGrantEvent(context, client, ended, grantEndMessage(ended, cause, outcome, context.sandbox));
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
