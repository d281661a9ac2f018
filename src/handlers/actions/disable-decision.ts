import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorNotice, refusalMessage } from '../../views/slack';
import { decide } from '../decide';
import { AuditUnavailableError, auditRefusal, REFUSED, type BotContext } from '../context';
import { originOf } from '../decision-guards';
import { RESTARTING } from '../in-flight';
import { tellEphemeral } from '../posting';

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** iam_disable_approve / iam_disable_deny: the button value is the request id; approvals.ts decides. */
export function disableDecision(context: BotContext, decision: 'approved' | 'denied') {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await context.inFlight.ackThenRun(
      () => ack(),
      async () => {
        try {
          await decide(context, client, {
            requestId: action.value ?? '',
            userId: body.user.id,
            decision,
            respond,
            origin: originOf(body),
          });
        } catch (error) {
          // The decision's audit row could not be written before it took effect: the clicker is told.
          if (!(error instanceof AuditUnavailableError)) throw error;
          await tellEphemeral(respond, errorNotice(error.message, { sandbox: context.sandbox }));
        }
      },
      async () => {
        await ack();
        const text = `${RESTARTING} (Your decision was not recorded; the request is still open.)`;
        await tellEphemeral(respond, refusalMessage(text, { sandbox: context.sandbox }));
        await auditRefusal(
          context,
          body.user.id,
          decision === 'approved' ? 'approve' : 'deny',
          REFUSED.shuttingDown,
        );
      },
    );
  };
}
