import { parseAllowEnable, targetOf } from '../../iam';
import { requestWrite } from '../approvals';
import type { BotContext } from '../context';
import { openUserModal } from './open-user-modal';
import { type CommandArgs, handleSlashCommand, requesterOf } from './slash-command';
import { runAndPost } from './run-and-post';

/**
 * /iam-update-user: empty text opens the modal, a bare email the modal pre-filled, a profile updates:
 * at once, unless it re-enables the user or changes a sign-in identifier, which waits for an approver.
 */
export function iamUpdateUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-update-user', async (input) => {
      if (input.kind === 'empty') return openUserModal(context, args, 'update');
      if (input.identifierOnly) return openUserModal(context, args, 'update', input.profile);
      const allowEnable = parseAllowEnable(input.allowEnable);
      const who = {
        client: args.client,
        respond: args.respond,
        userId: args.command.user_id,
        channelId: args.command.channel_id,
        received: true as const,
      };
      const request = { ...requesterOf(args, input), profile: input.profile, allowEnable };
      await requestWrite(context, args.client, request, 'update', (execute) =>
        runAndPost(context, who, 'iam-update-user', targetOf(input.profile), execute),
      );
    });
}
