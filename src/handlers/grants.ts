/**
 * Grants of group access in the approval flow (docs/GROUPS.md): an approved `grant` request stores its
 * grant once the member is added, an approved Extend lengthens one, and the person who got access is
 * told by DM. Ending a stored grant (revoke, done) goes through Store.endGrant, so each ends once.
 */
import type { WebClient } from '@slack/web-api';
import { buildResult, type IamResult, type PinnedGrant } from '../iam';
import { grantNotices, policyFor } from '../policy';
import type { Grant, GrantEndReason } from '../store/grants';
import type { ApprovalRequest } from '../store/types';
import { granteeMessage, grantEndedMessage } from '../views/slack';
import { type BotContext, writeWithRecord } from './context';
import { postMessage } from './posting';

/** `{ group }` for the audit row of anything about a grant (filterable by group), else nothing. */
export function groupDetail(request: Pick<ApprovalRequest, 'action' | 'profile'>): { group?: string } {
  const group = request.profile.group as { displayName?: unknown } | undefined;
  return request.action === 'grant' && typeof group?.displayName === 'string'
    ? { group: group.displayName }
    : {};
}

/** When the holder of a grant made now for `grant.durationMs` is told its end is near (the policy's notifyBefore). */
function endAndNotices(context: BotContext, grant: PinnedGrant, now: Date) {
  const endsAt = grant.durationMs === null ? null : new Date(now.getTime() + grant.durationMs);
  const rule = policyFor(context.policy, {
    action: 'grant',
    target: { email: grant.email, username: grant.username, group: grant.group.displayName },
    requesterId: '',
  });
  return { endsAt, noticesAt: grantNotices(rule, now, endsAt) };
}

/** Why an approved Extend cannot be carried out, for the request's `failed` reason. */
export const GRANT_ENDED_MEANWHILE = 'The grant has ended (or is ending) meanwhile: ask for a new one.';

/**
 * An approved Extend lengthens its grant BEFORE anything is sent to Atlassian: false when the grant has
 * ended meanwhile (done, revoked, expired, or its end claimed by a sweep), and then no member may be
 * added back, or they would keep access with no end. Repeating it after a crash only moves the end again.
 */
export async function extendFirst(context: BotContext, grant: PinnedGrant & { extends: string }) {
  const { endsAt, noticesAt } = endAndNotices(context, grant, context.clock());
  return endsAt !== null && (await context.store.extendGrant(grant.extends, endsAt, noticesAt));
}

/** An Extend whose grant was lengthened: its membership, found or restored, reads as the grant's success. */
function extendedResult(context: BotContext, grant: PinnedGrant, result: IamResult): IamResult {
  if (!result.IAM.Vendor.success) return result;
  return buildResult({
    action: 'add-to-group',
    instanceName: context.iam.instanceName,
    profile: result.IAM.UserProfile,
    user: result.IAM.Vendor.details,
    group: grant.group.displayName,
  });
}

/**
 * After an approved grant's member was added (or found added by our own earlier attempt): the grant is
 * stored, under the request's id, so a repeat after a crash stores nothing twice. A grant whose member
 * was there before (skipped) stores nothing: its end must not remove access given some other way.
 * Called before the request is completed: a grant that cannot be stored throws and the request is
 * carried out again later (the lease runs out), never left with a member whose access never ends.
 */
export async function recordGrant(
  context: BotContext,
  request: ApprovalRequest,
  grant: PinnedGrant,
  result: IamResult,
): Promise<IamResult> {
  if (grant.extends !== undefined) return extendedResult(context, grant, result);
  const vendor = result.IAM.Vendor;
  if (!vendor.success || vendor.skipped) return result;
  const now = context.clock();
  if (await context.store.getGrant(request.id)) return result;
  await context.store.createGrant({
    id: request.id,
    requestId: request.id,
    userId: grant.id,
    target: request.target,
    slackUserId: grant.grantee,
    groupId: grant.group.id,
    groupName: grant.group.displayName,
    grantedBy: request.decidedBy ?? request.requesterId,
    grantedAt: now,
    channelId: request.channelId,
    threadTs: request.messageTs,
    ...endAndNotices(context, grant, now),
  });
  return result;
}

/** The DM to the person who got access (when their Slack id is known); a failure to send it is logged. */
export async function tellGrantee(context: BotContext, client: WebClient, request: ApprovalRequest) {
  const grant = await context.store.getGrant(request.id);
  if (!grant?.slackUserId || grant.endedAt) return;
  const message = granteeMessage(grant, grant.grantedBy, context.sandbox);
  await postMessage(client, grant.slackUserId, message).catch((error: Error) =>
    context.logger.error('could not tell the grantee', { requestId: request.id, error: error.message }),
  );
}

/** How a removal by /iam-revoke ends stored grants: by whom, why, and the removal's outcome (success, skipped). */
export interface StoredGrantsEnd {
  by: string;
  reason: GrantEndReason;
  outcome: string;
}

/**
 * Ends one stored grant with its audit row (one store write), then says so in its thread and to its
 * holder; null when another caller ended it, or when the row cannot be written (logged: the grant stays
 * active, the removal itself is recorded by the command's result row).
 */
async function endStoredGrant(
  context: BotContext,
  client: WebClient,
  grant: Grant,
  end: StoredGrantsEnd,
): Promise<Grant | null> {
  const entry = {
    actor: end.by,
    kind: 'result' as const,
    command: `grant-${end.reason === 'revoked' ? 'revoke' : end.reason}`,
    target: grant.target,
    outcome: end.outcome,
    requestId: grant.requestId,
    detail: { group: grant.groupName, grantId: grant.id, endsAt: grant.endsAt?.toISOString() ?? null },
  };
  let mine: Grant | null;
  try {
    mine = await writeWithRecord(context, entry, (record) =>
      context.store.endGrant(grant.id, { by: end.by, at: context.clock(), reason: end.reason }, record),
    );
  } catch (error) {
    context.logger.error('AUDIT ROW MISSING: a grant end was not recorded; the grant stays active', {
      grantId: grant.id,
      command: entry.command,
      target: grant.target,
      error: (error as Error).message,
    });
    return null;
  }
  if (!mine) return null;
  const message = grantEndedMessage(mine, end.reason, end.by, context.sandbox);
  const places = [
    ...(mine.channelId && mine.threadTs ? [[mine.channelId, mine.threadTs]] : []),
    ...(mine.slackUserId && mine.slackUserId !== end.by ? [[mine.slackUserId, undefined]] : []),
  ] as [string, string | undefined][];
  for (const [channel, threadTs] of places) {
    await postMessage(client, channel, message, threadTs ? { threadTs } : {}).catch((error: Error) =>
      context.logger.warn('could not post that a grant ended', { grantId: grant.id, error: error.message }),
    );
  }
  return mine;
}

/**
 * Ends the active stored grants of this user in this group (the member was removed, or is being): each
 * through endGrant with its own audit row, so only the caller that ends it records it, posts in its
 * thread and tells its holder.
 */
export async function endStoredGrants(
  context: BotContext,
  client: WebClient,
  member: { userId: string; groupName: string },
  end: StoredGrantsEnd,
): Promise<Grant[]> {
  const name = member.groupName.toLowerCase();
  const active = (await context.store.listGrants({ userId: member.userId, active: true })).filter(
    (grant) => grant.groupName.toLowerCase() === name,
  );
  const ended: Grant[] = [];
  for (const grant of active) {
    const mine = await endStoredGrant(context, client, grant, end);
    if (mine) ended.push(mine);
  }
  return ended;
}
