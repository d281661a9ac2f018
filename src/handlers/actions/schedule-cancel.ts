import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../context';
import { publishHome } from '../events/app-home-opened';
import { cancelScheduled } from '../scheduled';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** iam_schedule_cancel (App Home and the scheduled card): the button value is the request id; scheduled.ts decides. */
export function scheduleCancel(context: BotContext) {
  return async ({ ack, action, body, client }: ButtonArgs): Promise<void> => {
    await context.inFlight.ackThenRun(
      () => ack(),
      async () => {
        const cancelled = await cancelScheduled(context, client, {
          requestId: action.value ?? '',
          userId: body.user.id,
        });
        if (cancelled) await publishHome(context, client, body.user.id);
      },
      () => ack(),
    );
  };
}
