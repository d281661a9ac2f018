import { ProfileError } from '../../iam';
import { requestActiveChange } from '../approvals';
import type { BotContext } from '../context';
import { type CommandArgs, handleSlashCommand, requesterOf } from './slash-command';

/**
 * /iam-enable-user: like a disable, never immediate (enabling hands an account back): an inactive user
 * gets an approval request in the channel, and a second person decides (see approvals.ts).
 */
export function iamEnableUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-enable-user', async (input) => {
      if (input.kind === 'empty')
        throw new ProfileError('say whom to enable, e.g. /iam-enable-user jane@example.com');
      if (input.allowEnable !== undefined)
        throw new ProfileError('allow-enable applies to create and update only');
      const request = { ...requesterOf(args, input), profile: input.profile };
      await requestActiveChange(context, args.client, request, 'enable');
    });
}
