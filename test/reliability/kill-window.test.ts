/**
 * Issue 11, the kill window: a bot killed after completing an approved request, before its card, thread
 * and requester were told, leaves the request completed with its result row (one transaction) and
 * marked unannounced. The next start (or a peer's sweep) announces it once; a later start does not
 * again. Likewise a grant whose expiry sweep was killed after removing the member and before storing
 * the end (stored with its row, one transaction): the next start's sweep ends it, reported removed, not
 * skipped. The state a SIGKILL leaves is written straight into the store, with a claim held by an earlier
 * incarnation of this process (so certainly dead), then a new bot starts on the same database.
 */
import os from 'node:os';
import type { ApprovalRequest, Store } from '../../src/store/types';
import { call, patchBody } from '../sandbox/fixtures';
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
      'marked announced is posted again by the next start (at least once, never lost). A grant end: a bot ' +
      'killed after its expiry sweep removed the member (one PATCH) and before it stored the end, which is ' +
      'written with its audit row in one transaction (the end claimed by the dead process, the grant still ' +
      'active); announced means the next start ended it as removed (not "already removed"), with exactly ' +
      'one grant-expiry row, and told its thread and holder.',
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

/** What a bot killed by SIGKILL after its expiry sweep removed a grant's member leaves: the end claimed, the grant active. */
async function removedThenKilled(store: Store): Promise<{ id: string; thread: string }> {
  const atlassian = world.atlassian!;
  const userId = world.seedUser('temp@example.com');
  const found = call(atlassian.directory, 'GET', '/Groups', {
    query: { filter: 'displayName eq "jira-software-users"' },
  });
  const group = (found.body as { Resources: { id: string }[] }).Resources[0].id;
  const thread = '1700000000.000003';
  await store.createGrant({
    id: 'grant-killed',
    requestId: 'req-grant',
    userId,
    target: 'temp@example.com',
    slackUserId: 'UMEMBER',
    groupId: group,
    groupName: 'jira-software-users',
    grantedBy: 'UAPPROVER',
    grantedAt: new Date(world.now.getTime() - 3_600_000),
    endsAt: world.now,
    channelId: 'C1',
    threadTs: thread,
    noticesAt: [],
  });
  const dead = `${os.hostname()}/${process.pid}/an-earlier-boot`;
  await store.claimDueGrantEnds(world.now, 5_000, dead, 10);
  call(atlassian.directory, 'PATCH', `/Groups/${group}`, {
    body: patchBody({ op: 'remove', path: `members[value eq "${userId}"]` }),
  });
  return { id: 'grant-killed', thread };
}

it('a grant end a killed sweep removed but never stored is ended by the next start as removed, once', async () => {
  world = await startWorld();
  const first = await world.startBot();
  const { id, thread: ts } = await removedThenKilled(first.bot.context.store);
  const left = (await first.bot.context.store.listGrants({ active: true })).length;
  await first.stop();
  world.advance(5_000); // the dead sweep's lease has run out

  const second = await world.startBot();
  const store = second.bot.context.store;
  for (let i = 0; i < 100 && !(await store.getGrant(id))?.endedAt; i++) await sleep(50);
  expect(await store.getGrant(id)).toMatchObject({ endReason: 'expired', endAttempts: 2 });
  const endRows = async (of: typeof store) =>
    (await of.listAudit()).filter((e) => e.command === 'grant-expiry' && e.kind === 'result');
  const ends = await endRows(store);
  expect(ends.map((e) => [e.outcome, e.detail?.outcome])).toEqual([['success', 'removed']]);
  expect(thread(ts).map(shown).join('\n')).toContain('removed from the group');
  expect(thread(ts)).toHaveLength(1);
  expect(world.patches()).toEqual([]);
  await second.stop();

  const third = await world.startBot();
  await sleep(500); // room for a second end, were there one
  const again = thread(ts).length - 1;
  expect(again).toBe(0);
  expect(await endRows(third.bot.context.store)).toHaveLength(1);
  rows.push([
    'grant end (expiry sweep)',
    left,
    ends.length === 1 && thread(ts).length === 1 ? 'yes' : 'no',
    again,
  ]);
});
