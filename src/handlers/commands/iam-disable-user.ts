import type { WebClient } from '@slack/web-api';
import { ProfileError, type UserProfile } from '../../iam';
import {
  alreadyScheduledMessage,
  parseSchedule,
  type Schedule,
  scheduledDisableOf,
  splitSchedule,
} from '../../iam/schedule';
import { SLACK_CANCEL_HINT } from '../already-open';
import { requestActiveChange } from '../approvals';
import { breakGlass } from '../break-glass';
import { parseCommandText, splitBreakGlass } from '../command-text';
import type { BotContext } from '../context';
import { breakGlassJustification, type CommandArgs, handleSlashCommand, requesterOf } from './slash-command';

/**
 * The requester's own Slack time zone (users.info → user.tz); UTC when Slack names none or cannot be
 * asked (the card says which zone was used, so the approver sees it).
 */
async function requesterZone(context: BotContext, client: WebClient, userId: string): Promise<string> {
  try {
    const answer = await client.users.info({ user: userId });
    return answer.user?.tz || 'UTC';
  } catch (error) {
    context.logger.warn("could not read the requester's time zone; UTC is used", {
      error: (error as Error).message,
    });
    return 'UTC';
  }
}

/**
 * One user gets one pending scheduled disable: a second, found by the id, email or username typed, is
 * refused naming the first (one typed differently is found when it is carried out: already disabled).
 */
async function refuseSecondSchedule(context: BotContext, profile: UserProfile): Promise<void> {
  const existing = scheduledDisableOf(await context.store.listScheduled(), profile);
  if (existing) {
    throw new ProfileError(alreadyScheduledMessage(existing, SLACK_CANCEL_HINT));
  }
}

/**
 * /iam-disable-user: posts an approval request; a second person decides (see approvals.ts). With
 * `at 2026-12-31 17:00 [ZONE]` or `in 2h` after the user, it is a scheduled disable (see scheduled.ts),
 * at most the governing rule's `maxScheduleAhead` ahead (checked once the user is looked up). With
 * `break-glass` among the words, it is done at once where the rule allows it (see break-glass.ts).
 */
export function iamDisableUser(context: BotContext) {
  return (args: CommandArgs) => {
    const glass = splitBreakGlass(args.command.text);
    const { text, when } = splitSchedule(glass.text);
    let schedule: Schedule | undefined;
    return handleSlashCommand(
      context,
      args,
      'iam-disable-user',
      async (input) => {
        if (input.kind === 'empty') {
          throw new ProfileError(
            'say whom to disable, e.g. /iam-disable-user jane@example.com reason="left the company"',
          );
        }
        if (input.allowEnable !== undefined)
          throw new ProfileError('allow-enable applies to create and update only');
        if (glass.breakGlass) {
          if (when) throw new ProfileError('break-glass acts at once: leave out the "at …" or "in …"');
          const justification = breakGlassJustification(input);
          const request = { ...requesterOf(args, input), profile: input.profile, justification };
          return breakGlass(context, args.client, request, 'disable');
        }
        if (when) {
          schedule = parseSchedule(when.kind, when.text, {
            now: context.clock(),
            defaultZone: await requesterZone(context, args.client, args.command.user_id),
          });
          await refuseSecondSchedule(context, input.profile);
        }
        const request = { ...requesterOf(args, input), profile: input.profile, schedule };
        await requestActiveChange(context, args.client, request, 'disable');
      },
      () => parseCommandText(text),
    );
  };
}
