/**
 * Outside review F10: a scheduled disable that was stored and approved before a SIGKILL is carried out
 * after the restart, and its requester is NOT told that the command "was interrupted before its outcome was recorded …
 * Nothing was done" (the command ended as a stored request; its outcome is told in its thread). A
 * command really cut off between its "received" row and its answer (written into the database as a
 * SIGKILL leaves it) is still reconciled by the same sweep, which shows the sweep looked.
 */
import path from 'node:path';
import { openSqlite } from '../../src/store/sqlite';
import { SqliteStore } from '../../src/store/sqlite-store';
import {
  type BotProcess,
  interactionBody,
  postSigned,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { makeTempDir, removeTempDirs } from '../support/cli';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { approvalRequest, buttonClick } from '../support/slack-payloads';

jest.setTimeout(240_000);

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let bot: BotProcess | undefined;
let cwd: string;
let laterId: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const textOf = (call: SlackCall): string => JSON.stringify([call.args.text, call.args.blocks]);

const startOurBot = () =>
  startBot(
    {
      SLACK_API_URL: slack.apiUrl,
      ...atlassian.env,
      IAM_APPROVERS: 'UA1',
      IAM_SCHEDULE_POLL: '1s',
    },
    cwd,
  );

/** The "received" row a SIGKILL between a command's first write and its answer leaves behind. */
async function leaveInterruptedCommand(at: Date): Promise<void> {
  const store = new SqliteStore(openSqlite(path.join(cwd, 'bot.db')));
  try {
    await store.appendAudit({
      at,
      actor: 'UREQ',
      source: 'slack',
      kind: 'command',
      command: 'iam-enable-user',
      target: 'cut@example.com',
      outcome: 'received',
      requestId: null,
      detail: null,
    });
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set('UREQ', { is_admin: true });
  slack.users.set('UA1', {});
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-f10', token: 'tok-f10-SECRET' });
  laterId = atlassian.seedUser('later@example.com');
  atlassian.seedUser('cut@example.com');
  cwd = makeTempDir('atlassian-iam-f10-');
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await atlassian?.close();
  removeTempDirs();
});

it('a scheduled disable approved before a SIGKILL is carried out after the restart with no "interrupted before its outcome was recorded" DM', async () => {
  bot = await startOurBot();
  const requestedAt = new Date();
  await postSigned(
    bot.url,
    slashCommandBody(
      '/iam-disable-user',
      'later@example.com in 1m reason="last day"',
      'UREQ',
      `${slack.responseUrlBase}r`,
    ),
  );
  const card = await approvalRequest(slack, 'later@example.com');
  await postSigned(
    bot.url,
    interactionBody(buttonClick('iam_disable_approve', card.id, 'UA1', `${slack.responseUrlBase}a`, card.ts)),
  );
  await slack.waitFor((c) => c.method === 'chat.update' && textOf(c).includes('Scheduled:'));

  await bot.stop('SIGKILL');
  await leaveInterruptedCommand(requestedAt);
  // Restart once the schedule is due, so the sweep after the next one finds both rows old enough to reconcile.
  await sleep(Math.max(0, requestedAt.getTime() + 62_000 - Date.now()));
  bot = await startOurBot();

  await slack.waitFor(
    (c) => c.method === 'chat.postMessage' && textOf(c).includes('was carried out'),
    30_000,
  );
  await slack.waitFor(
    (c) =>
      c.method === 'chat.postMessage' && c.args.channel === 'UREQ' && textOf(c).includes('cut@example.com'),
    120_000,
  );

  const interrupted = slack
    .callsTo('chat.postMessage')
    .filter((c) => textOf(c).includes('interrupted before its outcome was recorded'))
    .map((c) => String(c.args.text));
  expect(interrupted).toEqual([expect.stringContaining('/iam-enable-user for cut@example.com')]);
  const patches = atlassian.server.requests.filter((q) => q.method === 'PATCH').map((q) => q.path);
  expect(patches).toEqual([expect.stringContaining(laterId)]);
});
