import { parseAllowEnable, targetOf } from '../../iam';
import { requestWrite } from '../approvals';
import type { BotContext } from '../context';
import { openUserModal } from './open-user-modal';
import { type CommandArgs, handleSlashCommand, requesterOf } from './slash-command';
import { runAndPost } from './run-and-post';

/**
 * /iam-create-user: empty text opens the modal; a profile creates (or updates an existing user; an
 * update that would re-enable them or change a sign-in identifier waits for an approver).
 */
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
        received: true as const,
      };
      const request = { ...requesterOf(args, input), profile: input.profile, allowEnable };
      await requestWrite(context, args.client, request, 'create', (execute) =>
        runAndPost(context, who, 'iam-create-user', targetOf(input.profile), execute),
      );
    });
}
