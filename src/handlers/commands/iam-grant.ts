import { ScimRequestError } from '../../scim/errors';
import { errorNotice, grantModal } from '../../views/slack';
import { type AccessRequestText, parseAccessText } from '../access-text';
import type { BotContext } from '../context';
import { requestGrant } from '../grant-request';
import { tellEphemeral } from '../posting';
import { type CommandArgs, handleSlashCommand } from './slash-command';

/** No text: the form; else `<user> <group> [for <duration>] [reason="…"]`. */
const readGrant = (text: string): AccessRequestText | 'form' =>
  text.trim() === '' ? 'form' : parseAccessText(text, '/iam-grant');

/**
 * /iam-grant: asks for group access (see grant-request.ts); an approver other than the requester
 * decides. Any member may use it for themselves; who may ask for what is checked there.
 */
export function iamGrant(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(
      context,
      args,
      'iam-grant',
      async (wanted) => {
        const { command } = args;
        if (wanted === 'form') {
          await args.client.views.open({
            trigger_id: command.trigger_id,
            view: grantModal({ channelId: command.channel_id, sandbox: context.sandbox }),
          });
          return;
        }
        const input = {
          requesterId: command.user_id,
          channelId: command.channel_id,
          teamId: command.team_id || null,
          enterpriseId: command.enterprise_id || null,
          reason: wanted.reason,
          respond: args.respond,
        };
        try {
          await requestGrant(context, args.client, input, wanted);
        } catch (error) {
          if (!(error instanceof ScimRequestError)) throw error;
          const text = `Atlassian could not be asked: ${error.message}. Nothing was requested; try again.`;
          await tellEphemeral(args.respond, errorNotice(text, { sandbox: context.sandbox }));
        }
      },
      readGrant,
      { membersToo: true },
    );
}
