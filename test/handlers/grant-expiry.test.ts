/**
 * Time-bound grants ending by themselves, with the injected clock: a due grant's member is removed once
 * (two instances sweeping), the grant ends (expired), its thread and its holder are told, an audit row
 * names the group; a member removed by hand is a skipped result; a transient Atlassian failure leaves
 * the grant for the next sweep once the lease runs out.
 */
import { endDueGrants, sendDueNotices } from '../../src/handlers';
import type { ScriptedResponse } from '../../src/sandbox';
import type { NewGrant } from '../../src/store/grants';
import { openSqlite } from '../../src/store/sqlite';
import { call, patchBody } from '../sandbox/fixtures';
import {
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  shown,
  START,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';

const JIRA = 'jira-software-users';
const THREAD = { channelId: 'CGRANTS', threadTs: '1700000000.000100' };
const HOUR = 3_600_000;

let world: World;
/** Per test: canned answers of the emulated Atlassian. */
let scripted: ((method: string, path: string) => ScriptedResponse | undefined) | null = null;

beforeEach(async () => {
  scripted = null;
  world = await startWorld({ intercept: (request) => scripted?.(request.method, request.path) });
});
afterEach(async () => world?.close());

function groupId(name: string): string {
  const atlassian = world.atlassian!;
  const found = call(atlassian.directory, 'GET', '/Groups', {
    query: { filter: `displayName eq "${name}"` },
  });
  return (found.body as { Resources: { id: string }[] }).Resources[0].id;
}

function addMember(group: string, userId: string): void {
  call(world.atlassian!.directory, 'PATCH', `/Groups/${group}`, {
    body: patchBody({ op: 'add', path: 'members', value: [{ value: userId }] }),
  });
}

function members(group: string): string[] {
  const got = call(world.atlassian!.directory, 'GET', `/Groups/${group}`);
  return ((got.body as { members?: { value: string }[] }).members ?? []).map((m) => m.value);
}

/** A stored grant of `email` to jira-software-users ending in an hour; the member added when `member`. */
async function grantFor(
  driven: DrivenBot,
  email: string,
  member = true,
  id = `grant-${email}`,
  noticesAt: Date[] = [],
) {
  const userId = world.seedUser(email);
  const group = groupId(JIRA);
  if (member) addMember(group, userId);
  const grant: NewGrant = {
    id,
    requestId: `req-${email}`,
    userId,
    target: email,
    slackUserId: 'UMEMBER',
    groupId: group,
    groupName: JIRA,
    grantedBy: 'UAPPROVER',
    grantedAt: START,
    endsAt: new Date(START.getTime() + HOUR),
    noticesAt,
    ...THREAD,
  };
  await driven.bot.context.store.createGrant(grant);
  return { id, userId, group };
}

const sweep = (driven: DrivenBot) => endDueGrants(driven.bot.context, driven.bot.app.client);
const groupPatches = () => world.scim().filter((r) => r.startsWith('PATCH /Groups/'));
const posts = () => world.slack.callsTo('chat.postMessage');

describe('the grant expiry sweep', () => {
  it('removes a due member once across two instances, ends the grant, tells the thread and the holder, audits it', async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    const { id, userId, group } = await grantFor(first, 'jane@example.com');
    const postsBefore = posts().length;

    expect(await sweep(first)).toBe(0); // not due yet
    expect(groupPatches()).toEqual([]);

    world.advance(HOUR);
    const ended = await Promise.all([sweep(first), sweep(second), sweep(first)]);
    expect(ended.reduce((a, b) => a + b, 0)).toBe(1);
    expect(groupPatches()).toEqual([`PATCH /Groups/${group}`]);
    expect(members(group)).not.toContain(userId);
    expect(await first.bot.context.store.getGrant(id)).toMatchObject({
      endReason: 'expired',
      endedBy: 'system',
      endedAt: world.now,
    });

    const told = posts().slice(postsBefore);
    expect(told.map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
      [THREAD.channelId, THREAD.threadTs],
      ['UMEMBER', undefined],
    ]);
    for (const post of told) {
      expect(shown(post)).toContain(
        'Access of `jane@example.com` to `jira-software-users` ended: its time is up',
      );
      expect(shown(post)).toContain('removed from the group');
    }
    const rows = await first.bot.context.store.listAudit({ group: JIRA });
    // The attempt is recorded before the member is removed, its end with the end itself.
    expect(rows.map((r) => [r.kind, r.command, r.outcome])).toEqual([
      ['result', 'grant-expiry', 'success'],
      ['command', 'grant-expiry', 'received'],
    ]);
    expect(rows.slice(0, 1)).toEqual([
      expect.objectContaining({
        actor: 'system',
        kind: 'result',
        command: 'grant-expiry',
        target: 'jane@example.com',
        outcome: 'success',
        requestId: 'req-jane@example.com',
        detail: expect.objectContaining({ group: JIRA, grantId: id, lateMs: 0, outcome: 'removed' }),
      }),
    ]);

    world.advance(HOUR);
    expect(await sweep(second)).toBe(0); // ended grants are never claimed again
    expect(groupPatches()).toHaveLength(1);
  });

  it('a member already removed by hand is a skipped result: nothing sent, the grant ends, people are told', async () => {
    const driven = await world.startBot();
    const { id } = await grantFor(driven, 'ann@example.com', false);
    world.advance(HOUR + 30_000);
    expect(await sweep(driven)).toBe(1);
    expect(groupPatches()).toEqual([]);
    expect((await driven.bot.context.store.getGrant(id))?.endReason).toBe('expired');
    const [row] = await driven.bot.context.store.listAudit({ group: JIRA });
    expect(row).toMatchObject({ outcome: 'skipped', detail: expect.objectContaining({ lateMs: 30_000 }) });
    expect(shown(posts().at(-1)!)).toContain(
      'was no longer a member (removed by hand), so nothing was changed',
    );
  });

  it('a group deleted since ends the grant with nothing to remove', async () => {
    const driven = await world.startBot();
    const { id, group } = await grantFor(driven, 'cy@example.com');
    expect(call(world.atlassian!.directory, 'DELETE', `/Groups/${group}`).status).toBe(204);
    world.advance(HOUR);
    expect(await sweep(driven)).toBe(1);
    expect(groupPatches()).toEqual([]);
    expect((await driven.bot.context.store.getGrant(id))?.endReason).toBe('expired');
    expect(shown(posts().at(-1)!)).toContain('the group no longer exists in the directory');
  });

  it('a transient Atlassian failure leaves the grant for the next sweep, once its lease has run out', async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    const { id, userId, group } = await grantFor(first, 'bob@example.com');
    world.advance(HOUR);
    scripted = (method) => (method === 'PATCH' ? { status: 503, body: { detail: 'Try later.' } } : undefined);
    expect(await sweep(first)).toBe(0);
    expect((await first.bot.context.store.getGrant(id))?.endedAt).toBeNull();
    expect(members(group)).toContain(userId);
    const results = async () =>
      (await first.bot.context.store.listAudit({ group: JIRA })).filter((r) => r.kind === 'result');
    expect(await results()).toEqual([]);
    world.advance(5_000);
    expect(await sweep(second)).toBe(0); // Atlassian still down: a second attempt, no second row

    scripted = null;
    expect(await sweep(second)).toBe(0); // still leased to the last attempt
    world.advance(5_000);
    expect(await sweep(second)).toBe(1);
    expect(members(group)).not.toContain(userId);
    expect((await first.bot.context.store.getGrant(id))?.endReason).toBe('expired');
    const rows = await first.bot.context.store.listAudit({ group: JIRA });
    // One "received" for three attempts: an outage does not fill the log.
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([
      ['result', 'success'],
      ['command', 'received'],
    ]);
  });
});

describe('a grant end and its audit row are one write (issue 11: no change without its record)', () => {
  /** Makes the bot's SQLite file refuse the audit rows matching `when`, the way a broken disk would. */
  function auditLog(state: 'broken' | 'repaired', when = 'TRUE') {
    const db = openSqlite(world.dbPath);
    try {
      db.exec(
        state === 'broken'
          ? `CREATE TRIGGER broken_audit BEFORE INSERT ON audit_log WHEN ${when}
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`
          : 'DROP TRIGGER broken_audit',
      );
    } finally {
      db.close();
    }
  }

  const endRows = async (driven: DrivenBot) =>
    (await driven.bot.context.store.listAudit({ group: JIRA })).filter(
      (r) => r.command === 'grant-expiry' && r.kind === 'result',
    );

  it('while the audit log refuses every row, no member is removed (no action without its row); repaired, the next sweep ends it once', async () => {
    const driven = await world.startBot();
    const { id, userId, group } = await grantFor(driven, 'eve@example.com');
    world.advance(HOUR);
    auditLog('broken', "NEW.command = 'grant-expiry'");
    expect(await sweep(driven)).toBe(0);
    expect(groupPatches()).toEqual([]);
    expect(members(group)).toContain(userId);
    expect((await driven.bot.context.store.getGrant(id))?.endedAt).toBeNull();

    auditLog('repaired');
    world.advance(5_000); // past the lease of the attempt that recorded nothing
    expect(await sweep(driven)).toBe(1);
    expect(groupPatches()).toEqual([`PATCH /Groups/${group}`]);
    expect(members(group)).not.toContain(userId);
    expect((await endRows(driven)).map((r) => [r.outcome, r.detail?.outcome])).toEqual([
      ['success', 'removed'],
    ]);
  });

  it('an end whose row cannot be written ends nothing; retried after the lease, the member our first attempt removed is reported removed, with one row', async () => {
    const driven = await world.startBot();
    const { id, userId, group } = await grantFor(driven, 'dan@example.com');
    world.advance(HOUR);
    auditLog('broken', "NEW.command = 'grant-expiry' AND NEW.kind = 'result'");
    expect(await sweep(driven)).toBe(0);
    expect(groupPatches()).toEqual([`PATCH /Groups/${group}`]);
    expect(members(group)).not.toContain(userId);
    expect(await driven.bot.context.store.getGrant(id)).toMatchObject({ endedAt: null, endAttempts: 1 });
    expect(await endRows(driven)).toEqual([]);
    expect(driven.logs.join('\n')).toContain('AUDIT ROW MISSING: a grant end was not recorded');
    const postsBefore = posts().length;

    auditLog('repaired');
    expect(await sweep(driven)).toBe(0); // still leased to the attempt that was cut short
    world.advance(5_000);
    expect(await sweep(driven)).toBe(1);
    expect(groupPatches()).toHaveLength(1); // found gone: nothing sent again
    expect(await driven.bot.context.store.getGrant(id)).toMatchObject({
      endReason: 'expired',
      endAttempts: 2,
    });
    const rows = await endRows(driven);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'success',
      detail: expect.objectContaining({
        outcome: 'removed',
        removedBy: 'an earlier attempt of ours, cut short',
        attempts: 2,
      }),
    });
    const told = posts().slice(postsBefore);
    expect(told.map((c) => c.args.channel)).toEqual([THREAD.channelId, 'UMEMBER']);
    for (const post of told) {
      expect(shown(post)).toContain('removed from the group');
      expect(shown(post)).not.toContain('removed by hand');
    }
  });

  it('a sweep killed between the removal and the end: the next sweep reports the member removed, not skipped', async () => {
    const driven = await world.startBot();
    const { id, userId, group } = await grantFor(driven, 'eve@example.com');
    world.advance(HOUR);
    // What a SIGKILL after the PATCH leaves: the end claimed by a dead process, the member gone.
    const store = driven.bot.context.store;
    expect(await store.claimDueGrantEnds(world.now, 5_000, 'host/1/dead', 10)).toHaveLength(1);
    call(world.atlassian!.directory, 'PATCH', `/Groups/${group}`, {
      body: patchBody({ op: 'remove', path: `members[value eq "${userId}"]` }),
    });
    world.advance(5_000);
    expect(await sweep(driven)).toBe(1);
    expect(groupPatches()).toEqual([]);
    const rows = await endRows(driven);
    expect(rows.map((r) => [r.outcome, r.detail?.outcome])).toEqual([['success', 'removed']]);
    expect((await store.getGrant(id))?.endReason).toBe('expired');
    expect(shown(posts().at(-1)!)).toContain('removed from the group');
  });

  it("I'm done whose end row cannot be written: the grant stays active and the holder is told they were removed, unrecorded", async () => {
    const driven = await world.startBot();
    const { id, userId, group } = await grantFor(driven, 'gus@example.com', true, 'g-done-unlogged');
    auditLog('broken', "NEW.command = 'grant-done' AND NEW.kind = 'result'");
    await driven.receiver.send(buttonClick('grant_done', id, 'UMEMBER', world.responseUrl('done-unlogged')));
    await driven.receiver.idle();
    expect(members(group)).not.toContain(userId);
    expect((await driven.bot.context.store.getGrant(id))?.endedAt).toBeNull();
    const dm = posts()
      .filter((c) => c.args.channel === 'UMEMBER')
      .at(-1);
    expect(shown(dm!)).toContain(
      'was removed, but the audit log is unavailable, so the end of the grant is not recorded yet',
    );
  });

  it('a member removed by hand before any attempt of ours stays a skipped result', async () => {
    const driven = await world.startBot();
    await grantFor(driven, 'fay@example.com', false);
    world.advance(HOUR);
    expect(await sweep(driven)).toBe(1);
    const rows = await endRows(driven);
    expect(rows.map((r) => [r.outcome, r.detail?.outcome])).toEqual([['skipped', 'already-removed']]);
    expect(rows[0].detail).not.toHaveProperty('removedBy');
  });
});

describe('notices before the end, and "I\'m done"', () => {
  const click = async (driven: DrivenBot, action: string, value: string, userId: string) => {
    await driven.receiver.send(buttonClick(action, value, userId, world.responseUrl(`${action}-${userId}`)));
    await driven.receiver.idle();
  };
  const dmsTo = (userId: string) => posts().filter((c) => c.args.channel === userId);

  it("each notice is sent once across instances: a DM with Extend and I'm done, a line in the thread, an audit row", async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    const early = new Date(START.getTime() + HOUR - 30 * 60_000);
    const late = new Date(START.getTime() + HOUR - 10 * 60_000);
    await grantFor(first, 'jane@example.com', true, 'g-notice', [early, late]);
    expect(await sendDueNotices(first.bot.context, first.bot.app.client)).toBe(0);

    world.advance(HOUR - 5 * 60_000); // both due (after downtime): one DM, about the latest
    const sent = await Promise.all(
      [first, second, first].map((d) => sendDueNotices(d.bot.context, d.bot.app.client)),
    );
    expect(sent.reduce((a, b) => a + b, 0)).toBe(1);
    const [dm] = dmsTo('UMEMBER');
    expect(shown(dm)).toContain('Your access to `jira-software-users` (as `jane@example.com`) ends');
    const buttons = blocksOf(dm).find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ['grant_extend', 'g-notice'],
      ['grant_done', 'g-notice'],
    ]);
    const thread = posts().filter((c) => c.args.thread_ts === THREAD.threadTs);
    expect(thread).toHaveLength(1);
    expect(shown(thread[0])).toContain('Reminded <@UMEMBER>: access to `jira-software-users` ends');
    const rows = await first.bot.context.store.listAudit({ group: JIRA });
    expect(rows.map((r) => [r.command, r.outcome])).toEqual([['grant-notice', 'sent']]);
    expect(await sendDueNotices(second.bot.context, second.bot.app.client)).toBe(0);
  });

  it("I'm done: only the holder ends it (removed, reason done, thread and DM told); a stranger, a second click, an unknown grant change nothing", async () => {
    const driven = await world.startBot();
    const { id, userId, group } = await grantFor(driven, 'jane@example.com', true, 'g-done');

    await click(driven, 'grant_done', id, 'UOPS');
    expect(shown(dmsTo('UOPS').at(-1)!)).toContain(
      'Only the person who has this access can use this button; operators use /iam-revoke.',
    );
    await click(driven, 'grant_done', 'no-such-grant', 'UMEMBER');
    expect(shown(dmsTo('UMEMBER').at(-1)!)).toContain('This grant does not exist.');
    expect(groupPatches()).toEqual([]);
    expect((await driven.bot.context.store.getGrant(id))?.endedAt).toBeNull();

    await click(driven, 'grant_done', id, 'UMEMBER');
    expect(groupPatches()).toEqual([`PATCH /Groups/${group}`]);
    expect(members(group)).not.toContain(userId);
    expect(await driven.bot.context.store.getGrant(id)).toMatchObject({
      endReason: 'done',
      endedBy: 'UMEMBER',
    });
    const told = posts().filter((c) => shown(c).includes('is done with it'));
    expect(told.map((c) => c.args.channel)).toEqual([THREAD.channelId, 'UMEMBER']);

    await click(driven, 'grant_done', id, 'UMEMBER');
    expect(shown(dmsTo('UMEMBER').at(-1)!)).toContain(
      'Your access to \\"jira-software-users\\" has already ended (done).',
    );
    expect(groupPatches()).toHaveLength(1);
    world.advance(HOUR);
    expect(await sweep(driven)).toBe(0); // ended: the sweep never touches it

    const rows = await driven.bot.context.store.listAudit({ group: JIRA });
    expect(rows.map((r) => [r.actor, r.command, r.outcome]).reverse()).toEqual([
      ['UOPS', 'grant-done', 'refused'],
      ['UMEMBER', 'grant-done', 'received'],
      ['UMEMBER', 'grant-done', 'success'],
      ['UMEMBER', 'grant-done', 'refused'],
    ]);
  });

  it('Extend: a new request like the first (card in the channel, thread told); approved by another, the grant ends later', async () => {
    const driven = await world.startBot();
    const { id } = await grantFor(driven, 'jane@example.com', true, 'g-extend');
    const cardsBefore = posts().filter(hasButtons).length;

    await click(driven, 'grant_extend', id, 'UOPS');
    expect(shown(dmsTo('UOPS').at(-1)!)).toContain('Only the person who has this access can use this button');
    await click(driven, 'grant_extend', id, 'UMEMBER');
    const cards = posts().filter(hasButtons).slice(cardsBefore);
    expect(cards).toHaveLength(1);
    expect(cards[0].args.channel).toBe(THREAD.channelId);
    expect(shown(cards[0])).toContain('jira-software-users');
    const asked = posts().filter((c) => c.args.thread_ts === THREAD.threadTs);
    expect(shown(asked.at(-1)!)).toContain('<@UMEMBER> asked for more time in `jira-software-users`');

    await click(driven, 'grant_extend', id, 'UMEMBER'); // twice: nothing new
    expect(shown(dmsTo('UMEMBER').at(-1)!)).toContain('is already waiting for approval');
    expect(posts().filter(hasButtons).slice(cardsBefore)).toHaveLength(1);

    const requestId = blocksOf(cards[0])
      .find((b) => b.type === 'actions')
      ?.elements?.find((e) => e.action_id === 'iam_disable_approve')?.value;
    world.advance(30 * 60_000);
    await driven.receiver.send(
      buttonClick(
        'iam_disable_approve',
        requestId ?? '',
        'UAPPROVER',
        world.responseUrl('approve-extend'),
        tsOf(world.slack, cards[0]),
        THREAD.channelId,
      ),
    );
    await driven.receiver.idle();
    const grant = await driven.bot.context.store.getGrant(id);
    // The same length (an hour) from the approval.
    expect(grant?.endsAt).toEqual(new Date(world.now.getTime() + HOUR));
    expect(grant?.endedAt).toBeNull();
    expect(groupPatches()).toEqual([]); // a member already: nothing to add
    const rows = await driven.bot.context.store.listAudit({ group: JIRA });
    expect(rows.map((r) => `${r.command} ${r.outcome}`)).toEqual(
      expect.arrayContaining(['grant-extend refused', 'grant-extend received']),
    );
  });

  it('Extend clicked on two instances at once: one request and one card; the other click is told privately that one waits and who asked, and stores nothing (task D, finding 1)', async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    const { id } = await grantFor(first, 'jane@example.com', true, 'g-extend-race');
    const cardsBefore = posts().filter(hasButtons).length;
    const dmsBefore = dmsTo('UMEMBER').length;
    await Promise.all(
      [first, second].map((driven, i) =>
        driven.receiver.send(
          buttonClick('grant_extend', id, 'UMEMBER', world.responseUrl(`extend-race-${i}`)),
        ),
      ),
    );
    await Promise.all([first.receiver.idle(), second.receiver.idle()]);

    const extensions = (await first.bot.context.store.listPendingApprovals()).filter(
      (request) => request.profile.extends === id,
    );
    expect(extensions).toHaveLength(1);
    expect(posts().filter(hasButtons).slice(cardsBefore)).toHaveLength(1);
    const told = dmsTo('UMEMBER').slice(dmsBefore).map(shown);
    expect(told).toEqual([
      expect.stringContaining(
        'More time for `jira-software-users` is already waiting for approval (asked by you)',
      ),
    ]);
    const asked = posts()
      .filter((c) => c.args.thread_ts === THREAD.threadTs)
      .map(shown);
    expect(asked.filter((text) => text.includes('asked for more time'))).toHaveLength(1);
    // The refused click's rows name the open request; no request but the open one was stored.
    const rows = await first.bot.context.store.listAudit({ group: JIRA });
    const refused = rows.filter((r) => r.outcome === 'refused' || r.outcome === 'rejected');
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0].detail)).toContain(extensions[0].id);
    for (const row of rows.filter(
      (r) => r.requestId && r.requestId !== extensions[0].id && r.requestId !== `req-jane@example.com`,
    )) {
      expect(await first.bot.context.store.getApproval(row.requestId!)).toBeNull();
    }
  });

  it('an Extend approved after the holder ended the grant adds nobody back and fails, saying why (outside review F11)', async () => {
    const driven = await world.startBot();
    const { id } = await grantFor(driven, 'jane@example.com', true, 'g-extend-ended');
    const cardsBefore = posts().filter(hasButtons).length;
    await click(driven, 'grant_extend', id, 'UMEMBER');
    const card = posts().filter(hasButtons).slice(cardsBefore)[0];
    const requestId = blocksOf(card)
      .find((b) => b.type === 'actions')
      ?.elements?.find((e) => e.action_id === 'iam_disable_approve')?.value;
    await click(driven, 'grant_done', id, 'UMEMBER');
    expect(groupPatches()).toHaveLength(1); // the removal

    await driven.receiver.send(
      buttonClick(
        'iam_disable_approve',
        requestId ?? '',
        'UAPPROVER',
        world.responseUrl('approve-after-done'),
        tsOf(world.slack, card),
        THREAD.channelId,
      ),
    );
    await driven.receiver.idle();
    expect(groupPatches()).toHaveLength(1); // nobody added back
    expect(await driven.bot.context.store.getApproval(requestId ?? '')).toMatchObject({
      status: 'failed',
      result: { reason: 'The grant has ended (or is ending) meanwhile: ask for a new one.' },
    });
    expect((await driven.bot.context.store.getGrant(id))?.endReason).toBe('done');
  });
});
