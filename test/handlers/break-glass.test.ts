/**
 * Break-glass (issue 14) through Bolt's processEvent (FakeReceiver): where the governing rule says
 * `breakGlass: true`, `/iam-disable-user … break-glass reason="…"` disables at once, by the requester
 * alone; every approver of the rule is told at once, the audit rows are marked and the result shows it.
 * Elsewhere, without a justification, or for someone the rule does not list, nothing is done.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AuditEntry } from '../../src/store/types';
import { type DrivenBot, shown, slashCommand, startWorld, type World } from '../support/fake-receiver';

const RULES = [
  'rules:',
  '  - name: admin-disable',
  '    action: [disable, enable]',
  '    target: { email: "*-admin@*" }',
  '    approvers: [UAPPROVER, UAPPROVER2, S0SEC]',
  '    channel: C0SEC',
  '    breakGlass: true',
  '  - name: on-call-only',
  '    action: disable',
  '    target: { email: "oncall-*" }',
  '    requesters: [UOPS]',
  '    breakGlass: true',
  '',
].join('\n');

let world: World;
let driven: DrivenBot;

beforeEach(async () => {
  world = await startWorld();
  const policyFile = path.join(world.dir, 'policy.yaml');
  fs.writeFileSync(policyFile, RULES);
  driven = await world.startBot({ env: { IAM_POLICY_FILE: policyFile } });
});

afterEach(async () => {
  await world?.close();
});

async function run(command: string, text: string, tag = 'glass') {
  await driven.receiver.send(slashCommand(command, text, 'UREQ', world.responseUrl(tag)));
  await driven.receiver.idle();
}

const postsTo = (channel: string) =>
  world.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.args.channel === channel)
    .map(shown);
const answers = () => world.slack.callsTo('response_url').map(shown);

async function rowsAbout(target: string): Promise<AuditEntry[]> {
  return (await driven.bot.context.store.listAudit({ target, limit: 100 })).reverse();
}

it('disables at once by the requester alone, tells every approver at once, and marks the audit rows', async () => {
  const userId = world.seedUser('jane-admin@example.com');
  await run('/iam-disable-user', 'jane-admin@example.com break-glass reason="account compromised"');

  expect(world.scim().filter((r) => r.startsWith('PATCH'))).toEqual([`PATCH /Users/${userId}`]);
  const [result] = postsTo('C1');
  expect(result).toContain(
    '🚨 *Break-glass:* <@UREQ> disabled `jane-admin@example.com` at once, without approval, under rule 1 (admin-disable) of IAM_POLICY_FILE',
  );
  expect(result).toContain('Justification: “account compromised”');
  expect(result).toContain('Approvers told: <@UAPPROVER> <@UAPPROVER2> <!subteam^S0SEC>');
  // No Approve button: nobody is asked.
  expect(result).not.toContain('iam_disable_approve');
  for (const where of ['UAPPROVER', 'UAPPROVER2', 'C0SEC']) {
    const [notice] = postsTo(where);
    expect(notice).toContain('<@UREQ> disabled `jane-admin@example.com` at once, without approval');
    expect(notice).toContain('Asked in <#C1>');
  }
  expect(postsTo('UREQ')).toEqual([]);

  const rows = await rowsAbout('jane-admin@example.com');
  expect(rows.map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
    ['UREQ', 'command', 'iam-disable-user', 'received'],
    ['UREQ', 'command', 'iam-disable-user', 'break-glass'],
    ['UREQ', 'result', 'iam-disable-user', 'success'],
  ]);
  for (const row of rows.slice(1)) {
    expect(row.detail).toMatchObject({
      breakGlass: true,
      justification: 'account compromised',
      rule: 'rule 1 (admin-disable) of IAM_POLICY_FILE',
    });
  }
  expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
});

it.each([
  ['after the reason', () => `kit-admin@example.com reason="pwned" break-glass`],
  ['after an id=… pair', (id: string) => `id=${id} break-glass reason="pwned"`],
])('F14: takes break-glass %s as well: disabled at once', async (_, text) => {
  const userId = world.seedUser('kit-admin@example.com');
  await run('/iam-disable-user', text(userId));
  expect(world.scim().filter((r) => r.startsWith('PATCH'))).toEqual([`PATCH /Users/${userId}`]);
  expect(postsTo('C1')[0]).toContain('🚨 *Break-glass:* <@UREQ> disabled `kit-admin@example.com` at once');
});

it('enables at once too, where the rule allows it', async () => {
  const userId = world.seedUser('ops-admin@example.com', { active: false });
  await run('/iam-enable-user', 'ops-admin@example.com break-glass reason="locked out during the incident"');
  expect(world.scim().filter((r) => r.startsWith('PATCH'))).toEqual([`PATCH /Users/${userId}`]);
  expect(postsTo('C1')[0]).toContain('<@UREQ> enabled `ops-admin@example.com` at once');
  expect(postsTo('UAPPROVER')).toHaveLength(1);
});

it('refuses where the governing rule does not allow it, naming the rule; nothing is done', async () => {
  world.seedUser('ann@example.com');
  await run('/iam-disable-user', 'ann@example.com break-glass reason="hurry"');
  expect(answers()[0]).toContain(
    'Break-glass is not allowed here: the built-in rule does not say breakGlass: true',
  );
  expect(world.patches()).toEqual([]);
  expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
  expect((await rowsAbout('ann@example.com')).at(-1)).toMatchObject({
    kind: 'refusal',
    outcome: 'refused',
    detail: { breakGlass: true, justification: 'hurry' },
  });
});

it('refuses a requester the rule does not list', async () => {
  world.seedUser('oncall-bob@example.com');
  await run('/iam-disable-user', 'oncall-bob@example.com break-glass reason="compromised"');
  expect(answers()[0]).toContain(
    'Break-glass is not allowed to you: you are not one of the requesters of rule 2 (on-call-only) of IAM_POLICY_FILE',
  );
  expect(world.patches()).toEqual([]);
  expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
});

it.each([
  ['without a justification', 'cy-admin@example.com break-glass', 'break-glass needs a justification'],
  ['with an empty one', 'cy-admin@example.com break-glass reason=" "', 'break-glass needs a justification'],
  ['with a schedule', 'cy-admin@example.com break-glass in 2h reason="x"', 'break-glass acts at once'],
])('refuses break-glass %s before anything is looked up', async (_, text, message) => {
  world.seedUser('cy-admin@example.com');
  await run('/iam-disable-user', text);
  expect(answers()[0]).toContain(message);
  expect(world.scim()).toEqual([]);
  expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
});
