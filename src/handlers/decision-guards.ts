import type { BlockAction } from '@slack/bolt';
import type { ApprovalRequest } from '../store/types';

/** Where an Approve / Deny click came from, as Slack's block_actions payload says. */
export interface ClickOrigin {
  teamId: string | null;
  enterpriseId: string | null;
  channelId: string | null;
  messageTs: string | null;
}

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Reads the click's team, enterprise, channel and message from the payload (absent parts are null). */
export function originOf(body: BlockAction): ClickOrigin {
  return {
    teamId: body.team?.id ?? body.user.team_id ?? null,
    enterpriseId: body.enterprise?.id ?? body.team?.enterprise_id ?? null,
    channelId: body.channel?.id ?? textOrNull(body.container?.channel_id),
    messageTs: textOrNull(body.container?.message_ts) ?? body.message?.ts ?? null,
  };
}

/**
 * Why a click does not count for `request`, or null when it does: it must come from the request's own
 * workspace (and Grid org, when the request has one), in its channel, on its message. A request stored
 * before its team was recorded (teamId null) is bound to its channel and message only. The answer names
 * no part of the request, so it may be shown to whoever clicked.
 */
export function contextMismatch(request: ApprovalRequest, origin: ClickOrigin): string | null {
  if (request.teamId !== null && origin.teamId !== request.teamId) {
    return 'This button was clicked from another Slack workspace than the one the request was made in.';
  }
  if (request.enterpriseId !== null && origin.enterpriseId !== request.enterpriseId) {
    return 'This button was clicked from another Slack organisation than the one the request was made in.';
  }
  if (origin.channelId !== request.channelId) {
    return 'This button does not belong to a request made in this channel.';
  }
  if (request.messageTs === null || origin.messageTs !== request.messageTs) {
    return 'This button does not belong to this message; decide from the request message itself.';
  }
  return null;
}
