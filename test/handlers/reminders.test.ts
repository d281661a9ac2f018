/**
 * Reminders and escalation (issue 14) through Bolt's processEvent (FakeReceiver) on the injected clock:
 * a request governed by a rule with `remind` and `escalate` gets each reminder in its thread (mentioning
 * the approvers, and a DM to each named one) and its escalation, each once across two instances and a
 * restart; a request decided or expired gets none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sendDueFollowUps } from '../../src/handlers';
import type { AuditEntry } from '../../src/store/types';
import {
  buttonClick,
  type DrivenBot,
  shown,
  slashCommand,
  startWorld,
  type World,
} from '../support/fake-receiver';
import { approvalRequest } from '../support/slack-payloads';

const MINUTE = 60_000;
const APPROVE = 'iam_disable_approve';
const POLICY = [
  'rules:',
  '  - name: watched',
  '    action: disable',
  '    approvers: [UREQ, UAPPROVER, UAPPROVER2, S0SEC]',
  '    remind: { after: 10m, times: 2 }',
  '    escalate: { after: 25m, to: [S0CISO] }',
  '',
].join('\n');

let world: World;
let policyFile: string;

beforeEach(async () => {
  world = await startWorld();
  policyFile = path.join(world.dir, 'policy.yaml');
  fs.writeFileSync(policyFile, POLICY);
});

afterEach(async () => {
  await world?.close();
});

const start = () => world.startBot({ env: { IAM_POLICY_FILE: policyFile } });

async function request(driven: DrivenBot, email: string): Promise<{ id: string; ts: string }> {
  world.seedUser(email);
  await driven.receiver.send(slashCommand('/iam-disable-user', email, 'UREQ', world.responseUrl(email)));
  await driven.receiver.idle();
  return approvalRequest(world.slack, email);
}

const sweep = (driven: DrivenBot) => sendDueFollowUps(driven.bot.context, driven.bot.app.client);
const threadPosts = (ts: string) =>
  world.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.args.thread_ts === ts)
    .map(shown);
const dmsTo = (userId: string) =>
  world.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === userId)
    .map(shown);
const advanceTo = (minutes: number, since: Date) => {
  world.now = new Date(since.getTime() + minutes * MINUTE);
};

async function followUpRows(driven: DrivenBot, requestId: string): Promise<AuditEntry[]> {
  const all = await driven.bot.context.store.listAudit({ limit: 1000 });
  return all.filter((e) => e.requestId === requestId && ['remind', 'escalate'].includes(e.command)).reverse();
}

it('reminds twice and escalates once, on time, once across two instances and a restart', async () => {
  const first = await start();
  const second = await start();
  const asked = world.now;
  const { id, ts } = await request(first, 'jane@example.com');

  advanceTo(9, asked);
  expect(await sweep(first)).toBe(0);
  expect(threadPosts(ts)).toEqual([]);

  advanceTo(10, asked);
  const counts = await Promise.all([sweep(first), sweep(second), sweep(first)]);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
  const [reminder] = threadPosts(ts);
  expect(reminder).toContain('Reminder 1');
  expect(reminder).toContain('has waited 10m for a decision');
  expect(reminder).toContain('<@UAPPROVER> <@UAPPROVER2> <!subteam^S0SEC>');
  // The requester never approves their own request: named as the requester only, and not reminded.
  expect(reminder).toContain("<@UREQ>'s request to disable `jane@example.com`");
  expect(reminder.match(/<@UREQ>/g)).toHaveLength(1);
  expect(dmsTo('UAPPROVER')).toHaveLength(1);
  expect(dmsTo('UAPPROVER')[0]).toContain('in <#C1> is waiting for your decision');
  expect(dmsTo('UAPPROVER2')).toHaveLength(1);
  expect(dmsTo('UREQ')).toEqual([]);
  expect(dmsTo('S0SEC')).toEqual([]);

  // A restart: what was sent is not sent again; the next one comes at its time, from the start's sweep.
  await first.stop();
  await second.stop();
  advanceTo(20, asked);
  const restarted = await start();
  expect(threadPosts(ts)).toHaveLength(2);
  expect(threadPosts(ts)[1]).toContain('Reminder 2');
  expect(await sweep(restarted)).toBe(0);

  advanceTo(25, asked);
  expect(await sweep(restarted)).toBe(1);
  const escalation = threadPosts(ts)[2];
  expect(escalation).toContain('Escalated: nobody decided');
  expect(escalation).toContain('<!subteam^S0CISO>: you may now approve or deny it');
  expect(dmsTo('UAPPROVER')).toHaveLength(2);

  advanceTo(59, asked);
  expect(await sweep(restarted)).toBe(0);
  expect(threadPosts(ts)).toHaveLength(3);
  const rows = await followUpRows(restarted, id);
  expect(rows.map((e) => [e.actor, e.kind, e.command, e.outcome, e.detail?.n])).toEqual([
    ['system', 'command', 'remind', 'sent', 1],
    ['system', 'command', 'remind', 'sent', 2],
    ['system', 'command', 'escalate', 'sent', 1],
  ]);
  expect(rows[0].detail?.notify).toEqual(['UAPPROVER', 'UAPPROVER2', 'S0SEC']);
});

it('sends nothing more once the request is decided', async () => {
  const driven = await start();
  const asked = world.now;
  const { id, ts } = await request(driven, 'ann@example.com');
  advanceTo(5, asked);
  await driven.receiver.send(buttonClick(APPROVE, id, 'UAPPROVER', world.responseUrl('approve'), ts));
  await driven.receiver.idle();
  expect(await driven.bot.context.store.getApproval(id)).toMatchObject({ status: 'completed' });
  const before = threadPosts(ts).length;
  advanceTo(30, asked);
  expect(await sweep(driven)).toBe(0);
  expect(threadPosts(ts)).toHaveLength(before);
  expect(threadPosts(ts).join('\n')).not.toContain('Reminder');
  expect(dmsTo('UAPPROVER')).toEqual([]);
  expect(await followUpRows(driven, id)).toEqual([]);
});

it('sends no late reminder for a request that expired while no instance was running', async () => {
  const driven = await start();
  const asked = world.now;
  const { id, ts } = await request(driven, 'bob@example.com');
  await driven.stop();
  // IAM_APPROVAL_TTL is 1h: every reminder and the escalation fell due, but the request has expired.
  advanceTo(61, asked);
  const later = await start();
  expect(await later.bot.context.store.getApproval(id)).toMatchObject({ status: 'expired' });
  expect(await sweep(later)).toBe(0);
  expect(threadPosts(ts).join('\n')).not.toMatch(/Reminder|Escalated/);
  expect(dmsTo('UAPPROVER')).toEqual([]);
});

it('stores no follow-ups for a request whose rule has none (the built-in rules)', async () => {
  const driven = await world.startBot();
  const asked = world.now;
  const { ts } = await request(driven, 'cy@example.com');
  advanceTo(59, asked);
  expect(await sweep(driven)).toBe(0);
  expect(threadPosts(ts)).toEqual([]);
});

it('F5: a reminder goes only to people still approvers when it is sent: one removed since is neither mentioned nor DMed', async () => {
  const first = await start();
  const asked = world.now;
  const { id, ts } = await request(first, 'kim@example.com');
  advanceTo(10, asked);
  expect(await sweep(first)).toBe(1);
  expect(threadPosts(ts)[0]).toContain('<@UAPPROVER> <@UAPPROVER2>');
  expect(dmsTo('UAPPROVER2')).toHaveLength(1);

  // UAPPROVER2 is taken off the rule (they left, or are under suspicion); the bot restarts with it.
  await first.stop();
  fs.writeFileSync(policyFile, POLICY.replace('UAPPROVER2, ', ''));
  advanceTo(20, asked);
  const restarted = await start();
  expect(await sweep(restarted)).toBe(0);
  const reminder = threadPosts(ts)[1];
  expect(reminder).toContain('Reminder 2');
  expect(reminder).toContain('<@UAPPROVER> <!subteam^S0SEC>');
  expect(reminder).not.toContain('UAPPROVER2');
  expect(dmsTo('UAPPROVER2')).toHaveLength(1);
  expect(dmsTo('UAPPROVER')).toHaveLength(2);
  const rows = await followUpRows(restarted, id);
  expect(rows.map((row) => row.detail?.notify)).toEqual([
    ['UAPPROVER', 'UAPPROVER2', 'S0SEC'],
    ['UAPPROVER', 'S0SEC'],
  ]);
});
