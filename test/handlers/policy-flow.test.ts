/**
 * The Slack approval flow under an approval policy (IAM_POLICY_FILE, docs/POLICY.md), through Bolt's
 * processEvent (FakeReceiver): N-of-M approvals, the rule's requesters, reason, channel, impossible
 * rules, escalation, and the requester's DM of each outcome.
 */
import fs from 'node:fs';
import path from 'node:path';
import { APPROVAL_LEASE_MS, expireDue, recoverApproved } from '../../src/handlers';
import { LEGACY_RULE } from '../../src/store';
import type { ApprovalRule, AuditEntry } from '../../src/store/types';
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

const MINUTE = 60_000;
const APPROVE = 'iam_disable_approve';
const DENY = 'iam_disable_deny';

const POLICY = `
rules:
  - name: admin-disable
    action: disable
    target:
      email: "*-admin@*"
    approvers: [UAPPROVER, UAPPROVER2, UADMIN]
    approvals: 2
    reason: required
    expires: 2h
    escalate: { after: 30m, to: [S0CISO] }
  - name: contractor-disable
    action: disable
    target:
      domain: contractors.example.com
    requesters: [UOPS]
    channel: C0SECURITY
  - name: enable-by-security
    action: enable
    approvers: [S0SECURITY]
  - name: create-approved
    action: create
    approvers: [UAPPROVER, UAPPROVER2]
  - name: rename
    action: identifier-change
    approvers: [UAPPROVER, UAPPROVER2, UADMIN]
    approvals: 2
  - name: finance-updates
    action: update
    target:
      department: Finance
    approvers: [UAPPROVER, UAPPROVER2]
`;

let world: World;

afterEach(async () => {
  await world?.close();
});

/** A bot whose IAM_POLICY_FILE is POLICY; UREQ, UOPS and UAPPROVER are operators, UAPPROVER the approver. */
async function startPolicyBot(): Promise<DrivenBot> {
  world = await startWorld();
  world.slack.groups.set('S0CISO', ['UMEMBER']);
  world.slack.groups.set('S0SECURITY', ['UGRP']);
  const file = path.join(world.dir, 'policy.yaml');
  fs.writeFileSync(file, POLICY);
  return world.startBot({
    env: { IAM_POLICY_FILE: file, IAM_OPERATORS: 'UREQ,UOPS,UAPPROVER', IAM_APPROVERS: 'UAPPROVER' },
  });
}

interface Card {
  id: string;
  ts: string;
  channel: string;
  userId: string;
}

/** What the bot said privately (response_url) from the `since`-th such call on. */
const privately = (since: number): string =>
  world.slack.callsTo('response_url').slice(since).map(shown).join('\n');

/** Runs a slash command as `requester`; returns what the requester was told privately. */
async function command(driven: DrivenBot, name: string, text: string, requester: string): Promise<string> {
  const since = world.slack.callsTo('response_url').length;
  await driven.receiver.send(slashCommand(name, text, requester, world.responseUrl(`${requester}-${since}`)));
  await driven.receiver.idle();
  return privately(since);
}

/** The request card that mentions `email`. */
async function cardFor(email: string, userId: string): Promise<Card> {
  const post = await world.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes(email),
  );
  const approve = blocksOf(post)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === APPROVE);
  if (!approve?.value) throw new Error('the request card has no Approve button');
  return { id: approve.value, ts: tsOf(world.slack, post), channel: String(post.args.channel), userId };
}

async function requestDisable(driven: DrivenBot, email: string): Promise<Card> {
  const userId = world.seedUser(email);
  await command(driven, '/iam-disable-user', `${email} reason="left"`, 'UREQ');
  return cardFor(email, userId);
}

/** A click on the card; returns what the clicker was told privately. */
async function click(driven: DrivenBot, action: string, card: Card, userId: string): Promise<string> {
  const since = world.slack.callsTo('response_url').length;
  const payload = buttonClick(
    action,
    card.id,
    userId,
    world.responseUrl(`${action}-${since}`),
    card.ts,
    card.channel,
  );
  await driven.receiver.send(payload);
  await driven.receiver.idle();
  return privately(since);
}

const posts = () => world.scim().filter((r) => r.startsWith('POST'));
const patchesTo = (userId: string) => world.scim().filter((r) => r === `PATCH /Users/${userId}`);
const dmsTo = (userId: string): SlackCall[] =>
  world.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === userId);
const lastUpdate = () => world.slack.callsTo('chat.update').at(-1);
async function auditOf(driven: DrivenBot, requestId: string | null): Promise<AuditEntry[]> {
  const all = await driven.bot.context.store.listAudit({ limit: 1000 });
  return all.filter((e) => e.requestId === requestId).reverse();
}

describe('N-of-M approvals (rule admin-disable: 2 of UAPPROVER, UAPPROVER2, UADMIN)', () => {
  it('needs two distinct approvers: the requester and a second click by the same approver count for nothing', async () => {
    const driven = await startPolicyBot();
    const card = await requestDisable(driven, 'boss-admin@example.com');
    expect(shown(await world.slack.waitFor((c) => hasButtons(c)))).toContain('0 of 2');

    expect(await click(driven, APPROVE, card, 'UREQ')).toContain('someone else has to decide');
    expect(await click(driven, APPROVE, card, 'UOPS')).toContain(
      'Only the approvers of rule 1 (admin-disable)',
    );
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('Your approval is recorded (1 of 2)');
    expect(shown(lastUpdate()!)).toMatch(/1 of 2 · approved by <@UAPPROVER> · 1 more needed/);
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('You approved this disable already');
    expect(patchesTo(card.userId)).toEqual([]);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'pending' });

    await click(driven, APPROVE, card, 'UAPPROVER2');
    expect(patchesTo(card.userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UAPPROVER2',
      rule: { source: 'file', number: 1, name: 'admin-disable', approvals: 2 },
    });
    expect((await auditOf(driven, card.id)).map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['UREQ', 'command', 'requested'],
      ['UREQ', 'refusal', 'refused'],
      ['UOPS', 'refusal', 'refused'],
      ['UAPPROVER', 'decision', 'voted'],
      ['UAPPROVER', 'refusal', 'refused'],
      ['UAPPROVER2', 'decision', 'approved'],
      ['UAPPROVER2', 'result', 'success'],
    ]);
    const [dm] = dmsTo('UREQ');
    expect(dmsTo('UREQ')).toHaveLength(1);
    expect(shown(dm)).toContain('was approved by <@UAPPROVER> and <@UAPPROVER2>: the user is now disabled');
    expect(shown(lastUpdate()!)).toContain('*Approved by*\\n<@UAPPROVER> and <@UAPPROVER2>');
  });

  it("outside review finding 6: 2-of-3, the first approver deactivated after voting: the second vote does not approve, a third current approver's does", async () => {
    const driven = await startPolicyBot();
    const card = await requestDisable(driven, 'gone-admin@example.com');
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('Your approval is recorded (1 of 2)');
    world.slack.users.set('UAPPROVER', { ...world.slack.users.get('UAPPROVER'), deleted: true });

    expect(await click(driven, APPROVE, card, 'UAPPROVER2')).toContain('Your approval is recorded (1 of 2)');
    expect(patchesTo(card.userId)).toEqual([]);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'pending' });
    expect(await driven.bot.context.store.listVoters(card.id)).toEqual(['UAPPROVER2']);
    expect(shown(lastUpdate()!)).toMatch(/1 of 2 · approved by <@UAPPROVER2> · 1 more needed/);

    await click(driven, APPROVE, card, 'UADMIN');
    expect(patchesTo(card.userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UADMIN',
    });
    expect(shown(lastUpdate()!)).toContain('*Approved by*\\n<@UAPPROVER2> and <@UADMIN>');
    // The vote that no longer counts stays in the audit log; the vote after it names it as not counted.
    const rows = (await auditOf(driven, card.id)).filter((e) => e.kind === 'decision');
    expect(rows.map((e) => [e.actor, e.outcome, e.detail?.approvedBy, e.detail?.notCounted])).toEqual([
      ['UAPPROVER', 'voted', ['UAPPROVER'], undefined],
      ['UAPPROVER2', 'voted', ['UAPPROVER2'], ['UAPPROVER']],
      ['UADMIN', 'approved', ['UAPPROVER2', 'UADMIN'], undefined],
    ]);
  });

  it('a Deny after one approval ends the request; the requester is told by DM who denied it', async () => {
    const driven = await startPolicyBot();
    const card = await requestDisable(driven, 'ops-admin@example.com');
    await click(driven, APPROVE, card, 'UAPPROVER');
    await click(driven, DENY, card, 'UADMIN');
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'denied',
      decidedBy: 'UADMIN',
    });
    expect(await click(driven, APPROVE, card, 'UAPPROVER2')).toContain('already denied');
    expect(patchesTo(card.userId)).toEqual([]);
    expect(dmsTo('UREQ').map(shown)).toEqual([expect.stringContaining('was denied by <@UADMIN>')]);
  });

  it('the escalation group may approve once its time has come, not before', async () => {
    const driven = await startPolicyBot();
    const card = await requestDisable(driven, 'esc-admin@example.com');
    expect(await click(driven, APPROVE, card, 'UMEMBER')).toContain('Only the approvers of rule 1');
    world.advance(30 * MINUTE);
    expect(await click(driven, APPROVE, card, 'UMEMBER')).toContain('Your approval is recorded (1 of 2)');
    await click(driven, APPROVE, card, 'UADMIN');
    expect(patchesTo(card.userId)).toHaveLength(1);
  });

  it('a request that expires is told to its requester by DM, once', async () => {
    const driven = await startPolicyBot();
    const card = await requestDisable(driven, 'late-admin@example.com');
    const request = await driven.bot.context.store.getApproval(card.id);
    expect(request!.expiresAt.getTime() - request!.createdAt.getTime()).toBe(120 * MINUTE);
    world.advance(120 * MINUTE);
    await expireDue(driven.bot.context, driven.bot.app.client);
    await expireDue(driven.bot.context, driven.bot.app.client);
    expect(dmsTo('UREQ').map(shown)).toEqual([expect.stringContaining('expired before anyone decided')]);
  });
});

/** A disable request stored as it is (without the request flow), with `rule`, on its own card in C1. */
async function storeDisable(driven: DrivenBot, id: string, email: string, rule: ApprovalRule): Promise<Card> {
  const userId = world.seedUser(email);
  await driven.bot.context.store.createApproval({
    id,
    action: 'disable',
    requesterId: 'UREQ',
    channelId: 'C1',
    teamId: 'T1',
    enterpriseId: null,
    profile: { id: userId, email },
    target: email,
    reason: null,
    createdAt: world.now,
    expiresAt: new Date(world.now.getTime() + 60 * MINUTE),
    rule,
  });
  await driven.bot.context.store.setApprovalMessage(id, 'C1', '1700000099.000100');
  return { id, ts: '1700000099.000100', channel: 'C1', userId };
}

describe('a stored rule that cannot be read', () => {
  it('closes the request as failed at the first click, never approves it, and DMs the requester', async () => {
    const driven = await startPolicyBot();
    const { store } = driven.bot.context;
    const broken = { ...LEGACY_RULE, approvals: 0 } as ApprovalRule; // N ≥ 1: not a valid rule
    const card = await storeDisable(driven, 'req-odd', 'odd@example.com', broken);
    const { userId } = card;
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('cannot be carried out');
    expect(await store.getApproval('req-odd')).toMatchObject({ status: 'failed' });
    expect(patchesTo(userId)).toEqual([]);
    expect(dmsTo('UREQ').map(shown)).toEqual([
      expect.stringContaining('could not be carried out: the stored approval rule is not valid'),
    ]);
  });
});

describe('what a rule refuses at request time (nothing is stored or changed)', () => {
  it('a rule that requires a reason refuses a request without one, saying how to give it', async () => {
    const driven = await startPolicyBot();
    world.seedUser('quiet-admin@example.com');
    const told = await command(driven, '/iam-disable-user', 'quiet-admin@example.com', 'UREQ');
    expect(told).toContain(
      'A reason is required for this disable (rule 1 (admin-disable) of IAM_POLICY_FILE)',
    );
    expect(told).toContain('reason=');
    expect(world.slack.callsTo('chat.postMessage').filter(hasButtons)).toEqual([]);
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
    expect((await auditOf(driven, null)).map((e) => [e.kind, e.outcome])).toEqual([
      ['command', 'received'],
      ['result', 'rejected'],
    ]);
  });

  it('a requester the rule does not list is refused; one it lists gets the request posted in the rule channel', async () => {
    const driven = await startPolicyBot();
    const userId = world.seedUser('temp@contractors.example.com');
    const refused = await command(driven, '/iam-disable-user', 'temp@contractors.example.com', 'UREQ');
    expect(refused).toContain('You may not ask for this disable');
    expect(refused).toContain('only its requesters ask (UOPS)');
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);

    const told = await command(driven, '/iam-disable-user', 'temp@contractors.example.com', 'UOPS');
    const card = await cardFor('temp@contractors.example.com', userId);
    expect(card.channel).toBe('C0SECURITY');
    expect(told).toContain('was posted in <#C0SECURITY>');
    expect(await click(driven, APPROVE, { ...card, channel: 'C1' }, 'UAPPROVER')).toContain(
      'does not belong to a request made in this channel',
    );
    await click(driven, APPROVE, card, 'UAPPROVER');
    expect(patchesTo(userId)).toHaveLength(1);
    expect(dmsTo('UOPS').map(shown)).toEqual([expect.stringContaining('the user is now disabled')]);
  });

  it('a rule channel the bot cannot post in closes the request and tells the requester which channel', async () => {
    const driven = await startPolicyBot();
    world.slack.closedChannels.add('C0SECURITY');
    world.seedUser('gone@contractors.example.com');
    const told = await command(driven, '/iam-disable-user', 'gone@contractors.example.com', 'UOPS');
    expect(told).toContain('cannot post the approval request in channel C0SECURITY');
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
  });

  it('a request nobody but the requester could approve is refused at once', async () => {
    const driven = await startPolicyBot();
    world.seedUser('plain@example.com');
    const told = await command(driven, '/iam-disable-user', 'plain@example.com', 'UAPPROVER');
    expect(told).toContain('could never be approved under the built-in rule');
    expect(told).toContain('you are one of them');
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
  });
});

describe('create under rule create-approved (1 of UAPPROVER, UAPPROVER2)', () => {
  it('a create under a 1-approver rule posts a card with the attributes; Approve creates the user once', async () => {
    const driven = await startPolicyBot();
    const told = await command(driven, '/iam-create-user', 'email=new@example.com department=Sales', 'UREQ');
    expect(told).not.toContain('not supported');
    const card = await cardFor('new@example.com', '');
    const post = world.slack
      .callsTo('chat.postMessage')
      .find((c) => hasButtons(c) && shown(c).includes('new@example.com'));
    expect(shown(post!)).toContain('create an Atlassian user');
    expect(shown(post!)).toMatch(/`department`: _none_ → `Sales`/);
    expect(shown(post!)).toContain('not in the directory when asked for');
    expect(posts()).toEqual([]);
    await click(driven, APPROVE, card, 'UAPPROVER');
    await click(driven, APPROVE, card, 'UAPPROVER2');
    expect(posts()).toEqual(['POST /Users']);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'completed' });
    expect(shown(lastUpdate()!)).toContain('User created');
  });

  it('a create that is denied creates nothing', async () => {
    const driven = await startPolicyBot();
    await command(driven, '/iam-create-user', 'email=new@example.com', 'UREQ');
    const card = await cardFor('new@example.com', '');
    await click(driven, DENY, card, 'UAPPROVER2');
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'denied' });
    expect(posts()).toEqual([]);
  });

  it('an approved create of a user who exists by then has a failed result saying so and changes nothing', async () => {
    const driven = await startPolicyBot();
    await command(driven, '/iam-create-user', 'email=new@example.com department=Sales', 'UREQ');
    const card = await cardFor('new@example.com', '');
    const userId = world.seedUser('new@example.com');
    await click(driven, APPROVE, card, 'UAPPROVER');
    const request = await driven.bot.context.store.getApproval(card.id);
    // Carried out, but never as an update of the user found: a failed result that says so.
    expect(request).toMatchObject({ status: 'completed', result: { IAM: { Vendor: { success: false } } } });
    expect(JSON.stringify(request!.result)).toContain('exists already');
    const thread = world.slack.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === card.ts);
    expect(thread.map(shown).join('\n')).toContain('exists already; ask for an update of that user instead');
    expect(posts()).toEqual([]);
    expect(patchesTo(userId)).toEqual([]);
  });
});

describe('an approved create whose carrying out was cut short (task D finding 3)', () => {
  /** The create approved and claimed by an instance that died before recording its result; past its lease. */
  async function cutShortCreate(
    driven: DrivenBot,
    email: string,
    text = `email=${email} department=Sales`,
  ): Promise<Card> {
    await command(driven, '/iam-create-user', text, 'UREQ');
    const card = await cardFor(email, '');
    const store = driven.bot.context.store;
    await store.decideApproval(card.id, 'approved', 'UAPPROVER', world.now);
    expect(await store.claimApproval(card.id, world.now, APPROVAL_LEASE_MS, 'elsewhere/1/x')).not.toBeNull();
    return card;
  }
  const recover = async (driven: DrivenBot) => {
    world.advance(APPROVAL_LEASE_MS + 1);
    return recoverApproved(driven.bot.context, driven.bot.app.client);
  };

  it('finding the user with exactly the approved userName and email, the retry reports the create as done, and its result row says our earlier attempt made it (weak: "exists already", failed)', async () => {
    const driven = await startPolicyBot();
    const card = await cutShortCreate(driven, 'made@example.com');
    // What the dead instance's POST had created: userName and primary email as the approved profile.
    const userId = world.seedUser('made@example.com');
    expect(await recover(driven)).toBe(1);

    const request = await driven.bot.context.store.getApproval(card.id);
    expect(request).toMatchObject({
      status: 'completed',
      attempts: 2,
      result: { IAM: { Vendor: { success: true, skipped: false, action: 'create', id: userId } } },
    });
    expect(posts()).toEqual([]); // no second account
    expect(patchesTo(userId)).toEqual([]); // and the user found is not updated
    expect(shown(lastUpdate()!)).toContain('User created');
    expect(shown(lastUpdate()!)).not.toContain('exists already');
    const results = (await auditOf(driven, card.id)).filter((e) => e.kind === 'result');
    expect(results.map((e) => e.outcome)).toEqual(['success']);
    expect(results[0].detail).toMatchObject({
      finishedByEarlierAttempt: expect.stringContaining('earlier attempt of this request that was cut short'),
    });
  });

  it('cut short after the user was created but before it joined its groups: the retry adds it to them and reports the create as done', async () => {
    const driven = await startPolicyBot();
    const profile = '{"email":"grouped@example.com","groups":["confluence-users"]}';
    const card = await cutShortCreate(driven, 'grouped@example.com', profile);
    const userId = world.seedUser('grouped@example.com');
    expect(await recover(driven)).toBe(1);

    const request = await driven.bot.context.store.getApproval(card.id);
    expect(request).toMatchObject({
      status: 'completed',
      result: { IAM: { Vendor: { success: true, groups: [{ displayName: 'confluence-users' }] } } },
    });
    expect(posts()).toEqual([]);
    expect(world.scim().filter((r) => r.startsWith('PATCH /Groups/'))).toHaveLength(1);
    expect(patchesTo(userId)).toEqual([]);
  });

  it('a user found with another email is not ours: still a failed create saying it exists already, nothing changed', async () => {
    const driven = await startPolicyBot();
    const card = await cutShortCreate(driven, 'taken@example.com');
    const userId = world.seedUser('taken@example.com', {
      emails: [{ value: 'someone.else@example.com', primary: true }],
    });
    expect(await recover(driven)).toBe(1);

    const request = await driven.bot.context.store.getApproval(card.id);
    expect(request).toMatchObject({ status: 'completed', result: { IAM: { Vendor: { success: false } } } });
    expect(JSON.stringify(request!.result)).toContain('exists already');
    expect(posts()).toEqual([]);
    expect(patchesTo(userId)).toEqual([]);
    const results = (await auditOf(driven, card.id)).filter((e) => e.kind === 'result');
    expect(results.map((e) => e.outcome)).toEqual(['failure']);
    expect(results[0].detail).not.toHaveProperty('finishedByEarlierAttempt');
  });
});

describe('approvers named by a user group', () => {
  it('an enable under rule enable-by-security is approved by the group, not by IAM_APPROVERS', async () => {
    const driven = await startPolicyBot();
    const userId = world.seedUser('back@example.com', { active: false });
    await command(driven, '/iam-enable-user', 'back@example.com', 'UREQ');
    const card = await cardFor('back@example.com', userId);
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('Only the approvers of rule 3');
    await click(driven, APPROVE, card, 'UGRP');
    expect(patchesTo(userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'completed' });
  });
});

describe('updates: the action is the kind of change the directory shows', () => {
  it('an email change is an identifier-change: rule rename wants two approvers', async () => {
    const driven = await startPolicyBot();
    const userId = world.seedUser('wes@example.com');
    const text = '{"email":"wes.new@example.com","olduserdata":{"email":"wes@example.com"}}';
    await command(driven, '/iam-update-user', text, 'UREQ');
    const card = await cardFor('wes.new@example.com', userId);
    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain('(1 of 2)');
    expect(patchesTo(userId)).toEqual([]);
    await click(driven, APPROVE, card, 'UADMIN');
    expect(patchesTo(userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'completed',
      rule: { name: 'rename', action: 'identifier-change' },
    });
  });

  it('a rule can add approval to a plain update of its target; other updates still run at once', async () => {
    const driven = await startPolicyBot();
    const finance = world.seedUser('fin@example.com', { department: 'Finance' });
    const other = world.seedUser('eng@example.com', { department: 'Engineering' });
    await command(driven, '/iam-update-user', 'email=eng@example.com title=Lead', 'UREQ');
    expect(patchesTo(other)).toHaveLength(1);
    // Nothing differs: nothing to approve, so it runs at once as without a rule (the same values again).
    await command(driven, '/iam-update-user', 'email=fin@example.com department=Finance', 'UREQ');
    expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
    const before = patchesTo(finance).length;
    await command(driven, '/iam-update-user', 'email=fin@example.com title=Lead', 'UREQ');
    const card = await cardFor('fin@example.com', finance);
    expect(patchesTo(finance)).toHaveLength(before);
    await click(driven, APPROVE, card, 'UAPPROVER2');
    expect(patchesTo(finance)).toHaveLength(before + 1);
  });
});

describe('an approver removed from the policy after a request was made', () => {
  /** POLICY with UAPPROVER taken out of admin-disable, and one approval asked of new requests. */
  const WITHOUT_UAPPROVER = POLICY.replace(
    'approvers: [UAPPROVER, UAPPROVER2, UADMIN]\n    approvals: 2',
    'approvers: [UAPPROVER2, UADMIN]\n    approvals: 1',
  );

  /** Stops `first` and starts the bot again with IAM_POLICY_FILE holding `policy`. */
  async function restartWith(first: DrivenBot, policy: string): Promise<DrivenBot> {
    await first.stop();
    const file = path.join(world.dir, 'policy-b.yaml');
    fs.writeFileSync(file, policy);
    return world.startBot({
      env: { IAM_POLICY_FILE: file, IAM_OPERATORS: 'UREQ,UOPS,UAPPROVER', IAM_APPROVERS: 'UAPPROVER2' },
    });
  }

  it('can no longer approve it: refused privately, nothing changed; the others still count, N stays the stored rule', async () => {
    expect(WITHOUT_UAPPROVER).not.toBe(POLICY);
    const first = await startPolicyBot();
    const card = await requestDisable(first, 'ex-admin@example.com');
    const driven = await restartWith(first, WITHOUT_UAPPROVER);

    expect(await click(driven, APPROVE, card, 'UAPPROVER')).toContain(
      'You are no longer an approver of this request under the current policy',
    );
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({ status: 'pending' });
    expect(await click(driven, DENY, card, 'UAPPROVER')).toContain('no longer an approver');
    expect(await click(driven, APPROVE, card, 'UAPPROVER2')).toContain('Your approval is recorded (1 of 2)');
    expect(patchesTo(card.userId)).toEqual([]);
    await click(driven, APPROVE, card, 'UADMIN');
    expect(patchesTo(card.userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UADMIN',
      rule: { approvals: 2, target: { email: 'ex-admin@example.com' } },
    });
    expect((await auditOf(driven, card.id)).map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['UREQ', 'command', 'requested'],
      ['UAPPROVER', 'refusal', 'refused'],
      ['UAPPROVER', 'refusal', 'refused'],
      ['UAPPROVER2', 'decision', 'voted'],
      ['UADMIN', 'decision', 'approved'],
      ['UADMIN', 'result', 'success'],
    ]);
  });

  it('a request stored without the target its rule was matched on is decided by its stored rule alone', async () => {
    const first = await startPolicyBot();
    const driven = await restartWith(first, WITHOUT_UAPPROVER);
    const rule: ApprovalRule = { ...LEGACY_RULE, approvers: { ids: ['UAPPROVER'], admins: false } };
    const card = await storeDisable(driven, 'req-old', 'old-admin@example.com', rule);
    await click(driven, APPROVE, card, 'UAPPROVER');
    expect(patchesTo(card.userId)).toHaveLength(1);
    expect(await driven.bot.context.store.getApproval(card.id)).toMatchObject({
      status: 'completed',
      decidedBy: 'UAPPROVER',
    });
  });
});
