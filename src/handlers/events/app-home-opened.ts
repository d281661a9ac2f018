import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView, restrictedHomeView } from '../../views/slack';
import type { Permissions } from '../access';
import { cardOf } from '../approvals';
import type { BotContext } from '../context';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

/**
 * App Home. Operators and approvers: connection status, SANDBOX or production, their permissions and
 * the pending disables. Anyone else (members without a role, guests, unknown ids), and anyone whose
 * permissions Slack could not confirm: a short note of what the bot does, and no request data.
 */
export function appHomeOpened(context: BotContext) {
  return async ({ event, client }: HomeArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    await publishHome(context, client, event.user);
  };
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
  if (!permissions || !(permissions.operator || permissions.approver)) {
    const reason = permissions ? 'no-permissions' : 'unchecked';
    await client.views.publish({
      user_id: userId,
      view: restrictedHomeView(reason, { sandbox: context.sandbox }),
    });
    return;
  }
  const [connection, pending, scheduled] = await Promise.all([
    context.connectionStatus(),
    context.store.listPendingApprovals(),
    context.store.listScheduled(),
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
    }),
  });
}
