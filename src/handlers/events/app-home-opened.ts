import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView } from '../../views/slack';
import { cardOf } from '../approvals';
import type { BotContext } from '../context';

type HomeArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

/** App Home: connection status, SANDBOX or production, the viewer's permissions, pending disables. */
export function appHomeOpened(context: BotContext) {
  return async ({ event, client }: HomeArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    const [connection, permissions, pending] = await Promise.all([
      context.connectionStatus(),
      context.access.permissions(event.user),
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
