/**
 * The end of time-bound access (docs/GROUPS.md): what a grant's thread and its holder are told when it
 * expires, and the notice before the end with its two buttons, Extend and I'm done.
 */
import type { ActionsBlock } from '@slack/types';
import { section, sandboxContext, sandboxPrefix } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate } from './escape';
import type { SlackMessage } from './limits';

export const GRANT_EXTEND_ACTION_ID = 'grant_extend';
export const GRANT_DONE_ACTION_ID = 'grant_done';

/** What these messages need of a stored grant (src/store/grants.ts). */
export interface ExpiringGrant {
  id: string;
  target: string;
  groupName: string;
  endsAt: Date | null;
  slackUserId: string | null;
}

/** How an expired grant ended: its member removed now, found removed already, or its group gone. */
export type ExpiryOutcome = 'removed' | 'already-removed' | 'group-gone';

const code = (text: string): string => `\`${escapeTruncate(oneLine(text), 300)}\``;

/** `fallback`: the one short sentence notifications show, when `line` is longer. */
function message(line: string, sandbox: boolean, extra: ActionsBlock[] = [], fallback = line): SlackMessage {
  return {
    text: `${sandboxPrefix(sandbox)}${fallback}`,
    blocks: [section(line), ...extra, ...(sandbox ? [sandboxContext()] : [])],
  };
}

const OUTCOME: Record<ExpiryOutcome, string> = {
  removed: 'removed from the group',
  'already-removed': 'was no longer a member (removed by hand), so nothing was changed',
  'group-gone': 'the group no longer exists in the directory, so nothing was changed',
};

/** Why a grant ended early or on time: its time is up, or its holder said they are done. */
export type GrantEndCause = { reason: 'expired' } | { reason: 'done'; by: string };

/** In the grant's thread and to its holder: the grant has ended, why, and what that did. */
export function grantEndMessage(
  grant: ExpiringGrant,
  cause: GrantEndCause,
  outcome: ExpiryOutcome,
  sandbox: boolean,
): SlackMessage {
  const why = cause.reason === 'expired' ? 'its time is up' : `${mention(cause.by)} is done with it`;
  const icon = cause.reason === 'expired' ? '⌛' : '👋';
  const ended = `${icon} Access of ${code(grant.target)} to ${code(grant.groupName)} ended: ${why}`;
  return message(`${ended}; ${OUTCOME[outcome]}.`, sandbox, [], `${ended}.`);
}

/** The DM before the end: when it ends, with Extend (a new request, approved like the first) and I'm done. */
export function grantNoticeMessage(grant: ExpiringGrant, sandbox: boolean): SlackMessage {
  const ends = grant.endsAt ? slackDate(grant.endsAt) : 'when it is revoked';
  const line =
    `⏰ Your access to ${code(grant.groupName)} (as ${code(grant.target)}) ends ${ends}. ` +
    'Need it longer? *Extend* asks for more time, approved like the first request. Finished? *I’m done* ends it now.';
  const buttons: ActionsBlock = {
    type: 'actions',
    block_id: `grant_notice_${grant.id}`.slice(0, 255),
    elements: [
      {
        type: 'button',
        action_id: GRANT_EXTEND_ACTION_ID,
        text: { type: 'plain_text', text: 'Extend', emoji: true },
        value: grant.id,
        style: 'primary',
      },
      {
        type: 'button',
        action_id: GRANT_DONE_ACTION_ID,
        text: { type: 'plain_text', text: 'I’m done', emoji: true },
        value: grant.id,
      },
    ],
  };
  return message(line, sandbox, [buttons], `⏰ Your access to ${code(grant.groupName)} ends ${ends}.`);
}

/** In the grant's thread: its holder was told the end is near. */
export function grantNoticeSentMessage(grant: ExpiringGrant, sandbox: boolean): SlackMessage {
  const who = grant.slackUserId ? mention(grant.slackUserId) : code(grant.target);
  const ends = grant.endsAt ? slackDate(grant.endsAt) : 'when it is revoked';
  return message(`⏰ Reminded ${who}: access to ${code(grant.groupName)} ends ${ends}.`, sandbox);
}

/** In the grant's thread: its holder asked for more time (the request's card is in the channel). */
export function grantExtendAskedMessage(grant: ExpiringGrant, sandbox: boolean): SlackMessage {
  const who = grant.slackUserId ? mention(grant.slackUserId) : code(grant.target);
  return message(
    `⏳ ${who} asked for more time in ${code(grant.groupName)}: an approver decides on the new request.`,
    sandbox,
  );
}
