/**
 * Two bot processes (dist/index.js, HTTP mode) sharing one PostgreSQL database, one emulated Atlassian
 * and one Slack stand-in: a disable is decided once and carried out once whichever instance each
 * approver's click reaches, and an expired request is expired once, by whichever instance notices.
 * Each run works in a database of its own, dropped afterwards. Needs TEST_DATABASE_URL.
 */
import { Client } from 'pg';
import { makeTempDir, removeTempDirs, requireBuiltCli, runCli } from '../support/cli';
import {
  BOT_TOKEN,
  type BotProcess,
  interactionBody,
  postSigned,
  sharedBotEnv,
  SIGNING_SECRET,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { createDatabase, dropDatabase, uniqueName, withPostgres } from '../support/postgres';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { approvalRequestId, buttonClick } from '../support/slack-payloads';

const TOKEN = 'tok-pg-e2e-SECRET';
const DIRECTORY = 'dir-bot-pg';
/** The server trusts loopback, so this password is never sent; the bots must still never show it. */
const DB_PASSWORD = 'pg-pw-SECRET-e2e-31337';

withPostgres((testUrl) => {
  let slack: SlackStandIn;
  let atlassian: EmulatedAtlassian;
  let databaseName: string;
  let databaseUrl: string;
  let db: Client;
  const bots: BotProcess[] = [];

  const env = (extra: Record<string, string> = {}) => sharedBotEnv(slack, atlassian, databaseUrl, extra);

  /** Starts both instances, each in its own working directory (so no SQLite file could be shared). */
  async function startPair(extra: Record<string, string> = {}): Promise<[BotProcess, BotProcess]> {
    const pair = await Promise.all([
      startBot(env(extra), makeTempDir('atlassian-iam-bot-a-')),
      startBot(env(extra), makeTempDir('atlassian-iam-bot-b-')),
    ]);
    bots.push(...pair);
    return pair;
  }

  /** Stops every instance started so far (SIGTERM: each finishes its work and exits 0). */
  async function stopAll(): Promise<void> {
    const exits = await Promise.all(bots.map((b) => b.stop('SIGTERM')));
    expect(exits.every((code) => code === 0)).toBe(true);
  }

  beforeAll(async () => {
    slack = await startSlackStandIn();
    for (const id of ['UREQ', 'UAPPROVER', 'UADMIN']) slack.users.set(id, { is_admin: true });
    atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: TOKEN });
    databaseName = uniqueName('iam_e2e');
    const url = new URL(await createDatabase(testUrl, databaseName));
    url.password = DB_PASSWORD;
    databaseUrl = url.toString();
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop('SIGKILL')));
    await db?.end();
    await slack?.close();
    await atlassian?.close();
    if (databaseName) await dropDatabase(testUrl, databaseName);
    removeTempDirs();
  });

  afterEach(() => {
    for (const secret of [TOKEN, SIGNING_SECRET, BOT_TOKEN, DB_PASSWORD, databaseUrl]) {
      for (const bot of bots) expect(bot.output()).not.toContain(secret);
      const posted = slack.calls.map(({ args: { token: _token, ...rest } }) => rest);
      expect(JSON.stringify(posted)).not.toContain(secret);
    }
  });

  const responseUrl = (tag: string) => `${slack.responseUrlBase}${tag}`;
  const textOf = (call: SlackCall): string => JSON.stringify([call.args.text, call.args.blocks]);
  const click = (bot: BotProcess, requestId: string, userId: string, tag: string, ts: string) =>
    postSigned(
      bot.url,
      interactionBody(buttonClick('iam_disable_approve', requestId, userId, responseUrl(tag), ts)),
    );
  const patchesTo = (userId: string) =>
    atlassian.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/Users/${userId}`));
  const auditOf = async (requestId: string) =>
    (
      await db.query<{ kind: string; command: string; outcome: string; actor: string }>(
        'SELECT kind, command, outcome, actor FROM audit_log WHERE request_id = $1 ORDER BY id',
        [requestId],
      )
    ).rows;

  /** /iam-disable-user through `bot`; returns the request id, its message ts and the user's SCIM id. */
  async function requestDisable(bot: BotProcess, email: string) {
    const userId = atlassian.seedUser(email);
    await postSigned(
      bot.url,
      slashCommandBody('/iam-disable-user', `${email} reason="left"`, 'UREQ', responseUrl(email)),
    );
    const id = await approvalRequestId(slack, email);
    // The request is stored before its message is posted, and the message's ts recorded just after.
    const storedTs = async () =>
      (await db.query<{ message_ts: string | null }>('SELECT message_ts FROM approvals WHERE id = $1', [id]))
        .rows[0]?.message_ts;
    let ts = await storedTs();
    for (let i = 0; i < 100 && !ts; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ts = await storedTs();
    }
    if (!ts) throw new Error('the approval request was not stored');
    return { id, ts, userId };
  }

  it('two approvals at once, one to each instance: one decision, one disable, one refusal', async () => {
    const [a, b] = await startPair();
    const request = await requestDisable(a, 'bob@example.com');

    const answers = await Promise.all([
      click(a, request.id, 'UAPPROVER', 'approve-at-a', request.ts),
      click(b, request.id, 'UADMIN', 'approve-at-b', request.ts),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);

    const refusal = await slack.waitFor((c) => c.method === 'response_url' && textOf(c).includes('already'));
    expect(refusal.args.response_type).toBe('ephemeral');
    // The requester is told in the thread once the disable has run.
    await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts === request.ts && textOf(c).includes('UREQ'),
    );
    await new Promise((r) => setTimeout(r, 500)); // room for a second disable, were there one

    const patches = patchesTo(request.userId);
    expect(patches).toHaveLength(1);
    expect(patches[0].body).toMatchObject({ Operations: [{ op: 'replace', value: { active: false } }] });
    const rows = await auditOf(request.id);
    const decisions = rows.filter((r) => r.kind === 'decision');
    expect(decisions).toEqual([
      {
        kind: 'decision',
        command: 'approve',
        outcome: 'approved',
        actor: expect.stringMatching(/^U(APPROVER|ADMIN)$/),
      },
    ]);
    const loser = decisions[0].actor === 'UAPPROVER' ? 'UADMIN' : 'UAPPROVER';
    expect(rows.filter((r) => r.kind === 'result')).toEqual([
      { kind: 'result', command: 'iam-disable-user', outcome: 'success', actor: decisions[0].actor },
    ]);
    expect(rows.filter((r) => r.kind === 'refusal')).toEqual([
      { kind: 'refusal', command: 'approve', outcome: 'refused', actor: loser },
    ]);
    expect(
      (await db.query('SELECT status, decided_by FROM approvals WHERE id = $1', [request.id])).rows,
    ).toEqual([{ status: 'completed', decided_by: decisions[0].actor }]);
    await stopAll();
  });

  it('an expired request is expired once, by whichever instance notices first', async () => {
    // The periodic sweep stays at 60 s: clicks on the expired request at both instances make them notice.
    const [a, b] = await startPair({ IAM_APPROVAL_TTL: '2s' });
    const request = await requestDisable(b, 'erin@example.com');
    const updatesOf = () =>
      slack.callsTo('chat.update').filter((c) => c.args.ts === request.ts && c.args.channel === 'C1');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(updatesOf()).toHaveLength(0);

    await Promise.all([
      click(a, request.id, 'UAPPROVER', 'late-at-a', request.ts),
      click(b, request.id, 'UADMIN', 'late-at-b', request.ts),
    ]);
    const refusals = () =>
      slack.calls.filter((c) => c.method === 'response_url' && textOf(c).includes('expired'));
    await slack.waitFor((c) => c.method === 'chat.update' && c.args.ts === request.ts);
    for (let i = 0; i < 100 && refusals().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500)); // room for a second update, were there one

    expect(updatesOf()).toHaveLength(1);
    expect(textOf(updatesOf()[0]).toLowerCase()).toContain('expired');
    expect(textOf(updatesOf()[0])).not.toContain('iam_disable_approve');
    expect(refusals()).toHaveLength(2);
    const rows = await auditOf(request.id);
    expect(rows.filter((r) => r.kind === 'decision')).toEqual([
      { kind: 'decision', command: 'expire', outcome: 'expired', actor: 'system' },
    ]);
    expect(rows.filter((r) => r.kind === 'refusal')).toHaveLength(2);
    expect((await db.query('SELECT status FROM approvals WHERE id = $1', [request.id])).rows).toEqual([
      { status: 'expired' },
    ]);
    expect(patchesTo(request.userId)).toHaveLength(0);
    await stopAll();
  });

  it('the CLI audits into the same PostgreSQL log', async () => {
    requireBuiltCli();
    const run = await runCli(['iam-get-user', '--user-profile', '{"email":"bob@example.com"}'], {
      env: {
        ...atlassian.env,
        DATABASE_URL: databaseUrl,
      },
    });
    expect(run.code).toBe(0);
    expect(run.stderr + run.stdout).not.toContain(DB_PASSWORD);
    const rows = (
      await db.query<{ source: string; kind: string; outcome: string }>(
        "SELECT source, kind, outcome FROM audit_log WHERE source = 'cli' AND command = 'iam-get-user' ORDER BY id",
      )
    ).rows;
    expect(rows).toEqual([
      { source: 'cli', kind: 'command', outcome: 'received' },
      { source: 'cli', kind: 'result', outcome: 'success' },
    ]);
  });
});
