import { type IamResult } from '../../iam';
import { getSummaryMessage, resultMessage, userDetailsThreadMessage } from '../../views/slack';
import { outcomeOf } from '../approvals';
import { audit, auditDone, type BotContext } from '../context';
import { postMessage } from '../posting';
import type { CommandArgs, SlashCommandName } from './profile-command';

/**
 * Audits the command (no row, no action: AuditUnavailableError is thrown before Atlassian is called),
 * runs it against the directory, audits the result as soon as Atlassian has answered, then posts the
 * result table and (as a follow-up, see FollowUps) a get's attribute list in the thread. The result row
 * never waits for Slack: a post that fails cannot cost the record of what was done.
 */
export async function runAndPost(
  context: BotContext,
  args: Pick<CommandArgs, 'client'> &
    Partial<Pick<CommandArgs, 'respond'>> & { userId: string; channelId: string; fallbackUserId?: string },
  name: SlashCommandName,
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
    await audit(context, entry('command', 'received', null));
    let result: IamResult;
    try {
      result = await execute();
    } catch (error) {
      // Bad input found only after the lookup (e.g. a missing user that cannot be created from it).
      await auditDone(context, entry('result', 'rejected', { reason: (error as Error).message }));
      throw error;
    }
    await auditDone(
      context,
      entry('result', outcomeOf(result), result as unknown as Record<string, unknown>),
    );
    const message =
      name === 'iam-get-user' ? getSummaryMessage(result, options) : resultMessage(result, options);
    return { result, ts: await postMessage(args.client, args.channelId, message, posting) };
  });
  // The requester has the result; the attribute list waits until the other commands in progress have theirs.
  if (name === 'iam-get-user' && ts && result.IAM.Vendor.success) {
    await context.followUps.followUp(() =>
      postMessage(args.client, args.channelId, userDetailsThreadMessage(result, options), { threadTs: ts }),
    );
  }
}
