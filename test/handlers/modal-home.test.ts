/**
 * The create/update modal (views.open, view_submission) and the App Home tab, through Bolt's
 * processEvent (FakeReceiver).
 */
import {
  appHomeOpened,
  blocksOf,
  type DrivenBot,
  shown,
  slashCommand,
  startWorld,
  viewSubmission,
  type World,
} from '../support/fake-receiver';
import { openSqlite } from '../../src/store/sqlite';
import { assertValidRequests } from '../support/openapi';
import type { SlackCall } from '../support/slack-standin.cjs';

let world: World;

afterEach(async () => {
  await world?.close();
});

interface ModalView {
  type: string;
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id?: string; element?: { action_id?: string; initial_value?: string } }[];
}

const viewOf = (call: SlackCall) => call.args.view as ModalView;

async function command(driven: DrivenBot, name: string, text: string, userId = 'UADMIN', channelId = 'C1') {
  const acked = await driven.receiver.send(
    slashCommand(name, text, userId, world.responseUrl(`${name.slice(1)}-${userId}`), channelId),
  );
  await driven.receiver.idle();
  return acked;
}

async function submit(
  driven: DrivenBot,
  fields: Record<string, string | string[]>,
  userId = 'UADMIN',
  metadata?: string,
) {
  const acked = await driven.receiver.send(
    viewSubmission('iam_update_user', userId, fields, metadata ?? JSON.stringify({ channelId: 'CMODAL' })),
  );
  await driven.receiver.idle();
  return acked;
}

interface Pushed {
  response_action: string;
  view: { callback_id: string; private_metadata: string; submit?: { text: string }; blocks: unknown[] };
}

/** Submits the update form and returns the confirmation view it pushed. */
async function submitForConfirmation(
  driven: DrivenBot,
  fields: Record<string, string | string[]>,
  userId = 'UADMIN',
  metadata?: string,
): Promise<Pushed['view']> {
  const acked = (await submit(driven, fields, userId, metadata)) as Pushed;
  expect(acked.response_action).toBe('push');
  expect(acked.view.callback_id).toBe('iam_update_confirm');
  return acked.view;
}

/** Presses Confirm on a confirmation view. */
async function confirm(driven: DrivenBot, view: Pushed['view'], userId = 'UADMIN') {
  const acked = await driven.receiver.send(
    viewSubmission('iam_update_confirm', userId, {}, view.private_metadata),
  );
  await driven.receiver.idle();
  return acked;
}

const textOf = (view: { blocks: unknown[] }): string => JSON.stringify(view.blocks);

describe('modal', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('empty /iam-update-user acks and opens the update modal at once, asking Atlassian nothing', async () => {
    const driven = await world.startBot();
    expect(await command(driven, '/iam-update-user', '', 'UADMIN', 'CMODAL')).toBeUndefined();
    const open = await world.slack.waitFor((c) => c.method === 'views.open');
    expect(open.args.trigger_id).toMatch(/^trigger-iam-update-user-UADMIN-\d+$/);
    const view = viewOf(open);
    expect(view.type).toBe('modal');
    expect(view.callback_id).toBe('iam_update_user');
    expect(JSON.parse(view.private_metadata)).toEqual({ channelId: 'CMODAL' });
    const inputs = view.blocks.filter((b) => b.type === 'input');
    expect(inputs.map((b) => b.block_id)).toEqual(
      expect.arrayContaining([
        'email',
        'username',
        'givenname',
        'surname',
        'displayname',
        'title',
        'department',
        'organization',
        'timezone',
        'preferredlanguage',
      ]),
    );
    expect(inputs.every((b) => b.element?.action_id === 'value')).toBe(true);
    expect(world.scim()).toEqual([]);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('empty /iam-create-user opens the create modal', async () => {
    const driven = await world.startBot();
    await command(driven, '/iam-create-user', '');
    const open = await world.slack.waitFor((c) => c.method === 'views.open');
    expect(viewOf(open).callback_id).toBe('iam_create_user');
  });

  it('/iam-update-user with a bare email opens the modal, then fills it with the current values', async () => {
    world.seedUser('ann@example.com', { title: 'Team Lead' });
    const driven = await world.startBot();
    await command(driven, '/iam-update-user', 'ann@example.com');
    const update = await world.slack.waitFor((c) => c.method === 'views.update');
    expect(update.args.view_id).toBe('V1');
    expect(update.args.hash).toBe('h1');
    const title = viewOf(update).blocks.find((b) => b.block_id === 'title');
    expect(title?.element?.initial_value).toBe('Team Lead');
    expect(world.scim()).toEqual(['GET /Users']);
  });

  it.each([
    ['an invalid email', { email: 'not-an-email', title: 'Analyst' }, ['email']],
    ['no email', { title: 'Analyst' }, ['email']],
    ['a username with a space', { email: 'bob@example.com', username: 'bob smith' }, ['username']],
  ])(
    'a submission with %s is answered with field errors and makes no SCIM call',
    async (_name, fields, keys) => {
      const driven = await world.startBot();
      const acked = (await submit(driven, fields)) as {
        response_action: string;
        errors: Record<string, string>;
      };
      expect(acked.response_action).toBe('errors');
      expect(Object.keys(acked.errors)).toEqual(keys);
      for (const key of keys) expect(acked.errors[key]).toEqual(expect.any(String));
      expect(world.scim()).toEqual([]);
      expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    },
  );

  it('a submission by a non-operator is answered with an error in the modal, audited, and does nothing', async () => {
    world.seedUser('cid@example.com');
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS' } });
    const acked = await submit(driven, { email: 'cid@example.com', title: 'Boss' }, 'UMEMBER');
    expect(acked).toEqual({
      response_action: 'errors',
      errors: { email: expect.stringContaining('operators') },
    });
    expect(world.scim()).toEqual([]);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    const audit = await driven.bot.context.store.listAudit();
    expect(audit.map((e) => [e.actor, e.kind, e.command, e.outcome])).toEqual([
      ['UMEMBER', 'refusal', 'iam-update-user', 'refused'],
    ]);
  });

  it('a confirmed submission closes the modal and posts the result in the channel it was opened from', async () => {
    const id = world.seedUser('dee@example.com', { title: 'Intern' });
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS' } });
    const view = await submitForConfirmation(driven, { email: 'dee@example.com', title: 'Analyst' }, 'UOPS');
    expect(await confirm(driven, view, 'UOPS')).toEqual({ response_action: 'clear' });
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users', `PATCH /Users/${id}`]);
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(post.args.channel).toBe('CMODAL');
    expect(shown(post)).toContain('Update User Results (Atlassian IAM)');
    expect(shown(post)).toContain('dee@example.com');
    expect(blocksOf(post).filter((b) => b.type === 'table')).toHaveLength(1);
    const audit = (await driven.bot.context.store.listAudit()).reverse();
    expect(audit.map((e) => [e.actor, e.kind, e.outcome])).toEqual([
      ['UOPS', 'command', 'received'],
      ['UOPS', 'result', 'success'],
    ]);
  });

  it('update modal can clear a field and the PATCH is valid', async () => {
    const id = world.seedUser('kim@example.com', { title: 'Intern', department: 'Ops', displayName: 'Kim' });
    const driven = await world.startBot();
    // The form came pre-filled: the title is still in its input, and ticked under "Clear these fields".
    const fields = { email: 'kim@example.com', title: 'Intern', department: 'Platform', clear: ['title'] };
    const view = await submitForConfirmation(driven, fields);
    expect(textOf(view)).toContain('`title`: `Intern` → _none_');
    expect(await confirm(driven, view)).toEqual({ response_action: 'clear' });
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users', `PATCH /Users/${id}`]);
    const [patch] = world.patches() as { body: { Operations: Record<string, unknown>[] } }[];
    expect(patch.body.Operations).toEqual([
      { op: 'replace', value: expect.objectContaining({ department: 'Platform' }) },
      { op: 'remove', path: 'title' },
    ]);
    expect(patch.body.Operations[0].value).not.toHaveProperty('title');
    // Checked against Atlassian's document where it is (off, and said once, where it is not).
    assertValidRequests(world.atlassian?.server.requests ?? []);
    const stored = world.atlassian?.directory.handle({
      method: 'GET',
      path: `/Users/${id}`,
      query: new URLSearchParams(),
      body: undefined,
    });
    expect(stored?.body).toMatchObject({ department: 'Platform', displayName: 'Kim' });
    expect(stored?.body).not.toHaveProperty('title');
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(post.args.text).toBe('Updated kim@example.com (active) in Atlassian');
    expect(shown(post)).toContain('department: Platform · title cleared');
    const audit = await driven.bot.context.store.listAudit();
    expect(audit.find((e) => e.kind === 'result')?.detail).toMatchObject({
      IAM: { UserProfile: { title: null } },
    });
  });

  it('submit opens a confirmation with each changing attribute before → after, and sends nothing', async () => {
    world.seedUser('fay@example.com', { title: 'Intern', department: 'Ops' });
    const driven = await world.startBot();
    const view = await submitForConfirmation(driven, {
      email: 'fay@example.com',
      title: 'Analyst',
      department: 'Ops',
    });
    expect(textOf(view)).toContain('`title`: `Intern` → `Analyst`');
    expect(textOf(view)).not.toContain('`department`');
    expect(view.submit?.text).toBe('Confirm');
    expect(world.scim()).toEqual(['GET /Users']);
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(await driven.bot.context.store.listAudit()).toEqual([]);
  });

  it('confirm sends exactly the PATCH previewed, to the user previewed', async () => {
    const id = world.seedUser('gus@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const view = await submitForConfirmation(driven, {
      email: 'gus@example.com',
      title: 'Analyst',
      surname: 'Lee',
    });
    await confirm(driven, view);
    const patches = world.patches() as {
      path: string;
      body: { Operations: { op: string; value: Record<string, unknown> }[] };
    }[];
    expect(patches).toHaveLength(1);
    expect(patches[0].path).toContain(`/Users/${id}`);
    expect(patches[0].body.Operations).toEqual([
      { op: 'replace', value: expect.objectContaining({ title: 'Analyst', name: { familyName: 'Lee' } }) },
    ]);
  });

  it('"No change: nothing will be sent" when the user already holds every value: no Confirm, nothing sent', async () => {
    world.seedUser('hal@example.com', { title: 'Analyst' });
    const driven = await world.startBot();
    const view = await submitForConfirmation(driven, { email: 'hal@example.com', title: 'Analyst' });
    expect(textOf(view)).toContain('No change: nothing will be sent.');
    expect(view.submit).toBeUndefined();
    expect(world.scim()).toEqual(['GET /Users']);
    expect(world.patches()).toEqual([]);
  });

  it('a user changed between submit and confirm: nothing is sent, the confirmation shows the new diff', async () => {
    const id = world.seedUser('ivy@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const view = await submitForConfirmation(driven, { email: 'ivy@example.com', title: 'Analyst' });
    world.atlassian?.directory.handle({
      method: 'PATCH',
      path: `/Users/${id}`,
      query: new URLSearchParams(),
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { title: 'Lead' } }],
      },
    });
    const acked = (await confirm(driven, view)) as Pushed;
    expect(acked.response_action).toBe('update');
    expect(textOf(acked.view)).toContain('changed in Atlassian after you looked');
    expect(textOf(acked.view)).toContain('`title`: `Lead` → `Analyst`');
    expect(world.patches()).toEqual([]);
    // Confirming the new plan carries it out.
    await confirm(driven, acked.view);
    expect(world.patches()).toHaveLength(1);
  });

  it('a confirmed change that takes the account over posts the approval request, not the PATCH', async () => {
    world.seedUser('jo@example.com', { title: 'Intern' });
    const driven = await world.startBot({ env: { IAM_APPROVERS: 'UAPPROVER' } });
    const view = await submitForConfirmation(driven, {
      email: 'jo.new@example.com',
      username: 'jo@example.com',
    });
    expect(textOf(view)).toContain('`emails`: `jo@example.com` → `jo.new@example.com`');
    expect(view.submit?.text).toBe('Request approval');
    await confirm(driven, view);
    expect(world.patches()).toEqual([]);
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(shown(post)).toContain('jo.new@example.com');
    const pending = await driven.bot.context.store.listAudit();
    expect(pending.map((e) => e.outcome)).toContain('requested');
  });

  it('a confirmation whose private_metadata was tampered with changes nothing', async () => {
    world.seedUser('kit@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const view = await submitForConfirmation(driven, { email: 'kit@example.com', title: 'Analyst' });
    const forged = JSON.parse(view.private_metadata) as { fields: Record<string, string> };
    forged.fields.title = 'CEO';
    await confirm(driven, { ...view, private_metadata: JSON.stringify(forged) });
    expect(world.patches()).toEqual([]);
  });

  it('a valid submission without usable private_metadata posts to the submitter instead', async () => {
    world.seedUser('eve@example.com');
    const driven = await world.startBot();
    const view = await submitForConfirmation(
      driven,
      { email: 'eve@example.com', title: 'Analyst' },
      'UADMIN',
      'garbage{',
    );
    await confirm(driven, view);
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(post.args.channel).toBe('UADMIN');
  });
});

describe('App Home', () => {
  const published = (userId: string) =>
    world.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);

  async function openHome(driven: DrivenBot, userId: string, tab: 'home' | 'messages' = 'home') {
    const acked = await driven.receiver.send(appHomeOpened(userId, tab));
    await driven.receiver.idle();
    return acked;
  }

  it('in sandbox mode shows SANDBOX, the viewer’s permissions and the pending disable requests', async () => {
    world = await startWorld({ atlassian: false });
    const driven = await world.startBot();
    await command(driven, '/iam-create-user', 'email=fay@example.com givenname=Fay', 'UREQ');
    await command(driven, '/iam-disable-user', 'fay@example.com reason="left"', 'UREQ');
    expect(await driven.bot.context.store.listPendingApprovals()).toHaveLength(1);

    expect(await openHome(driven, 'UADMIN')).toBeUndefined();
    const [home] = published('UADMIN');
    expect(published('UADMIN')).toHaveLength(1);
    const view = home.args.view as { type: string };
    expect(view.type).toBe('home');
    const text = shown(home);
    expect(text).toContain('SANDBOX');
    expect(text).toContain('<@UADMIN>');
    expect(text).toContain('✅ run commands');
    expect(text).toContain('✅ approve disable requests');
    expect(text).toContain('fay@example.com');
    expect(text).toContain('<@UREQ>');
    expect(text).toContain('Pending disable requests (1)');
    expect(text).toContain('Connected');
  });

  it('issue 15: everyone sees their own grants with their end; operators and approvers also every grant ending within a day', async () => {
    world = await startWorld({ atlassian: false });
    const driven = await world.startBot();
    const store = driven.bot.context.store;
    const grant = (id: string, slackUserId: string, target: string, hours: number) =>
      store.createGrant({
        id,
        requestId: null,
        userId: `user-${id}`,
        target,
        slackUserId,
        groupId: 'g1',
        groupName: 'jira-software-users',
        grantedBy: 'UAPPROVER',
        grantedAt: world.now,
        endsAt: new Date(world.now.getTime() + hours * 3_600_000),
        channelId: null,
        threadTs: null,
        noticesAt: [],
      });
    await grant('mine', 'UMEMBER', 'mem@example.com', 30);
    await grant('soon', 'UOTHER', 'kim@example.com', 2);
    await grant('ended', 'UMEMBER', 'mem@example.com', 1);
    await store.endGrant(
      'ended',
      { by: 'UMEMBER', at: world.now, reason: 'done' },
      {
        at: world.now,
        actor: 'UMEMBER',
        source: 'slack',
        kind: 'result',
        command: 'grant-done',
        target: 'mem@example.com',
        outcome: 'success',
        requestId: null,
        detail: { group: 'jira-software-users', grantId: 'ended' },
      },
    );

    await openHome(driven, 'UMEMBER');
    const member = shown(published('UMEMBER')[0]);
    expect(member).toContain('You have no permissions for this app');
    expect(member).toContain('Your access (1)');
    expect(member).toContain('*`jira-software-users`* as `mem@example.com` · ends <!date^');
    expect(member).not.toContain('kim@example.com'); // nobody else's grant
    expect(member).not.toContain('Grants ending within a day');

    await openHome(driven, 'UADMIN');
    const admin = shown(published('UADMIN')[0]);
    expect(admin).toContain('Your access (0)');
    expect(admin).toContain('Grants ending within a day (1)');
    expect(admin).toContain('`kim@example.com` in *`jira-software-users`* (<@UOTHER>) · ends');
    expect(admin).not.toContain('mem@example.com'); // ends in 30 h, and the other one has ended
  });

  describe('finding 2: pending requests, reasons and user data only for operators and approvers', () => {
    /** A disable asked for in a private channel, with a reason nobody else should read. */
    async function pendingInPrivate(driven: DrivenBot) {
      await command(driven, '/iam-create-user', 'email=fay@example.com givenname=Fay', 'UREQ');
      await command(
        driven,
        '/iam-disable-user',
        'fay@example.com reason="Terminated for cause: theft"',
        'UREQ',
        'GPRIVATE',
      );
      expect(await driven.bot.context.store.listPendingApprovals()).toHaveLength(1);
    }
    const expectNothingShown = (text: string) => {
      for (const secret of ['fay@example.com', 'Terminated', '<@UREQ>', 'Pending disable', 'Instance']) {
        expect(text).not.toContain(secret);
      }
    };

    it('a member with no role, a guest, an unknown user id and another workspace’s admin see only what the bot does', async () => {
      world = await startWorld({ atlassian: false });
      world.slack.users.set('UFOREIGN', { is_admin: true, team_id: 'T2' });
      const driven = await world.startBot();
      await pendingInPrivate(driven);
      for (const viewer of ['UMEMBER', 'UGUEST', 'UNOBODY', 'UFOREIGN']) {
        await openHome(driven, viewer);
        const [home] = published(viewer);
        expect((home.args.view as { type: string }).type).toBe('home');
        const text = shown(home);
        expectNothingShown(text);
        expect(text).toContain('create, update, look up, disable and enable Atlassian accounts');
        expect(text).toContain('You have no permissions for this app');
      }
      await openHome(driven, 'UADMIN');
      const admin = shown(published('UADMIN')[0]);
      expect(admin).toContain('fay@example.com');
      expect(admin).toContain('Terminated for cause: theft');
    });

    it('an approver who is no operator sees the pending requests', async () => {
      world = await startWorld({ atlassian: false });
      const driven = await world.startBot({ env: { IAM_OPERATORS: 'UREQ', IAM_APPROVERS: 'UAPPROVER' } });
      await pendingInPrivate(driven);
      await openHome(driven, 'UAPPROVER');
      expect(shown(published('UAPPROVER')[0])).toContain('fay@example.com');
    });

    it('shows the safe view, with no data, when Slack cannot say who the viewer is', async () => {
      world = await startWorld({ atlassian: false });
      const driven = await world.startBot();
      await pendingInPrivate(driven);
      world.slack.failing.set('users.info', 'internal_error');
      await openHome(driven, 'UADMIN');
      const text = shown(published('UADMIN')[0]);
      expectNothingShown(text);
      expect(text).toContain('Could not check your permissions with Slack');
    });
  });

  it('shows separate operator and approver rights', async () => {
    world = await startWorld();
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS', IAM_APPROVERS: 'UAPPROVER' } });
    await openHome(driven, 'UOPS');
    await openHome(driven, 'UAPPROVER');
    expect(shown(published('UOPS')[0])).toMatch(/✅ run commands.*🚫 approve disable requests/);
    expect(shown(published('UAPPROVER')[0])).toMatch(/🚫 run commands.*✅ approve disable requests/);
  });

  it('against Atlassian says production, not SANDBOX, and lists no requests when none is pending', async () => {
    world = await startWorld();
    const driven = await world.startBot();
    await openHome(driven, 'UADMIN');
    const text = shown(published('UADMIN')[0]);
    expect(text).not.toContain('SANDBOX');
    expect(text).toContain('Production');
    expect(text).toContain('Connected');
    expect(text).toContain('Pending disable requests (0)');
    expect(world.scim()).toEqual(['GET /Users']); // test-module: GET …/Users?count=1
  });

  it('opening the Messages tab publishes nothing', async () => {
    world = await startWorld({ atlassian: false });
    const driven = await world.startBot();
    await openHome(driven, 'UADMIN', 'messages');
    expect(world.slack.callsTo('views.publish')).toEqual([]);
  });
});

describe('modal and the audit log (issue 11 finding 2)', () => {
  beforeEach(async () => {
    world = await startWorld();
  });

  it('issue 11 finding 2: a modal submitted while the audit log is unavailable changes nothing and says so', async () => {
    world.seedUser('nia@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const db = openSqlite(world.dbPath);
    db.exec(
      `CREATE TRIGGER broken BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`,
    );
    db.close();
    // The confirmation only looks the user up; Confirm is where the write (and its audit row) starts.
    const view = await submitForConfirmation(driven, { email: 'nia@example.com', title: 'Lead' });
    await confirm(driven, view);
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users']);
    const dm = world.slack.callsTo('chat.postMessage');
    expect(dm).toHaveLength(1);
    expect(dm[0].args.channel).toBe('UADMIN');
    expect(shown(dm[0])).toContain('The audit log is unavailable, so nothing was done.');
  });
});

describe('the update confirmation when Atlassian is slow (Slack wants an answer within 3 s)', () => {
  beforeEach(async () => {
    world = await startWorld({ latencyMs: 2_300 });
  });

  it('answers at once with a "looking up" view, then shows the diff in its place; Confirm does the same and sends the PATCH', async () => {
    const id = world.seedUser('lou@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const started = Date.now();
    const pushed = (await submit(driven, { email: 'lou@example.com', title: 'Analyst' })) as {
      response_action: string;
      view: { external_id: string; blocks: unknown[]; submit?: unknown };
    };
    expect(pushed.response_action).toBe('push');
    expect(textOf(pushed.view)).toContain('Looking the user up in Atlassian');
    expect(pushed.view.submit).toBeUndefined();
    const shownLater = await world.slack.waitFor(
      (c) => c.method === 'views.update' && c.args.external_id === pushed.view.external_id,
    );
    const confirmation = shownLater.args.view as Pushed['view'];
    expect(confirmation.callback_id).toBe('iam_update_confirm');
    expect(textOf(confirmation)).toContain('`title`: `Intern` → `Analyst`');
    expect(world.patches()).toEqual([]);

    const acked = (await confirm(driven, confirmation)) as { response_action: string; view: Pushed['view'] };
    expect(acked.response_action).toBe('update');
    expect(textOf(acked.view)).toContain('Looking the user up in Atlassian');
    await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users', `PATCH /Users/${id}`]);
    const done = world.slack
      .callsTo('views.update')
      .map((c) => JSON.stringify((c.args.view as { blocks: unknown[] }).blocks));
    expect(done.some((text) => text.includes('Confirmed: the result follows in the channel.'))).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(6_000);
  }, 30_000);
});
