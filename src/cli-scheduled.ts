/**
 * The command line's scheduled disables: `iam-disable-user --at …` stores one (approved ahead by whoever
 * holds the token, as XSOAR's commands need no second person: decided by `cli:<user>`), and
 * `run-scheduled` carries out those that are due, for installations without a bot (a bot's own timer
 * does the same). Loaded on demand, so other commands never load Slack's client.
 */
import { randomUUID } from 'node:crypto';
import { webApi } from '@slack/bolt';
import { cliActor } from './cli-audit';
import type { Config } from './config';
import { type IamContext, type IamResult, pinUser, previewDisable, type UserProfile } from './iam';
import { formatInZone, parseSchedule, type Schedule } from './iam/schedule';
import type { Logger } from './log';
import { createMetrics } from './metrics';
import { defaultPolicy } from './policy';
import { DEFAULT_MAX_SCHEDULE_AHEAD_MS } from './policy/rules';
import { AccessPolicy, approvedRetry, type BotContext, FollowUps, InFlight, runScheduled } from './handlers';
import { SILENT_SLACK } from './handlers/scheduled';
import type { PeopleDirectory } from './handlers/access';
import { openStore } from './store';
import { followDatabase } from './store/database-clock';
import type { NewAuditEntry, Store } from './store/types';

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

const noSlack = async (): Promise<never> => {
  throw new Error('the command line asks Slack about nobody');
};
/** Carrying out an approved request checks no permission, so nobody is ever looked up. */
const NO_PEOPLE: PeopleDirectory = { person: noSlack, groupMembers: noSlack, home: noSlack };

/** The store, with every audit row it is given marked as the command line's. */
function cliAuditing(store: Store): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'appendAudit') {
        return (entry: NewAuditEntry) => target.appendAudit({ ...entry, source: 'cli' });
      }
      if (key === 'completeApproval') {
        return (id: string, result: Record<string, unknown>, record: NewAuditEntry) =>
          target.completeApproval(id, result, { ...record, source: 'cli' });
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * `atlassian-iam run-scheduled`: carries out every due scheduled request once (claimed as a bot claims
 * them, so a bot running at the same time never does one twice). With SLACK_BOT_TOKEN set, each outcome
 * is posted in its request's thread as the bot would. Returns how many it carried out.
 */
export async function runScheduledFromCli(
  config: Config,
  iam: IamContext,
  sandbox: boolean,
  logger: Logger,
): Promise<number> {
  const store = await openStore(config.database);
  const slack = config.slack.botToken
    ? new webApi.WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl })
    : SILENT_SLACK;
  try {
    const clock = followDatabase(() => new Date(), store);
    await clock.sync();
    const context: BotContext = {
      iam,
      sandbox,
      store: cliAuditing(store),
      // Never asked: carrying out an approved request checks no permission.
      access: new AccessPolicy(NO_PEOPLE, null, null, Date.now),
      inFlight: new InFlight(),
      followUps: new FollowUps(),
      logger,
      clock: clock.now,
      newId: randomUUID,
      approvalTtlMs: config.slack.approvalTtlMs,
      // Carrying out an approved request asks no rule: the rule was applied when it was approved.
      policy: defaultPolicy(config.slack),
      approvedRetry: approvedRetry(config.slack.approvedRetryDeadlineMs),
      // A command-line run serves no /metrics: counted, never read.
      metrics: createMetrics({ processMetrics: false }),
      connectionStatus: async () => ({ ok: true }),
    };
    return await runScheduled(context, slack);
  } finally {
    await store.close();
  }
}
