/**
 * Disable approvals through Bolt's processEvent (FakeReceiver): who may decide, deciding exactly once,
 * expiry on an injected clock, crash recovery and graceful stop.
 */
import Database from 'better-sqlite3';
import { expireDue, recoverApproved } from '../../src/handlers';
import { openStore } from '../../src/store';
import { openSqlite } from '../../src/store/sqlite';
import type { ApprovalRequest, AuditEntry } from '../../src/store/types';
import {
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

const HOUR = 3_600_000;
const APPROVE = 'iam_disable_approve';
const DENY = 'iam_disable_deny';

let world: World;

afterEach(async () => {
  await world?.close();
});

interface Requested {
  id: string;
  /** The Atlassian user's SCIM id. */
  userId: string;
  /** The request message. */
  post: SlackCall;
  ts: string;
}

/** Seeds an active user and has `requester` run /iam-disable-user for them. */
async function requestDisable(driven: DrivenBot, email: string, requester = 'UREQ'): Promise<Requested> {
  const userId = world.seedUser(email);
  await driven.receiver.send(
    slashCommand(
      '/iam-disable-user',
      `${email} reason="left the company"`,
      requester,
      world.responseUrl(email),
    ),
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

/** A button click; resolves with what was acked, once the bot has finished with it. */
async function click(
  driven: DrivenBot,
  action: string,
  request: Pick<Requested, 'id' | 'ts'>,
  userId: string,
  tag = `${action}-${userId}`,
) {
  const acked = await driven.receiver.send(
    buttonClick(action, request.id, userId, world.responseUrl(tag), request.ts),
  );
  await driven.receiver.idle();
  return acked;
}

const updates = () => world.slack.callsTo('chat.update');
const threadPosts = (ts: string) =>
  world.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === ts);

async function approval(driven: DrivenBot, id: string): Promise<ApprovalRequest | null> {
  return driven.bot.context.store.getApproval(id);
}

async function auditOf(driven: DrivenBot, requestId: string | null): Promise<AuditEntry[]> {
  const all = await driven.bot.context.store.listAudit({ limit: 1000 });
  return all.filter((e) => e.requestId === requestId).reverse();
}

const patchesTo = (userId: string) => world.scim().filter((r) => r === `PATCH /Users/${userId}`);

describe('who may decide', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('with IAM_APPROVERS set, an operator who is not an approver cannot approve, and an approver can', async () => {
    const driven = await world.startBot({
      env: { IAM_OPERATORS: 'UREQ,UOPS', IAM_APPROVERS: 'UAPPROVER' },
    });
    const request = await requestDisable(driven, 'ann@example.com');

    expect(await click(driven, APPROVE, request, 'UOPS')).toBeUndefined();
    const [refusal] = world.slack.callsTo('response_url');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('Only approvers');
    expect(patchesTo(request.userId)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending', decidedBy: null });
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['UREQ', 'command', 'requested'],
      ['UOPS', 'refusal', 'refused'],
    ]);

    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed', decidedBy: 'UAPPROVER' });
  });

  it('an approver who is not an operator cannot run commands', async () => {
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UREQ', IAM_APPROVERS: 'UAPPROVER' } });
    await driven.receiver.send(
      slashCommand('/iam-disable-user', 'bob@example.com', 'UAPPROVER', world.responseUrl('approver-cmd')),
    );
    await driven.receiver.idle();
    const [refusal] = world.slack.callsTo('response_url');
    expect(shown(refusal)).toContain('Only operators');
    expect(world.scim()).toEqual([]);
  });

  it('the requester can neither approve nor deny their own request', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'cid@example.com');
    await click(driven, APPROVE, request, 'UREQ');
    await click(driven, DENY, request, 'UREQ', 'deny-self');
    const refusals = world.slack.callsTo('response_url');
    expect(refusals).toHaveLength(2);
    for (const refusal of refusals) {
      expect(refusal.args.response_type).toBe('ephemeral');
      expect(shown(refusal)).toContain('someone else has to decide');
    }
    expect(patchesTo(request.userId)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending' });
    expect(
      (await auditOf(driven, request.id)).filter((e) => e.kind === 'refusal').map((e) => e.command),
    ).toEqual(['approve', 'deny']);
  });

  it.each([
    ['an unknown id', 'req-999'],
    ['a tampered id', 'req-1x'],
    ['an injection attempt', "req-1' OR '1'='1"],
    ['an empty value', ''],
  ])('a click carrying %s is told the request does not exist, and nothing happens', async (_name, value) => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'dee@example.com');
    expect(request.id).toBe('req-1');
    const postsBefore = world.slack.callsTo('chat.postMessage').length;
    const acked = await click(driven, APPROVE, { id: value, ts: request.ts }, 'UAPPROVER');
    expect(acked).toBeUndefined();
    const [refusal] = world.slack.callsTo('response_url');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('does not exist');
    expect(patchesTo(request.userId)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(world.slack.callsTo('chat.postMessage')).toHaveLength(postsBefore);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending' });
  });
});

describe('requests that need no approval', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('a user who does not exist or is already inactive gets the result at once, with no request', async () => {
    world.seedUser('off@example.com', { active: false });
    const driven = await world.startBot();
    for (const email of ['nobody@example.com', 'off@example.com']) {
      await driven.receiver.send(slashCommand('/iam-disable-user', email, 'UREQ', world.responseUrl(email)));
      await driven.receiver.idle();
    }
    const posts = world.slack.callsTo('chat.postMessage');
    expect(posts.map(hasButtons)).toEqual([false, false]);
    expect(shown(posts[0])).toContain('User does not exist');
    expect(shown(posts[1])).toContain('User is already disabled.');
    expect(world.scim().filter((r) => r.startsWith('PATCH'))).toEqual([]);
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
  });

  // Regression: a disable that needs no approval answers after one lookup (SPEC §2 table).
  it('that answer costs one lookup, as the SPEC table says', async () => {
    world.seedUser('off@example.com', { active: false });
    const driven = await world.startBot();
    await driven.receiver.send(
      slashCommand('/iam-disable-user', 'nobody@example.com', 'UREQ', world.responseUrl('a')),
    );
    await driven.receiver.idle();
    expect(world.scim()).toEqual(['GET /Users']);
    await driven.receiver.send(
      slashCommand('/iam-disable-user', 'off@example.com', 'UREQ', world.responseUrl('b')),
    );
    await driven.receiver.idle();
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users']);
  });
});

describe('where the request cannot be posted', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  // Regression: a request that approvers could not see in the channel must not be left pending.
  it('a disable asked in a channel the bot is not in leaves no pending request that no approver can see', async () => {
    world.seedUser('ann@example.com');
    world.slack.closedChannels.add('CPRIV');
    const driven = await world.startBot();
    await driven.receiver.send(
      slashCommand('/iam-disable-user', 'ann@example.com', 'UREQ', world.responseUrl('closed'), 'CPRIV'),
    );
    await driven.receiver.idle();
    const [told] = world.slack.callsTo('response_url');
    expect(shown(told)).toContain('/invite');
    const invisible = (await driven.bot.context.store.listPendingApprovals()).filter(
      (r) => r.messageTs === null,
    );
    expect(invisible).toEqual([]);
  });
});

describe('deciding', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('deny: the message loses its buttons and says so, the requester is told in the thread, nothing is disabled', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'eve@example.com');
    await click(driven, DENY, request, 'UAPPROVER');

    expect(updates()).toHaveLength(1);
    const [update] = updates();
    expect(update.args).toMatchObject({ channel: 'C1', ts: request.ts });
    expect(hasButtons(update)).toBe(false);
    expect(shown(update)).toContain('denied');
    expect(shown(update)).toContain('UAPPROVER');
    expect(shown(update)).toContain('eve@example.com');

    const notices = threadPosts(request.ts);
    expect(notices).toHaveLength(1);
    expect(shown(notices[0])).toContain('<@UREQ>');
    expect(shown(notices[0])).toContain('denied');

    expect(patchesTo(request.userId)).toEqual([]);
    expect(world.slack.callsTo('response_url')).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({
      status: 'denied',
      decidedBy: 'UAPPROVER',
      decidedAt: world.now,
    });
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-disable-user', 'requested'],
      ['UAPPROVER', 'decision', 'deny', 'denied'],
    ]);
  });

  it('approve: exactly one PATCH active:false, the message updated, the result table and a notice in the thread', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'fay@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');

    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(world.patches()).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ Operations: [{ op: 'replace', value: { active: false } }] }),
      }),
    ]);

    // The message is updated (first "disabling now", then the outcome); the last one has no buttons.
    const last = updates()[updates().length - 1];
    expect(updates().every((u) => u.args.ts === request.ts && !hasButtons(u))).toBe(true);
    expect(shown(last)).toContain('User disabled');
    expect(shown(last)).toContain('UAPPROVER');

    const thread = threadPosts(request.ts);
    expect(thread).toHaveLength(2);
    const [result, notice] = thread;
    expect(blocksOf(result).filter((b) => b.type === 'table')).toHaveLength(1);
    expect(shown(result)).toContain('Disable User Results (Atlassian IAM)');
    expect(shown(notice)).toContain('<@UREQ>');
    expect(shown(notice)).toContain('disabled');
    expect(world.slack.callsTo('response_url')).toEqual([]);

    expect(await approval(driven, request.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UAPPROVER',
      result: { IAM: { Vendor: { action: 'disable', success: true, active: false } } },
    });
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-disable-user', 'requested'],
      ['UAPPROVER', 'decision', 'approve', 'approved'],
      ['UAPPROVER', 'result', 'iam-disable-user', 'success'],
    ]);
  });

  // Outside review F13: the decided card said "Status when requested: ❔ unknown" on every request.
  it('the decided card shows the status the user had when the request was made, never "unknown"', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'gus@example.com');
    expect(shown(request.post)).toContain('🟢 active');
    await click(driven, APPROVE, request, 'UAPPROVER');
    const last = updates()[updates().length - 1];
    expect(shown(last)).toContain('User disabled');
    expect(shown(last)).toContain(`*Status when requested*\\n🟢 active · id \`${request.userId}\``);
    expect(updates().map(shown).join()).not.toContain('unknown');
  });

  it('20 concurrent Approve clicks from two approvers disable once and record one decision', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'gus@example.com');
    const clicks = Array.from({ length: 20 }, (_, i) =>
      driven.receiver.send(
        buttonClick(
          APPROVE,
          request.id,
          i % 2 === 0 ? 'UAPPROVER' : 'UAPPROVER2',
          world.responseUrl(`race-${i}`),
          request.ts,
        ),
      ),
    );
    expect(await Promise.all(clicks)).toEqual(Array(20).fill(undefined));
    await driven.receiver.idle();

    expect(patchesTo(request.userId)).toHaveLength(1);
    const rows = await auditOf(driven, request.id);
    expect(rows.filter((e) => e.kind === 'decision')).toHaveLength(1);
    expect(rows.filter((e) => e.kind === 'result')).toHaveLength(1);
    const told = world.slack.callsTo('response_url');
    expect(told).toHaveLength(19);
    for (const refusal of told) expect(shown(refusal)).toContain('already');
    expect(threadPosts(request.ts)).toHaveLength(2); // one result table, one requester notice
    const decided = await approval(driven, request.id);
    expect(decided?.status).toBe('completed');
    expect(['UAPPROVER', 'UAPPROVER2']).toContain(decided?.decidedBy);
  });

  it('a click after the decision is told it was already decided, and changes nothing', async () => {
    const driven = await world.startBot();
    const denied = await requestDisable(driven, 'hal@example.com');
    await click(driven, DENY, denied, 'UAPPROVER');
    const approved = await requestDisable(driven, 'ida@example.com');
    await click(driven, APPROVE, approved, 'UAPPROVER');
    const before = { updates: updates().length, posts: world.slack.callsTo('chat.postMessage').length };

    await click(driven, APPROVE, denied, 'UAPPROVER2', 'late-approve');
    await click(driven, DENY, approved, 'UAPPROVER2', 'late-deny');
    const [late1, late2] = world.slack.callsTo('response_url');
    expect(shown(late1)).toContain('already denied');
    expect(shown(late2)).toContain('already approved');
    expect(late1.args.response_type).toBe('ephemeral');
    expect(patchesTo(denied.userId)).toEqual([]);
    expect(patchesTo(approved.userId)).toHaveLength(1);
    expect(updates()).toHaveLength(before.updates);
    expect(world.slack.callsTo('chat.postMessage')).toHaveLength(before.posts);
    expect(await approval(driven, denied.id)).toMatchObject({ status: 'denied', decidedBy: 'UAPPROVER' });
    expect(await approval(driven, approved.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UAPPROVER',
    });
  });
});

describe('expiry (IAM_APPROVAL_TTL=1h on an injected clock)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  const expectExpiredOnce = (request: Requested) => {
    expect(updates()).toHaveLength(1);
    const [update] = updates();
    expect(update.args).toMatchObject({ channel: 'C1', ts: request.ts });
    expect(hasButtons(update)).toBe(false);
    expect(shown(update)).toContain('expired');
    const notices = threadPosts(request.ts);
    expect(notices).toHaveLength(1);
    expect(shown(notices[0])).toContain('<@UREQ>');
    expect(shown(notices[0])).toContain('expired');
    expect(patchesTo(request.userId)).toEqual([]);
  };

  it('a click one second before the TTL still decides', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'jan@example.com');
    world.advance(HOUR - 1000);
    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed' });
  });

  it('a click after the TTL is told the request expired; the message is updated once; nothing is disabled', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'kim@example.com');
    world.advance(HOUR + 1000);
    expect(await click(driven, APPROVE, request, 'UAPPROVER')).toBeUndefined();

    const [refusal] = world.slack.callsTo('response_url');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('expired');
    expect(await approval(driven, request.id)).toMatchObject({ status: 'expired', decidedBy: null });
    expectExpiredOnce(request);

    // A second click and the next sweep change nothing more.
    await click(driven, APPROVE, request, 'UAPPROVER2', 'second');
    await expireDue(driven.bot.context, driven.bot.app.client);
    expect(shown(world.slack.callsTo('response_url')[1])).toContain('already expired');
    expectExpiredOnce(request);
  });

  it('the sweep (expireDue) expires a request nobody clicked and updates its message once', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'lou@example.com');
    await expireDue(driven.bot.context, driven.bot.app.client);
    expect(updates()).toEqual([]);

    world.advance(HOUR);
    await expireDue(driven.bot.context, driven.bot.app.client);
    await expireDue(driven.bot.context, driven.bot.app.client);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'expired' });
    expectExpiredOnce(request);
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-disable-user', 'requested'],
      ['system', 'decision', 'expire', 'expired'],
    ]);
  });

  it('the periodic sweep expires due requests on its own', async () => {
    const driven = await world.startBot({ expirySweepMs: 20 });
    const request = await requestDisable(driven, 'max@example.com');
    world.advance(HOUR + 1000);
    const update = await world.slack.waitFor((c) => c.method === 'chat.update');
    expect(shown(update)).toContain('expired');
    expect(await approval(driven, request.id)).toMatchObject({ status: 'expired' });
  });

  it('a bot started after the TTL passed expires the request at start and updates the message', async () => {
    const first = await world.startBot();
    const request = await requestDisable(first, 'ned@example.com');
    await first.stop();
    world.advance(2 * HOUR);
    const second = await world.startBot();
    expect(await approval(second, request.id)).toMatchObject({ status: 'expired' });
    expectExpiredOnce(request);
  });

  it('a pending request survives a restart and can be approved on the new bot', async () => {
    const first = await world.startBot();
    const request = await requestDisable(first, 'oda@example.com');
    await first.stop();
    world.advance(HOUR / 2);
    const second = await world.startBot();
    await click(second, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await approval(second, request.id)).toMatchObject({ status: 'completed' });
  });
});

describe('restarts and shutdown', () => {
  it('an approved disable that a crash interrupted is carried out at the next start, exactly once', async () => {
    world = await startWorld();
    const userId = world.seedUser('pia@example.com');
    // The state a crash leaves behind: decided 'approved', the disable never ran.
    const store = await openStore({ kind: 'sqlite', path: world.dbPath });
    await store.createApproval({
      id: 'req-crash',
      action: 'disable',
      requesterId: 'UREQ',
      channelId: 'C1',
      teamId: 'T1',
      enterpriseId: null,
      profile: { id: userId, email: 'pia@example.com' },
      target: 'pia@example.com',
      reason: 'left the company',
      createdAt: world.now,
      expiresAt: new Date(world.now.getTime() + HOUR),
    });
    await store.setApprovalMessage('req-crash', 'C1', '1699999999.000100');
    expect(await store.decideApproval('req-crash', 'approved', 'UAPPROVER', world.now)).not.toBeNull();
    await store.close();

    const first = await world.startBot();
    expect(patchesTo(userId)).toHaveLength(1);
    expect(world.patches()[0]).toMatchObject({
      body: { Operations: [{ op: 'replace', value: { active: false } }] },
    });
    expect(await approval(first, 'req-crash')).toMatchObject({
      status: 'completed',
      result: { IAM: { Vendor: { success: true, active: false } } },
    });
    const update = await world.slack.waitFor((c) => c.method === 'chat.update');
    expect(update.args).toMatchObject({ channel: 'C1', ts: '1699999999.000100' });
    expect(shown(update)).toContain('User disabled');
    expect(threadPosts('1699999999.000100')).toHaveLength(2);
    await first.stop();

    const second = await world.startBot();
    expect(patchesTo(userId)).toHaveLength(1);
    expect(updates()).toHaveLength(1);
    expect((await auditOf(second, 'req-crash')).map((e) => [e.kind, e.outcome])).toEqual([
      ['result', 'success'],
    ]);
  });

  // Regression: an approved disable is carried out by one instance only (the claim's lease).
  it('a second instance starting while the first is mid-disable does not carry it out again', async () => {
    world = await startWorld({ latencyMs: 600 });
    const first = await world.startBot();
    const request = await requestDisable(first, 'rex@example.com');
    await first.receiver.send(
      buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl('multi'), request.ts),
    );
    // The first instance's lookup by id (just before its PATCH) has reached Atlassian.
    while (!world.scim().includes(`GET /Users/${request.userId}`))
      await new Promise((r) => setTimeout(r, 10));
    const second = await world.startBot();
    await first.receiver.idle();
    await second.stop();
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect((await auditOf(first, request.id)).filter((e) => e.kind === 'result')).toHaveLength(1);
  });

  it('stop() finishes an approved disable in flight before it resolves, and takes no new requests', async () => {
    world = await startWorld({ latencyMs: 300 });
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'quinn@example.com');

    await driven.receiver.send(
      buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl('graceful'), request.ts),
    );
    expect(patchesTo(request.userId)).toEqual([]); // acked; the SCIM work has not even started
    await driven.stop();

    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(shown(updates()[updates().length - 1])).toContain('User disabled');
    expect(threadPosts(request.ts)).toHaveLength(2);
    const reopened = await openStore({ kind: 'sqlite', path: world.dbPath });
    try {
      expect(await reopened.getApproval(request.id)).toMatchObject({ status: 'completed' });
    } finally {
      await reopened.close();
    }
    await expect(
      driven.receiver.send(
        slashCommand('/iam-get-user', 'x@example.com', 'UADMIN', world.responseUrl('late')),
      ),
    ).rejects.toThrow('not taking requests');
  });
});

describe('finding 9: decisions are bound to their context', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  type Click = Record<string, unknown>;
  const elsewhere: [string, (click: Click) => Click][] = [
    ['another team', (c) => ({ ...c, team: { id: 'T2', domain: 'other' } })],
    ['another enterprise', (c) => ({ ...c, enterprise: { id: 'E9', name: 'Other Org' } })],
    ['another channel', (c) => ({ ...c, channel: { id: 'C2', name: 'random' } })],
    [
      'another message',
      (c) => ({
        ...c,
        container: { type: 'message', message_ts: '1700000099.000100', channel_id: 'C1' },
        message: { ts: '1700000099.000100', type: 'message', text: 'copy' },
      }),
    ],
  ];

  it.each(elsewhere)('a click from %s is refused, audited and decides nothing', async (_where, move) => {
    const driven = await world.startBot();
    const email = 'moe@example.com';
    const userId = world.seedUser(email);
    // Made in an Enterprise Grid workspace, so the enterprise is part of its context.
    await driven.receiver.send({
      ...slashCommand('/iam-disable-user', `${email} reason="left"`, 'UREQ', world.responseUrl('req')),
      enterprise_id: 'E1',
    });
    await driven.receiver.idle();
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && hasButtons(c));
    const request = { id: 'req-1', ts: tsOf(world.slack, post) };
    const inGrid = (c: Click): Click => ({ ...c, enterprise: { id: 'E1', name: 'Org' } });
    const clickFrom = (tag: string): Click =>
      inGrid(buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl(tag), request.ts));

    await driven.receiver.send(move(clickFrom('moved')));
    await driven.receiver.idle();
    const [refusal] = world.slack.callsTo('response_url');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('Nothing was done');
    expect(shown(refusal)).not.toContain(email); // the refusal names no part of the request
    expect(patchesTo(userId)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending', decidedBy: null });
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-disable-user', 'requested'],
      ['UAPPROVER', 'refusal', 'approve', 'refused'],
    ]);

    // The same approver, from the request's own team, org, channel and message, decides it.
    await driven.receiver.send(clickFrom('home'));
    await driven.receiver.idle();
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed', decidedBy: 'UAPPROVER' });
    expect(patchesTo(userId)).toHaveLength(1);
  });

  it('a card posted but not recorded (a crash between the two) is bound by the first click from its own channel', async () => {
    const driven = await world.startBot();
    const email = 'noel@example.com';
    const userId = world.seedUser(email);
    await driven.receiver.send(
      slashCommand('/iam-disable-user', `${email} reason="left"`, 'UREQ', world.responseUrl('req')),
    );
    await driven.receiver.idle();
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage' && hasButtons(c));
    const request = { id: 'req-1', ts: tsOf(world.slack, post) };
    const db = new Database(world.dbPath);
    db.prepare('UPDATE approvals SET message_ts = NULL WHERE id = ?').run(request.id);
    db.close();

    const click = buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl('other'), request.ts);
    await driven.receiver.send({ ...click, channel: { id: 'C2', name: 'random' } });
    await driven.receiver.idle();
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending', messageTs: null });

    await driven.receiver.send(
      buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl('card'), request.ts),
    );
    await driven.receiver.idle();
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed', messageTs: request.ts });
    expect(patchesTo(userId)).toHaveLength(1);
  });

  it('an admin of another workspace (users.info team T2) is no approver', async () => {
    world.slack.users.set('UFOREIGN', { is_admin: true, team_id: 'T2' });
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'kim@example.com');
    await click(driven, APPROVE, request, 'UFOREIGN');
    expect(shown(world.slack.callsTo('response_url')[0])).toContain('Only approvers');
    expect(patchesTo(request.userId)).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending' });
  });

  it('a permission removed in Slack stops Approve / Deny at once, and commands within 60 s', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'lou@example.com');
    // UAPPROVER's rights are looked up (and cached) by a command of theirs.
    await driven.receiver.send(
      slashCommand('/iam-get-user', 'lou@example.com', 'UAPPROVER', world.responseUrl('get-1')),
    );
    await driven.receiver.idle();
    world.slack.users.set('UAPPROVER', {}); // no longer an admin
    world.advance(59_000);

    await click(driven, APPROVE, request, 'UAPPROVER', 'approve-removed');
    expect(shown(world.slack.callsTo('response_url').at(-1)!)).toContain('Only approvers');
    expect(patchesTo(request.userId)).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending' });

    const getAs = async (tag: string) => {
      await driven.receiver.send(
        slashCommand('/iam-get-user', 'lou@example.com', 'UAPPROVER2', world.responseUrl(tag)),
      );
      await driven.receiver.idle();
    };
    await getAs('get-2');
    expect(world.slack.callsTo('response_url').filter((c) => shown(c).includes('Only operators'))).toEqual(
      [],
    );
    world.slack.users.set('UAPPROVER2', {});
    world.advance(60_000);
    await getAs('get-3');
    expect(shown(world.slack.callsTo('response_url').at(-1)!)).toContain('Only operators');
  });
});

/** Runs a slash command as `userId` and waits until the bot is done with it. */
async function run(driven: DrivenBot, command: string, text: string, userId = 'UREQ', tag = text) {
  await driven.receiver.send(slashCommand(command, text, userId, world.responseUrl(tag)));
  await driven.receiver.idle();
}

/** The newest approval request message (with buttons) and its request id. */
function latestRequest(): Pick<Requested, 'id' | 'post' | 'ts'> {
  const post = world.slack.callsTo('chat.postMessage').filter(hasButtons).pop();
  if (!post) throw new Error('no approval request was posted');
  const id = blocksOf(post)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === APPROVE)?.value;
  if (!id) throw new Error('the request message has no Approve button');
  return { id, post, ts: tsOf(world.slack, post) };
}

describe('taking an account over needs two people (issue 10 finding 7)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('/iam-enable-user needs an approval: nothing is enabled until an approver approves', async () => {
    const userId = world.seedUser('una@example.com', { active: false });
    const driven = await world.startBot();
    await run(driven, '/iam-enable-user', 'una@example.com reason="back from leave"');
    const request = latestRequest();
    expect(shown(request.post)).toContain('asks to enable');
    expect(shown(request.post)).toContain('Approve and enable');
    expect(patchesTo(userId)).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({
      action: 'enable',
      status: 'pending',
      profile: { id: userId, email: 'una@example.com' },
      reason: 'back from leave',
    });

    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(world.patches()).toEqual([
      expect.objectContaining({
        path: expect.stringContaining(`/Users/${userId}`),
        body: expect.objectContaining({ Operations: [{ op: 'replace', value: { active: true } }] }),
      }),
    ]);
    expect(shown(updates()[updates().length - 1])).toContain('User enabled');
    const thread = threadPosts(request.ts);
    expect(shown(thread[0])).toContain('Enable User Results (Atlassian IAM)');
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-enable-user', 'requested'],
      ['UAPPROVER', 'decision', 'approve', 'approved'],
      ['UAPPROVER', 'result', 'iam-enable-user', 'success'],
    ]);
  });

  it('the requester cannot approve their own enable', async () => {
    const userId = world.seedUser('vic@example.com', { active: false });
    const driven = await world.startBot();
    await run(driven, '/iam-enable-user', 'vic@example.com');
    const request = latestRequest();
    await click(driven, APPROVE, request, 'UREQ');
    const [refusal] = world.slack.callsTo('response_url');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('You asked for this enable, so someone else has to decide it');
    expect(patchesTo(userId)).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending' });
  });

  it('/iam-update-user changing the email needs approval, and Approve applies exactly the approved change', async () => {
    const userId = world.seedUser('wes@example.com', { title: 'Analyst' });
    const driven = await world.startBot();
    await run(
      driven,
      '/iam-update-user',
      '{"email":"mallory@evil.example","olduserdata":{"email":"wes@example.com"}}',
    );
    const request = latestRequest();
    expect(patchesTo(userId)).toEqual([]);
    const card = shown(request.post);
    expect(card).toContain('asks to update');
    expect(card).toContain('wes@example.com');
    expect(card).toContain('mallory@evil.example');
    expect(card).toContain('→');
    const stored = await approval(driven, request.id);
    expect(stored).toMatchObject({ action: 'update', target: 'wes@example.com', profile: { id: userId } });
    const value = stored?.profile.value as Record<string, unknown>;
    expect(value).toMatchObject({ userName: 'mallory@evil.example' });
    expect(stored?.profile.changes).toEqual(
      expect.arrayContaining([
        { attribute: 'userName', before: 'wes@example.com', after: 'mallory@evil.example' },
        { attribute: 'emails', before: 'wes@example.com', after: 'mallory@evil.example' },
      ]),
    );

    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(world.patches()).toEqual([
      expect.objectContaining({
        path: expect.stringContaining(`/Users/${userId}`),
        body: expect.objectContaining({ Operations: [{ op: 'replace', value }] }),
      }),
    ]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed' });
    expect(shown(updates()[updates().length - 1])).toContain('User updated');
    expect(shown(threadPosts(request.ts)[0])).toContain('Update User Results (Atlassian IAM)');
  });

  it('an update that would re-enable an inactive user needs approval', async () => {
    const userId = world.seedUser('xia@example.com', { active: false, title: 'Intern' });
    const driven = await world.startBot();
    await run(driven, '/iam-update-user', 'email=xia@example.com title="Team Lead"');
    const request = latestRequest();
    expect(patchesTo(userId)).toEqual([]);
    const stored = await approval(driven, request.id);
    expect(stored?.profile.changes).toEqual([
      { attribute: 'title', before: 'Intern', after: 'Team Lead' },
      { attribute: 'active', before: 'false', after: 'true' },
    ]);
    expect(shown(request.post)).toContain('Intern');
    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(world.patches()).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({
          Operations: [
            { op: 'replace', value: expect.objectContaining({ title: 'Team Lead', active: true }) },
          ],
        }),
      }),
    ]);
  });

  it('a create that finds an existing inactive user (so re-enables them) needs approval; a new user is created at once', async () => {
    const userId = world.seedUser('ivy@example.com', { active: false });
    const driven = await world.startBot();
    await run(driven, '/iam-create-user', 'email=ivy@example.com title=Lead');
    expect(patchesTo(userId)).toEqual([]);
    const request = latestRequest();
    expect(await approval(driven, request.id)).toMatchObject({ action: 'update', profile: { id: userId } });
    await run(driven, '/iam-create-user', 'email=new@example.com');
    expect(world.scim().filter((r) => r === 'POST /Users')).toHaveLength(1);
  });

  it('a plain title update (no identifier change, no re-enable) still runs at once', async () => {
    const userId = world.seedUser('yan@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    await run(driven, '/iam-update-user', 'email=yan@example.com title="Team Lead"');
    expect(patchesTo(userId)).toHaveLength(1);
    expect(world.slack.callsTo('chat.postMessage').some(hasButtons)).toBe(false);
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
    // …and so does one that leaves an inactive user inactive (allow-enable=false).
    const offId = world.seedUser('zed@example.com', { active: false });
    await run(driven, '/iam-update-user', 'email=zed@example.com title=Lead allow-enable=false');
    expect(patchesTo(offId)).toHaveLength(1);
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
  });
});

describe('the approval row is stored before its card is posted (issue 11)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('the request is in the store when its card is posted', async () => {
    world.seedUser('ann@example.com');
    const driven = await world.startBot();
    const store = driven.bot.context.store;
    const create = store.createApproval.bind(store);
    let postsWhenStored = -1;
    store.createApproval = (request) => {
      postsWhenStored = world.slack.callsTo('chat.postMessage').length;
      return create(request);
    };
    await run(driven, '/iam-disable-user', 'ann@example.com');
    expect(postsWhenStored).toBe(0);
    expect(latestRequest().id).toBe('req-1');
  });

  it('when storing fails, no card is posted and the requester is told', async () => {
    const userId = world.seedUser('bo@example.com');
    const driven = await world.startBot();
    driven.bot.context.store.createApproval = () => Promise.reject(new Error('disk full'));
    await run(driven, '/iam-disable-user', 'bo@example.com', 'UREQ', 'store-fails');
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    const [told] = world.slack.callsTo('response_url');
    expect(told.args.response_type).toBe('ephemeral');
    expect(shown(told)).toContain('could not be stored');
    expect(patchesTo(userId)).toEqual([]);
  });

  it('a request whose card cannot be posted is closed as failed, audited, and the requester told', async () => {
    world.seedUser('di@example.com', { active: false });
    world.slack.closedChannels.add('CPRIV');
    const driven = await world.startBot();
    await driven.receiver.send(
      slashCommand('/iam-enable-user', 'di@example.com', 'UREQ', world.responseUrl('closed'), 'CPRIV'),
    );
    await driven.receiver.idle();
    expect(shown(world.slack.callsTo('response_url')[0])).toContain('/invite');
    expect(await approval(driven, 'req-1')).toMatchObject({
      action: 'enable',
      status: 'failed',
      result: { reason: 'the bot cannot post in this channel' },
    });
    expect((await auditOf(driven, 'req-1')).map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['UREQ', 'command', 'requested'],
      ['system', 'result', 'failed'],
    ]);
  });

  it('the change is made before the card is updated: one update, showing the outcome', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'cy@example.com');
    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(updates()).toHaveLength(1);
    expect(shown(updates()[0])).toContain('User disabled');
  });
});

describe('one bad approved row never stops the others (issue 10 finding 4)', () => {
  /** An approved request as a crash leaves it; `profile` is what was stored. */
  async function storeApproved(
    id: string,
    profile: Record<string, unknown>,
    target: string,
    messageTs: string,
  ) {
    const store = await openStore({ kind: 'sqlite', path: world.dbPath });
    try {
      await store.createApproval({
        id,
        action: 'disable',
        requesterId: 'UREQ',
        channelId: 'C1',
        teamId: 'T1',
        enterpriseId: null,
        profile,
        target,
        reason: null,
        createdAt: world.now,
        expiresAt: new Date(world.now.getTime() + HOUR),
      });
      await store.setApprovalMessage(id, 'C1', messageTs);
      await store.decideApproval(id, 'approved', 'UAPPROVER', world.now);
    } finally {
      await store.close();
    }
  }

  const expectFailed = async (driven: DrivenBot, id: string, ts: string) => {
    expect(await approval(driven, id)).toMatchObject({
      status: 'failed',
      result: { reason: expect.stringContaining('disable request id: not a usable Atlassian user id') },
    });
    expect((await auditOf(driven, id)).map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['system', 'result', 'failed'],
    ]);
    const update = world.slack.callsTo('chat.update').find((c) => c.args.ts === ts);
    expect(shown(update as SlackCall)).toContain('request failed');
    expect(threadPosts(ts).map(shown).join()).toContain('could not be carried out');
  };

  it('at start: a stored bad row ends as failed, the bot starts, and the next approved request is carried out', async () => {
    world = await startWorld();
    const userId = world.seedUser('dot@example.com');
    // /iam-disable-user {"id":"."} once stored a profile with no identifier (ids: req-bad, then req-good).
    await storeApproved('req-bad', { id: '.' }, '.', '1699999999.000100');
    await storeApproved(
      'req-good',
      { id: userId, email: 'dot@example.com' },
      'dot@example.com',
      '1699999999.000200',
    );
    const driven = await world.startBot();
    await expectFailed(driven, 'req-bad', '1699999999.000100');
    expect(patchesTo(userId)).toHaveLength(1);
    expect(await approval(driven, 'req-good')).toMatchObject({ status: 'completed' });
  });

  it('a bad row whose failure row cannot be written is not failed (nothing announced); once the log works the sweep fails it, with one row (issue 11)', async () => {
    world = await startWorld();
    const driven = await world.startBot();
    await storeApproved('req-unlogged', { id: '.' }, '.', '1699999999.000500');
    const db = openSqlite(world.dbPath);
    db.exec(`CREATE TRIGGER broken_audit BEFORE INSERT ON audit_log WHEN NEW.outcome = 'failed'
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    await recoverApproved(driven.bot.context, driven.bot.app.client);
    expect(await approval(driven, 'req-unlogged')).toMatchObject({ status: 'approved', result: null });
    expect(await auditOf(driven, 'req-unlogged')).toEqual([]);
    expect(world.slack.callsTo('chat.update')).toEqual([]);
    expect(driven.logs.join('\n')).toContain('AUDIT ROW MISSING: the failure was not recorded');

    db.exec('DROP TRIGGER broken_audit');
    db.close();
    world.advance(5 * 60_000); // past the lease
    await recoverApproved(driven.bot.context, driven.bot.app.client);
    await expectFailed(driven, 'req-unlogged', '1699999999.000500');
  });

  it('in the sweep: a bad row fails on its own and the next approved request is still carried out', async () => {
    world = await startWorld();
    const userId = world.seedUser('eli@example.com');
    const driven = await world.startBot();
    await storeApproved('req-bad', {}, 'unknown user', '1699999999.000300');
    await storeApproved('req-good', { id: userId }, 'eli@example.com', '1699999999.000400');
    await recoverApproved(driven.bot.context, driven.bot.app.client);
    expect(await approval(driven, 'req-bad')).toMatchObject({ status: 'failed' });
    expect(patchesTo(userId)).toHaveLength(1);
    expect(await approval(driven, 'req-good')).toMatchObject({ status: 'completed' });
  });
});

describe('no approval step without its audit row (issue 10 finding 3, issue 11 finding 2)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  /** Makes the bot's SQLite file refuse the audit rows matching `when`, the way a broken disk would. */
  function breakAuditLog(when = 'TRUE') {
    const db = openSqlite(world.dbPath);
    try {
      db.exec(`CREATE TRIGGER broken_audit BEFORE INSERT ON audit_log WHEN ${when}
               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    } finally {
      db.close();
    }
  }

  function repairAuditLog() {
    const db = openSqlite(world.dbPath);
    try {
      db.exec('DROP TRIGGER broken_audit');
    } finally {
      db.close();
    }
  }

  it('a request whose "requested" row cannot be written is neither stored nor posted, and the requester is told', async () => {
    const userId = world.seedUser('ned@example.com');
    const driven = await world.startBot();
    breakAuditLog();
    await run(driven, '/iam-disable-user', 'ned@example.com', 'UREQ', 'no-audit');
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
    const [told] = world.slack.callsTo('response_url');
    expect(shown(told)).toContain('The audit log is unavailable, so nothing was done.');
    expect(patchesTo(userId)).toEqual([]);
  });

  it('a decision whose row cannot be written decides nothing and the clicker is told; a later click decides', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'ola@example.com');
    breakAuditLog("NEW.kind = 'decision'");
    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toEqual([]);
    expect(updates()).toEqual([]);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'pending', decidedBy: null });
    const [told] = world.slack.callsTo('response_url');
    expect(told.args.response_type).toBe('ephemeral');
    expect(shown(told)).toContain('The audit log is unavailable, so nothing was done.');
    expect(driven.logs.join('\n')).toContain('decision not recorded; nothing was decided');

    repairAuditLog();
    await click(driven, APPROVE, request, 'UAPPROVER', 'again');
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect((await auditOf(driven, request.id)).map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UREQ', 'command', 'iam-disable-user', 'requested'],
      ['UAPPROVER', 'decision', 'approve', 'approved'],
      ['UAPPROVER', 'result', 'iam-disable-user', 'success'],
    ]);
  });

  it('a result row that cannot be written after the disable: nothing completed, the approver told, and a sweep completes it once the log works (issue 11: the kill window)', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'pia@example.com');
    breakAuditLog("NEW.kind = 'result'");
    await click(driven, APPROVE, request, 'UAPPROVER');
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'approved', result: null });
    expect(driven.logs.join('\n')).toMatch(/AUDIT ROW MISSING.*iam-disable-user/);
    const dm = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UAPPROVER');
    expect(dm.map(shown).join('\n')).toContain('the audit log is unavailable, so it is not recorded yet');
    // The disable was made: the approver is never told that nothing was done.
    expect(dm.map(shown).join('\n')).not.toContain('Nothing was done');
    expect(threadPosts(request.ts)).toHaveLength(0);

    repairAuditLog();
    world.advance(5 * 60_000); // past the lease
    await recoverApproved(driven.bot.context, driven.bot.app.client);
    expect(patchesTo(request.userId)).toHaveLength(1);
    expect(await approval(driven, request.id)).toMatchObject({ status: 'completed' });
    expect(shown(updates()[updates().length - 1])).toContain('User disabled');
    expect(threadPosts(request.ts)).toHaveLength(2);
    const results = (await auditOf(driven, request.id)).filter((e) => e.kind === 'result');
    expect(results.map((e) => [e.command, e.outcome])).toEqual([['iam-disable-user', 'success']]);
  });

  it('an expiry whose row cannot be written still expires and updates the card; the sweep goes on', async () => {
    const driven = await world.startBot();
    const request = await requestDisable(driven, 'quinn@example.com');
    breakAuditLog("NEW.command = 'expire'");
    world.advance(HOUR);
    await expect(expireDue(driven.bot.context, driven.bot.app.client)).resolves.toBeUndefined();
    expect(await approval(driven, request.id)).toMatchObject({ status: 'expired' });
    expect(updates()).toHaveLength(1);
    expect(shown(updates()[0])).toContain('expired');
    expect(driven.logs.join('\n')).toMatch(/AUDIT ROW MISSING.*expire/);
  });
});

describe('a card Slack will not update (hostile review F13)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('still posts the result and tells the requester in its thread; with Slack refusing every post, the requester gets a DM', async () => {
    const driven = await world.startBot();
    const first = await requestDisable(driven, 'una@example.com');
    world.slack.failing.set('chat.update', 'ratelimited');
    await click(driven, APPROVE, first, 'UAPPROVER');
    expect(patchesTo(first.userId)).toHaveLength(1);
    expect(threadPosts(first.ts).map(shown).join('\n')).toContain('una@example.com');
    expect(threadPosts(first.ts)).toHaveLength(2);

    world.slack.failing.delete('chat.update');
    const second = await requestDisable(driven, 'vic@example.com');
    world.slack.failing.set('chat.update', 'ratelimited');
    world.slack.failing.set('chat.postMessage', 'ratelimited');
    await click(driven, APPROVE, second, 'UAPPROVER');
    expect(patchesTo(second.userId)).toHaveLength(1);
    expect((await approval(driven, second.id))?.status).toBe('completed');
    const dms = world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UREQ');
    expect(dms.length).toBeGreaterThanOrEqual(1);
  });
});
