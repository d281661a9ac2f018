/**
 * Finding 9 of issue 10: a signed write command, click or modal submission replayed (the same Slack
 * trigger_id) ran again. Now the first delivery runs and every later one, in any instance sharing the
 * store, is refused with a note and an audit row, doing nothing.
 */
import type { AuditEntry } from '../../src/store/types';
import {
  buttonClick,
  type DrivenBot,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  viewSubmission,
  type World,
} from '../support/fake-receiver';
import { approvalRequestId } from '../support/slack-payloads';

let world: World;

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await world.close();
});

async function deliver(driven: DrivenBot, payload: Record<string, unknown>): Promise<unknown> {
  const acked = await driven.receiver.send(payload);
  await driven.receiver.idle();
  return acked;
}

const replayRefusals = async (driven: DrivenBot): Promise<AuditEntry[]> =>
  (await driven.bot.context.store.listAudit({ limit: 1000 })).filter(
    (e) => e.kind === 'refusal' && e.detail?.reason === 'replayed trigger_id',
  );

const patches = () => world.scim().filter((r) => r.startsWith('PATCH'));

describe('finding 9: a replayed trigger_id does nothing the second time', () => {
  it('a replayed /iam-update-user is refused ephemerally and audited; Atlassian is called once', async () => {
    world.seedUser('ida@example.com');
    const driven = await world.startBot();
    const payload = slashCommand(
      '/iam-update-user',
      'email=ida@example.com title="Lead"',
      'UADMIN',
      world.responseUrl('up'),
    );
    expect(await deliver(driven, payload)).toBeUndefined();
    expect(patches()).toHaveLength(1);
    const posts = world.slack.callsTo('chat.postMessage').length;

    const replayed = (await deliver(driven, { ...payload })) as { response_type: string; text: string };
    expect(replayed.response_type).toBe('ephemeral');
    expect(replayed.text).toContain('a second time');
    expect(patches()).toHaveLength(1);
    expect(world.slack.callsTo('chat.postMessage')).toHaveLength(posts);
    expect((await replayRefusals(driven)).map((e) => [e.actor, e.command, e.outcome])).toEqual([
      ['UADMIN', 'iam-update-user', 'refused'],
    ]);
  });

  it('a replayed modal submission is refused in the modal and updates nothing', async () => {
    world.seedUser('joy@example.com');
    const driven = await world.startBot();
    const payload = viewSubmission(
      'iam_update_user',
      'UADMIN',
      { email: 'joy@example.com', title: 'Lead' },
      JSON.stringify({ channelId: 'C1' }),
    );
    const pushed = (await deliver(driven, payload)) as {
      response_action: string;
      view: { private_metadata: string };
    };
    expect(pushed.response_action).toBe('push');
    const replayed = (await deliver(driven, payload)) as {
      response_action: string;
      errors: { email: string };
    };
    expect(replayed.response_action).toBe('errors');
    expect(replayed.errors.email).toContain('a second time');
    const confirm = viewSubmission('iam_update_confirm', 'UADMIN', {}, pushed.view.private_metadata);
    expect(await deliver(driven, confirm)).toEqual({ response_action: 'clear' });
    expect(patches()).toHaveLength(1);
    const confirmedAgain = (await deliver(driven, confirm)) as {
      response_action: string;
      view: { blocks: unknown[]; submit?: unknown };
    };
    expect(confirmedAgain.response_action).toBe('update');
    expect(JSON.stringify(confirmedAgain.view.blocks)).toContain('a second time');
    expect(confirmedAgain.view.submit).toBeUndefined();
    expect(patches()).toHaveLength(1);
    expect((await replayRefusals(driven)).map((e) => e.command).sort()).toEqual([
      'iam-update-confirm',
      'iam-update-user',
    ]);
  });

  it('a replayed Approve click is answered as a replay, and the request is decided once', async () => {
    world.seedUser('kai@example.com');
    const driven = await world.startBot();
    await deliver(
      driven,
      slashCommand('/iam-disable-user', 'kai@example.com', 'UREQ', world.responseUrl('d')),
    );
    const id = await approvalRequestId(world.slack, 'kai@example.com');
    const post = world.slack.callsTo('chat.postMessage').find((c) => shown(c).includes(id));
    const click = buttonClick(
      'iam_disable_approve',
      id,
      'UAPPROVER',
      world.responseUrl('click'),
      tsOf(world.slack, post!),
    );
    await deliver(driven, click);
    await deliver(driven, click);
    const answers = world.slack.callsTo('response_url').filter((c) => c.args.response_type === 'ephemeral');
    expect(answers).toHaveLength(1);
    expect(shown(answers[0])).toContain('a second time');
    expect(patches()).toHaveLength(1);
    const decisions = (await driven.bot.context.store.listAudit({ limit: 1000 })).filter(
      (e) => e.kind === 'decision',
    );
    expect(decisions).toHaveLength(1);
    expect((await replayRefusals(driven)).map((e) => [e.actor, e.command])).toEqual([
      ['UAPPROVER', 'approve'],
    ]);
  });

  it('a command replayed to a second instance on the same database does nothing there', async () => {
    world.seedUser('lia@example.com');
    const first = await world.startBot();
    const second = await world.startBot();
    const payload = slashCommand(
      '/iam-update-user',
      'email=lia@example.com title="Lead"',
      'UADMIN',
      world.responseUrl('up'),
    );
    await deliver(first, payload);
    const replayed = (await deliver(second, payload)) as { text: string };
    expect(replayed.text).toContain('a second time');
    expect(patches()).toHaveLength(1);
    expect(await replayRefusals(second)).toHaveLength(1);
  });

  it('when the trigger cannot be recorded, nothing runs', async () => {
    world.seedUser('max@example.com', { active: false });
    const driven = await world.startBot();
    driven.bot.context.store.claimTrigger = () => Promise.reject(new Error('disk I/O error'));
    const answer = (await deliver(
      driven,
      slashCommand('/iam-enable-user', 'max@example.com', 'UADMIN', world.responseUrl('en')),
    )) as { text: string };
    expect(answer.text).toContain('Could not record this request');
    expect(world.scim()).toEqual([]);
  });
});
