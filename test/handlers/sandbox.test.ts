/**
 * SPEC §7: while the embedded sandbox directory is in use, every Slack message says SANDBOX. One walk
 * through every surface the bot has (commands, modal, approvals, expiry, refusals, App Home), then a
 * check of everything it sent to Slack.
 */
import { expireDue } from '../../src/handlers';
import {
  appHomeOpened,
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  viewSubmission,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

const HOUR = 3_600_000;

let world: World;
let driven: DrivenBot;

beforeAll(async () => {
  world = await startWorld({ atlassian: false });
  driven = await world.startBot();
  await walkEverySurface();
});

afterAll(async () => {
  await world?.close();
});

let tags = 0;
async function send(body: Record<string, unknown>) {
  const acked = await driven.receiver.send(body);
  await driven.receiver.idle();
  return acked;
}
const command = (name: string, text: string, userId = 'UREQ') =>
  send(slashCommand(name, text, userId, world.responseUrl(`${name.slice(1)}-${++tags}`)));

async function requestDisable(email: string): Promise<{ id: string; ts: string }> {
  await command('/iam-disable-user', `${email} reason="<!channel> left"`);
  const post = await world.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes(email),
  );
  const id = blocksOf(post).find((b) => b.type === 'actions')?.elements?.[0]?.value ?? '';
  return { id, ts: tsOf(world.slack, post) };
}
const click = (action: string, request: { id: string; ts: string }, userId: string) =>
  send(buttonClick(action, request.id, userId, world.responseUrl(`click-${++tags}`), request.ts));

/** The update confirmation the walk's modal submission pushed (an ack, not a Slack API call). */
let confirmation = '';

async function walkEverySurface() {
  // Results: create, get (summary + thread), get of nobody, update, enable (skipped), create-as-update.
  await command('/iam-create-user', 'email=sam@example.com givenname=Sam title="Team Lead"');
  await command('/iam-get-user', 'sam@example.com');
  await command('/iam-get-user', 'nobody@example.com');
  await command('/iam-update-user', 'email=sam@example.com title=Lead');
  await command('/iam-enable-user', 'sam@example.com');
  await command('/iam-create-user', '{"email":"sam@example.com","department":"IT"}');
  // Modal: empty text, bare email (open + pre-filled update), a valid submission.
  await command('/iam-create-user', '');
  await command('/iam-update-user', 'sam@example.com');
  const pushed = (await send(
    viewSubmission(
      'iam_update_user',
      'UREQ',
      { email: 'sam@example.com', title: 'Chief' },
      '{"channelId":"C1"}',
    ),
  )) as { view: { private_metadata: string; blocks: unknown[] } };
  confirmation = JSON.stringify(pushed.view.blocks);
  await send(viewSubmission('iam_update_confirm', 'UREQ', {}, pushed.view.private_metadata));
  // Approvals: requested, refused (own request), approved; then disable of an inactive user.
  const approved = await requestDisable('sam@example.com');
  await click('iam_disable_approve', approved, 'UREQ');
  await click('iam_disable_approve', approved, 'UAPPROVER');
  await click('iam_disable_deny', approved, 'UAPPROVER2');
  await command('/iam-disable-user', 'sam@example.com');
  // Denied.
  await command('/iam-create-user', 'email=tom@example.com givenname=Tom');
  await click('iam_disable_deny', await requestDisable('tom@example.com'), 'UAPPROVER');
  // Expired: by a late click, and by the sweep.
  await command('/iam-create-user', 'email=uma@example.com givenname=Uma');
  await command('/iam-create-user', 'email=vic@example.com givenname=Vic');
  const late = await requestDisable('uma@example.com');
  world.advance(HOUR + 1000);
  await click('iam_disable_approve', late, 'UAPPROVER');
  const swept = await requestDisable('vic@example.com');
  world.advance(HOUR + 1000);
  await expireDue(driven.bot.context, driven.bot.app.client);
  await click('iam_disable_approve', swept, 'UAPPROVER');
  // Refusals and bad input.
  await command('/iam-get-user', 'sam@example.com', 'UMEMBER');
  await click('iam_disable_approve', { id: 'req-404', ts: late.ts }, 'UAPPROVER');
  await command('/iam-create-user', '{"email": ');
  await command('/iam-disable-user', '');
  // App Home.
  await send(appHomeOpened('UADMIN'));
}

const label = (call: SlackCall) =>
  `${call.method}${call.args.thread_ts ? ' (thread)' : ''}: ${String(
    call.args.text ?? (call.args.view as { callback_id?: string; type?: string } | undefined)?.type ?? '',
  ).slice(0, 100)}`;

const withoutSandbox = (methods: string[]) =>
  world.slack.calls.filter((c) => methods.includes(c.method) && !shown(c).includes('SANDBOX')).map(label);

it('the update confirmation says SANDBOX too', () => {
  expect(confirmation).toContain('SANDBOX');
  expect(confirmation).toContain('Chief');
});

it('the walk reached every surface', () => {
  const methods = new Set(world.slack.calls.map((c) => c.method));
  for (const method of ['chat.postMessage', 'chat.update', 'views.open', 'views.update', 'views.publish']) {
    expect(methods).toContain(method);
  }
  const texts = world.slack.calls.map(shown).join('\n');
  for (const expected of [
    'Create User Results',
    'Get User Results',
    'Update User Results',
    'Enable User Results',
    'Disable User Results',
    'Approval needed',
    'User disabled',
    'denied',
    'expired',
    'Only operators',
    'does not exist',
    'someone else',
  ]) {
    expect(texts).toContain(expected);
  }
});

it('every message, update and view the bot sends says SANDBOX', () => {
  expect(
    withoutSandbox([
      'chat.postMessage',
      'chat.postEphemeral',
      'chat.update',
      'views.open',
      'views.update',
      'views.publish',
    ]),
  ).toEqual([]);
});

// Regression: the usage help says SANDBOX too.
it('every ephemeral reply (response_url) says SANDBOX', () => {
  expect(withoutSandbox(['response_url'])).toEqual([]);
});

it('user text stays inert: the <!channel> in a reason is escaped wherever it is shown', () => {
  const shownAnywhere = world.slack.calls.map(shown).join('\n');
  expect(shownAnywhere).toContain('&lt;!channel&gt;');
  expect(shownAnywhere).not.toContain('<!channel>');
});
