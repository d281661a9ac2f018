/**
 * The command line's scheduled disables: `iam-disable-user --at …` stores one (approved ahead by whoever
 * holds the token, as XSOAR's commands need no second person: decided by `cli:<user>`). `run-scheduled`
 * carries out those that are due through src/scheduled-run.ts, as a bot's own timer does.
 */
import { randomUUID } from 'node:crypto';
import { cliActor } from './audit-trail';
import type { Config } from '../config';
import {
  type IamContext,
  type IamResult,
  type PinnedUser,
  pinUser,
  previewDisable,
  type UserProfile,
} from '../iam';
import { checkScheduleLimit } from '../iam/policy-target';
import {
  alreadyScheduledMessage,
  formatInZone,
  parseSchedule,
  type Schedule,
  ScheduleError,
  scheduledDisableOf,
} from '../iam/schedule';
import { defaultPolicy, loadPolicy, type Policy, ruleLabel } from '../policy';
import { AlreadyOpenError } from '../store/one-open-request';
import type { Store } from '../store/types';

/** This machine's time zone: a time written without one is read in it. */
const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * `--at "2026-12-31 17:00 [ZONE]"`, or `--at "in 2h"`; how far ahead is checked by scheduleDisable,
 * once the user (and so the governing rule) is known.
 */
export function parseAtOption(text: string, now: Date): Schedule {
  const relative = /^\s*in\s+(.*)$/i.exec(text);
  const context = { now, defaultZone: localZone() };
  return relative ? parseSchedule('in', relative[1], context) : parseSchedule('at', text, context);
}

/** IAM_POLICY_FILE as the bot reads it (a problem throws PolicyError: its FILE:LINE lines, exit 2), else the built-in rules. */
export function policyOf(config: Config): Policy {
  return config.policyFile ? loadPolicy(config.policyFile, config.slack) : defaultPolicy(config.slack);
}

/** The command line cannot cancel a schedule: an approver (or its Slack requester) does, in the bot. */
const CANCEL_HINT = "an approver can cancel it with its Cancel button in the bot's App Home";

export type ScheduleOutcome =
  { scheduled: { requestId: string; at: Date; zone: string; target: string } } | { final: IamResult };

export interface ScheduleInput {
  profile: UserProfile;
  schedule: Schedule;
  reason: string | null;
  now: Date;
  /** IAM_POLICY_FILE (or the built-in rules): its rule for the user sets how far ahead. */
  policy: Policy;
}

/**
 * Looks the user up (nothing is stored for one who is not there or already disabled: that result is
 * returned), refuses a time beyond the governing rule's `maxScheduleAhead` and a missing reason the rule
 * requires (ScheduleError), then opens the store, refuses a second schedule of the user, and stores the
 * disable for its time, pinned to the user found, with its audit row first: bad input never creates the
 * database.
 */
export async function scheduleDisable(
  iam: IamContext,
  openStore: () => Promise<Store>,
  input: ScheduleInput,
): Promise<ScheduleOutcome> {
  const preview = await previewDisable(iam, input.profile);
  if ('final' in preview) return preview;
  const actor = cliActor();
  const rule = checkScheduleLimit(input.policy, { ...input, user: preview.user, requesterId: actor });
  if (rule.reason === 'required' && input.reason === null) {
    throw new ScheduleError(`${ruleLabel(rule)} requires a reason: add --reason "why"`);
  }
  const profile = pinUser(preview.user);
  const store = await openStore();
  const target = profile.email ?? profile.username ?? profile.id;
  const existing = scheduledDisableOf(await store.listScheduled(), { id: profile.id });
  if (existing) throw new ScheduleError(alreadyScheduledMessage(existing, CANCEL_HINT));
  const requestId = randomUUID();
  await storeSchedule(store, { ...input, requestId, actor, profile, target });
  return { scheduled: { requestId, at: input.schedule.at, zone: input.schedule.zone, target } };
}

/**
 * The schedule's audit row, then the schedule, approved ahead by `actor`. Another command line or bot
 * storing one for the same user at the same moment wins in the store (one open schedule per user), and
 * this one is refused with the words a second schedule gets, its row closed by a rejected one.
 */
async function storeSchedule(
  store: Store,
  ask: ScheduleInput & { requestId: string; actor: string; profile: PinnedUser; target: string },
): Promise<void> {
  const { requestId, actor, profile, target, now, schedule, reason } = ask;
  const row = { at: now, actor, source: 'cli', command: 'iam-disable-user', target, requestId } as const;
  await store.appendAudit({
    ...row,
    kind: 'command',
    outcome: 'scheduled',
    detail: { action: 'disable', reason, profile, ...schedule },
  });
  try {
    await store.createApproval({
      id: requestId,
      action: 'disable',
      requesterId: actor,
      channelId: '',
      teamId: null,
      enterpriseId: null,
      profile,
      target,
      reason,
      createdAt: now,
      expiresAt: schedule.at,
      schedule,
      approvedBy: actor,
    });
  } catch (error) {
    if (!(error instanceof AlreadyOpenError)) throw error;
    const refusal = alreadyScheduledMessage(error.existing, CANCEL_HINT);
    const detail = { reason: refusal, openRequest: error.existing.id };
    await store.appendAudit({ ...row, kind: 'result', outcome: 'rejected', detail });
    throw new ScheduleError(refusal);
  }
}

export function scheduledText(outcome: {
  at: Date;
  zone: string;
  target: string;
  requestId: string;
}): string {
  return (
    `Scheduled: disable ${outcome.target} at ${formatInZone(outcome.at, outcome.zone)} (${outcome.zone}), ` +
    `${outcome.at.toISOString()}; request ${outcome.requestId}. A bot instance or ` +
    '`atlassian-iam run-scheduled` carries it out then; `atlassian-iam audit` shows it.'
  );
}
