import { type IamResult } from '../../iam';
import { hasThreadDetails, resultMessage, userDetailsThreadMessage } from '../../views/slack';
import { outcomeOf } from '../approvals';
import { audit, type BotContext } from '../context';
import { postMessage } from '../posting';
import type { CommandArgs, SlashCommandName } from './profile-command';

/**
 * Audits the command, runs it against the directory, posts the result, then (as a follow-up, see
 * FollowUps) audits the result and posts the user's attribute list in the thread of a success.
 */
export async function runAndPost(
  context: BotContext,
  args: Pick<CommandArgs, 'client'> &
    Partial<Pick<CommandArgs, 'respond'>> & { userId: string; channelId: string; fallbackUserId?: string },
  name: SlashCommandName,
  target: string,
  execute: () => Promise<IamResult>,
): Promise<void> {
  const record = (kind: 'command' | 'result', outcome: string, detail: Record<string, unknown> | null) =>
    audit(context, { actor: args.userId, kind, command: name, target, outcome, requestId: null, detail });
  const options = { sandbox: context.sandbox, actorId: args.userId };
  const posting = { respond: args.respond, fallbackUserId: args.fallbackUserId };
  const { result, ts } = await context.followUps.result(async () => {
    await record('command', 'received', null);
    let result: IamResult;
    try {
      result = await execute();
    } catch (error) {
      // Bad input found only after the lookup (e.g. a missing user that cannot be created from it).
      const reason = (error as Error).message;
      await record('result', 'rejected', { reason });
      throw error;
    }
    const message = resultMessage(result, { ...options, detailsInThread: hasThreadDetails(result) });
    return { result, ts: await postMessage(args.client, args.channelId, message, posting) };
  });
  // The requester has the result; the rest waits until the other commands in progress have theirs.
  await context.followUps.followUp(async () => {
    // The audit row first: a thread reply Slack refuses must not cost the record of what was done.
    await record('result', outcomeOf(result), result as unknown as Record<string, unknown>);
    if (ts && hasThreadDetails(result)) {
      await postMessage(args.client, args.channelId, userDetailsThreadMessage(result, options), {
        threadTs: ts,
      });
    }
  });
}
