/**
 * Interrupted commands are reconciled: commands that reached Atlassian while the bot crashed between
 * their "received" row and their result are looked up at the next start, their outcome recorded and the
 * requester told. The rows a crash leaves are written straight into the store (what a SIGKILL between the
 * two writes leaves behind), then a new bot starts on the same database.
 */
import type { NewAuditEntry } from '../../src/store/types';
import {
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  slashCommand,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';

let world: World;

afterEach(async () => {
  await world?.close();
});

const received = (target: string, at: Date, command = 'iam-create-user'): NewAuditEntry => ({
  at,
  actor: 'UREQ',
  source: 'slack',
  kind: 'command',
  command,
  target,
  outcome: 'received',
  requestId: null,
  detail: null,
});

describe('commands a restart interrupted are reconciled (issue 11)', () => {
  it('at start, a create with a "received" row and no result is looked up, recorded as reconciled and its requester told by DM; answered, old and CLI rows are left alone', async () => {
    world = await startWorld();
    const first = await world.startBot();
    const store = first.bot.context.store;
    world.seedUser('made@example.com');
    const now = world.now;
    await store.appendAudit(received('made@example.com', now));
    await store.appendAudit(received('never@example.com', now));
    await store.appendAudit(received('answered@example.com', now));
    await store.appendAudit({ ...received('answered@example.com', now), kind: 'result', outcome: 'success' });
    await store.appendAudit(received('old@example.com', new Date(now.getTime() - 25 * 3_600_000)));
    await store.appendAudit({ ...received('cli@example.com', now), source: 'cli', actor: 'cli:ops' });
    await first.stop();

    world.advance(5 * 60_000);
    const second = await world.startBot();
    const rows = await second.bot.context.store.listAudit({ limit: 100 });
    const reconciled = rows.filter((e) => e.outcome.startsWith('reconciled'));
    expect(reconciled.map((e) => [e.target, e.kind, e.outcome]).sort()).toEqual([
      ['made@example.com', 'result', 'reconciled: user exists (active)'],
      ['never@example.com', 'result', 'reconciled: not found'],
    ]);
    const dms = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ');
    expect(dms.map((c) => String(c.args.text)).sort()).toEqual([
      expect.stringContaining(
        'Your /iam-create-user for made@example.com was interrupted before its outcome was recorded; Atlassian now shows the user exists (active)',
      ),
      expect.stringContaining(
        'Your /iam-create-user for never@example.com was interrupted before its outcome was recorded; Atlassian now shows no such user',
      ),
    ]);

    // The create may have been made: the DM never says that nothing was done.
    expect(dms.map((c) => String(c.args.text)).join('\n')).not.toContain('Nothing was done');

    // Once reconciled, a row is not reconciled again (by this or another instance).
    await second.stop();
    world.advance(5 * 60_000);
    const third = await world.startBot();
    const again = (await third.bot.context.store.listAudit({ limit: 100 })).filter((e) =>
      e.outcome.startsWith('reconciled'),
    );
    expect(again).toHaveLength(2);
  });

  it('an interrupted command pinned to an Atlassian id is looked up by that id: a user whose email the command changed is found (issue 11)', async () => {
    world = await startWorld();
    const first = await world.startBot();
    const store = first.bot.context.store;
    // The command changed her email before the crash: by the old one Atlassian has nobody.
    const id = world.seedUser('renamed-new@example.com');
    await store.appendAudit({
      ...received('renamed-old@example.com', world.now, 'iam-update-user'),
      detail: { userId: id },
    });
    await store.appendAudit(received('gone-old@example.com', world.now, 'iam-update-user'));
    // A slash command naming the id pins its received row to it.
    await first.receiver.send(
      slashCommand(
        '/iam-disable-user',
        `id=${id} email=renamed-new@example.com`,
        'UREQ',
        world.responseUrl('d'),
      ),
    );
    await first.receiver.idle();
    const pinned = (await store.listAudit({ limit: 100 })).find(
      (e) => e.command === 'iam-disable-user' && e.outcome === 'received',
    );
    expect(pinned?.detail).toEqual({ userId: id });
    await first.stop();

    world.advance(5 * 60_000);
    const second = await world.startBot();
    const reconciled = (await second.bot.context.store.listAudit({ limit: 100 }))
      .filter((e) => e.outcome.startsWith('reconciled'))
      .map((e) => [e.target, e.outcome])
      .sort();
    expect(reconciled).toEqual([
      ['gone-old@example.com', 'reconciled: not found'],
      ['renamed-old@example.com', 'reconciled: user exists (active)'],
    ]);
  });

  it('an /iam-revoke interrupted after its PATCH is reconciled: looked up by the pinned ids, recorded, the stored grant ended with its row, the requester told by DM (finding 3)', async () => {
    const JIRA = 'jira-software-users';
    world = await startWorld();
    const first = await world.startBot();
    const store = first.bot.context.store;
    const send = async (bot: DrivenBot, body: Record<string, unknown>) => {
      await bot.receiver.send(body);
      await bot.receiver.idle();
    };
    const annId = world.seedUser('ann@example.com');
    await send(
      first,
      slashCommand('/iam-grant', `ann@example.com ${JIRA} for 8h reason="x"`, 'UREQ', world.responseUrl('g')),
    );
    const card = world.slack.callsTo('chat.postMessage').find(hasButtons);
    const requestId = blocksOf(card!).find((b) => b.type === 'actions')?.elements?.[0]?.value ?? '';
    await send(
      first,
      buttonClick(
        'iam_disable_approve',
        requestId,
        'UAPPROVER',
        world.responseUrl('a'),
        tsOf(world.slack, card!),
      ),
    );
    expect((await store.listGrants({ active: true })).map((g) => g.userId)).toEqual([annId]);

    // The process dies once Atlassian has the PATCH: no store write after it (the result row, the end of
    // the grant) is made.
    const append = store.appendAudit.bind(store);
    store.appendAudit = async (entry) => {
      if (entry.command === 'iam-revoke' && entry.kind === 'result') throw new Error('killed');
      return append(entry);
    };
    store.endGrant = async () => {
      throw new Error('killed');
    };
    await send(first, slashCommand('/iam-revoke', `ann@example.com ${JIRA}`, 'UREQ', world.responseUrl('r')));
    expect(world.scim().filter((r) => r.startsWith('PATCH /Groups/'))).toHaveLength(2);
    const revokeRows = (await store.listAudit({ limit: 100 })).filter((e) => e.command === 'iam-revoke');
    expect(revokeRows.map((e) => [e.outcome, e.detail?.userId, e.detail?.group])).toEqual([
      ['received', annId, JIRA],
    ]);
    await first.stop();

    world.advance(5 * 60_000);
    const second = await world.startBot();
    const rows = await second.bot.context.store.listAudit({ limit: 100 });
    expect(rows.filter((e) => e.command === 'iam-revoke').map((e) => [e.kind, e.outcome])).toEqual([
      ['result', 'reconciled: not a member'],
      ['command', 'received'],
    ]);
    const [ended] = await second.bot.context.store.listGrants();
    expect(ended).toMatchObject({ userId: annId, endReason: 'revoked', endedBy: 'UREQ' });
    expect(rows.filter((e) => e.command === 'grant-revoke').map((e) => [e.outcome, e.requestId])).toEqual([
      ['reconciled: not a member', requestId],
    ]);
    const dms = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ');
    expect(dms.map((c) => String(c.args.text))).toContainEqual(
      expect.stringContaining(
        `Your /iam-revoke for ann@example.com in "${JIRA}" was interrupted before its outcome was recorded; Atlassian now shows they are not a member`,
      ),
    );
  });
});
