import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { type IamResult, parseUserProfile, ProfileError } from '../../iam';
import { errorNotice, readModalMetadata, readModalValues, validateModalValues } from '../../views/slack';
import { requestWrite } from '../approvals';
import { runAndPost } from '../commands/run-and-post';
import { AuditUnavailableError, auditNotOperator, type BotContext, targetOf } from '../context';
import { RESTARTING } from '../in-flight';
import { postMessage } from '../posting';

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export const CREATE_CALLBACK = 'iam_create_user';
export const UPDATE_CALLBACK = 'iam_update_user';

/**
 * view_submission of the create/update modal: field errors go back into the modal; a non-operator is
 * told in the modal too; a valid form closes and the result is posted in the channel it came from (a
 * write that takes the account over posts an approval request there instead, see requestWrite).
 */
export function userModalSubmission(context: BotContext, kind: 'create' | 'update') {
  const name = kind === 'create' ? 'iam-create-user' : 'iam-update-user';
  return async ({ ack, view, body, client }: SubmissionArgs): Promise<void> => {
    const userId = body.user.id;
    const values = readModalValues(view.state.values);
    const errors = validateModalValues(values, kind);
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    let operator: boolean;
    try {
      operator = await context.access.isOperator(userId);
    } catch (error) {
      context.logger.error('permission check failed', { error: (error as Error).message });
      await ack({
        response_action: 'errors',
        errors: { email: 'Could not check your permissions with Slack; try again.' },
      });
      return;
    }
    if (!operator) {
      await ack({
        response_action: 'errors',
        errors: { email: 'Only operators (IAM_OPERATORS) can do this.' },
      });
      await auditNotOperator(context, userId, name);
      return;
    }
    let profile;
    try {
      profile = parseUserProfile(values.fields);
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      await ack({ response_action: 'errors', errors: { email: error.message } });
      return;
    }
    const channelId = readModalMetadata(view.private_metadata)?.channelId ?? userId;
    const options = { allowEnable: values.allowEnable, clear: values.clear };
    const refuse = () => ack({ response_action: 'errors', errors: { email: RESTARTING } });
    await context.inFlight.ackThenRun(
      () => ack(),
      async () => {
        try {
          const runNow = (execute: () => Promise<IamResult>) =>
            runAndPost(
              context,
              { client, userId, channelId, fallbackUserId: userId, received: true },
              name,
              targetOf(profile),
              execute,
            );
          const request = {
            requesterId: userId,
            channelId,
            teamId: body.team?.id ?? body.user.team_id ?? null,
            enterpriseId: body.enterprise?.id ?? body.team?.enterprise_id ?? null,
            profile,
            reason: null,
            fallbackUserId: userId,
          };
          await requestWrite(context, client, { ...request, ...options }, kind, runNow);
        } catch (error) {
          // Input found wrong only by the core (e.g. a field the mapper cannot clear): nothing was sent.
          const input = error instanceof ProfileError;
          const unavailable = error instanceof AuditUnavailableError;
          if (!input && !unavailable) {
            context.logger.error('modal submission failed', {
              command: name,
              error: (error as Error).message,
            });
          }
          const text = unavailable
            ? (error as Error).message
            : input
              ? `${(error as Error).message}. Nothing was changed.`
              : `${name} failed unexpectedly; the bot's log has the details.`;
          await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
        }
      },
      refuse,
    );
  };
}
