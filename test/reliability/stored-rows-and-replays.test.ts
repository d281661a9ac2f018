/**
 * Bad stored rows and replayed deliveries, measured on the bot's own listeners (Bolt driven through a
 * fake receiver, the emulated Atlassian behind the real SCIM client):
 * - bad stored rows recovered: approved requests whose stored plan cannot be carried out (no usable user
 *   id, a profile that is no object, an update with nothing to change), interleaved with good ones. Each bad one must
 *   end as `failed` with an audit row and a message in its channel, and every good one must still be
 *   carried out, by the start-up recovery and by the periodic sweep alike.
 * - replays refused: the same Slack delivery (same trigger_id) sent twice, to the same instance or to a
 *   second one on the same database. The second must do nothing and be refused with an audit row.
 */
import Database from 'better-sqlite3';
import { recoverApproved } from '../../src/handlers';
import type { NewApproval } from '../../src/store/types';
import {
  buttonClick,
  type DrivenBot,
  slashCommand,
  startWorld,
  viewSubmission,
  type World,
} from '../support/fake-receiver';
import { recordReliability } from '../support/reliability';
import { approvalRequest } from '../support/slack-payloads';

const HOUR = 3_600_000;

/** Stored plans no instance can carry out: [label, action, profile]. */
const BAD_ROWS: [string, NewApproval['action'], Record<string, unknown>][] = [
  ['no profile at all', 'disable', {}],
  ['id "."', 'disable', { id: '.' }],
  ['id ".."', 'enable', { id: '..' }],
  ['id with a slash', 'disable', { id: 'a/b' }],
  ['empty id', 'enable', { id: '' }],
  ['id of the wrong type', 'disable', { id: 42 }],
  ['update with nothing to change', 'update', { id: 'u-1', value: {}, changes: [] }],
  ['update without its value', 'update', { id: 'u-1' }],
  ['a list instead of a profile', 'disable', ['u-1'] as unknown as Record<string, unknown>],
  // Stored as given, then overwritten in the file with text that is not JSON (a damaged or edited row).
  ['a profile that is not JSON', 'disable', { id: 'u-1', corrupt: true }],
];

const rows: (string | number)[][] = [];
const totals = { badStoredRowsTried: 0, badStoredRowsRecovered: 0, replaysTried: 0, replaysRefused: 0 };

let world: World;

afterEach(async () => {
  await world?.close();
});

afterAll(() => {
  recordReliability({
    id: '9-stored-rows-and-replays',
    title: 'Bad stored rows and replayed Slack deliveries',
    description:
      'Approved requests whose stored plan cannot be carried out, interleaved with good ones, picked up by the ' +
      'start-up recovery: each bad one must end as failed with an audit row and a message in its channel, and ' +
      'each good one must be carried out once. Then Slack deliveries sent twice with the same trigger_id, to ' +
      'one instance or to two sharing the database: the second must change nothing and be refused with an ' +
      'audit row. Measured on the listeners through a fake receiver, with the emulated Atlassian.',
    columns: ['case', 'tried', 'handled', 'how it was judged'],
    rows,
    totals,
  });
});

async function storeApproved(
  driven: DrivenBot,
  id: string,
  action: string,
  profile: Record<string, unknown>,
) {
  const store = driven.bot.context.store;
  const request = {
    id,
    action,
    requesterId: 'UREQ',
    channelId: 'C1',
    teamId: 'T1',
    enterpriseId: null,
    profile,
    target: id,
    reason: null,
    createdAt: world.now,
    expiresAt: new Date(world.now.getTime() + HOUR),
  } as NewApproval;
  await store.createApproval(request);
  await store.setApprovalMessage(id, 'C1', `1699999999.${id.slice(-6).padStart(6, '0')}`);
  await store.decideApproval(id, 'approved', 'UAPPROVER', world.now);
}

describe('bad stored rows', () => {
  it('each bad approved row ends as failed, alone, and the good rows around it are carried out', async () => {
    world = await startWorld();
    const driven = await world.startBot();
    const goodUsers: string[] = [];
    for (const [index, [, action, profile]] of BAD_ROWS.entries()) {
      await storeApproved(driven, `bad-${String(index).padStart(6, '0')}`, action, profile);
      const userId = world.seedUser(`good${index}@example.com`);
      goodUsers.push(userId);
      await storeApproved(driven, `good-${String(index).padStart(6, '0')}`, 'disable', { id: userId });
    }
    const file = new Database(world.dbPath);
    try {
      file.prepare(`UPDATE approvals SET profile = 'not json {' WHERE profile LIKE '%"corrupt":true%'`).run();
    } finally {
      file.close();
    }
    await recoverApproved(driven.bot.context, driven.bot.app.client);

    const store = driven.bot.context.store;
    const audit = await store.listAudit({ limit: 1000 });
    for (const [index, [label]] of BAD_ROWS.entries()) {
      const id = `bad-${String(index).padStart(6, '0')}`;
      const failed = (await store.getApproval(id))?.status === 'failed';
      const audited = audit.some((e) => e.requestId === id && e.outcome === 'failed');
      const told = world.slack.callsTo('chat.update').some((c) => String(c.args.ts).endsWith(id.slice(-6)));
      totals.badStoredRowsTried += 1;
      if (failed && audited && told) totals.badStoredRowsRecovered += 1;
      rows.push([`stored ${label}`, 1, failed && audited && told ? 1 : 0, 'failed + audit row + message']);
      expect({ label, failed, audited, told }).toEqual({ label, failed: true, audited: true, told: true });
    }
    for (const [index, userId] of goodUsers.entries()) {
      expect((await store.getApproval(`good-${String(index).padStart(6, '0')}`))?.status).toBe('completed');
      expect(world.scim().filter((r) => r === `PATCH /Users/${userId}`)).toHaveLength(1);
    }
  });
});

describe('replayed deliveries', () => {
  async function deliver(driven: DrivenBot, payload: Record<string, unknown>): Promise<unknown> {
    const acked = await driven.receiver.send(payload);
    await driven.receiver.idle();
    return acked;
  }

  const refusalsOf = async (driven: DrivenBot) =>
    (await driven.bot.context.store.listAudit({ limit: 1000 })).filter(
      (e) => e.kind === 'refusal' && e.detail?.reason === 'replayed trigger_id',
    ).length;

  /** Delivers `payload` twice (the second time to `second`, or the same instance) and judges the replay. */
  async function replay(
    label: string,
    first: DrivenBot,
    second: DrivenBot,
    payload: Record<string, unknown>,
  ) {
    await deliver(first, payload);
    const writes = world.scim().filter((r) => !r.startsWith('GET')).length;
    const posts = world.slack.callsTo('chat.postMessage').length;
    const refusalsBefore = await refusalsOf(second);
    await deliver(second, payload);
    const nothingDone =
      world.scim().filter((r) => !r.startsWith('GET')).length === writes &&
      world.slack.callsTo('chat.postMessage').length === posts;
    const refused = (await refusalsOf(second)) === refusalsBefore + 1;
    totals.replaysTried += 1;
    if (nothingDone && refused) totals.replaysRefused += 1;
    rows.push([
      `replayed ${label}`,
      1,
      nothingDone && refused ? 1 : 0,
      'nothing sent or posted + refusal row',
    ]);
    expect({ label, nothingDone, refused }).toEqual({ label, nothingDone: true, refused: true });
  }

  it('a replayed write command, form, Approve and Deny do nothing the second time, in one instance or two', async () => {
    world = await startWorld();
    const first = await world.startBot();
    const second = await world.startBot();
    world.seedUser('ana@example.com');
    world.seedUser('ben@example.com');
    world.seedUser('cy@example.com');

    const update = slashCommand(
      '/iam-update-user',
      'email=ana@example.com title=Lead',
      'UADMIN',
      world.responseUrl('u'),
    );
    await replay('/iam-update-user, same instance', first, first, update);
    const update2 = slashCommand(
      '/iam-update-user',
      'email=ana@example.com title=Head',
      'UADMIN',
      world.responseUrl('v'),
    );
    await replay('/iam-update-user, second instance', first, second, update2);
    const form = viewSubmission(
      'iam_update_user',
      'UADMIN',
      { email: 'ana@example.com', title: 'CTO' },
      '{"channelId":"C1"}',
    );
    await replay('update form submission', first, second, form);

    await deliver(
      first,
      slashCommand('/iam-disable-user', 'ben@example.com', 'UREQ', world.responseUrl('d1')),
    );
    const ben = await approvalRequest(world.slack, 'ben@example.com');
    const approve = buttonClick('iam_disable_approve', ben.id, 'UAPPROVER', world.responseUrl('a'), ben.ts);
    await replay('Approve click', first, second, approve);

    await deliver(
      first,
      slashCommand('/iam-disable-user', 'cy@example.com', 'UREQ', world.responseUrl('d2')),
    );
    const cy = await approvalRequest(world.slack, 'cy@example.com');
    const deny = buttonClick('iam_disable_deny', cy.id, 'UAPPROVER', world.responseUrl('n'), cy.ts);
    await replay('Deny click', first, first, deny);
  });
});
