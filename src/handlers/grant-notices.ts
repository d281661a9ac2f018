/**
 * Before a grant ends (the policy's notifyBefore, default 24 h and 1 h), its holder gets a DM with
 * "Extend" and "I'm done", and the grant's thread says they were reminded. Each notice is claimed once
 * across instances (Store.claimDueGrantNotices). "I'm done" ends the grant now; only its holder may.
 */
import type { WebClient } from '@slack/web-api';
import type { DueGrantNotice, Grant } from '../store/grants';
import { grantNoticeMessage, grantNoticeSentMessage, refusalMessage } from '../views/slack';
import { auditDone, type BotContext } from './context';
import { endGrantNow, tellGrantEvent } from './grant-expiry';
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
}

/** A button that cannot do what it says: the clicker is told by DM, a refusal row says why, nothing changes. */
async function refuseClick(
  context: BotContext,
  client: WebClient,
  click: GrantClick,
  command: string,
  grant: Grant | null,
  reason: string,
): Promise<void> {
  await postMessage(client, click.userId, refusalMessage(reason, { sandbox: context.sandbox }));
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
  if (await endGrantNow(context, client, grant, { reason: 'done', by: click.userId })) return true;
  const latest = await context.store.getGrant(grant.id);
  const reason = latest?.endedAt
    ? `Your access to "${grant.groupName}" has already ended (${latest.endReason ?? 'ended'}).`
    : `You could not be removed from "${grant.groupName}" just now (Atlassian did not answer); try again in a minute.`;
  await refuseClick(context, client, click, 'grant-done', grant, reason);
  return false;
}
