/**
 * Interrupted commands are reconciled: commands that reached Atlassian while the bot crashed between
 * their "received" row and their result are looked up at the next start, their outcome recorded and the
 * requester told. The rows a crash leaves are written straight into the store (what a SIGKILL between the
 * two writes leaves behind), then a new bot starts on the same database.
 */
import type { NewAuditEntry } from '../../src/store/types';
import { startWorld, type World } from '../support/fake-receiver';

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
        'Your /iam-create-user for made@example.com was interrupted by a restart; Atlassian now shows the user exists (active)',
      ),
      expect.stringContaining(
        'Your /iam-create-user for never@example.com was interrupted by a restart; Atlassian now shows no such user',
      ),
    ]);

    // Once reconciled, a row is not reconciled again (by this or another instance).
    await second.stop();
    world.advance(5 * 60_000);
    const third = await world.startBot();
    const again = (await third.bot.context.store.listAudit({ limit: 100 })).filter((e) =>
      e.outcome.startsWith('reconciled'),
    );
    expect(again).toHaveLength(2);
  });
});
