/** Reminders and escalation notices of a pending approval request (docs/POLICY.md), as Slack shows them. */
import { formatPolicyDuration } from '../../policy/duration';
import { type ApprovalCard, requestPhrase } from './approval';
import { sandboxContext, sandboxPrefix, section } from './blocks';
import { audienceMention, escapeTruncate, oneLine, slackDate } from './escape';
import type { SlackMessage } from './limits';

export interface FollowUpNotice {
  kind: 'remind' | 'escalate';
  /** Which reminder: 1, 2, … */
  n: number;
  /** Whom it mentions: Slack user and user-group ids. */
  notify: readonly string[];
  /** When it fell due: how long the request has waited is measured from its creation to then. */
  dueAt: Date;
}

type NoticeCard = Pick<ApprovalCard, 'requesterId' | 'action' | 'target' | 'createdAt' | 'expiresAt'>;

const mentions = (ids: readonly string[]): string => ids.map(audienceMention).join(' ');

/** The notification's short text (`fallback`) and the full line with its mentions. */
function message(fallback: string, line: string, sandbox: boolean): SlackMessage {
  return {
    text: `${sandboxPrefix(sandbox)}${fallback}`,
    blocks: [section(line), ...(sandbox ? [sandboxContext()] : [])],
  };
}

/** `the disable of \`jane@example.com\``, short enough for a notification. */
export const shortRequest = (card: Pick<NoticeCard, 'action' | 'target'>): string =>
  `the ${card.action ?? 'disable'} of \`${escapeTruncate(oneLine(card.target), 60)}\``;

/** The reply in the request's thread: the reminder to its approvers, or who may now approve it. */
export function followUpThreadMessage(
  card: NoticeCard,
  notice: FollowUpNotice,
  options: { sandbox: boolean },
): SlackMessage {
  const waited = formatPolicyDuration(notice.dueAt.getTime() - card.createdAt.getTime());
  const who = notice.notify.length > 0 ? `${mentions(notice.notify)}: ` : '';
  if (notice.kind === 'remind') {
    const line =
      `⏰ Reminder ${notice.n}: ${requestPhrase(card)} has waited ${waited} for a decision. ` +
      `${who}please approve or deny it above before it expires ${slackDate(card.expiresAt)}.`;
    return message(`⏰ Reminder ${notice.n}: ${shortRequest(card)} awaits a decision`, line, options.sandbox);
  }
  const line =
    `⏫ Escalated: nobody decided ${requestPhrase(card)} within ${waited}. ` +
    `${who}you may now approve or deny it above, as its approvers may.`;
  return message(
    `⏫ Escalated: ${shortRequest(card)} may now be decided by more people`,
    line,
    options.sandbox,
  );
}

/** The direct message a named approver gets with a reminder, pointing to the request's channel. */
export function reminderDirectMessage(
  card: NoticeCard & { channelId: string },
  options: { sandbox: boolean },
): SlackMessage {
  const line =
    `⏰ Reminder: ${requestPhrase(card)} in <#${card.channelId}> is waiting for your decision; ` +
    `it expires ${slackDate(card.expiresAt)}.`;
  return message(`⏰ Reminder: ${shortRequest(card)} awaits your decision`, line, options.sandbox);
}
