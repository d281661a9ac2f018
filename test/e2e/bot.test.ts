/**
 * The bot as a real process over HTTP: requests signed exactly as Slack signs them, its Web API calls
 * answered by a local stand-in (SLACK_API_URL), Atlassian emulated on loopback.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, removeTempDirs } from '../support/cli';
import {
  BOT_TOKEN,
  type BotProcess,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { viewSubmission } from '../support/fake-receiver';
import { approvalRequest, buttonClick } from '../support/slack-payloads';

const TOKEN = 'tok-bot-e2e-SECRET';
const DIRECTORY = 'dir-bot';

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let bot: BotProcess;
let cwd: string;

function env(): Record<string, string> {
  return {
    SLACK_API_URL: slack.apiUrl,
    ...atlassian.env,
    LOG_LEVEL: 'debug',
  };
}

beforeAll(async () => {
  slack = await startSlackStandIn();
  for (const id of ['UADMIN', 'UREQ', 'UAPPROVER']) slack.users.set(id, { is_admin: true });
  slack.users.set('UMEMBER', {});
  slack.users.set('UGUEST', { is_admin: true, is_restricted: true });
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: TOKEN });
  cwd = makeTempDir('atlassian-iam-bot-');
  bot = await startBot(env(), cwd);
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await atlassian?.close();
  removeTempDirs();
});

afterEach(() => {
  for (const secret of [TOKEN, SIGNING_SECRET, BOT_TOKEN]) {
    expect(bot.output()).not.toContain(secret);
    // The bot token goes to Slack as the credential (token=…); it must never be inside what is posted.
    const posted = slack.calls.map(({ args: { token: _token, ...rest } }) => rest);
    expect(JSON.stringify(posted)).not.toContain(secret);
  }
});

const responseUrl = (name: string) => `${slack.responseUrlBase}${name}`;

async function command(name: string, text: string, userId: string, tag: string): Promise<Response> {
  return postSigned(bot.url, slashCommandBody(name, text, userId, responseUrl(tag)));
}

/** All blocks and text of a call, as one string, for "does it mention…" checks. */
const textOf = (call: SlackCall): string =>
  JSON.stringify([call.args.text, call.args.blocks, call.args.view]);

function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const own = record.type === 'mrkdwn' && typeof record.text === 'string' ? [record.text] : [];
  return [...own, ...Object.values(record).flatMap(mrkdwnTexts)];
}

const scimRequests = () =>
  atlassian.server.requests.map((r) => `${r.method} ${r.path.replace(/^.*\/scim\/directory\/[^/]+/, '')}`);

describe('request verification', () => {
  const body = () => slashCommandBody('/iam-get-user', 'x@example.com', 'UADMIN', responseUrl('forged'));

  it.each([
    ['forged (wrong secret)', { secret: 'not-the-secret' }],
    ['unsigned', { unsigned: true }],
    ['stale (timestamp 10 minutes old)', { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    [
      'from the future (timestamp 10 minutes ahead, correctly signed)',
      { timestamp: Math.floor(Date.now() / 1000) + 600 },
    ],
    ['tampered body', { signedBody: 'text=something-else' }],
  ])('%s requests get 401 and do nothing', async (_name, options) => {
    const before = { slack: slack.calls.length, scim: atlassian.server.requests.length };
    const answer = await postSigned(bot.url, body(), options);
    expect(answer.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.calls.length).toBe(before.slack);
    expect(atlassian.server.requests.length).toBe(before.scim);
  });

  it('GET /healthz answers 200 with JSON', async () => {
    const answer = await fetch(`${bot.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ ok: true, sandbox: false });
  });
});

describe('slash commands', () => {
  it('/iam-create-user creates the user and posts the result table in the channel', async () => {
    const answer = await command(
      '/iam-create-user',
      'email=ann@example.com givenname=Ann title="Team Lead"',
      'UADMIN',
      'create',
    );
    expect(answer.status).toBe(200);
    const post = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && textOf(c).includes('ann@example.com'),
    );
    expect(post.args.channel).toBe('C1');
    const blocks = post.args.blocks as { type: string }[];
    expect(blocks.filter((b) => b.type === 'table')).toHaveLength(1);
    expect(textOf(post)).toContain('Create User Results (Atlassian IAM)');
    expect(scimRequests().slice(-2)).toEqual(['GET /Users', 'POST /Users']);
  });

  it('/iam-get-user posts a summary and the full attribute list in its thread', async () => {
    await command('/iam-get-user', 'ann@example.com', 'UADMIN', 'get');
    const summary = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && !c.args.thread_ts && textOf(c).includes('Get User Results'),
    );
    const thread = await slack.waitFor(
      (c) =>
        c.method === 'chat.postMessage' && c.args.thread_ts !== undefined && textOf(c).includes('Team Lead'),
    );
    expect(typeof thread.args.thread_ts).toBe('string');
    expect(summary.args.channel).toBe('C1');
  });

  it('refuses a non-operator ephemerally and does nothing', async () => {
    const scimBefore = atlassian.server.requests.length;
    await command('/iam-create-user', 'email=mallory@example.com', 'UMEMBER', 'refused-member');
    const refusal = await slack.waitFor(
      (c) => c.method === 'response_url' && textOf(c).includes('operators'),
    );
    expect(refusal.args.response_type).toBe('ephemeral');
    await command('/iam-get-user', 'ann@example.com', 'UGUEST', 'refused-guest');
    await slack.waitFor(
      (c) => c.method === 'response_url' && c.args !== refusal.args && textOf(c).includes('operators'),
    );
    expect(atlassian.server.requests.length).toBe(scimBefore);
  });

  it('answers bad input with what to type, and changes nothing', async () => {
    const scimBefore = atlassian.server.requests.length;
    await command('/iam-create-user', '{"email": ', 'UADMIN', 'bad-json');
    const usage = await slack.waitFor(
      (c) => c.method === 'response_url' && textOf(c).includes("That profile isn't valid JSON"),
    );
    expect(usage.args.response_type).toBe('ephemeral');
    expect(mrkdwnTexts(usage.args.blocks).join('\n')).toContain('You typed: `{"email":`');
    expect(atlassian.server.requests.length).toBe(scimBefore);
  });

  it('never lets profile text become a mention or a link', async () => {
    await command(
      '/iam-create-user',
      'email=eve@example.com title="<!channel> <http://evil.example|click>"',
      'UADMIN',
      'inject',
    );
    const post = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && textOf(c).includes('eve@example.com'),
    );
    // Mentions and links are live only in mrkdwn and the top-level text; raw_text table cells are inert.
    const live = [String(post.args.text), ...mrkdwnTexts(post.args.blocks)].join('\n');
    expect(live).toContain('eve@example.com');
    expect(live).not.toMatch(/<!channel>|<http:\/\/evil/);
  });
});

describe('modal forms', () => {
  it('empty /iam-create-user opens the modal; field errors come back; a valid form posts the result', async () => {
    await command('/iam-create-user', '', 'UADMIN', 'modal');
    const open = await slack.waitFor((c) => c.method === 'views.open');
    const view = open.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id?: string }[];
    };
    expect(view.callback_id).toBe('iam_create_user');
    expect(view.blocks.map((b) => b.block_id)).toEqual(
      expect.arrayContaining(['email', 'givenname', 'surname', 'title']),
    );

    const submission = (email: string) =>
      interactionBody(
        viewSubmission('iam_create_user', 'UADMIN', { email, title: 'Analyst' }, view.private_metadata),
      );
    const invalid = await postSigned(bot.url, submission('not-an-email'));
    expect(invalid.status).toBe(200);
    const errors = (await invalid.json()) as { response_action: string; errors: Record<string, string> };
    expect(errors.response_action).toBe('errors');
    expect(Object.keys(errors.errors)).toEqual(['email']);

    const valid = await postSigned(bot.url, submission('modal@example.com'));
    expect(valid.status).toBe(200);
    const post = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && textOf(c).includes('modal@example.com'),
    );
    expect(post.args.channel).toBe('C1');
  });

  it('/iam-update-user with a bare email opens the modal pre-filled with current values', async () => {
    await command('/iam-update-user', 'ann@example.com', 'UADMIN', 'update-modal');
    const update = await slack.waitFor((c) => c.method === 'views.update');
    const view = update.args.view as {
      callback_id: string;
      blocks: { block_id?: string; element?: { initial_value?: string } }[];
    };
    expect(view.callback_id).toBe('iam_update_user');
    expect(view.blocks.find((b) => b.block_id === 'title')?.element?.initial_value).toBe('Team Lead');
    expect(view.blocks.find((b) => b.block_id === 'givenname')?.element?.initial_value).toBe('Ann');
  });
});

describe('disable approvals', () => {
  async function requestDisable(email: string, tag: string): Promise<{ id: string; ts: string }> {
    atlassian.seedUser(email);
    await command('/iam-disable-user', `${email} reason="left the company"`, 'UREQ', tag);
    return approvalRequest(slack, email);
  }

  it('posts a request, refuses the requester and non-approvers, and two concurrent approvals disable once', async () => {
    const { id, ts } = await requestDisable('bob@example.com', 'disable-bob');
    const patchesBefore = atlassian.server.requests.filter((r) => r.method === 'PATCH').length;

    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', id, 'UREQ', responseUrl('self'), ts)),
    );
    await slack.waitFor((c) => c.method === 'response_url' && textOf(c).includes('someone else'));
    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', id, 'UMEMBER', responseUrl('member'), ts)),
    );
    await slack.waitFor((c) => c.method === 'response_url' && textOf(c).includes('Only approvers'));
    expect(atlassian.server.requests.filter((r) => r.method === 'PATCH').length).toBe(patchesBefore);

    const [a, b] = await Promise.all([
      postSigned(
        bot.url,
        interactionBody(buttonClick('iam_disable_approve', id, 'UAPPROVER', responseUrl('a1'), ts)),
      ),
      postSigned(
        bot.url,
        interactionBody(buttonClick('iam_disable_approve', id, 'UADMIN', responseUrl('a2'), ts)),
      ),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await slack.waitFor((c) => c.method === 'response_url' && textOf(c).includes('already'));
    const notice = await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts !== undefined && textOf(c).includes('UREQ'),
    );
    expect(notice).toBeDefined();
    const patches = atlassian.server.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length - patchesBefore).toBe(1);
    expect(patches[patches.length - 1].body).toMatchObject({
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(slack.callsTo('chat.update').length).toBeGreaterThan(0);
  });

  it('deny leaves the user active and tells the requester', async () => {
    const { id, ts } = await requestDisable('carol@example.com', 'disable-carol');
    const patchesBefore = atlassian.server.requests.filter((r) => r.method === 'PATCH').length;
    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_deny', id, 'UAPPROVER', responseUrl('deny'), ts)),
    );
    await slack.waitFor(
      (c) =>
        c.method === 'chat.update' &&
        textOf(c).toLowerCase().includes('denied') &&
        textOf(c).includes('carol@example.com'),
    );
    expect(atlassian.server.requests.filter((r) => r.method === 'PATCH').length).toBe(patchesBefore);
  });

  it('a pending request survives a restart and is approved afterwards', async () => {
    const { id, ts } = await requestDisable('dave@example.com', 'disable-dave');
    expect(await bot.stop('SIGTERM')).toBe(0);
    bot = await startBot(env(), cwd);
    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', id, 'UAPPROVER', responseUrl('after-restart'), ts)),
    );
    await slack.waitFor(
      (c) =>
        c.method === 'chat.update' &&
        textOf(c).includes('dave@example.com') &&
        !textOf(c).includes('iam_disable_approve') &&
        textOf(c).toLowerCase().includes('disabled'),
    );
    const db = new Database(path.join(cwd, 'bot.db'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT kind, command, outcome FROM audit_log WHERE request_id = ? ORDER BY id')
        .all(id);
      expect(rows).toEqual([
        { kind: 'command', command: 'iam-disable-user', outcome: 'requested' },
        { kind: 'decision', command: 'approve', outcome: 'approved' },
        { kind: 'result', command: 'iam-disable-user', outcome: 'success' },
      ]);
    } finally {
      db.close();
    }
  });
});

describe('taking an account over needs two people (issue 10 findings 4 and 7)', () => {
  const patchesOf = (userId: string) =>
    atlassian.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/Users/${userId}`));

  it('an email change is applied only after a second person approves, exactly as approved', async () => {
    const userId = atlassian.seedUser('fred@example.com');
    await command(
      '/iam-update-user',
      '{"email":"fred.new@example.com","olduserdata":{"email":"fred@example.com"}}',
      'UREQ',
      'rename-fred',
    );
    const { id, ts } = await approvalRequest(slack, 'fred@example.com');
    expect(patchesOf(userId)).toEqual([]);
    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', id, 'UREQ', responseUrl('self-rename'), ts)),
    );
    await slack.waitFor((c) => c.method === 'response_url' && textOf(c).includes('someone else'));
    expect(patchesOf(userId)).toEqual([]);
    await postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', id, 'UAPPROVER', responseUrl('ok-rename'), ts)),
    );
    await slack.waitFor((c) => c.method === 'chat.update' && textOf(c).includes('User updated'));
    expect(patchesOf(userId)).toHaveLength(1);
    expect(patchesOf(userId)[0].body).toMatchObject({
      Operations: [{ op: 'replace', value: { userName: 'fred.new@example.com' } }],
    });
  });

  it('the bot starts on a database holding an approved request it cannot carry out, fails it, and carries out the next', async () => {
    const userId = atlassian.seedUser('gina@example.com');
    expect(await bot.stop('SIGTERM')).toBe(0);
    const db = new Database(path.join(cwd, 'bot.db'));
    try {
      const insert = db.prepare(
        `INSERT INTO approvals (id, action, requester_id, channel_id, message_ts, profile, target, status,
           created_at, expires_at, decided_by, decided_at)
         VALUES (?, 'disable', 'UREQ', 'C1', ?, ?, ?, 'approved', ?, ?, 'UAPPROVER', ?)`,
      );
      const now = new Date().toISOString();
      const later = new Date(Date.now() + 3_600_000).toISOString();
      insert.run('bad-row', '1700000900.000100', '{"id":"."}', '.', now, later, now);
      insert.run(
        'good-row',
        '1700000901.000100',
        JSON.stringify({ id: userId }),
        'gina@example.com',
        now,
        later,
        now,
      );
    } finally {
      db.close();
    }
    bot = await startBot(env(), cwd);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    await slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === '1700000900.000100');
    await slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === '1700000901.000100');
    expect(patchesOf(userId)).toHaveLength(1);
    const check = new Database(path.join(cwd, 'bot.db'), { readonly: true });
    try {
      const rows = check
        .prepare("SELECT id, status FROM approvals WHERE id IN ('bad-row', 'good-row') ORDER BY id")
        .all();
      expect(rows).toEqual([
        { id: 'bad-row', status: 'failed' },
        { id: 'good-row', status: 'completed' },
      ]);
      expect(check.prepare("SELECT kind, outcome FROM audit_log WHERE request_id = 'bad-row'").all()).toEqual(
        [{ kind: 'result', outcome: 'failed' }],
      );
    } finally {
      check.close();
    }
  });
});
