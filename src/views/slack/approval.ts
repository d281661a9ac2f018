/**
 * Disable approvals: the request card with Approve/Deny buttons, the decided card (no buttons; who,
 * when, outcome), and the short notice to the requester. The input is structural, so the store's own
 * record type only has to carry these fields.
 */
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { IamResult } from '../../iam/result';
import { context, fields, header, plain, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate, truncate } from './escape';
import { LIMITS, type SlackMessage } from './limits';
import { resultOutcome } from './result';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'completed';

export interface ApprovalCard {
  /** Request id: the buttons' `value`. */
  id: string;
  /** Slack user id of whoever asked. */
  requesterId: string;
  /** The Atlassian user to disable, as given (email, username, id…). */
  target: string;
  reason: string | null;
  status: ApprovalStatus;
  createdAt: Date;
  expiresAt: Date;
  /** Slack user id of the approver who decided. */
  decidedBy: string | null;
  decidedAt: Date | null;
  /** Whether the user was active when the request was made (null/undefined: unknown). */
  currentActive?: boolean | null;
  /** The user's SCIM id when known. */
  currentId?: string | null;
}

export interface ApprovalOptions {
  sandbox: boolean;
}

export interface DecidedOptions extends ApprovalOptions {
  /** Result of the disable, once it ran (approved requests). */
  outcome?: IamResult;
}

export const APPROVE_ACTION_ID = 'iam_disable_approve';
export const DENY_ACTION_ID = 'iam_disable_deny';
export const DECISION_BLOCK_ID = 'iam_disable_decision';

const REASON_MAX = 2500;

const targetCode = (card: ApprovalCard): string => `\`${escapeTruncate(oneLine(card.target), 500)}\``;

function statusText(card: ApprovalCard): string {
  const state =
    card.currentActive === true ? '🟢 active' : card.currentActive === false ? '⚪ inactive' : '❔ unknown';
  return card.currentId ? `${state} · id \`${escapeTruncate(oneLine(card.currentId), 200)}\`` : state;
}

function reasonBlocks(card: ApprovalCard): KnownBlock[] {
  if (card.reason === null || card.reason.trim() === '') return [];
  const quoted = escapeTruncate(card.reason.trim(), REASON_MAX).replace(/\r?\n/g, '\n>');
  return [section(`*Reason*\n>${quoted}`)];
}

function approveButton(card: ApprovalCard): Button {
  return {
    type: 'button',
    action_id: APPROVE_ACTION_ID,
    text: plain('Approve and disable', LIMITS.buttonText),
    style: 'danger',
    value: card.id,
    confirm: {
      title: plain('Disable this user?', LIMITS.confirmTitle),
      text: plain(
        `Disable ${truncate(oneLine(card.target), 150)}? They lose access to Atlassian until someone enables them again.`,
        LIMITS.confirmText,
      ),
      confirm: plain('Disable', LIMITS.confirmButton),
      deny: plain('Cancel', LIMITS.confirmButton),
      style: 'danger',
    },
  };
}

function decisionActions(card: ApprovalCard): ActionsBlock {
  return {
    type: 'actions',
    block_id: DECISION_BLOCK_ID,
    elements: [
      approveButton(card),
      { type: 'button', action_id: DENY_ACTION_ID, text: plain('Deny', LIMITS.buttonText), value: card.id },
    ],
  };
}

const requestIdText = (card: ApprovalCard): string => `Request \`${escapeTruncate(oneLine(card.id), 100)}\``;

/** Posted in the channel by /iam-disable-user: who asked, which user, its status, why, until when; Approve/Deny. */
export function approvalRequestMessage(card: ApprovalCard, options: ApprovalOptions): SlackMessage {
  const blocks: KnownBlock[] = [
    header('🔐 Approval needed: disable an Atlassian user'),
    ...(options.sandbox ? [sandboxContext()] : []),
    section(`${mention(card.requesterId)} asks to disable ${targetCode(card)}.`),
    fields([
      `*User*\n${targetCode(card)}`,
      `*Current status*\n${statusText(card)}`,
      `*Requested*\n${slackDate(card.createdAt)}`,
      `*Expires*\n${slackDate(card.expiresAt)}`,
    ]),
    ...reasonBlocks(card),
    decisionActions(card),
    context(
      `${requestIdText(card)} · an approver other than the requester decides · ` +
        'disabling is reversible with `/iam-enable-user`',
    ),
  ];
  return {
    text: `${sandboxPrefix(options.sandbox)}Approval needed: ${mention(card.requesterId)} asks to disable ${targetCode(card)}`,
    blocks,
  };
}

interface Verdict {
  headline: string;
  /** mrkdwn sentence (escaped) describing the outcome. */
  outcome: string;
  /** Short form for the requester notice. */
  short: string;
}

function verdict(card: ApprovalCard, outcome: IamResult | undefined): Verdict {
  const by = mention(card.decidedBy);
  const when = card.decidedAt ? ` on ${slackDate(card.decidedAt)}` : '';
  switch (card.status) {
    case 'pending':
      return {
        headline: '⏳ Disable request pending',
        outcome: `Waiting for an approver until ${slackDate(card.expiresAt)}.`,
        short: 'is waiting for an approver.',
      };
    case 'denied':
      return {
        headline: '🚫 Disable request denied',
        outcome: `Denied by ${by}${when}. Nothing was changed.`,
        short: `was denied by ${by}. Nothing was changed.`,
      };
    case 'expired':
      return {
        headline: '⌛ Disable request expired',
        outcome:
          `Nobody decided before ${slackDate(card.expiresAt)}. Nothing was changed; ` +
          'ask again with `/iam-disable-user` if it is still needed.',
        short: 'expired before anyone decided. Nothing was changed.',
      };
    case 'approved':
    case 'completed':
      break;
  }
  if (!outcome) {
    return card.status === 'approved'
      ? {
          headline: '⏳ Approved: disabling the user',
          outcome: `Approved by ${by}${when}. Disabling now; the result follows in the thread.`,
          short: `was approved by ${by}; disabling now.`,
        }
      : {
          headline: '✅ Disable request completed',
          outcome: `Approved by ${by}${when}. The result is in the thread.`,
          short: `was approved by ${by} and carried out.`,
        };
  }
  const vendor = outcome.IAM.Vendor;
  switch (resultOutcome(vendor)) {
    case 'success':
      return {
        headline: '✅ User disabled',
        outcome: `Approved by ${by}${when}. ${targetCode(card)} is now disabled (inactive).`,
        short: `was approved by ${by}: the user is now disabled.`,
      };
    case 'skipped': {
      const reason = escapeTruncate(oneLine(vendor.reason ?? 'no reason given'), 500);
      return {
        headline: '⏭️ Disable skipped',
        outcome: `Approved by ${by}${when}, then skipped: ${reason}. Nothing was changed.`,
        short: `was approved by ${by} but skipped: ${reason}.`,
      };
    }
    case 'failure': {
      const code = vendor.errorCode === null ? 'no HTTP status' : `error ${vendor.errorCode}`;
      const message = escapeTruncate(oneLine(vendor.errorMessage ?? 'no message'), 1000);
      return {
        headline: '❌ Disable failed',
        outcome: `Approved by ${by}${when}, but disabling failed (${code}): ${message}`,
        short: `was approved by ${by} but disabling failed (${code}): ${message}`,
      };
    }
  }
}

/** The request card once decided (or expired): same facts, no buttons, who decided and when, the outcome. */
export function approvalDecidedMessage(card: ApprovalCard, options: DecidedOptions): SlackMessage {
  const { headline, outcome } = verdict(card, options.outcome);
  const decision =
    card.status === 'expired'
      ? [`*Expired*\n${slackDate(card.expiresAt)}`]
      : card.decidedBy
        ? [
            `*Decided by*\n${mention(card.decidedBy)}`,
            `*Decided*\n${card.decidedAt ? slackDate(card.decidedAt) : '—'}`,
          ]
        : [`*Expires*\n${slackDate(card.expiresAt)}`];
  const blocks: KnownBlock[] = [
    header(headline),
    ...(options.sandbox ? [sandboxContext()] : []),
    section(`*Outcome*: ${outcome}`),
    fields([
      `*User*\n${targetCode(card)}`,
      `*Requested by*\n${mention(card.requesterId)}`,
      `*Status when requested*\n${statusText(card)}`,
      `*Requested*\n${slackDate(card.createdAt)}`,
      ...decision,
    ]),
    ...reasonBlocks(card),
    context(requestIdText(card)),
  ];
  return {
    text: `${sandboxPrefix(options.sandbox)}${headline}: ${targetCode(card)}`,
    blocks,
  };
}

/** The request card after it expired unanswered. */
export function approvalExpiredMessage(card: ApprovalCard, options: ApprovalOptions): SlackMessage {
  return approvalDecidedMessage({ ...card, status: 'expired' }, { sandbox: options.sandbox });
}

/**
 * Short thread reply that tells the requester what became of the request. Pass `options.sandbox` so
 * the notice says SANDBOX while the sandbox directory is in use.
 */
export function requesterNotice(
  card: ApprovalCard,
  outcome?: IamResult,
  options: ApprovalOptions = { sandbox: false },
): SlackMessage {
  const { short } = verdict(card, outcome);
  const line = `${mention(card.requesterId)} your request to disable ${targetCode(card)} ${short}`;
  return {
    text: `${sandboxPrefix(options.sandbox)}${line}`,
    blocks: [section(line), ...(options.sandbox ? [sandboxContext()] : [])],
  };
}
