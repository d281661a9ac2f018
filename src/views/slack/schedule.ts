/**
 * Scheduled requests: the note posted in a request's thread when its time came, and the App Home list of
 * scheduled disables with their Cancel buttons.
 */
import type { KnownBlock } from '@slack/types';
import { type ApprovalCard, cancelScheduleButton, scheduleText } from './approval';
import { context, header, sandboxContext, sandboxPrefix, section } from './blocks';
import { escapeTruncate, mention, oneLine } from './escape';
import type { SlackMessage } from './limits';

/** Scheduled requests listed one by one on the Home tab; the rest are counted. */
export const HOME_SCHEDULED_MAX = 20;

/** What became of a scheduled request at its time, as the thread reads it. */
export type ScheduledOutcome =
  | { kind: 'done'; lateMs: number }
  | { kind: 'renamed'; lateMs: number; from: string; to: string }
  | { kind: 'deleted' }
  | { kind: 'already-disabled' }
  | { kind: 'not-done' };

const code = (text: string): string => `\`${escapeTruncate(oneLine(text), 300)}\``;

function outcomeLine(card: ApprovalCard, outcome: ScheduledOutcome): string {
  const user = code(card.target);
  const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s after its time`;
  switch (outcome.kind) {
    case 'done':
      return `✅ The scheduled disable of ${user} was carried out, ${seconds(outcome.lateMs)}.`;
    case 'renamed':
      return (
        `⚠️ The scheduled disable of ${user} was carried out (${seconds(outcome.lateMs)}), but the account was ` +
        `renamed from ${code(outcome.from)} to ${code(outcome.to)} since it was approved. It was disabled by ` +
        `its id, which the approval pinned; if that account is no longer the person meant, enable it again ` +
        `with \`/iam-enable-user ${escapeTruncate(oneLine(outcome.to), 200)}\`.`
      );
    case 'deleted':
      return `⏭️ At its time, ${user} was deleted or no longer in the directory. Nothing was changed.`;
    case 'already-disabled':
      return `⏭️ At its time, ${user} was already disabled. Nothing was changed.`;
    case 'not-done':
      return `❌ The scheduled disable of ${user} was not carried out; the result above says why.`;
  }
}

/** Posted in the request's thread once its time came. */
export function scheduledOutcomeMessage(
  card: ApprovalCard,
  outcome: ScheduledOutcome,
  options: { sandbox: boolean },
): SlackMessage {
  const line = `${outcomeLine(card, outcome)} ${mention(card.requesterId)}`;
  return {
    text: `${sandboxPrefix(options.sandbox)}${line}`,
    blocks: [section(line), ...(options.sandbox ? [sandboxContext()] : [])],
  };
}

function scheduledLine(card: ApprovalCard): KnownBlock {
  const when = card.schedule ? scheduleText(card.schedule) : 'unknown time';
  const state =
    card.status === 'approved' ? `approved by ${mention(card.decidedBy)}` : 'waiting for approval';
  return {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: `${card.action && card.action !== 'disable' ? `${card.action} ` : ''}*${code(card.target)}* · ${when} · asked by ${mention(card.requesterId)} · ${state}`,
    },
    accessory: cancelScheduleButton(card),
  };
}

/** The Home tab's list of scheduled requests, soonest first, each with its Cancel button. */
export function scheduledHomeBlocks(cards: ApprovalCard[]): KnownBlock[] {
  const blocks: KnownBlock[] = [header(`Scheduled disables (${cards.length})`)];
  if (cards.length === 0) return [...blocks, section('No disable is scheduled.')];
  blocks.push(...cards.slice(0, HOME_SCHEDULED_MAX).map(scheduledLine));
  const more = cards.length - HOME_SCHEDULED_MAX;
  if (more > 0) blocks.push(context(`…and ${more} more.`));
  blocks.push(context('The requester or any approver may cancel a schedule before its time.'));
  return blocks;
}
