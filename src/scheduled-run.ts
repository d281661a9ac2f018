/**
 * `atlassian-iam run-scheduled` for installations without a bot: the bot's own scheduled run
 * (src/handlers/scheduled.ts), given the context a bot would have, from the command line's
 * configuration. Wiring, like src/runtime.ts: the command line calls it and never imports the Slack
 * handlers itself. Loaded on demand, so other commands never load Slack's client.
 */
import { randomUUID } from 'node:crypto';
import { webApi } from '@slack/bolt';
import type { Config } from './config';
import {
  AccessPolicy,
  approvedRetry,
  type BotContext,
  endDueGrants,
  FollowUps,
  InFlight,
  runScheduled,
} from './handlers';
import type { PeopleDirectory } from './handlers/access';
import { SILENT_SLACK } from './handlers/scheduled';
import type { IamContext } from './iam';
import type { Logger } from './log';
import { createMetrics } from './metrics';
import { defaultPolicy } from './policy';
import { openStore } from './store';
import { followDatabase } from './store/database-clock';
import type { NewAuditEntry, Store } from './store/types';

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
 * `atlassian-iam run-scheduled`: carries out every due scheduled request once, and ends every expired
 * grant (both claimed as a bot claims them, so a bot running at the same time never does one twice).
 * With SLACK_BOT_TOKEN set, each outcome is posted in its thread (and a grant's holder told) as the bot
 * would. Returns how many it carried out and how many grants it ended.
 */
export async function runScheduledOnce(
  config: Config,
  iam: IamContext,
  sandbox: boolean,
  logger: Logger,
): Promise<{ carriedOut: number; grantsEnded: number }> {
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
      // Carrying out an approved request asks no rule: the rule was applied when it was approved.
      policy: defaultPolicy(config.slack),
      approvedRetry: approvedRetry(config.slack.approvedRetryDeadlineMs),
      // A command-line run serves no /metrics: counted, never read.
      metrics: createMetrics({ processMetrics: false }),
      connectionStatus: async () => ({ ok: true }),
      groupNames: async () => [], // a command-line run shows no App Home and no picker
    };
    const carriedOut = await runScheduled(context, slack);
    return { carriedOut, grantsEnded: await endDueGrants(context, slack) };
  } finally {
    await store.close();
  }
}
