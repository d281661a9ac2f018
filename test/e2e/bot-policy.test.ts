/**
 * The built bot as a process with IAM_POLICY_FILE: a rule that wants two approvers needs two clicks
 * (requests signed as Slack signs them, Web API answered by the Slack stand-in, Atlassian emulated).
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDirs } from '../support/cli';
import {
  type BotProcess,
  interactionBody,
  postSigned,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { approvalRequest, buttonClick } from '../support/slack-payloads';

const POLICY = `
rules:
  - name: two-person-disable
    action: disable
    approvers: [UAPPROVER, UAPPROVER2, UADMIN]
    approvals: 2
`;

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let bot: BotProcess;

beforeAll(async () => {
  slack = await startSlackStandIn();
  for (const id of ['UADMIN', 'UREQ', 'UAPPROVER', 'UAPPROVER2']) slack.users.set(id, { is_admin: true });
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-policy', token: 'tok-policy-e2e' });
  const cwd = makeTempDir('atlassian-iam-policy-');
  const policyFile = path.join(cwd, 'policy.yaml');
  fs.writeFileSync(policyFile, POLICY);
  bot = await startBot({ SLACK_API_URL: slack.apiUrl, ...atlassian.env, IAM_POLICY_FILE: policyFile }, cwd);
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await atlassian?.close();
  removeTempDirs();
});

const responseUrl = (tag: string) => `${slack.responseUrlBase}${tag}`;
const shown = (call: SlackCall): string => JSON.stringify([call.args.text, call.args.blocks]);

async function approve(request: { id: string; ts: string }, userId: string, tag: string): Promise<void> {
  const click = buttonClick('iam_disable_approve', request.id, userId, responseUrl(tag), request.ts);
  expect((await postSigned(bot.url, interactionBody(click))).status).toBe(200);
}

it('a rule that wants two approvers needs two clicks before the user is disabled', async () => {
  const userId = atlassian.seedUser('pat@example.com');
  const patches = () =>
    atlassian.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(userId));
  await postSigned(
    bot.url,
    slashCommandBody('/iam-disable-user', 'pat@example.com', 'UREQ', responseUrl('ask')),
  );
  const request = await approvalRequest(slack, 'pat@example.com');

  await approve(request, 'UAPPROVER', 'first');
  await slack.waitFor((c) => c.method === 'chat.update' && shown(c).includes('1 of 2'));
  expect(patches()).toEqual([]);

  await approve(request, 'UADMIN', 'second');
  await slack.waitFor((c) => c.method === 'chat.update' && shown(c).includes('User disabled'));
  expect(patches()).toHaveLength(1);
  const dm = await slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'UREQ');
  expect(shown(dm)).toContain('the user is now disabled');
});
