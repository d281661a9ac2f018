import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { BotContext } from '../context';
import { grantDone, grantExtend } from '../grant-notices';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** grant_done and grant_extend (a notice DM): the button value is the grant id; grant-notices.ts decides. */
export function grantNoticeClick(context: BotContext, which: 'done' | 'extend') {
  const handle = which === 'done' ? grantDone : grantExtend;
  return async ({ ack, action, body, client }: ButtonArgs): Promise<void> => {
    const click = {
      grantId: action.value ?? '',
      userId: body.user.id,
      teamId: body.team?.id ?? null,
      enterpriseId: body.enterprise?.id ?? null,
    };
    await context.inFlight.ackThenRun(
      () => ack(),
      () => handle(context, client, click).then(() => {}),
      () => ack(),
    );
  };
}
