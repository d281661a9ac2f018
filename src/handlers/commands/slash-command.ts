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

type SlashName = ProfileCommand | AccessCommand | 'iam-audit';

/**
 * What every slash command does first: ack at once, then (tracked for shutdown) check the caller is an
 * operator (unless `membersToo`: the command checks who may do what itself), read the text, and hand
 * over. Bad input and refusals are answered ephemerally; nothing runs.
 */
export async function handleSlashCommand<T = CommandInput>(
  context: BotContext,
  args: CommandArgs,
  name: SlashName,
  run: (input: T) => Promise<void>,
  read: (text: string) => T = parseCommandText as (text: string) => T,
  options: { membersToo?: boolean } = {},
): Promise<void> {
  const { command } = args;
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
          await refuseNonOperator(context, args, name);
          return;
        }
        await run(read(command.text));
      } catch (error) {
        await answerFailure(context, args, name, error);
      }
    },
    refuse,
  );
}

async function refuseNonOperator(context: BotContext, args: CommandArgs, name: SlashName): Promise<void> {
  const text = `Only operators (IAM_OPERATORS) can run /${name}.`;
  await tellEphemeral(args.respond, refusalMessage(text, { sandbox: context.sandbox }));
  await auditRefusal(context, args.command.user_id, name, REFUSED.notOperator);
}

/** A slash command that threw: bad input gets its usage, a refusal its reason (audited), anything else a notice. */
async function answerFailure(context: BotContext, args: CommandArgs, name: SlashName, error: unknown) {
  const { command, respond } = args;
  const sandbox = context.sandbox;
  if (error instanceof ProfileError) {
    const problem = error instanceof ProfileJsonError ? invalidJsonProblem(error.syntaxError) : error.message;
    await tellEphemeral(respond, usageMessage(`/${name}`, problem, { sandbox, typed: command.text }));
  } else if (error instanceof AccessRefusal) {
    await tellEphemeral(respond, refusalMessage(error.message, { sandbox }));
    await auditDone(context, {
      actor: command.user_id,
      kind: 'refusal',
      command: name,
      target: null,
      outcome: 'refused',
      requestId: null,
      detail: { reason: error.message },
    });
  } else if (error instanceof AuditUnavailableError) {
    await tellEphemeral(respond, errorNotice(error.message, { sandbox }));
  } else {
    context.logger.error('slash command failed', { command: name, error: (error as Error).message });
    const text = `/${name} failed unexpectedly; the bot's log has the details.`;
    await tellEphemeral(respond, errorNotice(text, { sandbox }));
  }
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
