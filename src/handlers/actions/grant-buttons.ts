import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { GRANT_DONE_ACTION_ID } from '../../views/slack';
import type { BotContext } from '../context';
import { grantDone } from '../grant-notices';

export const GRANT_DONE_ACTION = GRANT_DONE_ACTION_ID;

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** grant_done (a notice DM): the button value is the grant id; grant-notices.ts decides. */
export function grantDoneClick(context: BotContext) {
  return async ({ ack, action, body, client }: ButtonArgs): Promise<void> => {
    await context.inFlight.ackThenRun(
      () => ack(),
      () => grantDone(context, client, { grantId: action.value ?? '', userId: body.user.id }).then(() => {}),
      () => ack(),
    );
  };
}
