import type { AnyMiddlewareArgs, Middleware, RespondFn } from '@slack/bolt';
import {
  confirmNoticeView,
  errorNotice,
  refusalMessage,
  type SlackMessage,
  UPDATE_CONFIRM_CALLBACK_ID,
  APPROVE_ACTION_ID,
  DENY_ACTION_ID,
} from '../views/slack';
import { answerWithin } from '../time-limit';
import { AUDIT_UNAVAILABLE, auditDone, type BotContext } from './context';
import { tellEphemeral } from './posting';

/** A slash command, button click or modal submission: each carries its own Slack trigger_id. */
interface Triggered {
  kind: 'command' | 'click' | 'submission';
  triggerId: string;
  actor: string;
  /** As the audit log names it: `iam-get-user`, `approve`, `iam-create-user`, … */
  command: string;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

const ACTION_NAMES: Record<string, string> = { [APPROVE_ACTION_ID]: 'approve', [DENY_ACTION_ID]: 'deny' };

function triggeredOf(body: unknown): Triggered | null {
  const triggerId = text(field(body, 'trigger_id'));
  if (!triggerId) return null;
  const command = text(field(body, 'command'));
  const userId = text(field(body, 'user_id'));
  if (command && userId) {
    return { kind: 'command', triggerId, actor: userId, command: command.replace(/^\/+/, '') };
  }
  const actor = text(field(field(body, 'user'), 'id')) ?? 'unknown';
  const type = field(body, 'type');
  if (type === 'block_actions') {
    const actions = field(body, 'actions');
    const actionId = (Array.isArray(actions) && text(field(actions[0], 'action_id'))) || 'action';
    return { kind: 'click', triggerId, actor, command: ACTION_NAMES[actionId] ?? actionId };
  }
  if (type === 'view_submission') {
    const callbackId = text(field(field(body, 'view'), 'callback_id')) ?? 'view';
    return { kind: 'submission', triggerId, actor, command: callbackId.replaceAll('_', '-') };
  }
  return null;
}

/** The parts of the listener arguments an answer needs (present for commands, clicks and submissions). */
interface Answering {
  ack?: (response?: unknown) => Promise<void>;
  respond?: RespondFn;
}

/** Acknowledges and tells the person, where they will see it: ephemerally, or in the modal. */
async function answer(
  args: Answering,
  triggered: Triggered,
  message: SlackMessage,
  sandbox: boolean,
): Promise<void> {
  if (triggered.command === CONFIRM_COMMAND) {
    // The update confirmation has no input to hang an error on: the notice replaces it.
    await args.ack?.({ response_action: 'update', view: confirmNoticeView(message.text, { sandbox }) });
  } else if (triggered.kind === 'submission') {
    await args.ack?.({ response_action: 'errors', errors: { email: message.text } });
  } else if (triggered.kind === 'command') {
    await args.ack?.({ response_type: 'ephemeral', text: message.text, blocks: message.blocks });
  } else {
    await args.ack?.();
    if (args.respond) await tellEphemeral(args.respond, message);
  }
}

const CONFIRM_COMMAND = UPDATE_CONFIRM_CALLBACK_ID.replaceAll('_', '-');

const REPLAYED =
  'Slack delivered this request a second time (the same trigger_id was already handled), so it was not carried out again.';

/**
 * How long a Slack request waits for its trigger_id to be recorded before it is answered anyway: Slack
 * shows the person an error when the answer (the ack) takes more than 3 s, and nothing can be acked
 * before the replay check. Past this the database counts as unavailable: nothing runs, the person is told.
 */
export const TRIGGER_CLAIM_LIMIT_MS = 2_000;

/** What the person is told when the trigger could not be recorded (in time); a click says its decision was lost. */
function unrecordedText(triggered: Triggered): string {
  const decision = triggered.command === 'approve' || triggered.command === 'deny';
  const note = decision ? ' Your decision was not recorded; the request is still open.' : '';
  return `${AUDIT_UNAVAILABLE}${note} Try again in a minute.`;
}

/**
 * Records the trigger within TRIGGER_CLAIM_LIMIT_MS: true the first time, false for a replay, null when
 * the store failed or did not answer in time (counted as an audit write failure and logged). A claim
 * that lands after the limit only makes a later replay of the same trigger_id a refusal.
 */
async function claimInTime(context: BotContext, triggered: Triggered): Promise<boolean | null> {
  const claim = context.store.claimTrigger(triggered.triggerId, context.clock());
  let first: boolean | 'late';
  try {
    first = await answerWithin(claim, TRIGGER_CLAIM_LIMIT_MS, 'late' as const);
  } catch (error) {
    context.metrics.auditWriteFailure();
    context.logger.error('recording a trigger failed; nothing was done', {
      command: triggered.command,
      error: (error as Error).message,
    });
    return null;
  }
  if (first !== 'late') return first;
  context.metrics.auditWriteFailure();
  context.logger.error('recording a trigger took too long; answered that nothing was done', {
    command: triggered.command,
    waitedMs: TRIGGER_CLAIM_LIMIT_MS,
  });
  return null;
}

/**
 * Global middleware: a command, click or modal submission runs only the first time its Slack
 * trigger_id arrives, in any instance (Store.claimTrigger is one atomic insert). A replay is answered
 * and audited as a refusal; nothing else happens. When the store cannot record the trigger within
 * TRIGGER_CLAIM_LIMIT_MS, nothing runs either (the same store could not keep the audit row), and the
 * answer still comes within Slack's 3 s. Once the bot is shutting down the listeners answer "restarting"
 * and do nothing, so they are not kept waiting for the database.
 */
export function refuseReplays(context: BotContext): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const triggered = triggeredOf(args.body);
    if (!triggered || context.inFlight.closed) return args.next();
    const answering = args as unknown as Answering; // ack and respond exist for these three payload kinds
    const first = await claimInTime(context, triggered);
    if (first === null) {
      const message = errorNotice(unrecordedText(triggered), { sandbox: context.sandbox });
      return answer(answering, triggered, message, context.sandbox);
    }
    if (first) return args.next();
    await answer(
      answering,
      triggered,
      refusalMessage(REPLAYED, { sandbox: context.sandbox }),
      context.sandbox,
    );
    // The refusal has been sent: its row records it and never throws.
    await auditDone(context, {
      actor: triggered.actor,
      kind: 'refusal',
      command: triggered.command,
      target: null,
      outcome: 'refused',
      requestId: null,
      detail: { reason: 'replayed trigger_id' },
    });
  };
}
