/**
 * What a person is told when their request is not stored because another is open in its place: a
 * second schedule of a user, or a second Extend of a grant (Store.createApproval, one-open-request.ts).
 * The same words whether a check found the open one first or the store refused a racing insert.
 */
import { alreadyScheduledMessage } from '../iam/schedule';
import type { ApprovalRequest } from '../store/types';
import { extendWaitingNotice, refusalMessage, type SlackMessage } from '../views/slack';
import { groupDetail } from './grants';

/** How a schedule made in Slack is cancelled, for the refusal of a second one. */
export const SLACK_CANCEL_HINT =
  'the requester or an approver can cancel it with its Cancel button in the App Home';

export interface AlreadyOpen {
  /** For the refusal's audit row. */
  reason: string;
  /** For the person, privately. */
  message: SlackMessage;
}

/** The refusal of `viewerId`'s request while `open` holds its place. */
export function alreadyOpenRefusal(open: ApprovalRequest, viewerId: string, sandbox: boolean): AlreadyOpen {
  if (open.scheduledAt) {
    const reason = alreadyScheduledMessage(open, SLACK_CANCEL_HINT);
    return { reason, message: refusalMessage(reason, { sandbox }) };
  }
  const group = groupDetail(open).group ?? open.target;
  const approved = open.status === 'approved';
  const state = approved ? 'approved and being given' : 'waiting for approval';
  return {
    reason: `More time for "${group}" is already ${state} (asked by ${open.requesterId}, request ${open.id}).`,
    message: extendWaitingNotice({ group, requesterId: open.requesterId, approved }, viewerId, { sandbox }),
  };
}
