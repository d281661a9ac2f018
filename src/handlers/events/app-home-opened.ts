import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView, restrictedHomeView } from '../../views/slack';
import type { Permissions } from '../access';
import { cardOf } from '../approval-card';
import type { BotContext } from '../context';
import { requestableGroups } from '../grant-request';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

/** Operators and approvers see the grants ending within this long. */
const DAY_MS = 24 * 3_600_000;

/**
 * App Home. Operators and approvers: connection status, SANDBOX or production, their permissions, the
 * pending requests, their own grants and every grant ending within a day. Anyone else (members without
 * a role, guests, unknown ids), and anyone whose permissions Slack could not confirm: a short note of
 * what the bot does and their own grants, and no other request data.
 */
export function appHomeOpened(context: BotContext) {
  return async ({ event, client }: HomeArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await publishHome(context, client, event.user);
  };
}

/** The groups a member of this workspace may ask for; null when the directory could not list them. */
async function groupsToAskFor(context: BotContext, userId: string): Promise<string[] | null> {
  // The member lookup is the one permissions() made a moment ago (cached).
  if (!(await context.access.isMember(userId))) return [];
  try {
    return await requestableGroups(context, userId);
  } catch (error) {
    context.logger.error('could not list the groups to ask for', { error: (error as Error).message });
    return null;
  }
}

/** Publishes `userId`'s Home tab as they may see it (also after a Cancel click, so the list is current). */
export async function publishHome(
  context: BotContext,
  client: HomeArgs['client'],
  userId: string,
): Promise<void> {
  let permissions: Permissions | null;
  try {
    permissions = await context.access.permissions(userId);
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    permissions = null;
  }
  // Everyone sees their own grants: whose access it is comes from the store, not from a role.
  const ownGrants = await context.store.listGrants({ slackUserId: userId, active: true });
  if (!permissions || !(permissions.operator || permissions.approver)) {
    const reason = permissions ? 'no-permissions' : 'unchecked';
    const requestable = permissions ? await groupsToAskFor(context, userId) : [];
    await client.views.publish({
      user_id: userId,
      view: restrictedHomeView(reason, { sandbox: context.sandbox, ownGrants, requestable }),
    });
    return;
  }
  const dayAhead = new Date(context.clock().getTime() + DAY_MS);
  const [connection, pending, scheduled, endingSoon] = await Promise.all([
    context.connectionStatus(),
    context.store.listPendingApprovals(),
    context.store.listScheduled(),
    context.store.listGrants({ active: true, endingBefore: dayAhead }),
  ]);
  await client.views.publish({
    user_id: userId,
    view: homeView({
      connection,
      sandbox: context.sandbox,
      instanceName: context.iam.instanceName,
      viewer: { userId: userId, ...permissions },
      pending: pending.map((request) => cardOf(request)),
      scheduled: scheduled.map((request) => cardOf(request)),
      grants: { own: ownGrants, endingSoon },
    }),
  });
}
