import {
  type AccessCommand,
  type IamResult,
  outcomeOf,
  parseAllowEnable,
  type ProfileCommand,
  resultDetail,
  targetOf,
} from '../../iam';
import { requestWrite } from '../approvals';
import { hasThreadDetails, resultMessage, userDetailsThreadMessage } from '../../views/slack';
import { audit, auditDone, type BotContext } from '../context';
import { postMessage, tellEphemeral } from '../posting';
import type { SlackMessage } from '../../views/slack';
import { type CommandArgs, type ProfileInput, requesterOf } from './slash-command';

/**
 * Audits the command (no row, no action: AuditUnavailableError is thrown before Atlassian is called),
 * runs it against the directory, audits the result as soon as Atlassian has answered, then posts the
 * result table and (as a follow-up, see FollowUps) a get's attribute list in the thread. The result row
 * never waits for Slack: a post that fails cannot cost the record of what was done. With `received`,
 * the caller has already written the command's row (requestWrite, before its lookup).
 */
export async function runAndPost(
  context: BotContext,
  args: Pick<CommandArgs, 'client'> &
    Partial<Pick<CommandArgs, 'respond'>> & {
      userId: string;
      channelId: string;
      fallbackUserId?: string;
      received?: true;
      /** The detail of the "received" row this writes: what it pins for reconciling (see reconcile.ts). */
      receivedDetail?: Record<string, unknown>;
    },
  name: ProfileCommand | AccessCommand,
  target: string,
  execute: () => Promise<IamResult>,
): Promise<void> {
  const entry = (kind: 'command' | 'result', outcome: string, detail: Record<string, unknown> | null) => ({
    actor: args.userId,
    kind,
    command: name,
    target,
    outcome,
    requestId: null,
    detail,
  });
  const options = { sandbox: context.sandbox, actorId: args.userId };
  const posting = { respond: args.respond, fallbackUserId: args.fallbackUserId };
  const { result, ts } = await context.followUps.result(async () => {
    if (!args.received) await audit(context, entry('command', 'received', args.receivedDetail ?? null));
    let result: IamResult;
    try {
      result = await execute();
    } catch (error) {
      // Bad input found only after the lookup (e.g. a missing user that cannot be created from it).
      await auditDone(context, entry('result', 'rejected', { reason: (error as Error).message }));
      throw error;
    }
    await auditDone(context, entry('result', outcomeOf(result.IAM.Vendor), resultDetail(result)));
    const message = resultMessage(result, { ...options, detailsInThread: hasThreadDetails(result) });
    return { result, ts: await postResult(context, args, message, posting) };
  });
  // The requester has the result; the attribute list waits until the other commands in progress have theirs.
  if (ts && hasThreadDetails(result)) {
    await context.followUps.followUp(() =>
      postMessage(args.client, args.channelId, userDetailsThreadMessage(result, options), { threadTs: ts }),
    );
  }
}

/**
 * Posts the result in the channel. Where Slack refuses (restricted_action, a revoked token, an outage)
 * the change has still been made and recorded, so the requester is told privately (response_url, else
 * the app's DM) instead of hearing that the command failed; returns the ts, or null when not posted.
 */
async function postResult(
  context: BotContext,
  args: Pick<CommandArgs, 'client'> &
    Partial<Pick<CommandArgs, 'respond'>> & { channelId: string; userId: string },
  message: SlackMessage,
  posting: Parameters<typeof postMessage>[3],
): Promise<string | null> {
  try {
    return await postMessage(args.client, args.channelId, message, posting);
  } catch (error) {
    context.logger.error('the result could not be posted; telling the requester privately', {
      error: (error as Error).message,
    });
    try {
      if (args.respond) await tellEphemeral(args.respond, message);
      else await postMessage(args.client, posting?.fallbackUserId ?? args.userId, message);
    } catch (again) {
      context.logger.error('the result reached nobody; the audit log has it', {
        error: (again as Error).message,
      });
    }
    return null;
  }
}

/**
 * A create or update typed as a slash command: carried out at once and posted (runAndPost), or, where
 * it needs a second person, posted as an approval request (requestWrite); its row comes first either way.
 */
export function requestSlashWrite(
  context: BotContext,
  args: CommandArgs,
  input: ProfileInput,
  action: 'create' | 'update',
): Promise<void> {
  const who = {
    client: args.client,
    respond: args.respond,
    userId: args.command.user_id,
    channelId: args.command.channel_id,
    received: true as const,
  };
  const allowEnable = parseAllowEnable(input.allowEnable);
  const request = { ...requesterOf(args, input), profile: input.profile, allowEnable };
  return requestWrite(context, args.client, request, action, (execute) =>
    runAndPost(context, who, `iam-${action}-user`, targetOf(input.profile), execute),
  );
}
