import { type IamResult, outcomeOf, removeFromGroup, removePinnedMember, targetOf } from '../../iam';
import type { Grant } from '../../store/grants';
import { type AccessRequestText, parseAccessText } from '../access-text';
import { AccessRefusal, type BotContext } from '../context';
import { accessRole, lookUpRemoval, requireSelf, resolveAccessUser } from '../grant-request';
import { endStoredGrants } from '../grants';
import { type CommandArgs, handleSlashCommand } from './slash-command';
import { runAndPost } from './run-and-post';

/** The member was removed, or was not in the group: any stored grant of it has ended. */
const removed = (result: IamResult): boolean => result.IAM.Vendor.success;

/** The asker's own active grants of this group: given to their Slack id, or to their email. */
async function ownGrants(
  context: BotContext,
  slackId: string,
  email: string,
  group: string,
): Promise<Grant[]> {
  const lower = (text: string) => text.toLowerCase();
  return (await context.store.listGrants({ active: true })).filter(
    (grant) =>
      lower(grant.groupName) === lower(group) &&
      (grant.slackUserId === slackId || lower(grant.target) === lower(email)),
  );
}

/**
 * /iam-revoke <user> <group>: an operator removes the member at once (a non-member is a skipped
 * result); anyone else may end their own grant early. The result is posted and audited as any
 * command's; each stored grant it ends is ended once (endGrant) and said in its thread.
 */
async function revoke(context: BotContext, args: CommandArgs, wanted: AccessRequestText): Promise<void> {
  const requesterId = args.command.user_id;
  const role = await accessRole(context, requesterId, '/iam-revoke');
  const who = await resolveAccessUser(args.client, requesterId, wanted.user);
  requireSelf(role, who, '/iam-revoke');
  const post = {
    client: args.client,
    respond: args.respond,
    userId: requesterId,
    channelId: args.command.channel_id,
  };
  const end = async (result: IamResult, reason: 'revoked' | 'done') => {
    const { id, group } = result.IAM.Vendor;
    if (removed(result) && id && group) {
      const outcome = outcomeOf(result.IAM.Vendor);
      await endStoredGrants(
        context,
        args.client,
        { userId: id, groupName: group },
        { by: requesterId, reason, outcome },
      );
    }
    return result;
  };
  if (role === 'operator') {
    const found = await lookUpRemoval(context, who.profile, wanted.group);
    const ends = who.self ? 'done' : 'revoked';
    const pinned = found?.user?.id
      ? { user: { ...who.profile, id: found.user.id }, group: found.group }
      : null;
    return runAndPost(
      context,
      { ...post, receivedDetail: removalDetail(pinned, wanted.group, ends) },
      'iam-revoke',
      targetOf(who.profile),
      async () =>
        end(
          await (pinned
            ? removePinnedMember(context.iam, pinned)
            : removeFromGroup(context.iam, who.profile, wanted.group)),
          ends,
        ),
    );
  }
  const [grant] = await ownGrants(context, requesterId, String(who.profile.email), wanted.group);
  if (!grant) {
    throw new AccessRefusal(
      `You have no grant of "${wanted.group}" to end; an operator can remove other access.`,
    );
  }
  const membership = {
    user: { id: grant.userId, email: grant.target },
    group: { id: grant.groupId, displayName: grant.groupName },
  };
  return runAndPost(
    context,
    { ...post, receivedDetail: removalDetail(membership, grant.groupName, 'done') },
    'iam-revoke',
    grant.target,
    async () => end(await removePinnedMember(context.iam, membership), 'done'),
  );
}

/**
 * The "received" row of a removal: the group by name (filterable), and where known the user and group
 * ids and why stored grants end, so that a removal cut short is reconciled by id (reconcile.ts).
 */
function removalDetail(
  pinned: { user: { id: string }; group: { id: string; displayName: string } } | null,
  group: string,
  ends: 'revoked' | 'done',
): Record<string, unknown> {
  if (pinned === null) return { group };
  return { group: pinned.group.displayName, userId: pinned.user.id, groupId: pinned.group.id, ends };
}

export function iamRevoke(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand<AccessRequestText>(
      context,
      args,
      'iam-revoke',
      (wanted) => revoke(context, args, wanted),
      (text) => parseAccessText(text, '/iam-revoke'),
      { membersToo: true },
    );
}
