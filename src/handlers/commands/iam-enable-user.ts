import { ProfileError } from '../../iam';
import { requestActiveChange } from '../approvals';
import { breakGlass } from '../break-glass';
import { parseCommandText, splitBreakGlass } from '../command-text';
import type { BotContext } from '../context';
import { breakGlassJustification, type CommandArgs, handleSlashCommand, requesterOf } from './slash-command';

/**
 * /iam-enable-user: like a disable, never immediate (enabling hands an account back): an inactive user
 * gets an approval request in the channel, and a second person decides (see approvals.ts). With
 * `break-glass` among the words, it is done at once where the rule allows it (see break-glass.ts).
 */
export function iamEnableUser(context: BotContext) {
  return (args: CommandArgs) => {
    const glass = splitBreakGlass(args.command.text);
    return handleSlashCommand(
      context,
      args,
      'iam-enable-user',
      async (input) => {
        if (input.kind === 'empty')
          throw new ProfileError('say whom to enable, e.g. /iam-enable-user jane@example.com');
        if (input.allowEnable !== undefined)
          throw new ProfileError('allow-enable applies to create and update only');
        const request = { ...requesterOf(args, input), profile: input.profile };
        if (!glass.breakGlass) return requestActiveChange(context, args.client, request, 'enable');
        const justification = breakGlassJustification(input);
        await breakGlass(context, args.client, { ...request, justification }, 'enable');
      },
      () => parseCommandText(glass.text),
    );
  };
}
