import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decide } from '../approvals';
import type { BotContext } from '../context';

export const APPROVE_ACTION = 'iam_disable_approve';
export const DENY_ACTION = 'iam_disable_deny';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** iam_disable_approve / iam_disable_deny: the button value is the request id; approvals.ts decides. */
export function disableDecision(context: BotContext, decision: 'approved' | 'denied') {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    await context.inFlight.run(() =>
      decide(context, client, { requestId: action.value ?? '', userId: body.user.id, decision, respond }),
    );
  };
}
