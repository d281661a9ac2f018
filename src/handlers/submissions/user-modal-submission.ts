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
  targetOf,
} from '../../iam';
import type { ModalView } from '@slack/types';
import {
  type ConfirmMetadata,
  confirmLoadingView,
  confirmNoticeView,
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
import { AuditUnavailableError, auditRefusal, REFUSED, type BotContext } from '../context';
import { RESTARTING } from '../in-flight';
import { postMessage } from '../posting';
import { answerWithin } from '../../time-limit';

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const NAMES = { create: 'iam-create-user', update: 'iam-update-user' } as const;

/** Null when the submitter is an operator; otherwise what to tell them (a refusal is audited). */
async function operatorProblem(context: BotContext, userId: string, name: string): Promise<string | null> {
  try {
    if (await context.access.isOperator(userId)) return null;
  } catch (error) {
    context.logger.error('permission check failed', { error: (error as Error).message });
    return 'Could not check your permissions with Slack; try again.';
  }
  await auditRefusal(context, userId, name, REFUSED.notOperator);
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

/** What the person is told when the update's preview fails: their input's problem, or a pointer to the log. */
function previewProblem(context: BotContext, error: unknown, verb: 'previewed' | 'checked'): string {
  if (error instanceof ProfileError) return `${(error as Error).message}. Nothing was changed.`;
  context.logger.error('update preview failed', { error: (error as Error).message });
  return `The change could not be ${verb}, so nothing was changed; the bot's log has the details.`;
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
    const refuse = async () => {
      await ack({ response_action: 'errors', errors: { email: RESTARTING } });
      await auditRefusal(context, userId, name, REFUSED.shuttingDown);
    };
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

/** Slack wants a view_submission answered within 3 s: a slower lookup answers with a "looking up" view first. */
export const CONFIRM_ACK_MS = 2000;

/**
 * The confirmation of a submitted update form: pushed in the ack when the lookup answers within
 * CONFIRM_ACK_MS; otherwise a "looking the user up" view is pushed at once and replaced by the
 * confirmation (or the problem) when the lookup is done.
 */
async function openConfirmation(
  context: BotContext,
  { ack, body, client }: SubmissionArgs,
  form: { profile: UserProfile; values: ModalValues; channelId: string },
): Promise<void> {
  const answer = confirmationOf(context, form);
  const quick = await answerWithin(answer, CONFIRM_ACK_MS, null);
  if (quick !== null) {
    await ack(
      'view' in quick
        ? { response_action: 'push', view: quick.view }
        : { response_action: 'errors', errors: { email: quick.problem } },
    );
    return;
  }
  const externalId = `iam-confirm-${body.trigger_id}`;
  await ack({ response_action: 'push', view: confirmLoadingView(externalId, { sandbox: context.sandbox }) });
  const late = await answer;
  const view = 'view' in late ? late.view : confirmNoticeView(late.problem, { sandbox: context.sandbox });
  try {
    await client.views.update({ external_id: externalId, view });
  } catch (error) {
    // The operator closed the form meanwhile, or Slack refused: nothing was sent either way.
    context.logger.warn('the update confirmation could not be shown', { error: (error as Error).message });
  }
}

/** The confirmation view of a submitted update form, or the problem to show in the form. */
async function confirmationOf(
  context: BotContext,
  form: { profile: UserProfile; values: ModalValues; channelId: string },
): Promise<{ view: ModalView } | { problem: string }> {
  let found;
  try {
    found = await findPlan(context, form.profile, optionsOf(form.values));
  } catch (error) {
    return { problem: previewProblem(context, error, 'previewed') };
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
    return {
      problem: `This form is too long for Slack to carry to the confirmation (${LIMITS.privateMetadata} characters at most); shorten the longest fields. Nothing was changed.`,
    };
  }
  return { view };
}

/**
 * view_submission of the update confirmation: the plan is found again from the same form and carried
 * out only when it is the one shown (same user id, same before → after); otherwise nothing is sent and
 * the confirmation shows the new plan to confirm again. Nothing is kept in the bot between the two.
 * Longer than 50 lines: one listener whose checks must run in this order before anything is sent.
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
      const checking = recheck(context, metadata);
      const quick = await answerWithin(checking, CONFIRM_ACK_MS, null);
      const externalId = `iam-confirm-${body.trigger_id}`;
      if (quick === null)
        await ack({
          response_action: 'update',
          view: confirmLoadingView(externalId, { sandbox: context.sandbox }),
        });
      const checked = quick ?? (await checking);
      // Shown in the ack when it came in time, else in place of the "looking up" view.
      const show = async (next: ModalView | null) => {
        if (quick !== null)
          return ack(next ? { response_action: 'update', view: next } : { response_action: 'clear' });
        if (next === null) return;
        try {
          await client.views.update({ external_id: externalId, view: next });
        } catch (error) {
          context.logger.warn('the update confirmation could not be shown', {
            error: (error as Error).message,
          });
        }
      };
      if ('problem' in checked) {
        await show(confirmNoticeView(checked.problem, { sandbox: context.sandbox }));
        return;
      }
      if ('again' in checked) {
        await show(checked.again);
        return;
      }
      const { profile, found } = checked;
      const carries = found.plan.kind === 'change' || found.plan.kind === 'create';
      await show(
        quick === null && carries
          ? confirmNoticeView('Confirmed: the result follows in the channel.', { sandbox: context.sandbox })
          : null,
      );
      if (!carries) return; // nothing to carry out
      await carryOut(context, args, 'update', {
        profile,
        options,
        channelId: metadata.channelId,
        preview: found.preview,
      });
    });
  };
}

/**
 * Finds the plan again from the confirmed form: the same plan (go ahead), a different one (the user
 * changed since: the confirmation to show again), or a problem (nothing is sent).
 */
async function recheck(
  context: BotContext,
  metadata: ConfirmMetadata,
): Promise<
  | { problem: string }
  | { again: ModalView }
  | { profile: UserProfile; found: Awaited<ReturnType<typeof findPlan>> }
> {
  let profile: UserProfile;
  let found;
  try {
    profile = parseUserProfile(metadata.fields);
    found = await findPlan(context, profile, optionsOf(metadata));
  } catch (error) {
    return { problem: previewProblem(context, error, 'checked') };
  }
  if (found.fingerprint === metadata.plan) return { profile, found };
  const again = { ...metadata, plan: found.fingerprint };
  return {
    again: updateConfirmView(found.plan, again, { sandbox: context.sandbox, changedSince: true }),
  };
}
