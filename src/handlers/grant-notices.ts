/**
 * Before a grant ends (the policy's notifyBefore, default 24 h and 1 h), its holder gets a DM with
 * "Extend" and "I'm done", and the grant's thread says they were reminded. Each notice is claimed once
 * across instances (Store.claimDueGrantNotices). "I'm done" ends the grant now; only its holder may.
 */
import type { WebClient } from '@slack/web-api';
import { pinUser } from '../iam';
import { policyFor } from '../policy';
import type { ScimUser } from '../scim/types';
import type { DueGrantNotice, Grant } from '../store/grants';
import {
  errorNotice,
  grantExtendAskedMessage,
  grantNoticeMessage,
  grantNoticeSentMessage,
  refusalMessage,
  type SlackMessage,
} from '../views/slack';
import { type AlreadyOpen, alreadyOpenRefusal } from './already-open';
import { requestApproval } from './approvals';
import { AUDIT_UNAVAILABLE, audit, AuditUnavailableError, auditDone, type BotContext } from './context';
import { endGrantNow, GrantEndUnrecorded, tellGrantEvent } from './grant-expiry';
import { postMessage } from './posting';

/** Notices claimed per statement. */
export const GRANT_NOTICE_BATCH = 50;

/** After downtime a grant may have several notices due: its holder gets one DM, about the latest. */
function latestPerGrant(due: readonly DueGrantNotice[]): DueGrantNotice[] {
  const latest = new Map<string, DueGrantNotice>();
  for (const notice of due) {
    const seen = latest.get(notice.grant.id);
    if (!seen || seen.dueAt < notice.dueAt) latest.set(notice.grant.id, notice);
  }
  return [...latest.values()];
}

async function sendNotice(context: BotContext, client: WebClient, { grant, dueAt }: DueGrantNotice) {
  await auditDone(context, {
    actor: 'system',
    kind: 'result',
    command: 'grant-notice',
    target: grant.target,
    outcome: 'sent',
    requestId: grant.requestId,
    detail: {
      group: grant.groupName,
      grantId: grant.id,
      dueAt: dueAt.toISOString(),
      endsAt: grant.endsAt?.toISOString() ?? null,
    },
  });
  const { sandbox } = context;
  await tellGrantEvent(context, client, grant, grantNoticeMessage(grant, sandbox), {
    thread: false,
    holder: true,
  });
  await tellGrantEvent(context, client, grant, grantNoticeSentMessage(grant, sandbox), {
    thread: true,
    holder: false,
  });
}

/** Sends every due notice this caller can claim; returns how many holders were told. */
export async function sendDueNotices(context: BotContext, client: WebClient): Promise<number> {
  let sent = 0;
  for (;;) {
    const due = await context.store.claimDueGrantNotices(context.clock(), GRANT_NOTICE_BATCH);
    if (due.length === 0) return sent;
    for (const notice of latestPerGrant(due)) {
      await sendNotice(context, client, notice).catch((error: Error) =>
        context.logger.error('could not send a grant notice', {
          grantId: notice.grant.id,
          error: error.message,
        }),
      );
      sent++;
    }
  }
}

export interface GrantClick {
  grantId: string;
  userId: string;
  /** The workspace and Grid org of the click: an Extend's decisions count only there. */
  teamId?: string | null;
  enterpriseId?: string | null;
}

/**
 * A button that cannot do what it says: the clicker is told by DM (`message`, else the reason), a
 * refusal row says why, nothing changes.
 */
async function refuseClick(
  context: BotContext,
  client: WebClient,
  click: GrantClick,
  command: string,
  grant: Grant | null,
  reason: string,
  message = refusalMessage(reason, { sandbox: context.sandbox }),
): Promise<void> {
  await postMessage(client, click.userId, message);
  await auditDone(context, {
    actor: click.userId,
    kind: 'refusal',
    command,
    target: grant?.target ?? null,
    outcome: 'refused',
    requestId: grant?.requestId ?? null,
    detail: { reason, grantId: click.grantId, ...(grant ? { group: grant.groupName } : {}) },
  });
}

/**
 * The grant a notice button names, when the clicker may act on it: it exists, it is theirs, it has not
 * ended. Otherwise the clicker is told why (refuseClick) and null is returned.
 */
export async function clickedGrant(
  context: BotContext,
  client: WebClient,
  click: GrantClick,
  command: string,
): Promise<Grant | null> {
  const grant = click.grantId.includes('\u0000') ? null : await context.store.getGrant(click.grantId);
  const refuse = (reason: string) =>
    refuseClick(context, client, click, command, grant, reason).then(() => null);
  if (!grant) return refuse('This grant does not exist.');
  if (grant.slackUserId !== click.userId) {
    return refuse('Only the person who has this access can use this button; operators use /iam-revoke.');
  }
  if (grant.endedAt) {
    return refuse(`Your access to "${grant.groupName}" has already ended (${grant.endReason ?? 'ended'}).`);
  }
  return grant;
}

/** "I'm done": the holder ends their grant now (removed, ended with reason done, thread and DM told). */
export async function grantDone(context: BotContext, client: WebClient, click: GrantClick): Promise<boolean> {
  const grant = await clickedGrant(context, client, click, 'grant-done');
  if (!grant) return false;
  try {
    if (await endGrantNow(context, client, grant, { reason: 'done', by: click.userId })) return true;
  } catch (error) {
    if (!(error instanceof GrantEndUnrecorded || error instanceof AuditUnavailableError)) throw error;
    const text = error instanceof GrantEndUnrecorded ? error.message : AUDIT_UNAVAILABLE;
    await postMessage(client, click.userId, errorNotice(text, { sandbox: context.sandbox }));
    return false;
  }
  const latest = await context.store.getGrant(grant.id);
  const reason = latest?.endedAt
    ? `Your access to "${grant.groupName}" has already ended (${latest.endReason ?? 'ended'}).`
    : `You could not be removed from "${grant.groupName}" just now (Atlassian did not answer); try again in a minute.`;
  await refuseClick(context, client, click, 'grant-done', grant, reason);
  return false;
}

/** Why an Extend cannot be asked for now (an extension of the grant is open already), or null when it can. */
async function extendBlocker(
  context: BotContext,
  grant: Grant,
  click: GrantClick,
): Promise<AlreadyOpen | null> {
  const pending = await context.store.listPendingApprovals();
  const open = pending.find((request) => request.action === 'grant' && request.profile.extends === grant.id);
  return open ? alreadyOpenRefusal(open, click.userId, context.sandbox) : null;
}

/**
 * "Extend": a new grant request for the same group and the same length, approved like the first (an
 * approver other than the holder); on approval the grant gets its new end (grants.ts). Its card goes to
 * the grant's channel, and the grant's thread says it was asked for. One extension of a grant is open
 * at a time: a second click, on any instance, is told which one waits and who asked, and stores nothing.
 */
export async function grantExtend(
  context: BotContext,
  client: WebClient,
  click: GrantClick,
): Promise<boolean> {
  const grant = await clickedGrant(context, client, click, 'grant-extend');
  if (!grant) return false;
  const refuse = (reason: string, message?: SlackMessage) =>
    refuseClick(context, client, click, 'grant-extend', grant, reason, message).then(() => false);
  if (!grant.channelId)
    return refuse('This access was given without a channel to ask in: ask an operator for more time.');
  const blocked = await extendBlocker(context, grant, click);
  if (blocked) return refuse(blocked.reason, blocked.message);
  const user = await context.iam.directory.getUserById(grant.userId);
  if (!user) return refuse('Your Atlassian account no longer exists, so it cannot be extended.');
  return askForMoreTime(context, client, click, { ...grant, channelId: grant.channelId }, user);
}

/**
 * The extension's "received" row, its approval request (same group, same length) and, once stored, the
 * thread's note. False when the store kept another open extension instead (the clicker was told).
 */
async function askForMoreTime(
  context: BotContext,
  client: WebClient,
  click: GrantClick,
  grant: Grant & { channelId: string },
  user: ScimUser,
): Promise<boolean> {
  const detail = { group: grant.groupName, grantId: grant.id };
  await audit(context, {
    actor: click.userId,
    kind: 'command',
    command: 'grant-extend',
    target: grant.target,
    outcome: 'received',
    requestId: grant.requestId,
    detail,
  });
  const input = {
    requesterId: click.userId,
    channelId: grant.channelId,
    teamId: click.teamId ?? null,
    enterpriseId: click.enterpriseId ?? null,
    reason: `more time for access to ${grant.groupName} (grant ${grant.id})`,
    fallbackUserId: click.userId,
  };
  const durationMs = grant.endsAt ? grant.endsAt.getTime() - grant.grantedAt.getTime() : null;
  const group = { id: grant.groupId, displayName: grant.groupName };
  const profile = { ...pinUser(user), group, durationMs, grantee: click.userId, extends: grant.id };
  // Decided under the grant rule that governs it now, as a first request would be.
  const target = { email: profile.email, username: user.userName, group: grant.groupName };
  const rule = policyFor(context.policy, { action: 'grant', target, requesterId: click.userId });
  if (!(await requestApproval(context, client, input, { action: 'grant', profile }, user, rule)))
    return false;
  await tellGrantEvent(context, client, grant, grantExtendAskedMessage(grant, context.sandbox), {
    thread: true,
    holder: false,
  });
  return true;
}
