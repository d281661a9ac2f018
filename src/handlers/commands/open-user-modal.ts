import { getUser, type UserProfile } from '../../iam';
import { userModal } from '../../views/slack';
import type { BotContext } from '../context';
import type { CommandArgs } from './slash-command';

function stringFields(profile: UserProfile): Record<string, string> {
  return Object.fromEntries(
    Object.entries(profile).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * Opens the create or update modal at once (trigger_id lives about 3 s); for an update of a known
 * user, fills it with the user's current values when the lookup returns.
 */
export async function openUserModal(
  context: BotContext,
  args: CommandArgs,
  kind: 'create' | 'update',
  lookup?: UserProfile,
): Promise<void> {
  const base = { channelId: args.command.channel_id, sandbox: context.sandbox };
  const opened = await args.client.views.open({
    trigger_id: args.command.trigger_id,
    view: userModal(kind, { ...base, initial: lookup ? stringFields(lookup) : undefined }),
  });
  if (!lookup || !opened.view?.id) return;
  const current = await getUser(context.iam, lookup);
  if (!current.IAM.Vendor.success) return;
  await args.client.views.update({
    view_id: opened.view.id,
    hash: opened.view.hash,
    view: userModal(kind, { ...base, initial: stringFields(current.IAM.UserProfile) }),
  });
}
