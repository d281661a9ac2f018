/** The /iam-grant form: its group picker (the directory's groups) and its submission. */
import type {
  AllMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { ProfileError } from '../../iam';
import {
  errorNotice,
  GRANT_BLOCKS,
  GRANT_GROUP_ACTION_ID,
  groupOptions,
  readGrantMetadata,
} from '../../views/slack';
import { type AccessRequestText, type AccessUser, parseGrantDuration, readAccessUser } from '../access-text';
import { AccessRefusal, auditDone, auditRefusal, type BotContext, REFUSED } from '../context';
import { requestableGroups, requestGrant } from '../grant-request';
import { RESTARTING } from '../in-flight';
import { postMessage } from '../posting';

type SubmissionArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
type OptionsArgs = SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs;
type StateValues = SubmissionArgs['view']['state']['values'];

/**
 * The group picker: the directory's groups whose name contains what was typed; for someone who is not
 * an operator, only the groups they may ask for themselves (a grant rule with `members`).
 */
export function grantGroupOptions(context: BotContext) {
  return async ({ ack, body }: OptionsArgs): Promise<void> => {
    try {
      const names = (await context.access.isOperator(body.user.id))
        ? await context.groupNames()
        : await requestableGroups(context, body.user.id);
      await ack({ options: groupOptions(names, body.value ?? '') });
    } catch (error) {
      context.logger.error('could not list the groups for the picker', { error: (error as Error).message });
      await ack({ options: [] });
    }
  };
}

const valueOf = (values: StateValues, block: string): string => (values[block]?.value?.value ?? '').trim();

/** What the form asks for, or the problem of one field (shown under it). */
function readForm(values: StateValues): AccessRequestText | { block: string; problem: string } {
  const email = valueOf(values, GRANT_BLOCKS.email);
  const picked = values[GRANT_BLOCKS.user]?.value?.selected_user;
  const group = values[GRANT_BLOCKS.group]?.[GRANT_GROUP_ACTION_ID]?.selected_option?.value;
  const duration = valueOf(values, GRANT_BLOCKS.duration);
  try {
    if (email && picked) throw new ProfileError('pick a person or give an email, not both');
    const user: AccessUser = email
      ? readAccessUser(email)
      : picked
        ? { kind: 'slack', slackId: picked }
        : { kind: 'me' };
    if (!group) return { block: GRANT_BLOCKS.group, problem: 'pick a group' };
    return {
      user,
      group,
      durationMs: duration ? parseGrantDuration(duration.replace(/^for\s+/i, '')) : null,
      reason: valueOf(values, GRANT_BLOCKS.reason) || null,
    };
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    const block = error.message.includes('duration') ? GRANT_BLOCKS.duration : GRANT_BLOCKS.email;
    return { block, problem: error.message };
  }
}

/** After the ack: the request, with every answer in the app's DM (a form has no response_url). */
async function submitGrant(context: BotContext, args: SubmissionArgs, wanted: AccessRequestText) {
  const { body, client, view } = args;
  const userId = body.user.id;
  const input = {
    requesterId: userId,
    channelId: readGrantMetadata(view.private_metadata) ?? userId,
    teamId: body.team?.id ?? body.user.team_id ?? null,
    enterpriseId: body.enterprise?.id ?? body.team?.enterprise_id ?? null,
    reason: wanted.reason,
    fallbackUserId: userId,
  };
  try {
    await requestGrant(context, client, input, wanted);
  } catch (error) {
    const known = error instanceof ProfileError || error instanceof AccessRefusal;
    if (error instanceof AccessRefusal) {
      const detail = { reason: error.message, group: wanted.group };
      await auditDone(context, {
        actor: userId,
        kind: 'refusal',
        command: 'iam-grant',
        target: null,
        outcome: 'refused',
        requestId: null,
        detail,
      });
    } else if (!known) {
      context.logger.error('grant form failed', { error: (error as Error).message });
    }
    const text = known
      ? `${(error as Error).message} Nothing was requested.`
      : `/iam-grant failed: ${(error as Error).message}`;
    await postMessage(client, userId, errorNotice(text, { sandbox: context.sandbox }));
  }
}

/** view_submission of the grant form: field problems go back into the form; the rest is answered by DM. */
export function grantModalSubmission(context: BotContext) {
  return async (args: SubmissionArgs): Promise<void> => {
    const form = readForm(args.view.state.values);
    if ('problem' in form) {
      await args.ack({ response_action: 'errors', errors: { [form.block]: form.problem } });
      return;
    }
    const refuse = async () => {
      await args.ack({ response_action: 'errors', errors: { [GRANT_BLOCKS.group]: RESTARTING } });
      await auditRefusal(context, args.body.user.id, 'iam-grant', REFUSED.shuttingDown);
    };
    await context.inFlight.ackThenRun(
      () => args.ack(),
      () => submitGrant(context, args, form),
      refuse,
    );
  };
}
