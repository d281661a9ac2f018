/**
 * Approvals (disable, enable, update): the request card with Approve/Deny buttons, the decided card (no
 * buttons; who, when, outcome), and the short notice to the requester. The input is structural, so the
 * store's own record type only has to carry these fields. Every action uses the same two action ids
 * (`iam_disable_approve` / `iam_disable_deny`, named when disable was the only action), so cards posted
 * before enable and update needed approval keep working.
 */
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { IamResult } from '../../iam/result';
import { formatPolicyDuration } from '../../policy/duration';
import { context, fields, header, plain, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate, truncate, utcText } from './escape';
import { LIMITS, type SlackMessage } from './limits';
import { outcomeOf } from '../../iam/result';

/**
 * pending → approved → completed (the action ran and its result is kept),
 * pending → denied, pending → expired, pending or approved → failed (the request could not be posted or
 * carried out: its stored form is invalid, or the action threw; the reason is kept as its result).
 * pending or approved → cancelled (a scheduled request called off before its time; who and when are
 * kept as its result). A request is decided exactly once.
 */
export type ApprovalStatus =
  'pending' | 'approved' | 'denied' | 'expired' | 'completed' | 'failed' | 'cancelled';
export type ApprovalCardAction = 'disable' | 'enable' | 'update' | 'grant' | 'create';

/** One attribute an update changes (null: no value). */
export interface ApprovalChange {
  attribute: string;
  before: string | null;
  after: string | null;
}

export interface ApprovalCard {
  /** Request id: the buttons' `value`. */
  id: string;
  /** What approving does; disable when absent. */
  action?: ApprovalCardAction;
  /** For an update: each attribute it changes, before → after; for a create: each attribute it sets. */
  changes?: ApprovalChange[];
  /** For a grant: the group, and for how long (null: until revoked). */
  grant?: { group: string; durationMs: number | null };
  /** Why a `failed` request could not be carried out. */
  failureReason?: string | null;
  /** Slack user id of whoever asked. */
  requesterId: string;
  /** The Atlassian user concerned, as given (email, username, id…). */
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
  /** Approved, but Atlassian is not answering: retried until this time (null/undefined: not retrying). */
  retryingUntil?: Date | null;
  /** A scheduled request: when it is carried out, the time as written and the zone it was read in. */
  schedule?: { at: Date; local: string; zone: string } | null;
  /** Who cancelled a scheduled request (Slack id or `cli:<user>`). */
  cancelledBy?: string | null;
  /** How many distinct approvers the request needs, and who has approved so far (one when absent). */
  approvals?: { needed: number; by: readonly string[] } | null;
}

export interface ApprovalOptions {
  sandbox: boolean;
}

export interface DecidedOptions extends ApprovalOptions {
  /** Result of the action, once it ran (approved requests). */
  outcome?: IamResult;
}

export const APPROVE_ACTION_ID = 'iam_disable_approve';
export const DENY_ACTION_ID = 'iam_disable_deny';
export const DECISION_BLOCK_ID = 'iam_disable_decision';
const CANCEL_SCHEDULE_BLOCK_ID = 'iam_schedule_cancel_block';

const REASON_MAX = 2500;
const CHANGE_VALUE_MAX = 200;
const CHANGES_SHOWN = 20;

/** The words of each action, so one card serves them all. */
interface ActionWords {
  /** What the header asks approval for. */
  title: string;
  /** The command that asks again. */
  command: string;
  verb: string;
  ing: string;
  /** "The user is now …" */
  now: string;
  /** The headline once done, and the requester's short form of it. */
  doneTitle: string;
  doneShort: string;
  confirm: string;
  footer: string;
}

const WORDS: Record<ApprovalCardAction, ActionWords> = {
  disable: {
    title: 'disable an Atlassian user',
    command: '/iam-disable-user',
    verb: 'disable',
    doneTitle: 'User disabled',
    doneShort: 'the user is now disabled',
    ing: 'disabling',
    now: 'disabled (inactive)',
    confirm: 'They lose access to Atlassian until someone enables them again.',
    footer: 'disabling is reversible with `/iam-enable-user`',
  },
  enable: {
    title: 'enable an Atlassian user',
    command: '/iam-enable-user',
    verb: 'enable',
    doneTitle: 'User enabled',
    doneShort: 'the user is now enabled',
    ing: 'enabling',
    now: 'enabled (active)',
    confirm: 'They can sign in to Atlassian again.',
    footer: 'enabling is reversible with `/iam-disable-user`',
  },
  update: {
    title: 'update an Atlassian user',
    command: '/iam-update-user',
    verb: 'update',
    doneTitle: 'User updated',
    doneShort: 'the user is now updated',
    ing: 'updating',
    now: 'updated with the changes shown',
    confirm: 'The changes shown are applied; a new email or username changes who can sign in as them.',
    footer: 'exactly the changes shown are applied, to the user with the id shown',
  },
  grant: {
    title: 'give access to a group',
    command: '/iam-grant',
    verb: 'grant',
    doneTitle: 'Access granted',
    doneShort: 'access is granted',
    ing: 'granting',
    now: 'a member of the group',
    confirm: 'They get the product access the group gives until the grant ends.',
    footer: 'access ends by itself at the end of the grant; `/iam-revoke` ends it sooner',
  },
  create: {
    title: 'create an Atlassian user',
    command: '/iam-create-user',
    verb: 'create',
    doneTitle: 'User created',
    doneShort: 'the user is now created',
    ing: 'creating',
    now: 'created with the attributes shown',
    confirm: 'A new Atlassian account is created with the attributes shown.',
    footer:
      'exactly the attributes shown are created; a user with this email or username by then is not changed',
  },
};

const wordsOf = (card: Pick<ApprovalCard, 'action'>): ActionWords => WORDS[card.action ?? 'disable'];
const capital = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const changeValue = (value: string | null): string =>
  value === null ? '_none_' : `\`${escapeTruncate(oneLine(value), CHANGE_VALUE_MAX)}\``;

/** Before → after, one line per attribute, as many as fit (then how many more): the approval card's and the update confirmation's. */
export function changesSection(changes: readonly ApprovalChange[]): KnownBlock {
  const title = '*Changes*';
  const room = LIMITS.sectionText - title.length - 40; // 40: the "…and N more" line
  const lines: string[] = [];
  let used = 0;
  for (const c of changes) {
    const line = `• \`${escapeTruncate(oneLine(c.attribute), 100)}\`: ${changeValue(c.before)} → ${changeValue(c.after)}`;
    if (lines.length === CHANGES_SHOWN || used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = changes.length - lines.length;
  if (more > 0) lines.push(`…and ${more} more`);
  if (changes.length === 0) lines.push("No attribute differs from the user's current values.");
  return section(`${title}\n${lines.join('\n')}`);
}

const changeBlocks = (card: ApprovalCard): KnownBlock[] =>
  (card.action === 'update' || card.action === 'create') && card.changes
    ? [changesSection(card.changes)]
    : [];

const targetCode = (card: Pick<ApprovalCard, 'target'>): string =>
  `\`${escapeTruncate(oneLine(card.target), 500)}\``;

/** `<@U1>'s request to disable \`jane@example.com\``: how notices about a request name it. */
export const requestPhrase = (card: Pick<ApprovalCard, 'requesterId' | 'action' | 'target'>): string =>
  `${mention(card.requesterId)}'s request to ${wordsOf(card).verb} ${targetCode(card)}`;

/** How long a grant lasts, as people read it. */
export const grantLength = (durationMs: number | null): string =>
  durationMs === null ? 'until revoked' : `for ${formatPolicyDuration(durationMs)}`;

/** What approving does to whom: `disable \`jane\``, or for a grant `give \`jane\` \`jira-users\` for 8h`. */
function whatText(card: ApprovalCard): string {
  if (!card.grant) return `${wordsOf(card).verb} ${targetCode(card)}`;
  const group = `\`${escapeTruncate(oneLine(card.grant.group), 300)}\``;
  return `give ${targetCode(card)} access to ${group} ${grantLength(card.grant.durationMs)}`;
}

const grantBlocks = (card: ApprovalCard): KnownBlock[] =>
  card.grant
    ? [
        fields([
          `*Group*\n\`${escapeTruncate(oneLine(card.grant.group), 300)}\``,
          `*Length*\n${grantLength(card.grant.durationMs)}`,
        ]),
      ]
    : [];

function statusText(card: ApprovalCard): string {
  if (card.action === 'create') return '🆕 not in the directory when asked for';
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
  const words = wordsOf(card);
  return {
    type: 'button',
    action_id: APPROVE_ACTION_ID,
    text: plain(`Approve and ${words.verb}`, LIMITS.buttonText),
    style: 'danger',
    value: card.id,
    confirm: {
      title: plain(`${capital(words.verb)} this user?`, LIMITS.confirmTitle),
      text: plain(
        `${capital(words.verb)} ${truncate(oneLine(card.target), 150)}? ${words.confirm}`,
        LIMITS.confirmText,
      ),
      confirm: plain(capital(words.verb), LIMITS.confirmButton),
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

export const CANCEL_SCHEDULE_ACTION_ID = 'iam_schedule_cancel';

/** Cancel of a scheduled request (its card in the channel, the App Home list): the value is its id. */
export function cancelScheduleButton(card: ApprovalCard): Button {
  return {
    type: 'button',
    action_id: CANCEL_SCHEDULE_ACTION_ID,
    text: plain('Cancel', LIMITS.buttonText),
    value: card.id,
    confirm: {
      title: plain('Cancel this schedule?', LIMITS.confirmTitle),
      text: plain(`Nothing will be done to ${oneLine(card.target).slice(0, 150)}.`, LIMITS.confirmText),
      confirm: plain('Cancel it', LIMITS.confirmButton),
      deny: plain('Keep it', LIMITS.confirmButton),
    },
  };
}

/** An approved request still waiting for its time: its card keeps a Cancel button. */
const awaitingTime = (card: ApprovalCard, outcome: IamResult | undefined): boolean =>
  !outcome && card.status === 'approved' && Boolean(card.schedule) && !card.retryingUntil;

const cancelActions = (card: ApprovalCard): ActionsBlock => ({
  type: 'actions',
  block_id: CANCEL_SCHEDULE_BLOCK_ID,
  elements: [cancelScheduleButton(card)],
});

/** `2026-12-31 17:00 (Europe/Berlin)`, with Slack's rendering of the instant in each reader's zone. */
export function scheduleText(schedule: NonNullable<ApprovalCard['schedule']>): string {
  return `${schedule.local} (${escapeTruncate(oneLine(schedule.zone), 100)}) · ${slackDate(schedule.at)}`;
}

function scheduleBlocks(card: ApprovalCard): KnownBlock[] {
  return card.schedule ? [section(`🗓️ *Scheduled for* ${scheduleText(card.schedule)}`)] : [];
}

const requestIdText = (card: ApprovalCard): string => `Request \`${escapeTruncate(oneLine(card.id), 100)}\``;

const APPROVERS_SHOWN = 20;

/** N-of-M: how many approvals are needed, who has given one, how many are still missing. */
function approvalsBlocks(card: ApprovalCard): KnownBlock[] {
  const { needed = 1, by = [] } = card.approvals ?? {};
  if (needed <= 1 && by.length === 0) return [];
  const missing = Math.max(0, needed - by.length);
  const who = by.length > 0 ? ` · approved by ${by.slice(0, APPROVERS_SHOWN).map(mention).join(', ')}` : '';
  return [section(`*Approvals*: ${by.length} of ${needed}${who} · ${missing} more needed`)];
}

/** Who approved: every approver of an N-of-M request (`A, B and C`), else the one who decided. */
function approversText(card: ApprovalCard): string {
  const by = (card.approvals?.by ?? []).slice(0, APPROVERS_SHOWN).map(mention);
  if (by.length < 2) return mention(card.decidedBy);
  return `${by.slice(0, -1).join(', ')} and ${by[by.length - 1]}`;
}

function whoDecides(card: ApprovalCard): string {
  const needed = card.approvals?.needed ?? 1;
  return needed > 1
    ? `${needed} distinct approvers other than the requester decide`
    : 'an approver other than the requester decides';
}

/**
 * Posted in the channel by /iam-disable-user, /iam-enable-user and an /iam-update-user that takes an
 * account over: who asked, which user, its status, what changes, why, until when; Approve/Deny.
 */
export function approvalRequestMessage(card: ApprovalCard, options: ApprovalOptions): SlackMessage {
  const { title, footer } = wordsOf(card);
  const blocks: KnownBlock[] = [
    header(`🔐 Approval needed: ${title}`),
    ...(options.sandbox ? [sandboxContext()] : []),
    section(`${mention(card.requesterId)} asks to ${whatText(card)}.`),
    fields([
      `*User*\n${targetCode(card)}`,
      `*Current status*\n${statusText(card)}`,
      `*Requested*\n${slackDate(card.createdAt)}`,
      `*Expires*\n${slackDate(card.expiresAt)}`,
    ]),
    ...grantBlocks(card),
    ...scheduleBlocks(card),
    ...changeBlocks(card),
    ...reasonBlocks(card),
    ...approvalsBlocks(card),
    decisionActions(card),
    context(`${requestIdText(card)} · ${whoDecides(card)} · ${footer}`),
  ];
  return {
    text: `${sandboxPrefix(options.sandbox)}Approval needed: ${mention(card.requesterId)} asks to ${whatText(card)}`,
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

// Longer than 50 lines: one wording per decision and outcome, side by side so they stay consistent.
function verdict(card: ApprovalCard, outcome: IamResult | undefined): Verdict {
  const by = card.status === 'denied' ? mention(card.decidedBy) : approversText(card);
  const when = card.decidedAt ? ` on ${slackDate(card.decidedAt)}` : '';
  const { verb, ing, now, command, doneTitle, doneShort } = wordsOf(card);
  const Verb = capital(verb);
  switch (card.status) {
    case 'pending':
      return {
        headline: `⏳ ${Verb} request pending`,
        outcome: `Waiting for an approver until ${slackDate(card.expiresAt)}.`,
        short: 'is waiting for an approver.',
      };
    case 'denied':
      return {
        headline: `🚫 ${Verb} request denied`,
        outcome: `Denied by ${by}${when}. Nothing was changed.`,
        short: `was denied by ${by}. Nothing was changed.`,
      };
    case 'expired':
      return {
        headline: `⌛ ${Verb} request expired`,
        outcome:
          `Nobody decided before ${slackDate(card.expiresAt)}. Nothing was changed; ` +
          `ask again with \`${command}\` if it is still needed.`,
        short: 'expired before anyone decided. Nothing was changed.',
      };
    case 'failed': {
      const reason = escapeTruncate(oneLine(card.failureReason ?? 'no reason recorded'), 1000);
      return {
        headline: `❌ ${Verb} request failed`,
        outcome: `It could not be carried out: ${reason}. Ask again if it is still needed.`,
        short: `could not be carried out: ${reason}.`,
      };
    }
    case 'cancelled': {
      const who = card.cancelledBy ? ` by ${mention(card.cancelledBy)}` : '';
      return {
        headline: `🛑 Scheduled ${verb} cancelled`,
        outcome: `Cancelled${who} before its time. Nothing was changed.`,
        short: `was cancelled${who}. Nothing was changed.`,
      };
    }
    case 'approved':
    case 'completed':
      break;
  }
  if (!outcome && card.status === 'approved' && card.retryingUntil) {
    const until = slackDate(card.retryingUntil);
    return {
      headline: `⏳ Approved — Atlassian is not answering; retrying until ${utcText(card.retryingUntil)}`,
      outcome: `Approved by ${by}${when}. Atlassian is not answering; ${ing} is retried until ${until}.`,
      short: `was approved by ${by}; Atlassian is not answering, retrying until ${until}.`,
    };
  }
  if (!outcome && card.status === 'approved' && card.schedule) {
    const at = scheduleText(card.schedule);
    return {
      headline: `🗓️ Scheduled: ${ing} the user`,
      outcome: `Approved by ${by}${when}. Scheduled for ${at}; the requester or an approver may cancel it before then.`,
      short: `was approved by ${by}; scheduled for ${at}.`,
    };
  }
  if (!outcome) {
    return card.status === 'approved'
      ? {
          headline: `⏳ Approved: ${ing} the user`,
          outcome: `Approved by ${by}${when}. ${capital(ing)} now; the result follows in the thread.`,
          short: `was approved by ${by}; ${ing} now.`,
        }
      : {
          headline: `✅ ${Verb} request completed`,
          outcome: `Approved by ${by}${when}. The result is in the thread.`,
          short: `was approved by ${by} and carried out.`,
        };
  }
  const vendor = outcome.IAM.Vendor;
  switch (outcomeOf(vendor)) {
    case 'success':
      return {
        headline: `✅ ${doneTitle}`,
        outcome: `Approved by ${by}${when}. ${targetCode(card)} is now ${now}.`,
        short: `was approved by ${by}: ${doneShort}.`,
      };
    case 'skipped': {
      const reason = escapeTruncate(oneLine(vendor.reason ?? 'no reason given'), 500);
      return {
        headline: `⏭️ ${Verb} skipped`,
        outcome: `Approved by ${by}${when}, then skipped: ${reason}. Nothing was changed.`,
        short: `was approved by ${by} but skipped: ${reason}.`,
      };
    }
    case 'failure': {
      const code = vendor.errorCode === null ? 'no HTTP status' : `error ${vendor.errorCode}`;
      const message = escapeTruncate(oneLine(vendor.errorMessage ?? 'no message'), 1000);
      return {
        headline: `❌ ${Verb} failed`,
        outcome: `Approved by ${by}${when}, but ${ing} failed (${code}): ${message}`,
        short: `was approved by ${by} but ${ing} failed (${code}): ${message}`,
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
            (card.approvals?.by.length ?? 0) > 1 && card.status !== 'denied'
              ? `*Approved by*\n${approversText(card)}`
              : `*Decided by*\n${mention(card.decidedBy)}`,
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
      // Not stored for an update or a grant: a field that always says unknown would tell nobody anything.
      ...(card.currentActive === null || card.currentActive === undefined
        ? []
        : [`*Status when requested*\n${statusText(card)}`]),
      `*Requested*\n${slackDate(card.createdAt)}`,
      ...decision,
    ]),
    ...grantBlocks(card),
    ...scheduleBlocks(card),
    ...changeBlocks(card),
    ...reasonBlocks(card),
    context(requestIdText(card)),
    ...(awaitingTime(card, options.outcome) ? [cancelActions(card)] : []),
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
  const line = `${mention(card.requesterId)} your request to ${whatText(card)} ${short}`;
  return {
    text: `${sandboxPrefix(options.sandbox)}${line}`,
    blocks: [section(line), ...(options.sandbox ? [sandboxContext()] : [])],
  };
}
