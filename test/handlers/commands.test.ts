/**
 * The five slash commands through Bolt's processEvent (FakeReceiver): ack at once, SCIM work after,
 * results in the channel; who may run them; what the audit log keeps.
 */
import { openSqlite } from '../../src/store/sqlite';
import { createDatabase, dropDatabase, uniqueName, withPostgres } from '../support/postgres';
import type { AuditEntry } from '../../src/store/types';
import {
  type AckResponse,
  blocksOf,
  buttonClick,
  type DrivenBot,
  SECRETS,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

let world: World;

beforeEach(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await world.close();
});

interface AckSnapshot {
  response: AckResponse;
  /** SCIM requests Atlassian had received when the listener acked. */
  scimAtAck: number;
  /** Slack methods the bot had called when the listener acked. */
  slackAtAck: string[];
}

/** Sends a slash command, notes the state of the world at the ack, and waits for the work to finish. */
async function runCommand(
  driven: DrivenBot,
  command: string,
  text: string,
  userId = 'UADMIN',
  tag = command.slice(1),
): Promise<AckSnapshot> {
  let snapshot: Omit<AckSnapshot, 'response'> | null = null;
  driven.receiver.onAck = () => {
    snapshot = {
      scimAtAck: world.atlassian?.server.requests.length ?? 0,
      slackAtAck: world.slack.calls.map((c) => c.method),
    };
  };
  const response = await driven.receiver.send(slashCommand(command, text, userId, world.responseUrl(tag)));
  driven.receiver.onAck = null;
  await driven.receiver.idle();
  if (!snapshot) throw new Error('no ack seen');
  return { response, ...(snapshot as Omit<AckSnapshot, 'response'>) };
}

/** The ack came with no body, before any SCIM request and before any Slack call except Bolt's auth.test. */
function expectAckedFirst(ack: AckSnapshot, scimBefore: number) {
  expect(ack.response).toBeUndefined();
  expect(ack.scimAtAck).toBe(scimBefore);
  expect(ack.slackAtAck.filter((m) => m !== 'auth.test')).toEqual([]);
}

const posts = () => world.slack.callsTo('chat.postMessage');
const ephemerals = () => world.slack.callsTo('response_url');

describe('slash commands ack at once and do the SCIM work after', () => {
  it('/iam-create-user acks with no body, then looks the user up, creates them and posts the result, attributes in its thread', async () => {
    const driven = await world.startBot();
    const ack = await runCommand(
      driven,
      '/iam-create-user',
      'email=ann@example.com givenname=Ann title="Team Lead"',
    );
    expectAckedFirst(ack, 0);
    expect(world.scim()).toEqual(['GET /Users', 'POST /Users']);
    const [post, reply] = posts();
    expect(posts()).toHaveLength(2);
    expect(post.args.channel).toBe('C1');
    expect(post.args.text).toBe('Created ann@example.com (active) in Atlassian');
    expect(shown(post)).toContain('Create User Results (Atlassian IAM)');
    expect(blocksOf(post).filter((b) => b.type === 'table')).toHaveLength(1);
    expect(reply.args.thread_ts).toBe(tsOf(world.slack, post));
    expect(shown(reply)).toContain('*name.givenName*: Ann');
    expect(ephemerals()).toEqual([]);
  });

  it('/iam-update-user acks with no body, then PATCHes only the given attributes and posts the result', async () => {
    const id = world.seedUser('bea@example.com', { title: 'Intern' });
    const driven = await world.startBot();
    const ack = await runCommand(driven, '/iam-update-user', 'email=bea@example.com title="Team Lead"');
    expectAckedFirst(ack, 0);
    expect(world.scim()).toEqual(['GET /Users', `PATCH /Users/${id}`]);
    expect(world.patches()).toHaveLength(1);
    const patch = world.patches()[0] as { body: { Operations: { value: Record<string, unknown> }[] } };
    // Only what the profile names (userName and emails derive from email): never active, name, …
    expect(Object.keys(patch.body.Operations[0].value).sort()).toEqual(['emails', 'title', 'userName']);
    const post = await world.slack.waitFor((c) => c.method === 'chat.postMessage');
    expect(shown(post)).toContain('Update User Results (Atlassian IAM)');
    expect(shown(post)).toContain('Team Lead');
  });

  it('/iam-get-user acks with no body, then posts a summary and the attributes as a reply in its thread', async () => {
    world.seedUser('cid@example.com', { title: 'Analyst', name: { givenName: 'Cid' } });
    const driven = await world.startBot();
    const ack = await runCommand(driven, '/iam-get-user', 'cid@example.com');
    expectAckedFirst(ack, 0);
    expect(world.scim()).toEqual(['GET /Users']);
    const summary = await world.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts === undefined,
    );
    const reply = await world.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts !== undefined,
    );
    expect(posts()).toEqual([summary, reply]);
    expect(summary.args.channel).toBe('C1');
    expect(shown(summary)).toContain('cid@example.com');
    expect(reply.args.channel).toBe('C1');
    expect(reply.args.thread_ts).toBe(tsOf(world.slack, summary));
    expect(shown(reply)).toContain('Analyst');
  });

  it('/iam-disable-user acks with no body, then looks the user up and posts an approval request (no PATCH)', async () => {
    world.seedUser('dan@example.com');
    const driven = await world.startBot();
    const ack = await runCommand(driven, '/iam-disable-user', 'dan@example.com reason="left"', 'UREQ');
    expectAckedFirst(ack, 0);
    expect(world.scim()).toEqual(['GET /Users']);
    const [post] = posts();
    expect(posts()).toHaveLength(1);
    const actions = blocksOf(post).find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ['iam_disable_approve', 'req-1'],
      ['iam_disable_deny', 'req-1'],
    ]);
    expect(shown(post)).toContain('dan@example.com');
    expect(shown(post)).toContain('UREQ');
    const request = await driven.bot.context.store.getApproval('req-1');
    expect(request).toMatchObject({
      status: 'pending',
      requesterId: 'UREQ',
      target: 'dan@example.com',
      reason: 'left',
      messageTs: tsOf(world.slack, post),
    });
  });

  it('/iam-enable-user acks with no body, then looks the user up and posts an approval request (no PATCH)', async () => {
    world.seedUser('eve@example.com', { active: false });
    const driven = await world.startBot();
    const ack = await runCommand(driven, '/iam-enable-user', 'eve@example.com', 'UREQ');
    expectAckedFirst(ack, 0);
    expect(world.scim()).toEqual(['GET /Users']);
    const [post] = posts();
    expect(posts()).toHaveLength(1);
    const actions = blocksOf(post).find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ['iam_disable_approve', 'req-1'],
      ['iam_disable_deny', 'req-1'],
    ]);
    expect(shown(post)).toContain('asks to enable');
    expect(await driven.bot.context.store.getApproval('req-1')).toMatchObject({
      action: 'enable',
      status: 'pending',
      requesterId: 'UREQ',
      target: 'eve@example.com',
    });
  });
});

describe('command text', () => {
  it('invalid JSON text gets the friendly message quoting what was typed, and nothing runs', async () => {
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', '{"email": }');
    const [reply] = ephemerals();
    expect(ephemerals()).toHaveLength(1);
    expect(reply.args.response_type).toBe('ephemeral');
    expect(reply.args.text).toBe(
      "⚠️ That profile isn't valid JSON: unexpected } (is a value missing, or a quote?).",
    );
    expect(shown(reply)).toContain('You typed: `{\\"email\\": }`');
    expect(shown(reply)).not.toMatch(/Unexpected token|position|not valid JSON \(/);
    expect(world.scim()).toEqual([]);
    expect(posts()).toEqual([]);
  });

  // Regression: a single email=… pair is a key=value pair, not a bare email.
  it('`/iam-create-user email=hal@example.com` (a single key=value pair) creates hal@example.com', async () => {
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', 'email=hal@example.com');
    const created = world.atlassian?.server.requests.find((r) => r.method === 'POST');
    expect(created?.body).toMatchObject({ userName: 'hal@example.com' });
    expect(shown(posts()[0])).not.toContain('email=hal@example.com');
  });

  it('`/iam-create-user email=… givenname=…` creates the user named by the email pair', async () => {
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', 'email=ivy@example.com givenname=Ivy');
    const created = world.atlassian?.server.requests.find((r) => r.method === 'POST');
    expect(created?.body).toMatchObject({ userName: 'ivy@example.com', name: { givenName: 'Ivy' } });
  });

  it('`/iam-create-user` with groups creates the user and adds them to each group, checked first', async () => {
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', '{"email":"gus@example.com","groups":["confluence-users"]}');
    const requests = world.atlassian?.server.requests ?? [];
    expect(requests.find((r) => r.method === 'POST' && r.path.endsWith('/Users'))?.body).toMatchObject({
      userName: 'gus@example.com',
    });
    expect(requests.filter((r) => r.method === 'PATCH' && r.path.includes('/Groups/'))).toHaveLength(1);

    await runCommand(
      driven,
      '/iam-create-user',
      '{"email":"hank@example.com","groups":["confluence-userz"]}',
    );
    expect(requests.filter((r) => r.method === 'POST' && JSON.stringify(r.body).includes('hank'))).toEqual(
      [],
    );
    expect(shown(posts().at(-1)!)).toContain('confluence-users');
  });

  it('`/iam-create-user` with groups for a user who exists already is refused and changes nothing', async () => {
    world.seedUser('ida@example.com');
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', '{"email":"ida@example.com","groups":["confluence-users"]}');
    const writes = (world.atlassian?.server.requests ?? []).filter((r) => r.method !== 'GET');
    expect(writes).toEqual([]);
    expect(shown(ephemerals().at(-1)!)).toContain('exists already');
  });
});

describe('who may run commands', () => {
  async function refusalFor(driven: DrivenBot, userId: string): Promise<SlackCall> {
    const before = ephemerals().length;
    const ack = await runCommand(driven, '/iam-get-user', 'fay@example.com', userId, `refused-${userId}`);
    expect(ack.response).toBeUndefined();
    expect(ephemerals()).toHaveLength(before + 1);
    return ephemerals()[before];
  }

  async function refusals(driven: DrivenBot): Promise<AuditEntry[]> {
    return (await driven.bot.context.store.listAudit({ limit: 1000 })).filter((e) => e.kind === 'refusal');
  }

  it('IAM_OPERATORS takes user ids and user-group ids', async () => {
    world.seedUser('fay@example.com');
    world.slack.groups.set('SOPS', ['UGRP']);
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS,SOPS' } });
    await runCommand(driven, '/iam-get-user', 'fay@example.com', 'UOPS', 'listed-user');
    await runCommand(driven, '/iam-get-user', 'fay@example.com', 'UGRP', 'group-member');
    expect(world.scim()).toEqual(['GET /Users', 'GET /Users']);
    expect(posts()).toHaveLength(4); // summary and thread reply, twice
    expect(ephemerals()).toEqual([]);
    expect(await refusals(driven)).toEqual([]);
  });

  it('a guest is refused even when listed: ephemeral reply, a refusal in the audit log, no SCIM request', async () => {
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS,UGUEST' } });
    const refusal = await refusalFor(driven, 'UGUEST');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal)).toContain('Only operators');
    expect(world.scim()).toEqual([]);
    expect(posts()).toEqual([]);
    expect(await refusals(driven)).toEqual([
      expect.objectContaining({
        actor: 'UGUEST',
        kind: 'refusal',
        command: 'iam-get-user',
        outcome: 'refused',
      }),
    ]);
  });

  it('someone not on the list is refused, workspace admins included, and nothing runs', async () => {
    world.slack.groups.set('SOPS', ['UGRP']);
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS,SOPS' } });
    for (const userId of ['UMEMBER', 'UADMIN']) {
      const refusal = await refusalFor(driven, userId);
      expect(refusal.args.response_type).toBe('ephemeral');
    }
    expect(world.scim()).toEqual([]);
    expect(posts()).toEqual([]);
    expect((await refusals(driven)).map((e) => e.actor).sort()).toEqual(['UADMIN', 'UMEMBER']);
  });

  // Regression: a user Slack does not know (users.info user_not_found) is refused like any non-operator.
  it('someone Slack does not know (users.info: user_not_found) is refused like any non-operator', async () => {
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS' } });
    const refusal = await refusalFor(driven, 'UNOBODY');
    expect(shown(refusal)).toContain('Only operators');
    expect(world.scim()).toEqual([]);
    expect((await refusals(driven)).map((e) => e.actor)).toEqual(['UNOBODY']);
  });

  it('without IAM_OPERATORS only workspace admins and owners run commands', async () => {
    world.seedUser('fay@example.com');
    const driven = await world.startBot();
    await refusalFor(driven, 'UMEMBER');
    expect(world.scim()).toEqual([]);
    await runCommand(driven, '/iam-get-user', 'fay@example.com', 'UADMIN');
    expect(world.scim()).toEqual(['GET /Users']);
  });
});

describe('audit', () => {
  it('a create leaves a command row and a result row with the result object, and no secret anywhere', async () => {
    const driven = await world.startBot();
    await runCommand(driven, '/iam-create-user', 'email=gus@example.com givenname=Gus', 'UADMIN');
    // A failing command too (renaming a user onto gus's userName, approved by a second person: Atlassian
    // answers 409): error text is where a leaked credential would most likely turn up.
    world.seedUser('old@example.com');
    await runCommand(
      driven,
      '/iam-update-user',
      '{"username":"gus@example.com","olduserdata":{"username":"old@example.com"}}',
      'UADMIN',
      'update-conflict',
    );
    const request = posts()[posts().length - 1];
    await driven.receiver.send(
      buttonClick(
        'iam_disable_approve',
        'req-1',
        'UAPPROVER',
        world.responseUrl('ok'),
        tsOf(world.slack, request),
      ),
    );
    await driven.receiver.idle();
    const rows = (await driven.bot.context.store.listAudit({ limit: 1000 })).reverse();
    const mine = rows.filter((r) => r.actor === 'UADMIN' && r.target === 'gus@example.com');
    expect(mine.map((r) => [r.kind, r.command, r.outcome])).toEqual([
      ['command', 'iam-create-user', 'received'],
      ['result', 'iam-create-user', 'success'],
      // The update's own row comes before its lookup; the lookup made it an approval request (below).
      ['command', 'iam-update-user', 'received'],
    ]);
    expect(mine.every((r) => r.source === 'slack')).toBe(true);
    const update = rows.filter((r) => r.requestId === 'req-1');
    expect(update.map((r) => [r.actor, r.kind, r.command, r.outcome])).toEqual([
      ['UADMIN', 'command', 'iam-update-user', 'requested'],
      ['UAPPROVER', 'decision', 'approve', 'approved'],
      ['UAPPROVER', 'result', 'iam-update-user', 'failure'],
    ]);
    expect(update[2].detail).toMatchObject({ IAM: { Vendor: { success: false, errorCode: 409 } } });
    expect(mine[1].detail).toMatchObject({
      IAM: {
        Vendor: {
          action: 'create',
          brand: 'Atlassian IAM',
          success: true,
          email: 'gus@example.com',
          username: 'gus@example.com',
          details: expect.objectContaining({ userName: 'gus@example.com' }),
        },
        UserProfile: { email: 'gus@example.com', givenname: 'Gus' },
      },
    });
    const everything = JSON.stringify(rows);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
    // …nor in anything posted to Slack (the bot token travels only as the credential).
    const posted = JSON.stringify(world.slack.calls.map(({ args: { token: _token, ...rest } }) => rest));
    for (const secret of SECRETS) expect(posted).not.toContain(secret);
  });
});

describe('no action without its audit row (issue 10 finding 3, issue 11 findings 2–3)', () => {
  /** Makes the bot's own SQLite file refuse audit rows (all, or of one kind), the way a broken disk would. */
  function breakAuditLog(kind?: 'result') {
    const db = openSqlite(world.dbPath);
    try {
      const when = kind ? `WHEN NEW.kind = '${kind}'` : '';
      db.exec(`CREATE TRIGGER broken_audit BEFORE INSERT ON audit_log ${when}
               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    } finally {
      db.close();
    }
  }

  it('issue 11 finding 2: with the audit log unavailable, a create calls nothing and the person is told', async () => {
    const driven = await world.startBot();
    breakAuditLog();
    await runCommand(driven, '/iam-create-user', 'email=hal@example.com givenname=Hal');
    await runCommand(driven, '/iam-get-user', 'hal@example.com');
    expect(world.scim()).toEqual([]);
    expect(posts()).toEqual([]);
    const told = ephemerals().map(shown);
    expect(told).toHaveLength(2);
    for (const text of told) expect(text).toContain('The audit log is unavailable, so nothing was done.');
    expect(driven.logs.join('\n')).toContain('audit write failed; nothing was done');
    const { body } = await driven.bot.context.metrics.render();
    expect(body).toMatch(/^atlassian_iam_audit_write_failures_total 2$/m);
  });

  it('issue 11 finding 3: the result row is written even when the result cannot be posted anywhere', async () => {
    const driven = await world.startBot();
    world.slack.closedChannels.add('C1');
    // not_in_channel, and a response_url that no longer answers: nothing reaches the requester.
    await driven.receiver.send(
      slashCommand('/iam-create-user', 'email=ida@example.com', 'UADMIN', 'http://127.0.0.1:1/expired'),
    );
    await driven.receiver.idle();
    expect(world.scim()).toEqual(['GET /Users', 'POST /Users']);
    const rows = await driven.bot.context.store.listAudit({ target: 'ida@example.com' });
    expect(rows.map((r) => [r.kind, r.outcome]).reverse()).toEqual([
      ['command', 'received'],
      ['result', 'success'],
    ]);
  });

  it('issue 11 finding 3: a change Slack will not post is told privately, never as "failed unexpectedly"', async () => {
    const driven = await world.startBot();
    world.slack.channelErrors.set('C1', 'restricted_action');
    await runCommand(driven, '/iam-create-user', 'email=max@example.com');
    expect(world.scim()).toEqual(['GET /Users', 'POST /Users']);
    const told = ephemerals().map(shown);
    expect(told).toEqual([expect.stringContaining('Create User Results (Atlassian IAM)')]);
    expect(told[0]).toContain('max@example.com');
    expect(told[0]).not.toContain('failed unexpectedly');
    const rows = await driven.bot.context.store.listAudit({ target: 'max@example.com' });
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([
      ['result', 'success'],
      ['command', 'received'],
    ]);
  });

  it('a result row that cannot be written after the change is logged loudly and the result still posted', async () => {
    const driven = await world.startBot();
    breakAuditLog('result');
    await runCommand(driven, '/iam-create-user', 'email=jo@example.com');
    expect(world.scim()).toEqual(['GET /Users', 'POST /Users']);
    expect(shown(posts()[0])).toContain('jo@example.com');
    const rows = await driven.bot.context.store.listAudit({ target: 'jo@example.com' });
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([['command', 'received']]);
    expect(driven.logs.join('\n')).toMatch(/AUDIT ROW MISSING.*iam-create-user.*jo@example\.com.*success/);
  });
});

describe('answers from Atlassian are checked before they are believed (issue 10 finding 4)', () => {
  it('issue 10 finding 4: /iam-get-user {"id":"."} is refused at input; the user list is never read', async () => {
    world.seedUser('lee@example.com');
    const driven = await world.startBot();
    await runCommand(driven, '/iam-get-user', '{"id":"."}');
    await runCommand(driven, '/iam-disable-user', '{"id":".."}');
    expect(world.scim()).toEqual([]);
    expect(posts()).toEqual([]);
    expect(ephemerals().map(shown)).toEqual([
      expect.stringContaining('id \\".\\" is not a user id'),
      expect.stringContaining('id \\"..\\" is not a user id'),
    ]);
  });
});

withPostgres((testUrl) => {
  describe('text PostgreSQL cannot keep is refused at input (issue 10 finding 3)', () => {
    let databaseName: string;
    let databaseUrl: string;
    const bots: DrivenBot[] = [];
    beforeEach(async () => {
      databaseName = uniqueName('iam_nul');
      databaseUrl = await createDatabase(testUrl, databaseName);
    });
    afterEach(async () => {
      for (const bot of bots.splice(0)) await bot.stop(); // the bot's pool first, then the database
      await dropDatabase(testUrl, databaseName);
    });

    it('issue 10 finding 3: enable with a NUL in email, get with a NUL employeeid and a NUL reason change nothing', async () => {
      const id = world.seedUser('kim@example.com', { active: false });
      const driven = await world.startBot({ env: { DATABASE_URL: databaseUrl } });
      bots.push(driven);
      await runCommand(driven, '/iam-enable-user', `{"id":"${id}","email":"x\\u0000"}`, 'UADMIN', 'enable');
      await runCommand(driven, '/iam-get-user', '{"employeeid":"\\u0000"}', 'UADMIN', 'get');
      await runCommand(
        driven,
        '/iam-disable-user',
        'kim@example.com reason="left\u0000"',
        'UADMIN',
        'disable',
      );
      expect(ephemerals().map(shown)).toEqual([
        expect.stringContaining('`email` contains a NUL character (U+0000); remove it'),
        expect.stringContaining('`employeeid` contains a NUL character (U+0000); remove it'),
        expect.stringContaining('`reason` contains a NUL character (U+0000); remove it'),
      ]);
      expect(world.scim()).toEqual([]);
      expect(posts()).toEqual([]);
      expect(await driven.bot.context.store.listAudit()).toEqual([]);
      expect(await driven.bot.context.store.listPendingApprovals()).toEqual([]);
      const stored = world.atlassian?.directory.handle({
        method: 'GET',
        path: `/Users/${id}`,
        query: new URLSearchParams(),
        body: undefined,
      });
      expect(stored?.body).toMatchObject({ active: false });
    });
  });
});
