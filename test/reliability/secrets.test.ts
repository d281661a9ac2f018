/**
 * Secrets never leak. Every CLI command (success and failure paths, table and --json, a 401
 * that echoes the Authorization header, bad configuration) and every bot flow (each slash command,
 * the forms, approve, deny, expiry, App Home, Socket Mode) runs with LOG_LEVEL=debug and recognisable
 * secret values, some of them read through the *_FILE variants. Then no secret — nor any 12-character
 * window of one — may appear in any stdout or stderr, any Slack call (except the `token` credential
 * argument Slack itself receives), any HTTP answer the bot gave Slack, any file the CLI wrote, any
 * audit_log row, or the raw bytes of any SQLite database file (with its -wal and -shm).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import { type CliRun, makeTempDir, removeTempDirs, requireBuiltCli, runCli } from '../support/cli';
import {
  BOT_PATH,
  type BotProcess,
  freePort,
  interactionBody,
  postSigned,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { createDatabase, dropDatabase, TEST_DATABASE_URL, uniqueName } from '../support/postgres';
import { recordReliability } from '../support/reliability';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';
import { viewSubmission } from '../support/fake-receiver';
import { approvalRequest, buttonClick } from '../support/slack-payloads';

jest.setTimeout(180_000);

// Issue 10 finding 9: some secrets hold `"` and `\`, which JSON escapes (redaction once ran only on the
// JSON-encoded line, so their escaped form slipped through).
const SECRETS = {
  ATLASSIAN_ACCESS_TOKEN: 'atl-SECRET-tok-7f3a"9c1e\\5b2d46a8',
  SLACK_BOT_TOKEN: 'xoxb-SECRET-bot-91c4e7a2b8d6f03c',
  SLACK_SIGNING_SECRET: 'sig-SECRET-sign-5d8e"2f7a\\1c9b40e6',
  SLACK_APP_TOKEN: 'xapp-SECRET-app-3b6d9f2e8a1c57d2',
  DATABASE_PASSWORD: 'SECRET-pg-pass-4e7b1d9a0c',
  PROXY_PASSWORD: 'SECRET-proxy-pw"8c2e\\5a7d1f',
};
const ALL_SECRETS = Object.values(SECRETS);
const WINDOW = 12;
const DIRECTORY = 'dir-secrets';

/**
 * Every 12-character window of every secret, as it is and JSON-escaped (once, and twice as in JSON
 * text inside a JSON string): a leak of a substantial part counts too.
 */
const escapedOnce = (s: string): string => JSON.stringify(s).slice(1, -1);
const WINDOWS = [
  ...new Set(
    ALL_SECRETS.flatMap((secret) => [secret, escapedOnce(secret), escapedOnce(escapedOnce(secret))]).flatMap(
      (s) => Array.from({ length: s.length - WINDOW + 1 }, (_, i) => s.slice(i, i + WINDOW)),
    ),
  ),
];

/** Where we looked, and what we found there. */
const places = new Map<string, { checked: number; found: string[] }>();
function check(where: string, label: string, text: string): void {
  const entry = places.get(where) ?? { checked: 0, found: [] };
  entry.checked += 1;
  const hit = WINDOWS.find((w) => text.includes(w));
  if (hit) entry.found.push(`${label}: …${hit}…`);
  places.set(where, entry);
}

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let echoing: EmulatedAtlassian;
let wrongKey: EmulatedAtlassian;
const cliRuns: { label: string; run: CliRun }[] = [];
const bots: { label: string; bot: BotProcess }[] = [];
const botAnswers: { label: string; text: string }[] = [];
/** SQLite files written by the CLI and the bots. */
const sqliteFiles: string[] = [];
/** Report files and other files the CLI wrote. */
const writtenFiles: string[] = [];
const pgAuditRows: unknown[] = [];

const cliDir = () => makeTempDir('atlassian-iam-secrets-cli-');

const baseCliEnv = (cwd: string, target: EmulatedAtlassian = atlassian): Record<string, string> => ({
  // The real key and directory whatever the target: wrongKey is there to refuse this key.
  ...atlassian.env,
  ATLASSIAN_URL: target.server.url,
  SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
  SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
  SLACK_APP_TOKEN: SECRETS.SLACK_APP_TOKEN,
  DATABASE_URL: `sqlite:${path.join(cwd, 'cli.db')}`,
  LOG_LEVEL: 'debug',
});

async function cli(label: string, args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  const run = await runCli(args, { env, cwd });
  cliRuns.push({ label, run });
  return run;
}

beforeAll(async () => {
  requireBuiltCli();
  slack = await startSlackStandIn();
  for (const id of ['UADMIN', 'UREQ', 'UAPPROVER']) slack.users.set(id, { is_admin: true });
  slack.users.set('UMEMBER', {});
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: SECRETS.ATLASSIAN_ACCESS_TOKEN });
  // A hostile server that echoes the Authorization header back in its 401 error text.
  echoing = await startEmulatedAtlassian({
    directoryId: DIRECTORY,
    token: SECRETS.ATLASSIAN_ACCESS_TOKEN,
    intercept: (request) => ({
      status: 401,
      body: {
        error: `Unauthorized: ${String(request.headers.authorization)} is not valid`,
        detail: String(request.headers.authorization),
        traceId: 'x',
      },
      headers: { 'www-authenticate': String(request.headers.authorization) },
    }),
  });
  wrongKey = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: 'some-other-key' });
});

afterAll(async () => {
  for (const { bot } of bots) await bot.stop('SIGKILL');
  const rows = [...places.entries()].map(([where, p]) => [where, p.checked, p.found.length]);
  recordReliability({
    id: '4-secrets',
    title: 'Secrets: never in output, Slack posts, the audit log or the database',
    description:
      'Recognisable values for ATLASSIAN_ACCESS_TOKEN, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and ' +
      `a database password (${TEST_DATABASE_URL ? 'in a PostgreSQL URL the CLI and a bot really used, and' : ''} in an ` +
      'unreachable PostgreSQL URL) and a proxy password; the access token, the signing secret and the proxy password ' +
      'hold `"` and `\\`, which JSON escapes. Some secrets were read through the *_FILE variants. Every CLI command ran with LOG_LEVEL=debug ' +
      '(create, update, get, disable, enable, test-module, get-mapping-fields, bulk, audit in table, --json and --csv; ' +
      'success, not found, bad input, a 401 that echoes the Authorization header back, a wrong key, an unreachable ' +
      'server, bad configuration lines) and every bot flow (each slash command, form open and submit, approve, deny, ' +
      'expiry, App Home, a forged request, Socket Mode, a bot whose Atlassian echoes the header). A place counts as ' +
      `leaking when it holds any ${WINDOW}-character window of any secret, as it is or JSON-escaped. The Slack credential argument \`token\` ` +
      'is the only place a secret may go.',
    columns: ['where', 'places checked', 'secrets found'],
    rows,
    totals: { secretsLeaked: [...places.values()].reduce((n, p) => n + p.found.length, 0) },
  });
  await slack?.close();
  await atlassian?.close();
  await echoing?.close();
  await wrongKey?.close();
  removeTempDirs();
});

describe('the command line', () => {
  const profile = (email: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ email, givenname: 'Sec', surname: 'Ret', ...extra });

  it('every command, table and --json, success and failure, leaks nothing', async () => {
    const cwd = cliDir();
    sqliteFiles.push(path.join(cwd, 'cli.db'));
    const env = baseCliEnv(cwd);
    const email = 'sec.cli@example.com';
    for (const json of [[], ['--json']]) {
      const tag = json.length ? 'json' : 'table';
      await cli(
        `create (${tag})`,
        ['iam-create-user', '--user-profile', profile(`${tag}.${email}`), ...json],
        env,
        cwd,
      );
      await cli(
        `update (${tag})`,
        ['iam-update-user', '--user-profile', profile(`${tag}.${email}`, { title: 'Lead' }), ...json],
        env,
        cwd,
      );
      await cli(
        `get (${tag})`,
        ['iam-get-user', '--user-profile', profile(`${tag}.${email}`), ...json],
        env,
        cwd,
      );
      await cli(
        `disable (${tag})`,
        ['iam-disable-user', '--user-profile', profile(`${tag}.${email}`), ...json],
        env,
        cwd,
      );
      await cli(
        `enable (${tag})`,
        ['iam-enable-user', '--user-profile', profile(`${tag}.${email}`), '--allow-enable', 'true', ...json],
        env,
        cwd,
      );
      await cli(
        `get not found (${tag})`,
        ['get-user', '--user-profile', profile('nobody@example.com'), ...json],
        env,
        cwd,
      );
      await cli(
        `bad profile (${tag})`,
        ['iam-create-user', '--user-profile', '{"email":', ...json],
        env,
        cwd,
      );
      await cli(`test-module (${tag})`, ['test-module', ...json], env, cwd);
      await cli(`get-mapping-fields (${tag})`, ['get-mapping-fields', ...json], env, cwd);
      for (const target of [echoing, wrongKey]) {
        const bad = baseCliEnv(cwd, target);
        const name = target === echoing ? '401 echoing Authorization' : '401 wrong key';
        await cli(
          `${name}: get (${tag})`,
          ['iam-get-user', '--user-profile', profile(email), ...json],
          bad,
          cwd,
        );
        await cli(
          `${name}: create (${tag})`,
          ['iam-create-user', '--user-profile', profile(email), ...json],
          bad,
          cwd,
        );
        await cli(
          `${name}: disable (${tag})`,
          ['iam-disable-user', '--user-profile', profile(email), ...json],
          bad,
          cwd,
        );
        await cli(`${name}: test-module (${tag})`, ['test-module', ...json], bad, cwd);
        await cli(`${name}: get-mapping-fields (${tag})`, ['get-mapping-fields', ...json], bad, cwd);
      }
      const port = await freePort();
      await cli(
        `unreachable (${tag})`,
        ['iam-get-user', '--user-profile', profile(email), ...json],
        { ...env, ATLASSIAN_URL: `http://127.0.0.1:${port}` },
        cwd,
      );
    }
    const runs = cliRuns.filter((r) => r.run.cwd === cwd);
    expect(runs.some((r) => r.run.code === 0)).toBe(true);
    expect(runs.some((r) => r.run.code === 1)).toBe(true);
    expect(runs.some((r) => r.run.code === 2)).toBe(true);
    // The echoing server really did see (and send back) the token.
    expect(echoing.server.requests.length).toBeGreaterThan(0);
  });

  it('bulk runs (success, 401 echo) and audit reads leak nothing', async () => {
    const cwd = cliDir();
    sqliteFiles.push(path.join(cwd, 'cli.db'));
    const env = baseCliEnv(cwd);
    const csv = path.join(cwd, 'people.csv');
    fs.writeFileSync(csv, 'Email,GivenName,Surname\nbulk1@example.com,A,B\nbulk2@example.com,C,D\n,,\n');
    for (const json of [[], ['--json']]) {
      const tag = json.length ? 'json' : 'table';
      const report = path.join(cwd, `report-${tag}.jsonl`);
      writtenFiles.push(report);
      await cli(`bulk create (${tag})`, ['bulk', 'create', csv, '--report', report, ...json], env, cwd);
      const disableReport = path.join(cwd, `disable-${tag}.jsonl`);
      writtenFiles.push(disableReport);
      await cli(
        `bulk disable (${tag})`,
        ['bulk', 'disable', csv, '--report', disableReport, ...json],
        env,
        cwd,
      );
      const echoReport = path.join(cwd, `echo-${tag}.jsonl`);
      writtenFiles.push(echoReport);
      await cli(
        `bulk 401 echo (${tag})`,
        ['bulk', 'update', csv, '--report', echoReport, ...json],
        baseCliEnv(cwd, echoing),
        cwd,
      );
      await cli(`bulk bad operation (${tag})`, ['bulk', 'explode', csv, ...json], env, cwd);
    }
    for (const args of [
      [],
      ['--json'],
      ['--csv'],
      ['--user', 'bulk1@example.com'],
      ['--since', '1h', '--limit', '5'],
    ]) {
      await cli(`audit ${args.join(' ') || '(table)'}`, ['audit', ...args], env, cwd);
    }
    await cli('audit bad option', ['audit', '--json', '--csv'], env, cwd);
    const audit = cliRuns.find((r) => r.label === 'audit --json');
    expect(audit?.run.code).toBe(0);
    // The echoed 401s are in the audit log as results: the place secrets would most likely land.
    expect(audit?.run.stdout).toMatch(/401/);
  });

  it('bad configuration lines and *_FILE secrets leak nothing', async () => {
    const cwd = cliDir();
    sqliteFiles.push(path.join(cwd, 'cli.db'));
    const env = baseCliEnv(cwd);
    const args = ['iam-get-user', '--user-profile', profile('x@example.com')];
    const bad: [string, Record<string, string>][] = [
      ['bad ATLASSIAN_TIMEOUT', { ...env, ATLASSIAN_TIMEOUT: 'soon' }],
      ['app token in the bot-token slot', { ...env, SLACK_BOT_TOKEN: SECRETS.SLACK_APP_TOKEN }],
      ['bot token in the app-token slot', { ...env, SLACK_APP_TOKEN: SECRETS.SLACK_BOT_TOKEN }],
      [
        'token with a space inside',
        { ...env, ATLASSIAN_ACCESS_TOKEN: `${SECRETS.ATLASSIAN_ACCESS_TOKEN} x` },
      ],
      [
        'secret as the directory id',
        { ...env, ATLASSIAN_DIRECTORY_ID: `${SECRETS.SLACK_SIGNING_SECRET}/../` },
      ],
      ['secret in ATLASSIAN_URL', { ...env, ATLASSIAN_URL: `notaurl ${SECRETS.ATLASSIAN_ACCESS_TOKEN}` }],
      ['bad LOG_LEVEL, secrets around', { ...env, LOG_LEVEL: 'loud' }],
      [
        'unreachable PostgreSQL with a password',
        {
          ...env,
          DATABASE_URL: `postgres://root:${SECRETS.DATABASE_PASSWORD}@127.0.0.1:${await freePort()}/iam`,
        },
      ],
      [
        // Issue 10 finding 9: the proxy password was not a secret.
        'proxy with a password, unreachable',
        {
          ...env,
          ATLASSIAN_USE_PROXY: 'true',
          HTTPS_PROXY: `http://me:${encodeURIComponent(SECRETS.PROXY_PASSWORD)}@127.0.0.1:${await freePort()}`,
          HTTP_PROXY: `http://me:${encodeURIComponent(SECRETS.PROXY_PASSWORD)}@127.0.0.1:${await freePort()}`,
        },
      ],
      [
        'PostgreSQL URL with a password, malformed',
        { ...env, DATABASE_URL: `postgres://root:${SECRETS.DATABASE_PASSWORD}@[bad/iam` },
      ],
    ];
    for (const [label, badEnv] of bad) await cli(`config: ${label}`, args, badEnv, cwd);

    const fileDir = makeTempDir('atlassian-iam-secrets-files-');
    const files: Record<string, string> = {};
    for (const name of [
      'ATLASSIAN_ACCESS_TOKEN',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
    ] as const) {
      files[`${name}_FILE`] = path.join(fileDir, name.toLowerCase());
      fs.writeFileSync(files[`${name}_FILE`], `${SECRETS[name]}\n`);
    }
    const fromFiles = { ...env, ...files };
    for (const name of [
      'ATLASSIAN_ACCESS_TOKEN',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
    ])
      delete fromFiles[name];
    const viaFiles = await cli('*_FILE: get', [...args, '--json'], fromFiles, cwd);
    expect(viaFiles.code).toBe(1); // not found, but authenticated: the token was read from its file
    expect(viaFiles.stdout).toMatch(/404/);
    await cli('*_FILE: test-module', ['test-module'], fromFiles, cwd);
    await cli(
      '*_FILE and the variable both set',
      args,
      { ...fromFiles, ATLASSIAN_ACCESS_TOKEN: SECRETS.ATLASSIAN_ACCESS_TOKEN },
      cwd,
    );
    await cli(
      '*_FILE missing',
      args,
      { ...fromFiles, SLACK_BOT_TOKEN_FILE: path.join(fileDir, 'absent') },
      cwd,
    );
    // A .env file with the secrets and a bad line.
    const dotCwd = cliDir();
    fs.writeFileSync(
      path.join(dotCwd, '.env'),
      [
        `ATLASSIAN_URL=${atlassian.server.url}`,
        `ATLASSIAN_ACCESS_TOKEN=${SECRETS.ATLASSIAN_ACCESS_TOKEN}`,
        `ATLASSIAN_DIRECTORY_ID=${DIRECTORY}`,
        `SLACK_BOT_TOKEN=${SECRETS.SLACK_BOT_TOKEN}`,
        `SLACK_SIGNING_SECRET=${SECRETS.SLACK_SIGNING_SECRET}`,
        'ATLASSIAN_TIMEOUT=eventually',
        `this line is not a setting ${SECRETS.SLACK_APP_TOKEN}`,
        'LOG_LEVEL=debug',
        '',
      ].join('\n'),
    );
    const dotenv = await cli('.env with a bad line', args, {}, dotCwd);
    expect(dotenv.code).toBe(2);
    expect(dotenv.stderr).toMatch(/ATLASSIAN_TIMEOUT/);
    const configRuns = cliRuns.filter((r) => r.label.startsWith('config:'));
    // Refused at start (2), or, for values the configuration accepts, failed at run time (1).
    expect(configRuns.every((r) => r.run.code === 1 || r.run.code === 2)).toBe(true);
    expect(configRuns.filter((r) => r.run.code === 2).length).toBeGreaterThanOrEqual(6);
  });

  (TEST_DATABASE_URL ? it : it.skip)(
    'with PostgreSQL (TEST_DATABASE_URL) and a password in DATABASE_URL, the CLI leaks nothing',
    async () => {
      const name = uniqueName('iam_rel_secrets');
      const url = new URL(await createDatabase(TEST_DATABASE_URL as string, name));
      url.password = SECRETS.DATABASE_PASSWORD;
      try {
        const cwd = cliDir();
        const env = { ...baseCliEnv(cwd), DATABASE_URL: url.toString() };
        for (const json of [[], ['--json']]) {
          await cli(
            `PostgreSQL: create`,
            ['iam-create-user', '--user-profile', profile('pg.cli@example.com'), ...json],
            env,
            cwd,
          );
          await cli(
            `PostgreSQL: echo 401`,
            ['iam-get-user', '--user-profile', profile('pg.cli@example.com'), ...json],
            { ...env, ATLASSIAN_URL: echoing.server.url },
            cwd,
          );
          await cli(`PostgreSQL: audit`, ['audit', ...json], env, cwd);
        }
        const wrongDb = new URL(url.toString());
        wrongDb.pathname = `/${name}_missing`;
        await cli(
          'PostgreSQL: missing database',
          ['iam-get-user', '--user-profile', profile('x@example.com')],
          { ...env, DATABASE_URL: wrongDb.toString() },
          cwd,
        );
        const client = new Client({ connectionString: url.toString() });
        await client.connect();
        try {
          pgAuditRows.push(...(await client.query('SELECT * FROM audit_log')).rows);
        } finally {
          await client.end();
        }
        expect(pgAuditRows.length).toBeGreaterThan(0);
      } finally {
        await dropDatabase(TEST_DATABASE_URL as string, name);
      }
    },
  );
});

describe('the bot', () => {
  const responseUrl = (tag: string) => `${slack.responseUrlBase}${tag}`;
  const textOf = (call: SlackCall): string =>
    JSON.stringify([call.args.text, call.args.blocks, call.args.view]);

  async function post(bot: BotProcess, label: string, body: string, contentType?: string): Promise<Response> {
    const answer = await postSigned(bot.url, body, { secret: SECRETS.SLACK_SIGNING_SECRET, contentType });
    const text = await answer.clone().text();
    botAnswers.push({ label, text: `${answer.status} ${JSON.stringify([...answer.headers])} ${text}` });
    return answer;
  }
  const command = (bot: BotProcess, name: string, text: string, user = 'UADMIN') =>
    post(bot, `${name} ${text}`, slashCommandBody(name, text, user, responseUrl(`${name}-${text}`)));
  const click = (bot: BotProcess, action: string, request: { id: string; ts: string }, user: string) =>
    post(
      bot,
      action,
      interactionBody(buttonClick(action, request.id, user, responseUrl(action), request.ts)),
    );

  function botEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      SLACK_API_URL: slack.apiUrl,
      ...atlassian.env,
      SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
      LOG_LEVEL: 'debug',
      IAM_APPROVAL_TTL: '3s',
      ...extra,
    };
  }

  async function requestDisable(bot: BotProcess, email: string): Promise<{ id: string; ts: string }> {
    atlassian.seedUser(email);
    await command(bot, '/iam-disable-user', `${email} reason="left"`, 'UREQ');
    const request = await approvalRequest(slack, email);
    await new Promise((r) => setTimeout(r, 300)); // the request row is written just after the post
    return request;
  }

  async function everyFlow(bot: BotProcess, prefix: string): Promise<void> {
    const done = (predicate: (c: SlackCall) => boolean) => slack.waitFor(predicate, 15_000);
    await command(bot, '/iam-create-user', `email=${prefix}ann@example.com givenname=Ann title="Lead"`);
    await done((c) => c.method === 'chat.postMessage' && textOf(c).includes(`${prefix}ann@example.com`));
    await command(bot, '/iam-update-user', `email=${prefix}ann@example.com title="Head"`);
    await done(
      (c) =>
        c.method === 'chat.postMessage' &&
        textOf(c).includes('Update User Results') &&
        textOf(c).includes(`${prefix}ann`),
    );
    await command(bot, '/iam-get-user', `${prefix}ann@example.com`);
    await done(
      (c) =>
        c.method === 'chat.postMessage' &&
        textOf(c).includes('Get User Results') &&
        textOf(c).includes(`${prefix}ann`),
    );
    await command(bot, '/iam-get-user', `${prefix}nobody@example.com`);
    await command(bot, '/iam-enable-user', `${prefix}ann@example.com`);
    await done(
      (c) =>
        c.method === 'chat.postMessage' &&
        textOf(c).includes('Enable User Results') &&
        textOf(c).includes(`${prefix}ann`),
    );
    await command(bot, '/iam-audit', `${prefix}ann@example.com`);
    await command(bot, '/iam-create-user', `email=${prefix}x@example.com`, 'UMEMBER'); // refused
    await command(bot, '/iam-create-user', '{"email": '); // bad input
    // Forms: open, a field error, a valid submission; the update form pre-filled.
    const opened = slack.callsTo('views.open').length;
    await command(bot, '/iam-create-user', '');
    const open = await done(
      (c) => c.method === 'views.open' && slack.callsTo('views.open').indexOf(c) >= opened,
    );
    const view = open.args.view as { private_metadata: string };
    const submission = (email: string) =>
      interactionBody(
        viewSubmission('iam_create_user', 'UADMIN', { email, title: 'Analyst' }, view.private_metadata),
      );
    await post(bot, 'form: invalid', submission('not-an-email'));
    await post(bot, 'form: valid', submission(`${prefix}modal@example.com`));
    await done((c) => c.method === 'chat.postMessage' && textOf(c).includes(`${prefix}modal@example.com`));
    const updates = slack.callsTo('views.update').length;
    await command(bot, '/iam-update-user', `${prefix}ann@example.com`);
    await done((c) => c.method === 'views.update' && slack.callsTo('views.update').indexOf(c) >= updates);
    // App Home.
    const publishes = slack.callsTo('views.publish').length;
    await post(
      bot,
      'app_home_opened',
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        api_app_id: 'A1',
        event: { type: 'app_home_opened', user: 'UADMIN', tab: 'home', channel: 'D1' },
        event_id: `Ev-${prefix}`,
        event_time: Math.floor(Date.now() / 1000),
      }),
      'application/json',
    );
    await done((c) => c.method === 'views.publish' && slack.callsTo('views.publish').indexOf(c) >= publishes);
    // Approve, deny, expiry.
    const approved = await requestDisable(bot, `${prefix}bob@example.com`);
    await click(bot, 'iam_disable_approve', approved, 'UREQ'); // refused: requester
    await click(bot, 'iam_disable_approve', approved, 'UAPPROVER');
    await done(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.thread_ts !== undefined &&
        textOf(c).includes(`${prefix}bob`),
    );
    const denied = await requestDisable(bot, `${prefix}carol@example.com`);
    await click(bot, 'iam_disable_deny', denied, 'UAPPROVER');
    await done(
      (c) => c.method === 'chat.update' && textOf(c).includes(`${prefix}carol`) && /denied/i.test(textOf(c)),
    );
    const expiring = await requestDisable(bot, `${prefix}dave@example.com`);
    await new Promise((r) => setTimeout(r, 3_500));
    await click(bot, 'iam_disable_approve', expiring, 'UAPPROVER');
    await done(
      (c) => c.method === 'chat.update' && textOf(c).includes(`${prefix}dave`) && /expired/i.test(textOf(c)),
    );
    // A forged request.
    const forged = await postSigned(
      bot.url,
      slashCommandBody('/iam-get-user', 'x@example.com', 'UADMIN', responseUrl('forged')),
      { secret: 'wrong' },
    );
    expect(forged.status).toBe(401);
  }

  it('every flow in HTTP mode (secrets from the environment) leaks nothing', async () => {
    const cwd = makeTempDir('atlassian-iam-secrets-bot-');
    sqliteFiles.push(path.join(cwd, 'bot.db'));
    const bot = await startBot(botEnv(), cwd);
    bots.push({ label: 'HTTP bot', bot });
    await everyFlow(bot, 'h-');
    expect(await bot.stop('SIGTERM')).toBe(0);
  });

  it('every flow with secrets read from *_FILE leaks nothing', async () => {
    const cwd = makeTempDir('atlassian-iam-secrets-bot-file-');
    sqliteFiles.push(path.join(cwd, 'bot.db'));
    const files: Record<string, string> = {};
    for (const name of ['ATLASSIAN_ACCESS_TOKEN', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET'] as const) {
      files[`${name}_FILE`] = path.join(cwd, `${name.toLowerCase()}.secret`);
      fs.writeFileSync(files[`${name}_FILE`], SECRETS[name]);
    }
    const bot = await startBot(
      botEnv({ ...files, ATLASSIAN_ACCESS_TOKEN: '', SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '' }),
      cwd,
    );
    bots.push({ label: '*_FILE bot', bot });
    await everyFlow(bot, 'f-');
    expect(await bot.stop('SIGTERM')).toBe(0);
  });

  it('a bot whose Atlassian echoes the Authorization header in 401s leaks nothing', async () => {
    const cwd = makeTempDir('atlassian-iam-secrets-bot-echo-');
    sqliteFiles.push(path.join(cwd, 'bot.db'));
    const bot = await startBot(botEnv({ ATLASSIAN_URL: echoing.server.url }), cwd);
    bots.push({ label: 'echo bot', bot });
    for (const [name, text] of [
      ['/iam-get-user', 'e-ann@example.com'],
      ['/iam-create-user', 'email=e-ann@example.com'],
      ['/iam-update-user', 'email=e-ann@example.com title=X'],
      ['/iam-enable-user', 'e-ann@example.com'],
      ['/iam-disable-user', 'e-ann@example.com'],
    ]) {
      const before = slack.calls.length;
      await command(bot, name, text);
      await slack
        .waitFor(
          (c) => slack.calls.indexOf(c) >= before && /401|Unauthori/.test(JSON.stringify(c.args)),
          15_000,
        )
        .catch(() => {
          throw new Error(
            `${name} ${text}: ${JSON.stringify(slack.calls.slice(before).map((c) => [c.method, textOf(c).slice(0, 300)]))}`,
          );
        });
    }
    // The update form opens at once; the failed lookup (401) leaves it as typed.
    const opened = slack.callsTo('views.open').length;
    await command(bot, '/iam-update-user', 'e-ann@example.com');
    await slack.waitFor((c) => c.method === 'views.open' && slack.callsTo('views.open').indexOf(c) >= opened);
    await new Promise((r) => setTimeout(r, 500));
    await post(
      bot,
      'app_home_opened (echo)',
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        api_app_id: 'A1',
        event: { type: 'app_home_opened', user: 'UADMIN', tab: 'home', channel: 'D1' },
        event_id: 'Ev-echo',
        event_time: Math.floor(Date.now() / 1000),
      }),
      'application/json',
    );
    await slack.waitFor(
      (c) => c.method === 'views.publish' && JSON.stringify(c.args).includes('401'),
      15_000,
    );
    expect(await bot.stop('SIGTERM')).toBe(0);
  });

  it('bad configuration and an unreachable PostgreSQL with a password: the bot exits 2 and leaks nothing', async () => {
    const cases: [string, Record<string, string>][] = [
      ['bad ATLASSIAN_TIMEOUT', { ATLASSIAN_TIMEOUT: 'soon' }],
      ['app token as bot token', { SLACK_BOT_TOKEN: SECRETS.SLACK_APP_TOKEN }],
      ['bot token as app token', { SLACK_APP_TOKEN: SECRETS.SLACK_BOT_TOKEN }],
      ['secret and secret file both set', { SLACK_SIGNING_SECRET_FILE: '/nonexistent/secret' }],
      [
        'unreachable PostgreSQL with a password',
        { DATABASE_URL: `postgres://root:${SECRETS.DATABASE_PASSWORD}@127.0.0.1:${await freePort()}/iam` },
      ],
    ];
    for (const [label, extra] of cases) {
      const cwd = makeTempDir('atlassian-iam-secrets-bot-bad-');
      const run = await new Promise<CliRun>((resolve) => {
        const child = spawn(process.execPath, [BOT_PATH], {
          cwd,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, PORT: '0', ...botEnv(extra) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code, signal: null, stdout, stderr, ms: 0, cwd }));
      });
      cliRuns.push({ label: `bot start: ${label}`, run });
      expect(run.code).toBe(2);
    }
  });

  it('Socket Mode (SLACK_APP_TOKEN): a slash command over the WebSocket leaks nothing', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    slack.socketModeUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/link`;
    const cwd = makeTempDir('atlassian-iam-secrets-socket-');
    sqliteFiles.push(path.join(cwd, 'bot.db'));
    const connected = new Promise<WebSocket>((resolve) => wss.once('connection', (s) => resolve(s)));
    const child = spawn(process.execPath, [BOT_PATH], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        ...botEnv({
          SLACK_APP_TOKEN: SECRETS.SLACK_APP_TOKEN,
          DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const socket = await Promise.race([
        connected,
        exited.then((code) => {
          throw new Error(`the Socket Mode bot exited (${code}):\n${stdout}\n${stderr}`);
        }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no Socket Mode connection:\n${stdout}\n${stderr}`)), 15_000),
        ),
      ]);
      const received: string[] = [];
      socket.on('message', (data: Buffer) => received.push(data.toString()));
      socket.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          connection_info: { app_id: 'A1' },
          debug_info: {},
        }),
      );
      socket.send(
        JSON.stringify({
          envelope_id: 'env-secret',
          type: 'slash_commands',
          accepts_response_payload: true,
          payload: {
            token: 'x',
            team_id: 'T1',
            channel_id: 'C1',
            user_id: 'UADMIN',
            command: '/iam-get-user',
            text: 'h-ann@example.com',
            api_app_id: 'A1',
            response_url: `${slack.responseUrlBase}socket`,
            trigger_id: 't1',
          },
        }),
      );
      await slack.waitFor(
        (c) =>
          c.method === 'chat.postMessage' &&
          textOf(c).includes('Get User Results') &&
          c.at > 0 &&
          received.length > 0,
        15_000,
      );
      botAnswers.push({ label: 'Socket Mode envelopes', text: received.join('\n') });
      expect(slack.callsTo('apps.connections.open').length).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      slack.socketModeUrl = null;
      cliRuns.push({ label: 'Socket Mode bot', run: { code: 0, signal: null, stdout, stderr, ms: 0, cwd } });
    }
  });

  (TEST_DATABASE_URL ? it : it.skip)(
    'with PostgreSQL (TEST_DATABASE_URL) and a password in DATABASE_URL, every flow leaks nothing',
    async () => {
      const name = uniqueName('iam_rel_secrets_bot');
      const url = new URL(await createDatabase(TEST_DATABASE_URL as string, name));
      url.password = SECRETS.DATABASE_PASSWORD;
      try {
        const bot = await startBot(
          botEnv({ DATABASE_URL: url.toString() }),
          makeTempDir('atlassian-iam-secrets-pg-'),
        );
        bots.push({ label: 'PostgreSQL bot', bot });
        await everyFlow(bot, 'p-');
        expect(await bot.stop('SIGTERM')).toBe(0);
        const client = new Client({ connectionString: url.toString() });
        await client.connect();
        try {
          const rows = (await client.query('SELECT * FROM audit_log')).rows;
          expect(rows.length).toBeGreaterThan(10);
          pgAuditRows.push(...rows);
        } finally {
          await client.end();
        }
      } finally {
        await dropDatabase(TEST_DATABASE_URL as string, name);
      }
    },
  );
});

describe('where the secrets could have gone', () => {
  it('no secret (nor any 12-character window of one) appears anywhere', async () => {
    for (const { label, run } of cliRuns) {
      check('stdout (CLI commands, bot start failures, Socket Mode bot)', label, run.stdout);
      check('stderr (CLI commands, bot start failures, Socket Mode bot)', label, run.stderr);
    }
    for (const { label, bot } of bots)
      check('bot process output (stdout + stderr, LOG_LEVEL=debug)', label, bot.output());
    for (const call of slack.calls) {
      const { token: _credential, ...args } = call.args;
      check(
        'Slack Web API calls and response_url posts (args except `token`)',
        call.method,
        JSON.stringify(args),
      );
    }
    for (const answer of botAnswers) check("the bot's HTTP answers to Slack", answer.label, answer.text);
    for (const file of writtenFiles.filter((f) => fs.existsSync(f)))
      check('files the CLI wrote (bulk reports)', path.basename(file), fs.readFileSync(file, 'latin1'));
    let auditRowCount = 0;
    for (const file of sqliteFiles) {
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        if (!fs.existsSync(file + suffix)) continue;
        check(
          'raw bytes of SQLite database files (+ -wal, -shm)',
          path.basename(file) + suffix,
          fs.readFileSync(file + suffix, 'latin1'),
        );
      }
      if (!fs.existsSync(file)) continue;
      const db = new Database(file, { readonly: true });
      try {
        for (const row of db.prepare('SELECT * FROM audit_log').all()) {
          auditRowCount += 1;
          check('audit_log rows (SQLite)', file, JSON.stringify(row));
        }
      } finally {
        db.close();
      }
    }
    for (const row of pgAuditRows) check('audit_log rows (PostgreSQL)', 'pg', JSON.stringify(row));
    expect(auditRowCount).toBeGreaterThan(50);
    expect(cliRuns.length).toBeGreaterThan(60);
    // The stand-in did receive the token, as the credential only.
    expect(slack.calls.length).toBeGreaterThan(50);

    const leaks = [...places.entries()].flatMap(([where, p]) => p.found.map((f) => `${where} — ${f}`));
    expect(leaks).toEqual([]);
  });
});
