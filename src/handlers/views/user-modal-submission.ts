import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import {
  type IamResult,
  parseUserProfile,
  planFingerprint,
  planOfWrite,
  previewUpdate,
  ProfileError,
  type UserProfile,
  type WriteOptions,
  type WritePreview,
} from '../../iam';
import {
  type ConfirmMetadata,
  errorNotice,
  LIMITS,
  type ModalValues,
  readConfirmMetadata,
  readModalMetadata,
  readModalValues,
  updateConfirmView,
  validateModalValues,
} from '../../views/slack';
import { requestPreviewedWrite, requestWrite } from '../approvals';
import { runAndPost } from '../commands/run-and-post';
import { AuditUnavailableError, auditNotOperator, type BotContext, targetOf } from '../context';
import { RESTARTING } from '../in-flight';
import { postMessage } from '../posting';

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export const CREATE_CALLBACK = 'iam_create_user';
export const UPDATE_CALLBACK = 'iam_update_user';
export { UPDATE_CONFIRM_CALLBACK_ID as UPDATE_CONFIRM_CALLBACK } from '../../views/slack';

const NAMES = { create: 'iam-create-user', update: 'iam-update-user' } as const;

/** Null when the submitter is an operator; otherwise what to tell them (a refusal is audited). */
async function operatorProblem(context: BotContext, userId: string, name: string): Promise<string | null> {
  try {
    if (await context.access.isOperator(userId)) return null;
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    return 'Could not check your permissions with Slack; try again.';
  }
  await auditNotOperator(context, userId, name);
  return 'Only operators (IAM_OPERATORS) can do this.';
}

const optionsOf = (values: Pick<ModalValues, 'allowEnable' | 'clear'>): WriteOptions => ({
  allowEnable: values.allowEnable,
  clear: values.clear,
});

/**
 * Carries the write out after the ack, posting the result in `channelId`: the given preview (the
 * confirmed update), or a fresh one (create). A write that takes the account over posts an approval
 * request instead (see requestWrite).
 */
async function carryOut(
  context: BotContext,
  { body, client }: Pick<SubmissionArgs, 'body' | 'client'>,
  kind: 'create' | 'update',
  write: { profile: UserProfile; options: WriteOptions; channelId: string; preview?: WritePreview },
): Promise<void> {
  const name = NAMES[kind];
  const userId = body.user.id;
  const { profile, channelId } = write;
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
    if (write.preview) {
      await requestPreviewedWrite(context, client, { ...request, preview: write.preview }, kind, runNow);
    } else {
      await requestWrite(context, client, { ...request, ...write.options }, kind, runNow);
    }
  } catch (error) {
    // Input found wrong only by the core (e.g. a field the mapper cannot clear): nothing was sent.
    const input = error instanceof ProfileError;
    const unavailable = error instanceof AuditUnavailableError;
    if (!input && !unavailable)
      context.logger.error('modal submission failed', { command: name, error: (error as Error).message });
    const text = unavailable
      ? (error as Error).message
      : input
        ? `${(error as Error).message}. Nothing was changed.`
        : `${name} failed unexpectedly; the bot's log has the details.`;
    await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
  }
}

/** The update's preview and its plan, found with one lookup and no change. */
async function findPlan(context: BotContext, profile: UserProfile, options: WriteOptions) {
  const preview = await previewUpdate(context.iam, profile, options);
  const plan = planOfWrite('iam-update-user', context.iam, profile, preview);
  return { preview, plan, fingerprint: planFingerprint(plan) };
}

/**
 * view_submission of the create/update modal: field errors go back into the modal; a non-operator is
 * told in the modal too. A valid update form opens its confirmation (pushed on top of the form): the
 * before → after of each attribute that changes, or "No change: nothing will be sent". A valid create
 * form closes and the result is posted in the channel it came from.
 */
export function userModalSubmission(context: BotContext, kind: 'create' | 'update') {
  const name = NAMES[kind];
  return async (args: SubmissionArgs): Promise<void> => {
    const { ack, view, body } = args;
    const userId = body.user.id;
    const values = readModalValues(view.state.values);
    const errors = validateModalValues(values, kind);
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    const problem = await operatorProblem(context, userId, name);
    if (problem !== null) {
      await ack({ response_action: 'errors', errors: { email: problem } });
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
    const options = optionsOf(values);
    const refuse = () => ack({ response_action: 'errors', errors: { email: RESTARTING } });
    if (kind === 'update') {
      // Within the ack's 3 seconds: one lookup (GET), nothing sent. Tracked so a shutdown waits for it.
      if (context.inFlight.closed) return refuse();
      return context.inFlight.run(() => openConfirmation(context, args, { profile, values, channelId }));
    }
    await context.inFlight.ackThenRun(
      () => ack(),
      () => carryOut(context, args, kind, { profile, options, channelId }),
      refuse,
    );
  };
}

async function openConfirmation(
  context: BotContext,
  { ack }: SubmissionArgs,
  form: { profile: UserProfile; values: ModalValues; channelId: string },
): Promise<void> {
  let found;
  try {
    found = await findPlan(context, form.profile, optionsOf(form.values));
  } catch (error) {
    const input = error instanceof ProfileError;
    if (!input) context.logger.error('update preview failed', { error: (error as Error).message });
    const text = input
      ? `${(error as Error).message}. Nothing was changed.`
      : "The change could not be previewed, so nothing was changed; the bot's log has the details.";
    await ack({ response_action: 'errors', errors: { email: text } });
    return;
  }
  const metadata: ConfirmMetadata = {
    channelId: form.channelId,
    fields: form.values.fields,
    clear: form.values.clear,
    allowEnable: form.values.allowEnable,
    plan: found.fingerprint,
  };
  const view = updateConfirmView(found.plan, metadata, { sandbox: context.sandbox });
  if ((view.private_metadata ?? '').length > LIMITS.privateMetadata) {
    await ack({
      response_action: 'errors',
      errors: {
        email: `This form is too long for Slack to carry to the confirmation (${LIMITS.privateMetadata} characters at most); shorten the longest fields. Nothing was changed.`,
      },
    });
    return;
  }
  await ack({ response_action: 'push', view });
}

/**
 * view_submission of the update confirmation: the plan is found again from the same form and carried
 * out only when it is the one shown (same user id, same before → after); otherwise nothing is sent and
 * the confirmation shows the new plan to confirm again. Nothing is kept in the bot between the two.
 */
export function updateConfirmation(context: BotContext) {
  return async (args: SubmissionArgs): Promise<void> => {
    const { ack, view, body, client } = args;
    const userId = body.user.id;
    const tell = async (text: string) => {
      await ack();
      await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
    };
    const metadata = readConfirmMetadata(view.private_metadata);
    if (metadata === null)
      return tell('This confirmation could not be read, so nothing was changed. Start again.');
    const problem = await operatorProblem(context, userId, NAMES.update);
    if (problem !== null) return tell(`${problem} Nothing was changed.`);
    if (context.inFlight.closed) return tell(RESTARTING);
    const options = optionsOf(metadata);
    await context.inFlight.run(async () => {
      let profile: UserProfile;
      let found;
      try {
        profile = parseUserProfile(metadata.fields);
        found = await findPlan(context, profile, options);
      } catch (error) {
        if (!(error instanceof ProfileError)) throw error;
        return tell(`${error.message}. Nothing was changed.`);
      }
      if (found.fingerprint !== metadata.plan) {
        const again = { ...metadata, plan: found.fingerprint };
        const view = updateConfirmView(found.plan, again, { sandbox: context.sandbox, changedSince: true });
        await ack({ response_action: 'update', view });
        return;
      }
      await ack({ response_action: 'clear' });
      if (found.plan.kind !== 'change' && found.plan.kind !== 'create') return; // nothing to carry out
      await carryOut(context, args, 'update', {
        profile,
        options,
        channelId: metadata.channelId,
        preview: found.preview,
      });
    });
  };
}
