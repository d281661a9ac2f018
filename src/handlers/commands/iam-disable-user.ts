import { ProfileError } from '../../iam';
import { requestDisable } from '../approvals';
import type { BotContext } from '../context';
import { type CommandArgs, handleSlashCommand } from './profile-command';

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
      await requestDisable(context, args.client, {
        requesterId: args.command.user_id,
        channelId: args.command.channel_id,
        teamId: args.command.team_id || null,
        enterpriseId: args.command.enterprise_id || null,
        profile: input.profile,
        reason: input.reason?.trim() || null,
        respond: args.respond,
      });
    });
}
