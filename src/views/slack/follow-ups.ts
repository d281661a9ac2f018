/** Reminders and escalation notices of a pending approval request (docs/POLICY.md), as Slack shows them. */
import { formatPolicyDuration } from '../../policy/duration';
import { type ApprovalCard, requestPhrase } from './approval';
import { sandboxContext, sandboxPrefix, section } from './blocks';
import { audienceMention, slackDate } from './escape';
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

function message(line: string, sandbox: boolean): SlackMessage {
  return {
    text: `${sandboxPrefix(sandbox)}${line}`,
    blocks: [section(line), ...(sandbox ? [sandboxContext()] : [])],
  };
}

/** The reply in the request's thread: the reminder to its approvers, or who may now approve it. */
export function followUpThreadMessage(
  card: NoticeCard,
  notice: FollowUpNotice,
  options: { sandbox: boolean },
): SlackMessage {
  const waited = formatPolicyDuration(notice.dueAt.getTime() - card.createdAt.getTime());
  const who = notice.notify.length > 0 ? `${mentions(notice.notify)}: ` : '';
  const line =
    notice.kind === 'remind'
      ? `⏰ Reminder ${notice.n}: ${requestPhrase(card)} has waited ${waited} for a decision. ` +
        `${who}please approve or deny it above before it expires ${slackDate(card.expiresAt)}.`
      : `⏫ Escalated: nobody decided ${requestPhrase(card)} within ${waited}. ` +
        `${who}you may now approve or deny it above, as its approvers may.`;
  return message(line, options.sandbox);
}

/** The direct message a named approver gets with a reminder, pointing to the request's channel. */
export function reminderDirectMessage(
  card: NoticeCard & { channelId: string },
  options: { sandbox: boolean },
): SlackMessage {
  const line =
    `⏰ Reminder: ${requestPhrase(card)} in <#${card.channelId}> is waiting for your decision; ` +
    `it expires ${slackDate(card.expiresAt)}.`;
  return message(line, options.sandbox);
}
