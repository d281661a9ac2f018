import type { BotContext } from '../context';
import { openUserModal } from './open-user-modal';
import { requestSlashWrite } from './run-and-post';
import { type CommandArgs, handleSlashCommand } from './slash-command';

/**
 * /iam-create-user: empty text opens the modal; a profile creates (or updates an existing user; an
 * update that would re-enable them or change a sign-in identifier waits for an approver).
 */
export function iamCreateUser(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-create-user', async (input) => {
      if (input.kind === 'empty') return openUserModal(context, args, 'create');
      await requestSlashWrite(context, args, input, 'create');
    });
}
