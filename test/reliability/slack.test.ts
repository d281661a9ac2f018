/**
 * The Slack side under attack, whole-process (dist/index.js, HTTP mode):
 *  - forged, unsigned, replayed (old timestamp) and body-tampered requests get 401 and do nothing
 *    (no Slack call, no SCIM request, no audit row);
 *  - approval-button abuse (non-approver, requester, after expiry, after a decision, tampered request
 *    id) gets an ephemeral refusal and no PATCH;
 *  - 200 concurrent Approve clicks on one request, split across two bot instances sharing one database
 *    (PostgreSQL when TEST_DATABASE_URL is set, else one SQLite file), from several approvers: exactly
 *    one PATCH active:false, one 'decision' audit row, and every other click answered "already".
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { makeTempDir, removeTempDirs } from '../support/cli';
import {
  BOT_TOKEN,
  type BotProcess,
  interactionBody,
  postSigned,
  sharedBotEnv,
  SIGNING_SECRET,
  slackSignature,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { createDatabase, dropDatabase, TEST_DATABASE_URL, uniqueName } from '../support/postgres';
import { recordReliability } from '../support/reliability';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { approvalRequestId, buttonClick } from '../support/slack-payloads';

jest.setTimeout(120_000);

const TOKEN = 'tok-rel-slack-SECRET';
const DIRECTORY = 'dir-rel-slack';
const APPROVERS = ['UAPPROVER', 'UADMIN', 'UAPP3', 'UAPP4', 'UAPP5'];
const usePostgres = TEST_DATABASE_URL !== undefined;

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let databaseUrl: string;
let pgDatabase: string | undefined;
let sqlitePath: string | undefined;
let pg: Client | undefined;
const bots: BotProcess[] = [];
let a: BotProcess;
let b: BotProcess;

/** One row of the report per kind of request or click. */
interface Tally {
  tried: number;
  rejected: number;
  effects: number;
}
const tallies = new Map<string, Tally>();
function tally(name: string, rejected: boolean, effect: boolean): void {
  const t = tallies.get(name) ?? { tried: 0, rejected: 0, effects: 0 };
  t.tried += 1;
  if (rejected) t.rejected += 1;
  if (effect) t.effects += 1;
  tallies.set(name, t);
}
let concurrency: { clicks: number; patches: number; decisions: number; already: number } | undefined;

const env = (extra: Record<string, string> = {}) => sharedBotEnv(slack, atlassian, databaseUrl, extra);

async function auditRows(requestId?: string): Promise<{ kind: string; command: string; outcome: string }[]> {
  const where = requestId === undefined ? '' : ' WHERE request_id = ';
  if (pg) {
    const sql = `SELECT kind, command, outcome, actor FROM audit_log${where}${requestId === undefined ? '' : '$1'} ORDER BY id`;
    return (await pg.query(sql, requestId === undefined ? [] : [requestId])).rows;
  }
  const db = new Database(sqlitePath as string, { readonly: true, fileMustExist: true });
  try {
    const sql = `SELECT kind, command, outcome, actor FROM audit_log${where}${requestId === undefined ? '' : '?'} ORDER BY id`;
    return (requestId === undefined ? db.prepare(sql).all() : db.prepare(sql).all(requestId)) as {
      kind: string;
      command: string;
      outcome: string;
    }[];
  } finally {
    db.close();
  }
}

async function approvalRow(id: string): Promise<{ status: string; message_ts: string | null } | undefined> {
  if (pg) return (await pg.query('SELECT status, message_ts FROM approvals WHERE id = $1', [id])).rows[0];
  const db = new Database(sqlitePath as string, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT status, message_ts FROM approvals WHERE id = ?').get(id) as
      { status: string; message_ts: string | null } | undefined;
  } finally {
    db.close();
  }
}
const approvalStatus = async (id: string) => (await approvalRow(id))?.status;

beforeAll(async () => {
  slack = await startSlackStandIn();
  for (const id of ['UREQ', ...APPROVERS]) slack.users.set(id, { is_admin: true });
  slack.users.set('UMEMBER', {});
  slack.users.set('UGUEST', { is_admin: true, is_restricted: true });
  slack.users.set('UGONE', { is_admin: true, deleted: true });
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: TOKEN });
  if (usePostgres) {
    pgDatabase = uniqueName('iam_rel_slack');
    databaseUrl = await createDatabase(TEST_DATABASE_URL as string, pgDatabase);
    pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
  } else {
    sqlitePath = path.join(makeTempDir('atlassian-iam-rel-slack-db-'), 'shared.db');
    databaseUrl = `sqlite:${sqlitePath}`;
  }
  // Started one after the other so that the SQLite schema is created once, then shared.
  a = await startBot(env(), makeTempDir('atlassian-iam-rel-a-'));
  b = await startBot(env(), makeTempDir('atlassian-iam-rel-b-'));
  bots.push(a, b);
});

afterAll(async () => {
  const rows = [...tallies.entries()].map(([name, t]) => [name, t.tried, t.rejected, t.effects]);
  if (concurrency) {
    rows.push([
      `200 concurrent Approve clicks on one request, 2 instances (${usePostgres ? 'PostgreSQL' : 'one SQLite file'}), 5 approvers`,
      concurrency.clicks,
      concurrency.already,
      `${concurrency.patches} PATCH active:false, ${concurrency.decisions} decision row`,
    ]);
  }
  const forged = [...tallies.entries()].filter(([name]) => !name.startsWith('click'));
  const clicks = [...tallies.entries()].filter(([name]) => name.startsWith('click'));
  const sum = (list: [string, Tally][], key: keyof Tally) => list.reduce((n, [, t]) => n + t[key], 0);
  recordReliability({
    id: '2-slack',
    title: 'Slack: forged requests and approval-button abuse',
    description:
      `Two bot processes (dist/index.js, HTTP mode) sharing ${usePostgres ? 'one PostgreSQL database' : 'one SQLite file'}, ` +
      'a Slack Web API stand-in and an emulated Atlassian. Forged (wrong secret), unsigned, stale or replayed ' +
      '(timestamp more than 5 minutes old, or an old signature under a fresh timestamp) and body-tampered ' +
      'requests — slash commands, Approve clicks on a live request, form submissions, events — are rejected ' +
      'when the bot answers 401 and, 300 ms later, no Slack call, SCIM request or audit row has appeared. ' +
      'Approval abuse (non-approvers, guests, deactivated users, the requester, clicks after expiry or after ' +
      'a decision, and tampered request ids) is rejected when the clicker gets an ephemeral refusal and no ' +
      'PATCH reaches Atlassian. "effect seen" counts requests or clicks that changed something they should ' +
      'not have. Finally 200 Approve clicks at once on one request, split across both instances: exactly one ' +
      'PATCH and one decision row, every other click answered "already approved" (the "rejected" column).',
    columns: ['request or click', 'tried', 'rejected', 'effect seen'],
    rows,
    totals: {
      forgedRequestsTried: sum(forged, 'tried') + sum(clicks, 'tried'),
      forgedRequestsRejected:
        forged.reduce((n, [, t]) => n + (t.effects === 0 ? t.rejected : 0), 0) +
        clicks.reduce((n, [, t]) => n + (t.effects === 0 ? t.rejected : 0), 0),
    },
  });
  await Promise.all(bots.map((bot) => bot.stop('SIGKILL')));
  await pg?.end();
  await slack?.close();
  await atlassian?.close();
  if (pgDatabase) await dropDatabase(TEST_DATABASE_URL as string, pgDatabase);
  removeTempDirs();
});

afterEach(() => {
  for (const secret of [TOKEN, SIGNING_SECRET, BOT_TOKEN]) {
    for (const bot of bots) expect(bot.output()).not.toContain(secret);
    const posted = slack.calls.map(({ args: { token: _token, ...rest } }) => rest);
    expect(JSON.stringify(posted)).not.toContain(secret);
  }
});

const responseUrl = (tag: string) => `${slack.responseUrlBase}${tag}`;
const textOf = (call: SlackCall): string =>
  JSON.stringify([call.args.text, call.args.blocks, call.args.view]);
const patches = () => atlassian.server.requests.filter((r) => r.method === 'PATCH');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /iam-disable-user through `bot`; returns the request id and its message ts once it is stored. */
async function requestDisable(bot: BotProcess, email: string, requester = 'UREQ') {
  const userId = atlassian.seedUser(email);
  const answer = await postSigned(
    bot.url,
    slashCommandBody('/iam-disable-user', `${email} reason="left"`, requester, responseUrl(`req-${email}`)),
  );
  expect(answer.status).toBe(200);
  const id = await approvalRequestId(slack, email);
  // Stored before its message is posted; the message's ts is recorded just after.
  let row = await approvalRow(id);
  for (let i = 0; i < 200 && !row?.message_ts; i++) {
    await sleep(25);
    row = await approvalRow(id);
  }
  expect(row?.status).toBe('pending');
  return { id, ts: String(row?.message_ts), userId };
}

const clickBody = (action: string, id: string, user: string, tag: string, ts: string) =>
  interactionBody(buttonClick(action, id, user, responseUrl(tag), ts));

describe('forged, unsigned, replayed and tampered requests', () => {
  let pending: { id: string; ts: string; userId: string };

  beforeAll(async () => {
    pending = await requestDisable(a, 'forgery-target@example.com');
  });

  const now = () => Math.floor(Date.now() / 1000);
  type Variant = [kind: string, name: string, send: (bot: BotProcess) => Promise<Response>];

  const slash = () => slashCommandBody('/iam-get-user', 'x@example.com', 'UADMIN', responseUrl('forged'));
  const disableSlash = () =>
    slashCommandBody('/iam-disable-user', 'forgery-target@example.com', 'UADMIN', responseUrl('forged'));
  const approve = () => clickBody('iam_disable_approve', pending.id, 'UAPPROVER', 'forged-click', pending.ts);
  const deny = () => clickBody('iam_disable_deny', pending.id, 'UAPPROVER', 'forged-click', pending.ts);
  const submission = () =>
    interactionBody({
      type: 'view_submission',
      api_app_id: 'A1',
      team: { id: 'T1' },
      user: { id: 'UADMIN', team_id: 'T1' },
      view: {
        id: 'V1',
        type: 'modal',
        callback_id: 'iam_create_user',
        private_metadata: JSON.stringify({ channelId: 'C1' }),
        state: { values: { email: { value: { type: 'plain_text_input', value: 'forged@example.com' } } } },
      },
    });
  const homeEvent = () =>
    JSON.stringify({
      type: 'event_callback',
      team_id: 'T1',
      api_app_id: 'A1',
      event: { type: 'app_home_opened', user: 'UADMIN', tab: 'home', channel: 'D1' },
      event_id: 'Ev1',
      event_time: now(),
    });
  const raw = (bot: BotProcess, body: string, headers: Record<string, string>) =>
    fetch(`${bot.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });

  const variants: Variant[] = [
    // Forged: signed, but not with the signing secret.
    [
      'forged (wrong secret)',
      'slash command',
      (bot) => postSigned(bot.url, slash(), { secret: 'not-the-secret' }),
    ],
    ['forged (wrong secret)', 'Approve click', (bot) => postSigned(bot.url, approve(), { secret: 'guess' })],
    [
      'forged (wrong secret)',
      'secret off by one character',
      (bot) => postSigned(bot.url, approve(), { secret: `${SIGNING_SECRET.slice(0, -1)}X` }),
    ],
    [
      'forged (wrong secret)',
      'bot token as secret',
      (bot) => postSigned(bot.url, deny(), { secret: BOT_TOKEN }),
    ],
    ['forged (wrong secret)', 'empty secret', (bot) => postSigned(bot.url, submission(), { secret: '' })],
    [
      'forged (wrong secret)',
      'event, JSON',
      (bot) => postSigned(bot.url, homeEvent(), { secret: 'x', contentType: 'application/json' }),
    ],
    // Unsigned, or only half of the headers, or a malformed signature.
    [
      'unsigned',
      'no headers, slash command',
      (bot) => postSigned(bot.url, disableSlash(), { unsigned: true }),
    ],
    ['unsigned', 'no headers, Approve click', (bot) => postSigned(bot.url, approve(), { unsigned: true })],
    [
      'unsigned',
      'no headers, event',
      (bot) => postSigned(bot.url, homeEvent(), { unsigned: true, contentType: 'application/json' }),
    ],
    [
      'unsigned',
      'timestamp without signature',
      (bot) => raw(bot, approve(), { 'x-slack-request-timestamp': String(now()) }),
    ],
    [
      'unsigned',
      'signature without timestamp',
      (bot) => raw(bot, approve(), { 'x-slack-signature': slackSignature(SIGNING_SECRET, now(), approve()) }),
    ],
    [
      'unsigned',
      'empty signature "v0="',
      (bot) =>
        raw(bot, approve(), { 'x-slack-request-timestamp': String(now()), 'x-slack-signature': 'v0=' }),
    ],
    [
      'unsigned',
      'right hash, wrong version "v1="',
      (bot) => {
        const ts = now();
        const signature = slackSignature(SIGNING_SECRET, ts, approve()).replace(/^v0=/, 'v1=');
        return raw(bot, approve(), {
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': signature,
        });
      },
    ],
    [
      'unsigned',
      'non-numeric timestamp',
      (bot) =>
        raw(bot, approve(), {
          'x-slack-request-timestamp': 'now',
          'x-slack-signature': slackSignature(SIGNING_SECRET, Number.NaN, approve()),
        }),
    ],
    // Stale: correctly signed, but the timestamp is over 5 minutes away.
    [
      'stale (timestamp 6 min old)',
      'slash command',
      (bot) => postSigned(bot.url, disableSlash(), { timestamp: now() - 360 }),
    ],
    [
      'stale (timestamp 6 min old)',
      'Approve click',
      (bot) => postSigned(bot.url, approve(), { timestamp: now() - 360 }),
    ],
    [
      'stale (timestamp 6 min old)',
      'Deny click',
      (bot) => postSigned(bot.url, deny(), { timestamp: now() - 360 }),
    ],
    [
      'stale (timestamp 6 min old)',
      'form submission',
      (bot) => postSigned(bot.url, submission(), { timestamp: now() - 360 }),
    ],
    // From the future: correctly signed, timestamp more than 5 minutes ahead of our clock.
    [
      'from the future (timestamp 6 min ahead)',
      'slash command',
      (bot) => postSigned(bot.url, disableSlash(), { timestamp: now() + 360 }),
    ],
    [
      'from the future (timestamp 6 min ahead)',
      'Approve click',
      (bot) => postSigned(bot.url, approve(), { timestamp: now() + 360 }),
    ],
    // Replays: a valid body and signature captured earlier.
    [
      'replayed (captured 7 min ago)',
      'Approve click, as captured',
      (bot) => postSigned(bot.url, approve(), { timestamp: now() - 420 }),
    ],
    [
      'replayed (captured 7 min ago)',
      'Approve click, old signature under a fresh timestamp',
      (bot) => {
        const captured = slackSignature(SIGNING_SECRET, now() - 420, approve());
        return raw(bot, approve(), {
          'x-slack-request-timestamp': String(now()),
          'x-slack-signature': captured,
        });
      },
    ],
    [
      'replayed (captured 7 min ago)',
      'slash command, old signature under a fresh timestamp',
      (bot) => {
        const body = disableSlash();
        const captured = slackSignature(SIGNING_SECRET, now() - 420, body);
        return raw(bot, body, { 'x-slack-request-timestamp': String(now()), 'x-slack-signature': captured });
      },
    ],
    // Tampered: a correct signature over another body.
    [
      'tampered body',
      'slash text changed',
      (bot) => postSigned(bot.url, disableSlash(), { signedBody: slash() }),
    ],
    [
      'tampered body',
      'slash user_id changed',
      (bot) => postSigned(bot.url, slash().replace('UADMIN', 'UAPP3'), { signedBody: slash() }),
    ],
    [
      'tampered body',
      'Deny click turned into Approve',
      (bot) => postSigned(bot.url, approve(), { signedBody: deny() }),
    ],
    [
      'tampered body',
      'click by a member re-attributed to an approver',
      (bot) =>
        postSigned(bot.url, approve(), {
          signedBody: clickBody('iam_disable_approve', pending.id, 'UMEMBER', 'forged-click', pending.ts),
        }),
    ],
    [
      'tampered body',
      'one byte appended',
      (bot) => postSigned(bot.url, `${approve()}&x=1`, { signedBody: approve() }),
    ],
    [
      'tampered body',
      'request id swapped',
      (bot) =>
        postSigned(bot.url, approve(), {
          signedBody: clickBody('iam_disable_approve', randomUUID(), 'UAPPROVER', 'forged-click', pending.ts),
        }),
    ],
  ];

  it.each(variants)('%s: %s → 401 and no effect', async (kind, name, send) => {
    for (const [index, bot] of [a, b].entries()) {
      const before = {
        slack: slack.calls.length,
        scim: atlassian.server.requests.length,
        audit: (await auditRows()).length,
      };
      const answer = await send(bot);
      await sleep(300);
      const effect =
        slack.calls.length !== before.slack ||
        atlassian.server.requests.length !== before.scim ||
        (await auditRows()).length !== before.audit;
      tally(`${kind}`, answer.status === 401, effect);
      expect({ variant: `${name} at instance ${index}`, status: answer.status, effect }).toEqual({
        variant: `${name} at instance ${index}`,
        status: 401,
        effect: false,
      });
    }
    expect(await approvalStatus(pending.id)).toBe('pending');
  });
});

describe('approval-button abuse', () => {
  /** One click, then its ephemeral answer (clicks are sent one at a time so each answer is the next one). */
  async function abusiveClick(
    kind: string,
    bot: BotProcess,
    action: 'iam_disable_approve' | 'iam_disable_deny',
    /** The request id the button carries, and the message it is clicked on. */
    on: { id: string; ts: string },
    user: string,
    expected: RegExp,
  ): Promise<void> {
    const { id } = on;
    const before = { responses: slack.callsTo('response_url').length, patches: patches().length };
    const answer = await postSigned(bot.url, clickBody(action, id, user, `abuse-${kind}`, on.ts));
    expect(answer.status).toBe(200);
    const reply = await slack
      .waitFor(
        (c) => c.method === 'response_url' && slack.callsTo('response_url').indexOf(c) >= before.responses,
      )
      .catch((error: Error) => {
        throw new Error(
          `${error.message}: ${kind} ${JSON.stringify(id.slice(0, 40))} by ${user}\n${bot.output().slice(-1500)}`,
        );
      });
    await sleep(150);
    const effect = patches().length !== before.patches;
    const refused = reply.args.response_type === 'ephemeral' && expected.test(textOf(reply));
    tally(`click: ${kind}`, refused, effect);
    expect({ kind, user, reply: textOf(reply), ephemeral: reply.args.response_type, effect }).toEqual({
      kind,
      user,
      reply: expect.stringMatching(expected),
      ephemeral: 'ephemeral',
      effect: false,
    });
  }

  it('non-approvers, guests and deactivated users are refused at either instance, Approve or Deny', async () => {
    const request = await requestDisable(a, 'abuse-1@example.com');
    for (const bot of [a, b]) {
      for (const action of ['iam_disable_approve', 'iam_disable_deny'] as const) {
        for (const user of ['UMEMBER', 'UGUEST', 'UGONE', 'UNKNOWN1']) {
          await abusiveClick('non-approver', bot, action, request, user, /Only approvers/);
        }
      }
    }
    expect(await approvalStatus(request.id)).toBe('pending');
  });

  it('the requester cannot decide their own request', async () => {
    const request = await requestDisable(b, 'abuse-2@example.com', 'UAPP5');
    for (const bot of [a, b]) {
      for (const action of ['iam_disable_approve', 'iam_disable_deny'] as const) {
        await abusiveClick('requester', bot, action, request, 'UAPP5', /someone else/);
      }
    }
    expect(await approvalStatus(request.id)).toBe('pending');
  });

  it('clicks after expiry are refused and the request is expired once', async () => {
    const short = await startBot(env({ IAM_APPROVAL_TTL: '1s' }), makeTempDir('atlassian-iam-rel-ttl-'));
    bots.push(short);
    const request = await requestDisable(short, 'abuse-3@example.com');
    await sleep(1_500);
    for (const bot of [a, b, short]) {
      for (const action of ['iam_disable_approve', 'iam_disable_deny'] as const) {
        for (const user of ['UAPPROVER', 'UADMIN']) {
          await abusiveClick('after expiry', bot, action, request, user, /expired/);
        }
      }
    }
    expect(await approvalStatus(request.id)).toBe('expired');
    const decisions = (await auditRows(request.id)).filter((r) => r.kind === 'decision');
    expect(decisions).toEqual([expect.objectContaining({ command: 'expire', outcome: 'expired' })]);
    await short.stop('SIGTERM');
  });

  it('clicks after a decision are refused (approved and denied requests)', async () => {
    const approved = await requestDisable(a, 'abuse-4@example.com');
    await postSigned(
      a.url,
      clickBody('iam_disable_approve', approved.id, 'UAPPROVER', 'decide-4', approved.ts),
    );
    for (let i = 0; i < 200 && (await approvalStatus(approved.id)) !== 'completed'; i++) await sleep(25);
    expect(await approvalStatus(approved.id)).toBe('completed');
    const denied = await requestDisable(b, 'abuse-5@example.com');
    await postSigned(b.url, clickBody('iam_disable_deny', denied.id, 'UADMIN', 'decide-5', denied.ts));
    for (let i = 0; i < 200 && (await approvalStatus(denied.id)) !== 'denied'; i++) await sleep(25);
    expect(await approvalStatus(denied.id)).toBe('denied');
    const patchesAfterDecisions = patches().length;

    for (const bot of [a, b]) {
      for (const action of ['iam_disable_approve', 'iam_disable_deny'] as const) {
        for (const user of ['UAPP3', 'UAPPROVER']) {
          await abusiveClick('after a decision', bot, action, approved, user, /already approved/);
          await abusiveClick('after a decision', bot, action, denied, user, /already denied/);
        }
      }
    }
    expect(patches().length).toBe(patchesAfterDecisions);
    expect(await approvalStatus(denied.id)).toBe('denied');
  });

  it('tampered request ids are refused: random, junk, another request of the clicker', async () => {
    const mine = await requestDisable(a, 'abuse-6@example.com', 'UAPP4');
    const target = await requestDisable(a, 'abuse-7@example.com');
    const junk = [
      randomUUID(),
      '',
      ' ',
      "' OR '1'='1",
      "x'; DELETE FROM approvals; --",
      `${target.id}' OR 1=1 --`,
      '{"$ne":null}',
      '[]',
      'null',
      '%',
      '*',
      target.id.toUpperCase(),
      `${target.id} `,
      target.id.slice(0, -1),
      '\u0000',
      'é'.repeat(300),
      'x'.repeat(10_000),
    ];
    for (const bot of [a, b]) {
      for (const id of junk) {
        await abusiveClick(
          'tampered request id',
          bot,
          'iam_disable_approve',
          { id, ts: target.ts },
          'UAPPROVER',
          /does not exist/,
        );
      }
      // UAPP4 clicks Approve on the other request's message, with the id of a request UAPP4 made: the
      // id names a request of another message.
      const swapped = { id: mine.id, ts: target.ts };
      await abusiveClick(
        'tampered request id',
        bot,
        'iam_disable_approve',
        swapped,
        'UAPP4',
        /does not belong/,
      );
    }
    expect(await approvalStatus(target.id)).toBe('pending');
    expect(await approvalStatus(mine.id)).toBe('pending');
    if (pg) {
      expect((await pg.query('SELECT count(*)::int AS n FROM approvals')).rows[0].n).toBeGreaterThan(0);
    }
  });
});

describe('200 concurrent Approve clicks on one request across two instances', () => {
  it('exactly one PATCH active:false, one decision row, every other click answered "already"', async () => {
    const request = await requestDisable(a, 'race@example.com');
    const responsesBefore = slack.callsTo('response_url').length;
    const patchesBefore = patches().filter((r) => r.path.endsWith(`/Users/${request.userId}`)).length;
    const clicks = Array.from({ length: 200 }, (_, i) =>
      postSigned(
        (i % 2 === 0 ? a : b).url,
        clickBody(
          'iam_disable_approve',
          request.id,
          APPROVERS[i % APPROVERS.length],
          `race-${i}`,
          request.ts,
        ),
      ),
    );
    const answers = await Promise.all(clicks);
    expect(answers.filter((r) => r.status === 200)).toHaveLength(200);

    const already = () =>
      slack
        .callsTo('response_url')
        .slice(responsesBefore)
        .filter((c) => c.args.response_type === 'ephemeral' && /already approved/.test(textOf(c)));
    for (
      let i = 0;
      i < 600 && (already().length < 199 || (await approvalStatus(request.id)) !== 'completed');
      i++
    )
      await sleep(50);
    await slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts === request.ts && textOf(c).includes('UREQ'),
    );
    await sleep(1_000); // room for a second disable, were there one

    const toUser = patches().filter((r) => r.path.endsWith(`/Users/${request.userId}`));
    const rows = await auditRows(request.id);
    const decisions = rows.filter((r) => r.kind === 'decision');
    concurrency = {
      clicks: 200,
      patches: toUser.length - patchesBefore,
      decisions: decisions.length,
      already: already().length,
    };
    expect(concurrency).toEqual({ clicks: 200, patches: 1, decisions: 1, already: 199 });
    expect(toUser[toUser.length - 1].body).toMatchObject({
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(decisions[0]).toMatchObject({ command: 'approve', outcome: 'approved' });
    expect(rows.filter((r) => r.kind === 'refusal')).toHaveLength(199);
    expect(rows.filter((r) => r.kind === 'result')).toEqual([
      expect.objectContaining({ outcome: 'success' }),
    ]);
    expect(await approvalStatus(request.id)).toBe('completed');
    // The user really is inactive at Atlassian.
    const user = atlassian.directory.handle({
      method: 'GET',
      path: `/Users/${request.userId}`,
      query: new URLSearchParams(),
      body: undefined,
    });
    expect((user.body as { active: boolean }).active).toBe(false);
  });
});
