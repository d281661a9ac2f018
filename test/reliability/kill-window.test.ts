/**
 * Issue 11, the kill window: a bot killed after completing an approved request, before its card, thread
 * and requester were told, leaves the request completed with its result row (one transaction) and
 * marked unannounced. The next start (or a peer's sweep) announces it once; a later start does not
 * again. The state a SIGKILL leaves is written straight into the store, with a claim held by an earlier
 * incarnation of this process (so certainly dead), then a new bot starts on the same database.
 */
import os from 'node:os';
import type { ApprovalRequest, Store } from '../../src/store/types';
import { recordReliability } from '../support/reliability';
import { shown, startWorld, type World } from '../support/fake-receiver';

let world: World;
const rows: (string | number)[][] = [];

afterEach(async () => {
  await world?.close();
});

afterAll(() => {
  recordReliability({
    id: '12-kill-window',
    title: 'Completed but not announced (SIGKILL between the completion and its posts)',
    description:
      'An approved request completed by a bot killed before it told anyone (the state a SIGKILL leaves: ' +
      'completed, its result row written in the same transaction, marked unannounced, its claim held by a ' +
      'dead process), then a new bot started on the same database, and a third after it. Announced means ' +
      'the card shows the result and the thread has the result and the notice to the requester (for a ' +
      'scheduled request also its run-scheduled row and note); repeated means a later start announced it ' +
      'again. What may still repeat: a post whose process was killed after Slack took it and before it was ' +
      'marked announced is posted again by the next start (at least once, never lost).',
    columns: ['request', 'left unannounced', 'announced at the next start', 'announced again later'],
    rows,
    totals: {},
  });
});

/** What a bot killed right after completing `request` leaves in the store. */
async function completedThenKilled(store: Store, scheduled: boolean): Promise<ApprovalRequest> {
  const email = scheduled ? 'sched@example.com' : 'leaver@example.com';
  const id = world.seedUser(email);
  const at = world.now;
  const request = await store.createApproval({
    id: scheduled ? 'req-sched' : 'req-now',
    action: 'disable',
    requesterId: 'UREQ',
    channelId: 'C1',
    teamId: null,
    enterpriseId: null,
    profile: { id, email, username: email },
    target: email,
    reason: 'last day',
    createdAt: at,
    expiresAt: new Date(at.getTime() + 3_600_000),
    ...(scheduled ? { schedule: { at, zone: 'UTC' }, approvedBy: 'UAPPROVER' } : {}),
  });
  await store.setApprovalMessage(request.id, 'C1', scheduled ? '1700000000.000002' : '1700000000.000001');
  if (!scheduled) await store.decideApproval(request.id, 'approved', 'UAPPROVER', at);
  const dead = `${os.hostname()}/${process.pid}/an-earlier-boot`;
  await store.claimApproval(request.id, at, 120_000, dead);
  const result = {
    IAM: {
      UserProfile: { email },
      Vendor: { action: 'disable', success: true, active: false, id, username: email, email },
    },
  };
  await store.completeApproval(request.id, result, {
    at,
    actor: 'UAPPROVER',
    source: 'slack',
    kind: 'result',
    command: 'iam-disable-user',
    target: email,
    outcome: 'success',
    requestId: request.id,
    detail: result,
  });
  return request;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const thread = (ts: string) => world.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === ts);

it.each([
  ['approved disable', false, 2],
  ['scheduled disable', true, 3],
])(
  'a completed %s a killed bot never announced is announced by the next start, once',
  async (name, scheduled, posts) => {
    world = await startWorld();
    const first = await world.startBot();
    const request = await completedThenKilled(first.bot.context.store, scheduled);
    const left = (await first.bot.context.store.listUnannounced()).length;
    await first.stop();
    const ts = scheduled ? '1700000000.000002' : '1700000000.000001';

    const second = await world.startBot();
    const store = second.bot.context.store;
    // Announced by the start's sweep or the schedule timer, whichever claims it: marked once told.
    for (let i = 0; i < 100 && (await store.listUnannounced()).length > 0; i++) await sleep(50);
    expect(await store.listUnannounced()).toEqual([]);
    const card = world.slack.callsTo('chat.update').filter((c) => c.args.ts === ts);
    expect(card.map(shown).join('\n')).toContain('disabled');
    expect(thread(ts)).toHaveLength(posts);
    const notes = (await store.listAudit()).filter((e) => e.command === 'run-scheduled');
    expect(notes).toHaveLength(scheduled ? 1 : 0);
    await second.stop();

    const third = await world.startBot();
    await sleep(500); // room for a second announcement, were there one
    const again = thread(ts).length - posts;
    expect(again).toBe(0);
    expect(await third.bot.context.store.getApproval(request.id)).toMatchObject({ status: 'completed' });
    rows.push([name, left, thread(ts).length === posts ? 'yes' : 'no', again]);
  },
);
