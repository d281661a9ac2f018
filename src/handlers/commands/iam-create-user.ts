import { createUser, parseAllowEnable } from '../../iam';
import { type BotContext, targetOf } from '../context';
import { openUserModal } from '../views/open-user-modal';
import { type CommandArgs, handleSlashCommand } from './profile-command';
import { runAndPost } from './run-and-post';

/** /iam-create-user: empty text opens the modal; a profile creates (or updates an existing user). */
export function iamCreateUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-create-user', async (input) => {
      if (input.kind === 'empty') return openUserModal(context, args, 'create');
      const allowEnable = parseAllowEnable(input.allowEnable);
      const who = {
        client: args.client,
        respond: args.respond,
        userId: args.command.user_id,
        channelId: args.command.channel_id,
      };
      await runAndPost(context, who, 'iam-create-user', targetOf(input.profile), () =>
        createUser(context.iam, input.profile, { allowEnable }),
      );
    });
}
