/**
 * Group access from Slack through Bolt's processEvent (FakeReceiver), against the emulated Atlassian
 * (its two example groups): /iam-grant asked by an operator and by a member for themselves, approved,
 * denied, refused for each kind of bad input; /iam-revoke by an operator and a member's own early end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { APPROVAL_LEASE_MS, recoverApproved } from '../../src/handlers';
import type { AuditEntry, Grant } from '../../src/store/types';
import {
  appHomeOpened,
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  viewSubmission,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

const HOUR = 3_600_000;
const APPROVE = 'iam_disable_approve';
const DENY = 'iam_disable_deny';
const JIRA = 'jira-software-users';

/** Members may ask for jira-* for at most 8 hours, told 1 h before the end; other groups need operators and a reason. */
const POLICY = `rules:
  - name: self-service
    action: grant
    target: { group: "jira-*" }
    requesters: [members, operators]
    maxDuration: 8h
    notifyBefore: 1h
  - name: other-groups
    action: grant
    reason: required
`;

let world: World;
let bot: DrivenBot;

beforeEach(async () => {
  world = await startWorld();
  const policyFile = path.join(world.dir, 'policy.yaml');
  fs.writeFileSync(policyFile, POLICY);
  world.slack.users.set('UMEMBER', { profile: { email: 'mem@example.com' } });
  world.slack.users.set('UREQ', { is_admin: true, profile: { email: 'req@example.com' } });
  bot = await world.startBot({ env: { IAM_POLICY_FILE: policyFile } });
});

afterEach(async () => {
  await world?.close();
});

async function command(name: string, text: string, userId: string, tag = `${name}-${userId}-${text}`) {
  await bot.receiver.send(slashCommand(name, text, userId, world.responseUrl(tag)));
  await bot.receiver.idle();
}

const cards = () => world.slack.callsTo('chat.postMessage').filter(hasButtons);
/** What the person was told privately (the text, as they read it). */
const privately = () => world.slack.callsTo('response_url').map((c) => String(c.args.text));
const groupPatches = () => world.scim().filter((r) => r.startsWith('PATCH /Groups/'));
const idOf = (card: SlackCall) =>
  blocksOf(card)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === APPROVE)?.value ?? '';

async function click(action: string, card: SlackCall, userId: string) {
  await bot.receiver.send(
    buttonClick(
      action,
      idOf(card),
      userId,
      world.responseUrl(`${action}-${userId}`),
      tsOf(world.slack, card),
    ),
  );
  await bot.receiver.idle();
}

const grants = (): Promise<Grant[]> => bot.bot.context.store.listGrants();
const audit = async (): Promise<AuditEntry[]> =>
  (await bot.bot.context.store.listAudit({ limit: 1000 })).reverse();
const memberIds = () =>
  (
    world.atlassian?.directory.handle({
      method: 'GET',
      path: '/Groups',
      query: new URLSearchParams(),
      body: null,
    }).body as { Resources: { displayName: string; members?: { value: string }[] }[] }
  ).Resources.find((g) => g.displayName === JIRA)?.members?.map((m) => m.value) ?? [];

describe('/iam-grant, approved like a disable', () => {
  it('an operator asks, an approver approves: the member is added once, the grant stored with its end and notices, the result in the thread', async () => {
    const userId = world.seedUser('ann@example.com');
    await command('/iam-grant', `ann@example.com ${JIRA} for 8h reason="incident 42"`, 'UREQ');
    const [card] = cards();
    expect(shown(card)).toContain(`access to \`${JIRA}\` for 8h`);
    expect(groupPatches()).toEqual([]);

    await click(APPROVE, card, 'UAPPROVER');
    expect(groupPatches()).toHaveLength(1);
    expect(memberIds()).toEqual([userId]);
    const [grant] = await grants();
    expect(grant).toMatchObject({
      id: idOf(card),
      userId,
      target: 'ann@example.com',
      groupName: JIRA,
      grantedBy: 'UAPPROVER',
      endsAt: new Date(world.now.getTime() + 8 * HOUR),
      threadTs: tsOf(world.slack, card),
      endedAt: null,
    });
    // The policy's notifyBefore (1h): the notice comes 7 h after the grant.
    const notices = await bot.bot.context.store.claimDueGrantNotices(
      new Date(world.now.getTime() + 7 * HOUR),
      10,
    );
    expect(notices.map((n) => n.dueAt)).toEqual([new Date(world.now.getTime() + 7 * HOUR)]);
    const thread = world.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args.thread_ts === tsOf(world.slack, card));
    expect(thread.map(shown).join()).toContain('access is granted');
    const rows = (await audit()).filter((e) => e.requestId === idOf(card));
    expect(rows.map((e) => [e.kind, e.outcome, e.detail?.group])).toEqual([
      ['command', 'requested', JIRA],
      ['decision', 'approved', JIRA],
      ['result', 'success', JIRA],
    ]);
  });

  it('a member asks for themselves for a requestable group; approved, they are told by DM and can end it early with /iam-revoke me', async () => {
    const userId = world.seedUser('mem@example.com');
    await command('/iam-grant', `me ${JIRA} for 2h`, 'UMEMBER');
    const [card] = cards();
    await click(APPROVE, card, 'UAPPROVER');
    expect(memberIds()).toEqual([userId]);
    const dm = world.slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'UMEMBER');
    expect(dm && shown(dm)).toContain(`/iam-revoke me ${JIRA}`);

    await command('/iam-revoke', `me ${JIRA}`, 'UMEMBER');
    expect(groupPatches()).toHaveLength(2);
    expect(memberIds()).toEqual([]);
    const [grant] = await grants();
    expect(grant).toMatchObject({ endReason: 'done', endedBy: 'UMEMBER' });
    const endRows = (await audit()).filter((e) => e.command === 'grant-done');
    expect(endRows.map((e) => [e.actor, e.outcome, e.detail?.grantId])).toEqual([
      ['UMEMBER', 'success', grant.id],
    ]);
    const thread = world.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args.thread_ts === tsOf(world.slack, card));
    expect(thread.map(shown).join()).toContain('is done with it');
    // Once ended, a second /iam-revoke finds no grant of theirs and changes nothing.
    await command('/iam-revoke', `me ${JIRA}`, 'UMEMBER', 'again');
    expect(privately().at(-1)).toContain('You have no grant');
    expect(groupPatches()).toHaveLength(2);
  });

  it('a denied grant adds nobody and stores no grant; the decision row names the group', async () => {
    world.seedUser('ann@example.com');
    await command('/iam-grant', `ann@example.com ${JIRA} for 1h`, 'UREQ');
    const [card] = cards();
    await click(DENY, card, 'UAPPROVER');
    expect(groupPatches()).toEqual([]);
    expect(await grants()).toEqual([]);
    const decision = (await audit()).find((e) => e.kind === 'decision');
    expect(decision).toMatchObject({ outcome: 'denied', detail: { group: JIRA } });
  });

  it('the requester cannot approve their own grant', async () => {
    world.seedUser('ann@example.com');
    await command('/iam-grant', `ann@example.com ${JIRA} for 1h`, 'UREQ');
    const [card] = cards();
    await click(APPROVE, card, 'UREQ');
    expect(privately().at(-1)).toContain('someone else has to decide');
    expect(groupPatches()).toEqual([]);
    expect(await grants()).toEqual([]);
  });
});

describe('a grant is carried out exactly once', () => {
  it('a grant that could not be stored after the member was added is finished by a later sweep: one PATCH, one grant', async () => {
    const userId = world.seedUser('ann@example.com');
    await command('/iam-grant', `ann@example.com ${JIRA} for 4h`, 'UREQ');
    const { store } = bot.bot.context;
    const createGrant = store.createGrant.bind(store);
    let failures = 0;
    store.createGrant = async (grant) => {
      if (failures++ === 0) throw new Error('database went away');
      return createGrant(grant);
    };
    const [card] = cards();
    await click(APPROVE, card, 'UAPPROVER');
    expect(memberIds()).toEqual([userId]);
    expect(await grants()).toEqual([]);
    expect(await store.getApproval(idOf(card))).toMatchObject({ status: 'approved' });

    // The lease runs out; any instance's sweep takes the request over and finds the member added.
    world.advance(APPROVAL_LEASE_MS + 1);
    await recoverApproved(bot.bot.context, bot.bot.app.client);
    expect(groupPatches()).toHaveLength(1);
    expect(await grants()).toEqual([expect.objectContaining({ id: idOf(card), userId, endedAt: null })]);
    expect(await store.getApproval(idOf(card))).toMatchObject({
      status: 'completed',
      result: { IAM: { Vendor: { skipped: false } } },
    });
  });
});

describe('/iam-grant refuses bad input, says what to fix and changes nothing', () => {
  it.each<[string, string, string, string]>([
    [
      'an unknown group, with the closest names',
      'UREQ',
      'ann@example.com jira-software for 1h',
      'closest: "jira-software-users"',
    ],
    [
      'an unparseable duration',
      'UREQ',
      `ann@example.com ${JIRA} for 3 fortnights`,
      '"for 3 fortnights" is not a duration',
    ],
    [
      'a duration over the policy limit',
      'UREQ',
      `ann@example.com ${JIRA} for 2d`,
      'longer than the 8h rule 1 (self-service) allows',
    ],
    ['no duration where the policy sets a limit', 'UREQ', `ann@example.com ${JIRA}`, 'add for 8h or less'],
    [
      'a missing required reason',
      'UREQ',
      'ann@example.com confluence-users for 1h',
      'requires a reason: add reason="…"',
    ],
    [
      'a member asking for a group that is not requestable',
      'UMEMBER',
      'me confluence-users for 1h',
      'not a group you can ask for yourself',
    ],
    [
      'a member asking for someone else',
      'UMEMBER',
      `ann@example.com ${JIRA} for 1h`,
      'You can ask only for yourself',
    ],
    ['a deactivated user', 'UREQ', `gone@example.com ${JIRA} for 1h`, 'User is deactivated: enable the user'],
    ['no group', 'UREQ', 'ann@example.com', 'say whom and which group'],
    [
      'an empty group name, in Slack words',
      'UREQ',
      'ann@example.com ""',
      "give the group's name, e.g. jira-software-users",
    ],
    [
      'a 10 kB group name, never sent to Atlassian',
      'UREQ',
      `ann@example.com ${'g'.repeat(10_000)}`,
      'the group name is 10000 characters long; at most 255',
    ],
    [
      'a guest, refused as one (not for a missing email)',
      'UGUEST',
      `me ${JIRA} for 1h`,
      'Only members of this workspace can use /iam-grant',
    ],
  ])('%s', async (_name, who, text, expected) => {
    world.seedUser('ann@example.com');
    world.seedUser('mem@example.com');
    world.seedUser('gone@example.com', { active: false });
    await command('/iam-grant', text, who);
    expect(privately().join()).toContain(expected);
    expect(cards()).toEqual([]);
    expect(await bot.bot.context.store.listPendingApprovals()).toEqual([]);
    expect(groupPatches()).toEqual([]);
    expect(world.scim().filter((r) => r.length > 1_000)).toEqual([]);
  });

  it('a member refused a group under a rule of the file is told which groups they can ask for', async () => {
    world.seedUser('mem@example.com');
    await command('/iam-grant', 'me confluence-users for 1h', 'UMEMBER');
    expect(privately().join()).toContain(
      '"confluence-users" is not a group you can ask for yourself (rule 2 (other-groups)): you can ask for "jira-software-users" (/iam-grant me &lt;group&gt;), or ask an operator.',
    );
  });

  it.each([
    [
      'only a jira-* rule',
      POLICY.split('  - name: other-groups')[0],
      'you can ask for "jira-software-users"',
    ],
    [
      'no rule for members',
      'rules:\n  - action: grant\n    target: { group: "jira-*" }\n',
      'no group is open to requests from members',
    ],
  ])(
    'with %s, a member refused by no rule of the file is not told about "the built-in rule"',
    async (_name, policy, expected) => {
      world.seedUser('mem@example.com');
      const policyFile = path.join(world.dir, 'other-policy.yaml');
      fs.writeFileSync(policyFile, policy);
      await bot.stop();
      bot = await world.startBot({ env: { IAM_POLICY_FILE: policyFile } });
      await command('/iam-grant', 'me confluence-users for 1h', 'UMEMBER');
      expect(privately().join()).toContain(
        `"confluence-users" is not a group you can ask for yourself: ${expected}`,
      );
      expect(privately().join()).not.toContain('built-in');
      expect(cards()).toEqual([]);
    },
  );

  it('without a policy file a member is refused before the directory is asked about anyone', async () => {
    world.seedUser('mem@example.com');
    await bot.stop();
    bot = await world.startBot();
    const before = world.scim().length;
    await command('/iam-grant', `me ${JIRA} for 1h`, 'UMEMBER');
    expect(privately().join()).toContain(
      `"${JIRA}" is not a group you can ask for yourself: no group is open to requests from members, so ask an operator.`,
    );
    expect(world.scim().slice(before)).toEqual([]);
    expect(cards()).toEqual([]);
  });

  it('a user already in the group is a skipped answer, not a request', async () => {
    const userId = world.seedUser('ann@example.com');
    const jira = (
      world.atlassian?.directory.handle({
        method: 'GET',
        path: '/Groups',
        query: new URLSearchParams(`filter=displayName eq "${JIRA}"`),
        body: null,
      }).body as { Resources: { id: string }[] }
    ).Resources[0].id;
    world.atlassian?.directory.handle({
      method: 'PATCH',
      path: `/Groups/${jira}`,
      query: new URLSearchParams(),
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
      },
    });
    await command('/iam-grant', `ann@example.com ${JIRA} for 1h`, 'UREQ');
    expect(privately().join()).toContain('already a member');
    expect(cards()).toEqual([]);
  });
});

describe('/iam-revoke by an operator', () => {
  it('removes at once and ends the stored grant (revoked); a non-member is a skipped result', async () => {
    const userId = world.seedUser('ann@example.com');
    await command('/iam-grant', `ann@example.com ${JIRA} for 1h`, 'UREQ');
    await click(APPROVE, cards()[0], 'UAPPROVER');
    expect(memberIds()).toEqual([userId]);

    await command('/iam-revoke', `ann@example.com ${JIRA}`, 'UREQ');
    expect(memberIds()).toEqual([]);
    const [grant] = await grants();
    expect(grant).toMatchObject({ endReason: 'revoked', endedBy: 'UREQ' });
    const revokeRow = (await audit()).find((e) => e.command === 'iam-revoke' && e.kind === 'result');
    expect(revokeRow).toMatchObject({ outcome: 'success', detail: { group: JIRA } });
    // The grant's end has its own row, written with it (issue 11: no change without its record).
    const endRows = (await audit()).filter((e) => e.command === 'grant-revoke');
    expect(endRows).toEqual([
      expect.objectContaining({
        actor: 'UREQ',
        kind: 'result',
        target: 'ann@example.com',
        outcome: 'success',
        requestId: grant.requestId,
        detail: { group: JIRA, grantId: grant.id, endsAt: grant.endsAt?.toISOString() },
      }),
    ]);

    await command('/iam-revoke', `ann@example.com ${JIRA}`, 'UREQ', 'second');
    const rows = (await audit()).filter((e) => e.command === 'iam-revoke' && e.kind === 'result');
    expect(rows.map((e) => e.outcome)).toEqual(['success', 'skipped']);
    expect(groupPatches()).toHaveLength(2);
  });

  it.each([
    ['jira-software', 'closest: "jira-software-users"'],
    ['..', 'Group ".." does not exist'],
  ])(
    'an unknown group %j is told to the typist with the closest names, like /iam-grant; nothing is posted',
    async (group, expected) => {
      world.seedUser('ann@example.com');
      await command('/iam-revoke', `ann@example.com ${group}`, 'UREQ');
      expect(privately().join()).toContain(expected);
      expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
      expect(groupPatches()).toEqual([]);
    },
  );

  it('a member cannot remove someone else', async () => {
    world.seedUser('ann@example.com');
    await command('/iam-revoke', `ann@example.com ${JIRA}`, 'UMEMBER');
    expect(privately().join()).toContain('You can ask only for yourself');
    expect(groupPatches()).toEqual([]);
  });
});

describe('App Home of a member without a role', () => {
  const homeOf = async (userId: string) => {
    await bot.receiver.send(appHomeOpened(userId, 'home'));
    await bot.receiver.idle();
    const [home] = world.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);
    return shown(home);
  };

  it('tells a member who may ask which groups and how (/iam-grant), not "no permissions"; a guest is told nothing of it', async () => {
    const member = await homeOf('UMEMBER');
    // shown() is JSON: the quotes around the group name are escaped.
    expect(member).toContain('You can ask for access to \\"jira-software-users\\"');
    expect(member).toContain('type `/iam-grant me &lt;group&gt; for 8h`');
    expect(member).not.toContain('no permissions');
    expect(member).not.toContain('confluence-users');

    const guest = await homeOf('UGUEST');
    expect(guest).toContain('You have no permissions for this app');
    expect(guest).not.toContain('jira-software-users');
  });
});

describe('the /iam-grant form', () => {
  /** The group picker's options for what `userId` typed. */
  async function pickerOptions(userId: string, typed: string): Promise<string[]> {
    const acked = (await bot.receiver.send({
      type: 'block_suggestion',
      api_app_id: 'A1',
      team: { id: 'T1', domain: 'example' },
      user: { id: userId, team_id: 'T1' },
      action_id: 'iam_grant_group',
      block_id: 'group',
      value: typed,
      view: { id: 'V1', type: 'modal', callback_id: 'iam_grant', private_metadata: '{}' },
    })) as { options: { value: string }[] };
    return acked.options.map((o) => o.value);
  }

  /** Submits the form; resolves with what the bot acked (field errors, or a bare ack). */
  async function submit(userId: string, fields: Record<string, string>, group?: string) {
    const body = viewSubmission('iam_grant', userId, fields, JSON.stringify({ channelId: 'C1' }));
    const values = (body.view as { state: { values: Record<string, unknown> } }).state.values;
    if (group)
      values.group = { iam_grant_group: { type: 'external_select', selected_option: { value: group } } };
    const acked = await bot.receiver.send(body);
    await bot.receiver.idle();
    return acked;
  }

  it('opens with no text', async () => {
    await command('/iam-grant', '', 'UMEMBER');
    const [opened] = world.slack.callsTo('views.open');
    expect((opened.args.view as { callback_id: string }).callback_id).toBe('iam_grant');
  });

  it("offers the directory's groups matching what is typed; a member only those they may ask for", async () => {
    expect(await pickerOptions('UREQ', '')).toEqual(expect.arrayContaining([JIRA, 'confluence-users']));
    expect(await pickerOptions('UREQ', 'CONF')).toEqual(['confluence-users']);
    expect(await pickerOptions('UMEMBER', '')).toEqual([JIRA]);
  });

  it("asks Atlassian for the directory's groups once a minute, not at every key typed into the picker", async () => {
    const groupLists = () => world.scim().filter((r) => r.startsWith('GET /Groups')).length;
    for (const typed of ['', 'c', 'co', 'con']) await pickerOptions('UREQ', typed);
    await pickerOptions('UMEMBER', 'j');
    expect(groupLists()).toBe(1);
    world.advance(61_000);
    expect(await pickerOptions('UREQ', 'jira')).toEqual([JIRA]);
    expect(groupLists()).toBe(2);
  });

  it('asks for the submitter when no one is picked; a bad duration goes back into the form', async () => {
    world.seedUser('mem@example.com');
    expect(await submit('UMEMBER', { duration: '3 fortnights' }, JIRA)).toMatchObject({
      response_action: 'errors',
      errors: { duration: expect.stringContaining('is not a duration') },
    });
    expect(await submit('UMEMBER', { duration: '2h' })).toMatchObject({ errors: { group: 'pick a group' } });
    expect(cards()).toEqual([]);

    expect(await submit('UMEMBER', { duration: '2 hours', reason: 'on call' }, JIRA)).toBeUndefined();
    const [card] = cards();
    expect(card.args.channel).toBe('C1');
    expect(shown(card)).toContain('mem@example.com');
    expect(shown(card)).toContain('for 2h');
  });

  it('answers a refusal by DM, with its audit row, and requests nothing', async () => {
    world.seedUser('mem@example.com');
    await submit('UMEMBER', {}, 'confluence-users');
    const dm = world.slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'UMEMBER');
    expect(dm && String(dm.args.text)).toContain('not a group you can ask for yourself');
    expect(cards()).toEqual([]);
    expect((await audit()).find((e) => e.kind === 'refusal')).toMatchObject({
      command: 'iam-grant',
      detail: { group: 'confluence-users' },
    });
  });
});
