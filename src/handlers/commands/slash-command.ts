import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { type AccessCommand, type ProfileCommand, ProfileError, ProfileJsonError } from '../../iam';
import { errorNotice, invalidJsonProblem, refusalMessage, usageMessage } from '../../views/slack';
import { parseCommandText, type CommandInput } from '../command-text';
import {
  AccessRefusal,
  AuditUnavailableError,
  auditDone,
  auditRefusal,
  REFUSED,
  type BotContext,
} from '../context';
import { RESTARTING } from '../in-flight';
import type { ApprovalInput } from '../approvals';
import { tellEphemeral } from '../posting';

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
export type ProfileInput = Extract<CommandInput, { kind: 'profile' }>;

/**
 * What every slash command does first: ack at once, then (tracked for shutdown) check the caller is an
 * operator (unless `membersToo`: the command checks who may do what itself), read the text, and hand
 * over. Bad input and refusals are answered ephemerally; nothing runs.
 */
export async function handleSlashCommand<T = CommandInput>(
  context: BotContext,
  args: CommandArgs,
  name: ProfileCommand | AccessCommand | 'iam-audit',
  run: (input: T) => Promise<void>,
  read: (text: string) => T = parseCommandText as (text: string) => T,
  options: { membersToo?: boolean } = {},
): Promise<void> {
  const { command, respond } = args;
  const refuse = async () => {
    const restarting = refusalMessage(RESTARTING, { sandbox: context.sandbox });
    await args.ack({ response_type: 'ephemeral', text: restarting.text, blocks: restarting.blocks });
    await auditRefusal(context, command.user_id, name, REFUSED.shuttingDown);
  };
  await context.inFlight.ackThenRun(
    () => args.ack(),
    async () => {
      try {
        if (!options.membersToo && !(await context.access.isOperator(command.user_id))) {
          await tellEphemeral(
            respond,
            refusalMessage(`Only operators (IAM_OPERATORS) can run /${name}.`, { sandbox: context.sandbox }),
          );
          await auditRefusal(context, command.user_id, name, REFUSED.notOperator);
          return;
        }
        await run(read(command.text));
      } catch (error) {
        if (error instanceof ProfileError) {
          const problem =
            error instanceof ProfileJsonError ? invalidJsonProblem(error.syntaxError) : error.message;
          await tellEphemeral(
            respond,
            usageMessage(`/${name}`, problem, { sandbox: context.sandbox, typed: command.text }),
          );
          return;
        }
        if (error instanceof AccessRefusal) {
          await tellEphemeral(respond, refusalMessage(error.message, { sandbox: context.sandbox }));
          await auditDone(context, {
            actor: command.user_id,
            kind: 'refusal',
            command: name,
            target: null,
            outcome: 'refused',
            requestId: null,
            detail: { reason: error.message },
          });
          return;
        }
        if (error instanceof AuditUnavailableError) {
          await tellEphemeral(respond, errorNotice(error.message, { sandbox: context.sandbox }));
          return;
        }
        context.logger.error('slash command failed', { command: name, error: (error as Error).message });
        await tellEphemeral(
          respond,
          errorNotice(`/${name} failed unexpectedly; the bot's log has the details.`, {
            sandbox: context.sandbox,
          }),
        );
      }
    },
    refuse,
  );
}

/** Who asks and where, for a slash command that may post an approval request. */
export function requesterOf(args: CommandArgs, input: ProfileInput): ApprovalInput {
  return {
    requesterId: args.command.user_id,
    channelId: args.command.channel_id,
    teamId: args.command.team_id || null,
    enterpriseId: args.command.enterprise_id || null,
    reason: input.reason?.trim() || null,
    respond: args.respond,
  };
}

/** A break-glass action's justification: its `reason`, which it cannot go without. */
export function breakGlassJustification(input: ProfileInput): string {
  const justification = input.reason?.trim();
  if (!justification) {
    throw new ProfileError(
      'break-glass needs a justification: add reason="…" saying why this cannot wait for an approver',
    );
  }
  return justification;
}
