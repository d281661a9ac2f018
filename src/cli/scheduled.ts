/**
 * The command line's scheduled disables: `iam-disable-user --at …` stores one (approved ahead by whoever
 * holds the token, as XSOAR's commands need no second person: decided by `cli:<user>`). `run-scheduled`
 * carries out those that are due through src/scheduled-run.ts, as a bot's own timer does.
 */
import { randomUUID } from 'node:crypto';
import { cliActor } from './audit-trail';
import { type IamContext, type IamResult, pinUser, previewDisable, type UserProfile } from '../iam';
import { formatInZone, parseSchedule, type Schedule } from '../iam/schedule';
import { DEFAULT_MAX_SCHEDULE_AHEAD_MS } from '../policy/rules';
import type { Store } from '../store/types';

/** This machine's time zone: a time written without one is read in it. */
const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** `--at "2026-12-31 17:00 [ZONE]"`, or `--at "in 2h"`. */
export function parseAtOption(text: string, now: Date): Schedule {
  const relative = /^\s*in\s+(.*)$/i.exec(text);
  const context = { now, defaultZone: localZone(), maxAheadMs: DEFAULT_MAX_SCHEDULE_AHEAD_MS };
  return relative ? parseSchedule('in', relative[1], context) : parseSchedule('at', text, context);
}

export type ScheduleOutcome =
  { scheduled: { requestId: string; at: Date; zone: string; target: string } } | { final: IamResult };

/**
 * Looks the user up (nothing is stored for one who is not there or already disabled: that result is
 * returned), then stores the disable for its time, pinned to the user found, with its audit row first.
 */
export async function scheduleDisable(
  iam: IamContext,
  store: Store,
  input: { profile: UserProfile; schedule: Schedule; reason: string | null; now: Date },
): Promise<ScheduleOutcome> {
  const preview = await previewDisable(iam, input.profile);
  if ('final' in preview) return preview;
  const profile = pinUser(preview.user);
  const actor = cliActor();
  const target = profile.email ?? profile.username ?? profile.id;
  const requestId = randomUUID();
  await store.appendAudit({
    at: input.now,
    actor,
    source: 'cli',
    kind: 'command',
    command: 'iam-disable-user',
    target,
    outcome: 'scheduled',
    requestId,
    detail: { action: 'disable', reason: input.reason, profile, ...input.schedule },
  });
  await store.createApproval({
    id: requestId,
    action: 'disable',
    requesterId: actor,
    channelId: '',
    teamId: null,
    enterpriseId: null,
    profile,
    target,
    reason: input.reason,
    createdAt: input.now,
    expiresAt: input.schedule.at,
    schedule: input.schedule,
    approvedBy: actor,
  });
  return { scheduled: { requestId, at: input.schedule.at, zone: input.schedule.zone, target } };
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
