/**
 * Scheduled disables through Bolt's processEvent (FakeReceiver): `/iam-disable-user … at …` is approved
 * ahead, carried out once when its time comes on the injected clock, its outcome posted in the thread;
 * cancelled from the App Home by the requester, refused to a stranger; and a user gone or already
 * disabled by then is reported as such.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runScheduled } from '../../src/handlers';
import { openSqlite } from '../../src/store/sqlite';
import type { AuditEntry } from '../../src/store/types';
import {
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  PEOPLE,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

const APPROVE = 'iam_disable_approve';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CANCEL = 'iam_schedule_cancel';
// The world's clock starts at 2026-11-29 12:00 UTC; the requester is in Berlin (UTC+1 in November).
const AT_TEXT = 'at 2026-11-29 17:00';
const DUE = new Date('2026-11-29T16:00:00.000Z');

let world: World;

beforeEach(async () => {
  world = await startWorld();
  world.slack.users.set('UREQ', { ...PEOPLE.UREQ, tz: 'Europe/Berlin' });
});

afterEach(async () => {
  await world?.close();
});

interface Scheduled {
  id: string;
  userId: string;
  post: SlackCall;
  ts: string;
}

async function schedule(driven: DrivenBot, email: string, when = AT_TEXT): Promise<Scheduled> {
  const userId = world.seedUser(email);
  await driven.receiver.send(
    slashCommand('/iam-disable-user', `${email} ${when} reason="last day"`, 'UREQ', world.responseUrl(email)),
  );
  await driven.receiver.idle();
  const post = await world.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes(email),
  );
  const id = blocksOf(post)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === APPROVE)?.value;
  if (!id) throw new Error('the request message has no Approve button');
  return { id, userId, post, ts: tsOf(world.slack, post) };
}

async function click(driven: DrivenBot, action: string, request: Scheduled, userId: string) {
  await driven.receiver.send(
    buttonClick(action, request.id, userId, world.responseUrl(`${action}-${userId}`), request.ts),
  );
  await driven.receiver.idle();
}

const patchesTo = (userId: string) => world.scim().filter((r) => r === `PATCH /Users/${userId}`);
const threadPosts = (ts: string) =>
  world.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === ts);

async function auditOf(driven: DrivenBot, requestId: string): Promise<AuditEntry[]> {
  const all = await driven.bot.context.store.listAudit({ limit: 1000 });
  return all.filter((e) => e.requestId === requestId).reverse();
}

const runAt = (driven: DrivenBot) => runScheduled(driven.bot.context, driven.bot.app.client);

describe('a scheduled disable', () => {
  it('is approved ahead, carried out once at its time (two instances), and its outcome posted in the thread', async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    const request = await schedule(first, 'jane@example.com');
    expect(shown(request.post)).toContain('Scheduled for* 2026-11-29 17:00 (Europe/Berlin)');
    expect(await first.bot.context.store.getApproval(request.id)).toMatchObject({
      status: 'pending',
      scheduledAt: DUE,
      scheduleZone: 'Europe/Berlin',
      expiresAt: new Date('2026-11-29T13:00:00.000Z'), // IAM_APPROVAL_TTL=1h comes first
    });

    await click(first, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toEqual([]);
    const [card] = world.slack.callsTo('chat.update');
    expect(shown(card)).toContain('Scheduled: disabling the user');
    expect(shown(card)).toContain('2026-11-29 17:00 (Europe/Berlin)');

    world.advance(DUE.getTime() - world.now.getTime() - 1_000);
    expect(await runAt(first)).toBe(0);
    expect(patchesTo(request.userId)).toEqual([]);

    world.advance(3_000);
    const counts = await Promise.all([runAt(first), runAt(second), runAt(first)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await first.bot.context.store.getApproval(request.id)).toMatchObject({ status: 'completed' });
    const notes = threadPosts(request.ts).map(shown);
    expect(
      notes.some((n) =>
        n.includes('scheduled disable of `jane@example.com` was carried out, 2 s after its time'),
      ),
    ).toBe(true);
    expect((await auditOf(first, request.id)).map((e) => [e.kind, e.command, e.outcome])).toEqual([
      ['command', 'iam-disable-user', 'scheduled'],
      ['decision', 'approve', 'approved'],
      ['result', 'iam-disable-user', 'success'],
      ['result', 'run-scheduled', 'carried-out'],
    ]);
  });

  it('reports a user already disabled by its time, and changes nothing', async () => {
    const driven = await world.startBot();
    const request = await schedule(driven, 'ann@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    world.atlassian?.directory.handle({
      method: 'PATCH',
      path: `/Users/${request.userId}`,
      query: new URLSearchParams(),
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] },
    });
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(1);
    expect(patchesTo(request.userId)).toEqual([]);
    expect(threadPosts(request.ts).map(shown).join('\n')).toContain(
      'was already disabled. Nothing was changed.',
    );
    expect((await auditOf(driven, request.id)).at(-1)).toMatchObject({ outcome: 'already-disabled' });
  });

  it('reports a user deleted by its time as deleted or no longer in the directory', async () => {
    const driven = await world.startBot();
    const request = await schedule(driven, 'bob@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    world.atlassian?.directory.handle({
      method: 'DELETE',
      path: `/Users/${request.userId}`,
      query: new URLSearchParams(),
      body: undefined,
    });
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(1);
    expect(threadPosts(request.ts).map(shown).join('\n')).toContain(
      'was deleted or no longer in the directory. Nothing was changed.',
    );
    expect((await auditOf(driven, request.id)).at(-1)).toMatchObject({ outcome: 'deleted' });
  });

  it('disables a renamed account by its pinned id and says it was renamed from X to Y', async () => {
    const driven = await world.startBot();
    const request = await schedule(driven, 'cid@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    world.atlassian?.directory.handle({
      method: 'PATCH',
      path: `/Users/${request.userId}`,
      query: new URLSearchParams(),
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', value: { userName: 'cid.new@example.com' } }],
      },
    });
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(1);
    expect(patchesTo(request.userId)).toHaveLength(1);
    const note = threadPosts(request.ts).map(shown).join('\n');
    expect(note).toContain('renamed from `cid@example.com` to `cid.new@example.com`');
  });

  it.each([
    ['at tomorrowish', 'cannot read the time'],
    ['at 2026-11-29 12:00', 'is in the past'],
    ['in 91d', 'at most 90 days ahead'],
  ])('refuses "%s" with a clear answer and stores nothing', async (when, message) => {
    const driven = await world.startBot();
    world.seedUser('dan@example.com');
    await driven.receiver.send(
      slashCommand('/iam-disable-user', `dan@example.com ${when}`, 'UREQ', world.responseUrl('bad')),
    );
    await driven.receiver.idle();
    const [answer] = world.slack.callsTo('response_url');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(shown(answer)).toContain(message);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(await driven.bot.context.store.listScheduled()).toEqual([]);
    // The limit is the governing rule's, known once the user is looked up: a read, never a write.
    expect(world.scim().filter((request) => !request.startsWith('GET '))).toEqual([]);
  });

  it("refuses a time beyond the governing rule's maxScheduleAhead, naming the rule", async () => {
    const policyFile = path.join(world.dir, 'policy.yaml');
    fs.writeFileSync(
      policyFile,
      ['rules:', '  - name: short-notice', '    action: disable', '    maxScheduleAhead: 7d', ''].join('\n'),
    );
    const driven = await world.startBot({ env: { IAM_POLICY_FILE: policyFile } });
    world.seedUser('gus@example.com');
    for (const [when, tag] of [
      ['in 10d', 'ten'],
      ['at 2026-12-09 12:00', 'date'],
    ]) {
      await driven.receiver.send(
        slashCommand('/iam-disable-user', `gus@example.com ${when}`, 'UREQ', world.responseUrl(tag)),
      );
      await driven.receiver.idle();
    }
    const answers = world.slack.callsTo('response_url').map(shown);
    expect(answers).toHaveLength(2);
    for (const answer of answers) {
      expect(answer).toContain(
        'is too far ahead: schedules may be at most 7 days ahead under rule 1 (short-notice) of IAM_POLICY_FILE',
      );
    }
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(await driven.bot.context.store.listScheduled()).toEqual([]);
    expect(world.patches()).toEqual([]);
    // Within the limit, the same rule lets it through.
    await schedule(driven, 'hal@example.com', 'in 6d');
  });

  it('F12: refuses a second pending schedule of the same user, naming the first and how to cancel it', async () => {
    const driven = await world.startBot();
    const first = await schedule(driven, 'ida@example.com');
    const posted = world.slack.callsTo('chat.postMessage').length;
    await driven.receiver.send(
      slashCommand(
        '/iam-disable-user',
        'IDA@example.com in 2h reason="again"',
        'UREQ',
        world.responseUrl('again'),
      ),
    );
    await driven.receiver.idle();
    const answer = world.slack.callsTo('response_url').at(-1);
    if (!answer) throw new Error('no answer to the second schedule');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(shown(answer)).toContain(
      `ida@example.com already has a scheduled disable at 2026-11-29 17:00 (Europe/Berlin), request ${first.id}; the requester or an approver can cancel it with its Cancel button in the App Home, then schedule again. Nothing was scheduled`,
    );
    expect(world.slack.callsTo('chat.postMessage')).toHaveLength(posted);
    expect((await driven.bot.context.store.listScheduled()).map((r) => r.id)).toEqual([first.id]);
  });

  it('task D finding 2: the same user scheduled on two instances at once: one request and card; the other is told privately, with the same words, and stores nothing', async () => {
    const first = await world.startBot();
    const second = await world.startBot();
    world.seedUser('jon@example.com');
    await Promise.all(
      [first, second].map((driven, i) =>
        driven.receiver.send(
          slashCommand(
            '/iam-disable-user',
            `jon@example.com in ${i + 2}h reason="last day"`,
            'UREQ',
            world.responseUrl(`race-${i}`),
          ),
        ),
      ),
    );
    await Promise.all([first.receiver.idle(), second.receiver.idle()]);
    const scheduled = await first.bot.context.store.listScheduled();
    expect(scheduled).toHaveLength(1);
    const cards = world.slack.callsTo('chat.postMessage').filter(hasButtons);
    expect(cards).toHaveLength(1);
    const answers = world.slack.callsTo('response_url').map(shown);
    // Whichever won ("in 2h" or "in 3h"), the other's answer names it, as a second schedule's does.
    const refusal = `jon@example.com already has a scheduled disable at 2026-11-29 1[56]:00 \\(Europe/Berlin\\), request ${scheduled[0].id}; the requester or an approver can cancel it with its Cancel button in the App Home, then schedule again\\. Nothing was scheduled`;
    expect(answers.filter((text) => text.includes('already has a scheduled disable'))).toEqual([
      expect.stringMatching(new RegExp(refusal)),
    ]);
  });
});

describe('cancelling a scheduled disable (App Home)', () => {
  it('the requester cancels it before its time: cancelled, the card updated, audited, never carried out', async () => {
    const driven = await world.startBot();
    const request = await schedule(driven, 'eve@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    await click(driven, CANCEL, request, 'UREQ');
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({
      status: 'cancelled',
      result: { cancelledBy: 'UREQ' },
    });
    expect(shown(world.slack.callsTo('chat.update').at(-1)!)).toContain('Scheduled disable cancelled');
    expect(world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ')).toEqual([]);
    const home = world.slack.callsTo('views.publish').at(-1)!;
    expect(shown(home)).toContain('Scheduled disables (0)');
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(0);
    expect(patchesTo(request.userId)).toEqual([]);
    expect((await auditOf(driven, request.id)).at(-1)).toMatchObject({
      actor: 'UREQ',
      command: 'cancel',
      outcome: 'cancelled',
    });
  });

  it('outside review finding 5: a cancel whose audit row cannot be written cancels nothing and the clicker is told; a later click cancels, with its row', async () => {
    const driven = await world.startBot();
    const request = await schedule(driven, 'ivy@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    const updatesBefore = world.slack.callsTo('chat.update').length;
    const threadBefore = threadPosts(request.ts).length;
    const db = openSqlite(world.dbPath);
    db.exec(`CREATE TRIGGER broken_audit BEFORE INSERT ON audit_log WHEN NEW.command = 'cancel'
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    await click(driven, CANCEL, request, 'UREQ');
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({
      status: 'approved',
      result: null,
    });
    expect(world.slack.callsTo('chat.update')).toHaveLength(updatesBefore);
    expect(threadPosts(request.ts)).toHaveLength(threadBefore);
    const dms = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ');
    expect(dms.map(shown)).toEqual([
      expect.stringContaining('The audit log is unavailable, so nothing was done.'),
    ]);
    expect(driven.logs.join('\n')).toContain('cancel not recorded; nothing was cancelled');
    expect((await auditOf(driven, request.id)).map((e) => e.command)).not.toContain('cancel');

    db.exec('DROP TRIGGER broken_audit');
    db.close();
    await click(driven, CANCEL, request, 'UREQ');
    // Who approved stays decidedBy; who cancelled is the result's cancelledBy, the card's and the row's actor.
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({
      status: 'cancelled',
      decidedBy: 'UAPPROVER',
      result: { cancelledBy: 'UREQ' },
    });
    expect(shown(world.slack.callsTo('chat.update').at(-1)!)).toContain(
      'Cancelled by <@UREQ> before its time',
    );
    expect((await auditOf(driven, request.id)).filter((e) => e.command === 'cancel')).toEqual([
      expect.objectContaining({
        actor: 'UREQ',
        kind: 'decision',
        outcome: 'cancelled',
        detail: expect.objectContaining({ approvedBy: ['UAPPROVER'], requesterId: 'UREQ' }),
      }),
    ]);
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(0);
    expect(patchesTo(request.userId)).toEqual([]);
  });

  it('a stranger (neither requester nor approver) is refused, audited, and the schedule stands', async () => {
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UREQ,UOPS', IAM_APPROVERS: 'UAPPROVER' } });
    const request = await schedule(driven, 'fay@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    await click(driven, CANCEL, request, 'UOPS');
    const dm = world.slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'UOPS');
    expect(shown(dm!)).toContain('Only the requester or an approver');
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({ status: 'approved' });
    expect((await auditOf(driven, request.id)).at(-1)).toMatchObject({
      actor: 'UOPS',
      kind: 'refusal',
      command: 'cancel',
      outcome: 'refused',
    });
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(1);
    expect(patchesTo(request.userId)).toHaveLength(1);
  });
});

describe('cancelling from the scheduled card in the channel (outside review F11)', () => {
  const POLICY = 'rules:\n  - name: leavers\n    action: disable\n    approvers: [UAPPROVER, UAPPROVER2]\n';

  it("the card keeps a Cancel button; an approver of the request's rule cancels with it, anyone else is refused privately", async () => {
    const file = path.join(world.dir, 'policy.yaml');
    fs.writeFileSync(file, POLICY);
    const driven = await world.startBot({
      env: { IAM_POLICY_FILE: file, IAM_OPERATORS: 'UREQ,UOPS', IAM_APPROVERS: 'UAPPROVER' },
    });
    const request = await schedule(driven, 'gil@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    const card = world.slack.callsTo('chat.update').at(-1)!;
    expect(card.args.ts).toBe(request.ts);
    const buttons = blocksOf(card).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
    expect(buttons).toEqual([expect.objectContaining({ action_id: CANCEL, value: request.id })]);

    const inChannel = () => world.slack.calls.filter((c) => c.args.channel === 'C1').length;
    const before = inChannel();
    await click(driven, CANCEL, request, 'UOPS');
    const refusal = world.slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'UOPS');
    expect(shown(refusal!)).toContain(
      'Only the requester or an approver of rule 1 (leavers) of IAM_POLICY_FILE can cancel',
    );
    expect(inChannel()).toBe(before);
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({ status: 'approved' });

    await click(driven, CANCEL, request, 'UAPPROVER2');
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({
      status: 'cancelled',
      result: { cancelledBy: 'UAPPROVER2' },
    });
    const cancelled = world.slack.callsTo('chat.update').at(-1)!;
    expect(shown(cancelled)).toContain('Scheduled disable cancelled');
    expect(hasButtons(cancelled)).toBe(false);
    // Outside review F15: cancelled by someone else, the requester is told by DM.
    const dms = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ');
    expect(dms.map(shown)).toEqual([expect.stringContaining('was cancelled by <@UAPPROVER2>')]);
    world.advance(DUE.getTime() - world.now.getTime());
    expect(await runAt(driven)).toBe(0);
    expect(patchesTo(request.userId)).toEqual([]);
  });

  it('an approver removed from the policy since (bot restarted) can no longer cancel it', async () => {
    const file = path.join(world.dir, 'policy.yaml');
    fs.writeFileSync(file, POLICY);
    const env = { IAM_POLICY_FILE: file, IAM_OPERATORS: 'UREQ,UOPS', IAM_APPROVERS: 'UAPPROVER' };
    const first = await world.startBot({ env });
    const request = await schedule(first, 'hal@example.com');
    await click(first, APPROVE, request, 'UAPPROVER2');
    await first.stop();
    fs.writeFileSync(file, POLICY.replace('[UAPPROVER, UAPPROVER2]', '[UAPPROVER2]'));
    const driven = await world.startBot({ env });

    await click(driven, CANCEL, request, 'UAPPROVER');
    const refusal = world.slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'UAPPROVER');
    expect(shown(refusal!)).toContain(
      'You are no longer an approver of this request under the current policy',
    );
    expect(await driven.bot.context.store.getApproval(request.id)).toMatchObject({ status: 'approved' });
  });
});
