import { ProfileError } from '../../iam';
import { requestActiveChange } from '../approvals';
import type { BotContext } from '../context';
import { type CommandArgs, handleSlashCommand, requesterOf } from './profile-command';

/** /iam-disable-user: posts an approval request; a second person decides (see approvals.ts). */
export function iamDisableUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-disable-user', async (input) => {
      if (input.kind === 'empty') {
        throw new ProfileError(
          'say whom to disable, e.g. /iam-disable-user jane@example.com reason="left the company"',
        );
      }
      if (input.allowEnable !== undefined)
        throw new ProfileError('allow-enable applies to create and update only');
      const request = { ...requesterOf(args, input), profile: input.profile };
      await requestActiveChange(context, args.client, request, 'disable');
    });
}
