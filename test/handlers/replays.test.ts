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
import { TRIGGER_CLAIM_LIMIT_MS } from '../../src/handlers/replays';

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

/** A disable of `email` asked for by UREQ: its request id and its card's ts. */
async function requestedDisable(driven: DrivenBot, email: string): Promise<{ id: string; ts: string }> {
  world.seedUser(email);
  await deliver(driven, slashCommand('/iam-disable-user', email, 'UREQ', world.responseUrl('d')));
  const id = await approvalRequestId(world.slack, email);
  const post = world.slack.callsTo('chat.postMessage').find((c) => shown(c).includes(id));
  return { id, ts: tsOf(world.slack, post!) };
}

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
    const driven = await world.startBot();
    const { id, ts } = await requestedDisable(driven, 'kai@example.com');
    const click = buttonClick('iam_disable_approve', id, 'UAPPROVER', world.responseUrl('click'), ts);
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
    expect(answer.text).toContain('The audit log is unavailable, so nothing was done.');
    expect(world.scim()).toEqual([]);
  });
});

describe("finding 4: the answer comes within Slack's 3 s whatever the database does", () => {
  const hang = () => new Promise<boolean>(() => undefined); // a database that never answers

  /** Sends `payload` and resolves with its ack and how long it took. */
  async function timedAck(driven: DrivenBot, payload: Record<string, unknown>) {
    const started = performance.now();
    const acked = await driven.receiver.send(payload);
    return { acked, ms: performance.now() - started };
  }

  it('a command whose trigger cannot be recorded in time is answered after the limit: nothing was done', async () => {
    world.seedUser('ned@example.com', { active: false });
    const driven = await world.startBot();
    driven.bot.context.store.claimTrigger = hang;
    const { acked, ms } = await timedAck(
      driven,
      slashCommand('/iam-enable-user', 'ned@example.com', 'UADMIN', world.responseUrl('en')),
    );
    expect(ms).toBeGreaterThanOrEqual(TRIGGER_CLAIM_LIMIT_MS - 50);
    expect(ms).toBeLessThan(3_000);
    expect((acked as { response_type: string; text: string }).response_type).toBe('ephemeral');
    expect((acked as { text: string }).text).toContain('The audit log is unavailable, so nothing was done.');
    await driven.receiver.idle();
    expect(world.scim()).toEqual([]);
  });

  it('an Approve click that cannot be recorded in time is acked, and the approver told the decision was not recorded', async () => {
    const driven = await world.startBot();
    const { id, ts } = await requestedDisable(driven, 'ola@example.com');
    driven.bot.context.store.claimTrigger = hang;
    const click = buttonClick('iam_disable_approve', id, 'UAPPROVER', world.responseUrl('c'), ts);
    const { ms } = await timedAck(driven, click);
    expect(ms).toBeLessThan(3_000);
    await driven.receiver.idle();
    const told = world.slack.callsTo('response_url').map(shown).join('\n');
    expect(told).toContain('Your decision was not recorded; the request is still open.');
    expect(patches()).toEqual([]);
    expect((await driven.bot.context.store.getApproval(id))?.status).toBe('pending');
  });

  it('once shutting down, a command is answered "restarting" at once, without waiting for the database', async () => {
    const driven = await world.startBot();
    driven.bot.context.store.claimTrigger = hang;
    void driven.bot.context.inFlight.drain();
    const { acked, ms } = await timedAck(
      driven,
      slashCommand('/iam-get-user', 'pia@example.com', 'UADMIN', world.responseUrl('g')),
    );
    expect(ms).toBeLessThan(1_000);
    expect((acked as { text: string }).text).toContain('The bot is restarting');
    expect(world.scim()).toEqual([]);
  });
});
