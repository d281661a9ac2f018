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
    let permissions: Permissions | null;
    try {
      permissions = await context.access.permissions(event.user);
    } catch (error) {
      context.logger.error('permission check failed', { error: (error as Error).message });
      permissions = null;
    }
    if (!permissions || !(permissions.operator || permissions.approver)) {
      const reason = permissions ? 'no-permissions' : 'unchecked';
      await client.views.publish({
        user_id: event.user,
        view: restrictedHomeView(reason, { sandbox: context.sandbox }),
      });
      return;
    }
    const [connection, pending] = await Promise.all([
      context.connectionStatus(),
      context.store.listPendingApprovals(),
    ]);
    await client.views.publish({
      user_id: event.user,
      view: homeView({
        connection,
        sandbox: context.sandbox,
        instanceName: context.iam.instanceName,
        viewer: { userId: event.user, ...permissions },
        pending: pending.map((request) => cardOf(request)),
      }),
    });
  };
}
