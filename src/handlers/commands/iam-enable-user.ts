import { enableUser, ProfileError } from '../../iam';
import { type BotContext, targetOf } from '../context';
import { type CommandArgs, handleSlashCommand } from './profile-command';
import { runAndPost } from './run-and-post';

/** /iam-enable-user: re-activates at once (gated by IAM_ENABLE_USER_ENABLED). */
export function iamEnableUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-enable-user', async (input) => {
      if (input.kind === 'empty')
        throw new ProfileError('say whom to enable, e.g. /iam-enable-user jane@example.com');
      const who = {
        client: args.client,
        respond: args.respond,
        userId: args.command.user_id,
        channelId: args.command.channel_id,
      };
      await runAndPost(context, who, 'iam-enable-user', targetOf(input.profile), () =>
        enableUser(context.iam, input.profile),
      );
    });
}
