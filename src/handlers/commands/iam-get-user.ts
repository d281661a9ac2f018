import { ProfileError, runCommand, targetOf } from '../../iam';
import type { BotContext } from '../context';
import { type CommandArgs, handleSlashCommand } from './slash-command';
import { runAndPost } from './run-and-post';

/** /iam-get-user: posts a summary, and the full attribute list in its thread. */
export function iamGetUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-get-user', async (input) => {
      if (input.kind === 'empty')
        throw new ProfileError('say whom to look up, e.g. /iam-get-user jane@example.com');
      const who = {
        client: args.client,
        respond: args.respond,
        userId: args.command.user_id,
        channelId: args.command.channel_id,
      };
      await runAndPost(context, who, 'iam-get-user', targetOf(input.profile), () =>
        runCommand('iam-get-user', context.iam, input.profile),
      );
    });
}
