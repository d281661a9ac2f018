import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { createUser, parseUserProfile, ProfileError, updateUser } from '../../iam';
import { errorNotice, readModalMetadata, readModalValues, validateModalValues } from '../../views/slack';
import { runAndPost } from '../commands/run-and-post';
import { AuditUnavailableError, auditNotOperator, type BotContext, targetOf } from '../context';
import { RESTARTING } from '../in-flight';
import { postMessage } from '../posting';

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export const CREATE_CALLBACK = 'iam_create_user';
export const UPDATE_CALLBACK = 'iam_update_user';

/**
 * view_submission of the create/update modal: field errors go back into the modal; a non-operator is
 * told in the modal too; a valid form closes and the result is posted in the channel it came from.
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
    const options = { allowEnable: values.allowEnable };
    const refuse = () => ack({ response_action: 'errors', errors: { email: RESTARTING } });
    await context.inFlight.ackThenRun(
      () => ack(),
      async () => {
        try {
          await runAndPost(
            context,
            { client, userId, channelId, fallbackUserId: userId },
            name,
            targetOf(profile),
            () =>
              kind === 'create'
                ? createUser(context.iam, profile, options)
                : updateUser(context.iam, profile, options),
          );
        } catch (error) {
          const unavailable = error instanceof AuditUnavailableError;
          if (!unavailable) {
            context.logger.error('modal submission failed', {
              command: name,
              error: (error as Error).message,
            });
          }
          const text = unavailable
            ? (error as Error).message
            : `${name} failed unexpectedly; the bot's log has the details.`;
          await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
        }
      },
      refuse,
    );
  };
}
