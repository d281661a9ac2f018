/**
 * A request that reaches a listener after shutdown has begun (SIGTERM between Slack's delivery and the
 * listener): it is answered with "nothing was done" instead of being acknowledged and then dropped.
 */
import { APPROVE_ACTION_ID } from '../../src/views/slack';
import { type DrivenBot, hasButtons, shown, startWorld, tsOf, type World } from '../support/fake-receiver';
import { approveIdOf, buttonClick, slashCommand, viewSubmission } from '../support/slack-payloads';

let world: World;

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await world.close();
});

/** Shutdown has begun: the bot finishes what it has taken on and takes nothing new. */
async function beginShutdown(driven: DrivenBot): Promise<void> {
  await driven.bot.context.inFlight.drain();
}

describe('a request arriving while the bot shuts down', () => {
  it('slash command: told ephemerally in the ack, once, that nothing was done; no SCIM request, no post; the refusal is audited', async () => {
    world.seedUser('ann@example.com');
    const driven = await world.startBot();
    await beginShutdown(driven);
    const acked = (await driven.receiver.send(
      slashCommand('/iam-get-user', 'ann@example.com', 'UADMIN', world.responseUrl('late')),
    )) as { response_type: string; text: string };
    await driven.receiver.idle();
    expect(acked.response_type).toBe('ephemeral');
    expect(acked.text).toContain('restarting, so nothing was done');
    expect(acked.text.match(/nothing was done/gi)).toHaveLength(1);
    expect(world.scim()).toEqual([]);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    const rows = await driven.bot.context.store.listAudit();
    expect(rows.map((r) => [r.actor, r.kind, r.command, r.outcome, r.detail])).toEqual([
      ['UADMIN', 'refusal', 'iam-get-user', 'refused', { reason: 'the bot was shutting down' }],
    ]);
  });

  it('modal submission: the modal stays open with the message; no user is created', async () => {
    const driven = await world.startBot();
    await beginShutdown(driven);
    const acked = await driven.receiver.send(
      viewSubmission(
        'iam_create_user',
        'UADMIN',
        { email: 'bob@example.com', title: 'Analyst' },
        JSON.stringify({ channelId: 'C1' }),
      ),
    );
    await driven.receiver.idle();
    expect(acked).toEqual({
      response_action: 'errors',
      errors: { email: expect.stringContaining('restarting, so nothing was done') },
    });
    expect(world.scim()).toEqual([]);
  });

  it('Approve click: the approver is told the decision was not recorded; the request stays pending, nobody is disabled', async () => {
    world.seedUser('cid@example.com');
    const driven = await world.startBot();
    await driven.receiver.send(
      slashCommand('/iam-disable-user', 'cid@example.com reason="left"', 'UREQ', world.responseUrl('req')),
    );
    await driven.receiver.idle();
    const post = await world.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes('cid@example.com'),
    );
    const id = approveIdOf(post);
    await beginShutdown(driven);
    const acked = await driven.receiver.send(
      buttonClick(
        APPROVE_ACTION_ID,
        id,
        'UAPPROVER',
        world.responseUrl('late-click'),
        tsOf(world.slack, post),
      ),
    );
    await driven.receiver.idle();
    expect(acked).toBeUndefined();
    const told = await world.slack.waitFor(
      (c) => c.method === 'response_url' && shown(c).includes('restarting'),
    );
    expect(shown(told)).toContain('Your decision was not recorded; the request is still open.');
    expect((await driven.bot.context.store.getApproval(id))?.status).toBe('pending');
    expect(world.patches()).toEqual([]);
    const refusals = (await driven.bot.context.store.listAudit()).filter((r) => r.kind === 'refusal');
    expect(refusals.map((r) => [r.actor, r.command])).toEqual([['UAPPROVER', 'approve']]);
  });
});
