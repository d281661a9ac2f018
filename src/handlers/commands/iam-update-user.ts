import type { BotContext } from '../context';
import { openUserModal } from './open-user-modal';
import { requestSlashWrite } from './run-and-post';
import { type CommandArgs, handleSlashCommand } from './slash-command';

/**
 * /iam-update-user: empty text opens the modal, a bare email the modal pre-filled, a profile updates:
 * at once, unless it re-enables the user or changes a sign-in identifier, which waits for an approver.
 */
export function iamUpdateUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-update-user', async (input) => {
      if (input.kind === 'empty') return openUserModal(context, args, 'update');
      if (input.identifierOnly) return openUserModal(context, args, 'update', input.profile);
      await requestSlashWrite(context, args, input, 'update');
    });
}
