/** Break-glass (docs/POLICY.md): an action taken at once by its requester alone, shown to everyone concerned. */
import { sandboxContext, sandboxPrefix, section } from './blocks';
import { audienceMention, escapeTruncate, mention, oneLine } from './escape';
import type { SlackMessage } from './limits';

export interface BreakGlassNotice {
  requesterId: string;
  action: 'disable' | 'enable';
  target: string;
  justification: string;
  /** The governing rule, as ruleName() says it. */
  rule: string;
  /** Its approvers, told at once: Slack user and user-group ids. */
  approvers: readonly string[];
  /** Whether the action was carried out (`success`), found nothing to do (`skipped`), or failed. */
  outcome: string;
}

const JUSTIFICATION_MAX = 500;

function bannerLine(notice: BreakGlassNotice): string {
  const target = `\`${escapeTruncate(oneLine(notice.target), 500)}\``;
  const did =
    notice.outcome === 'success'
      ? `${notice.action}d ${target}`
      : `tried to ${notice.action} ${target} (${notice.outcome})`;
  const told =
    notice.approvers.length > 0 ? ` Approvers told: ${notice.approvers.map(audienceMention).join(' ')}.` : '';
  return (
    `🚨 *Break-glass:* ${mention(notice.requesterId)} ${did} at once, without approval, under ${notice.rule}. ` +
    `Justification: “${escapeTruncate(oneLine(notice.justification), JUSTIFICATION_MAX)}”.${told}`
  );
}

/** The notification's short text: who did what, without approval. */
function shortLine(notice: BreakGlassNotice): string {
  const target = `\`${escapeTruncate(oneLine(notice.target), 60)}\``;
  const did = notice.outcome === 'success' ? `${notice.action}d` : `tried to ${notice.action}`;
  return `🚨 Break-glass: ${mention(notice.requesterId)} ${did} ${target} without approval`;
}

/** The result message of a break-glass action: the banner first, then the result as usual. */
export function breakGlassResultMessage(
  result: SlackMessage,
  notice: BreakGlassNotice,
  options: { sandbox: boolean },
): SlackMessage {
  const line = bannerLine(notice);
  return {
    text: `${sandboxPrefix(options.sandbox)}${shortLine(notice)}`,
    blocks: [section(line), ...result.blocks],
  };
}

/** What the rule's approvers get (by DM, and in the rule's channel when it has another one). */
export function breakGlassNoticeMessage(
  notice: BreakGlassNotice,
  where: string,
  options: { sandbox: boolean },
): SlackMessage {
  const line = `${bannerLine(notice)} Asked in <#${where}>.`;
  return {
    text: `${sandboxPrefix(options.sandbox)}${shortLine(notice)}`,
    blocks: [section(line), ...(options.sandbox ? [sandboxContext()] : [])],
  };
}
