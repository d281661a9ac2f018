/**
 * The built bot's HTTP surface and its start / stop as an operator meets them (issue 10, findings 1, 5
 * and 6): stray requests get an answer and the process stays up, a token Slack refuses or a Slack that
 * does not answer stops the start with one line, SIGTERM under `npm start` drains and exits 0.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import {
  BOT_PATH,
  type BotProcess,
  freePort,
  postSigned,
  requireBuiltBot,
  runBotToExit,
  slashCommandBody,
  startBot,
  BOT_TOKEN,
  SIGNING_SECRET,
} from '../support/bot-process';
import { makeTempDir, REPO_ROOT, removeTempDirs } from '../support/cli';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

let slack: SlackStandIn;

beforeAll(async () => {
  requireBuiltBot();
  slack = await startSlackStandIn();
  slack.users.set('UADMIN', { is_admin: true });
});

afterAll(async () => {
  await slack.close();
  removeTempDirs();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One raw request (no client-side normalisation of the path or method). */
function send(
  url: string,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${target}`, { method, headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('finding 1: one unauthenticated request no longer kills the bot', () => {
  let bot: BotProcess;
  beforeAll(async () => {
    bot = await startBot({ SLACK_API_URL: slack.apiUrl, LOG_LEVEL: 'warn' });
  });
  afterAll(() => bot.stop());

  const stray: [method: string, target: string, status: number, allow: string | null][] = [
    ['GET', '/', 404, null],
    ['GET', '/favicon.ico', 404, null],
    ['HEAD', '/healthz', 200, null],
    ['POST', '/healthz', 405, 'GET, HEAD'],
    ['GET', '/slack/events', 405, 'POST'],
    ['HEAD', '/slack/events', 405, 'POST'],
    ['POST', '/slack/actions', 404, null],
    ['DELETE', '/readyz', 405, 'GET, HEAD'],
    ['OPTIONS', '/', 404, null],
    ['GET', '//', 400, null],
    ['GET', '/%E0%A4%A', 404, null],
  ];

  it.each(stray)('%s %s gets %i and the process stays up', async (method, target, status, allow) => {
    const answer = await send(bot.url, method, target);
    expect(answer.status).toBe(status);
    if (allow) expect(answer.headers.allow).toBe(allow);
    if (method === 'HEAD') expect(answer.body).toBe('');
    expect(bot.child.exitCode).toBeNull();
    expect((await send(bot.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('refuses unsigned, forged, future-dated and oversize Slack requests, then still runs a signed command', async () => {
    const body = slashCommandBody(
      '/iam-get-user',
      'nobody@example.com',
      'UADMIN',
      `${slack.responseUrlBase}s1`,
    );
    expect((await postSigned(bot.url, body, { unsigned: true })).status).toBe(401);
    expect((await postSigned(bot.url, body, { secret: 'not-the-secret' })).status).toBe(401);
    const future = Math.floor(Date.now() / 1000) + 6 * 60;
    expect((await postSigned(bot.url, body, { timestamp: future })).status).toBe(401);
    const huge = send(bot.url, 'POST', '/slack/events', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.alloc(5 * 1024 * 1024, 'a'),
    });
    expect((await huge).status).toBe(413);
    expect((await postSigned(bot.url, body)).status).toBe(200);
    await slack.waitFor((c) => c.method === 'response_url' || c.method === 'chat.postMessage');
    expect(bot.child.exitCode).toBeNull();
    expect(bot.output()).not.toMatch(/HTTPReceiverDeferredRequestError|\n\s+at /);
  });

  it('a correctly signed body that is not an object (JSON null, payload=null) gets 400 and the bot stays up', async () => {
    const bodies: [string, string][] = [
      ['application/json', 'null'],
      ['application/json', '5'],
      ['text/plain', 'null'],
      ['application/x-www-form-urlencoded', 'payload=null'],
      ['application/x-www-form-urlencoded', 'payload=%22text%22'],
    ];
    for (const [contentType, raw] of bodies) {
      expect({ raw, status: (await postSigned(bot.url, raw, { contentType })).status }).toEqual({
        raw,
        status: 400,
      });
      const unsigned = await postSigned(bot.url, raw, { contentType, unsigned: true });
      expect({ raw, status: unsigned.status }).toEqual({ raw, status: 401 });
    }
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    expect(bot.child.exitCode).toBeNull();
    expect(bot.output()).not.toMatch(/TypeError|\n\s+at /);
  });

  it('answers /readyz with 200 and a JSON body while the database answers', async () => {
    const answer = await send(bot.url, 'GET', '/readyz');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ready: true });
  });
});

/** A Slack Web API that answers auth.test (and apps.connections.open) as told. */
async function fakeSlack(
  answers: Record<string, unknown>,
  scopes = 'commands,chat:write,users:read,usergroups:read',
): Promise<{ apiUrl: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').replace(/\?.*$/, '');
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': scopes });
    res.end(JSON.stringify(answers[method] ?? { ok: false, error: 'unknown_method' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const AUTH_OK = { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' };

describe('finding 5: a token Slack refuses, a missing scope or an unreachable Slack is one line and exit 1', () => {
  const modes: [string, Record<string, string>][] = [
    ['HTTP mode', { SLACK_SIGNING_SECRET: SIGNING_SECRET }],
    ['Socket Mode', { SLACK_APP_TOKEN: 'xapp-1-SECRET-app' }],
  ];

  /** Runs the bot against `apiUrl` and returns its single stderr line. */
  async function failedStart(apiUrl: string, modeEnv: Record<string, string>): Promise<string> {
    const cwd = makeTempDir('atlassian-iam-bad-start-');
    const run = await runBotToExit({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: apiUrl,
      DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
      ...modeEnv,
    });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')).toHaveLength(2); // one line and its newline
    expect(run.stderr + run.stdout).not.toMatch(/SECRET|\n\s+at /);
    expect(run.stderr).not.toContain('WebAPIPlatformError');
    return run.stderr;
  }

  it.each(modes)('%s: invalid_auth names SLACK_BOT_TOKEN and says to reinstall', async (_mode, modeEnv) => {
    const api = await fakeSlack({ 'auth.test': { ok: false, error: 'invalid_auth' } });
    try {
      expect(await failedStart(api.apiUrl, modeEnv)).toMatch(
        /^atlassian-iam bot: cannot start: SLACK_BOT_TOKEN: Slack does not accept this token \(invalid_auth\); reinstall the app/,
      );
    } finally {
      await api.close();
    }
  });

  it.each(modes)('%s: a revoked token says so', async (_mode, modeEnv) => {
    const api = await fakeSlack({ 'auth.test': { ok: false, error: 'token_revoked' } });
    try {
      expect(await failedStart(api.apiUrl, modeEnv)).toContain(
        'SLACK_BOT_TOKEN: the token was revoked (token_revoked)',
      );
    } finally {
      await api.close();
    }
  });

  it.each(modes)('%s: a missing scope is named', async (_mode, modeEnv) => {
    const api = await fakeSlack({ 'auth.test': AUTH_OK }, 'commands,chat:write,users:read');
    try {
      expect(await failedStart(api.apiUrl, modeEnv)).toContain(
        'SLACK_BOT_TOKEN: the token lacks the scopes usergroups:read; add them from manifest.yml',
      );
    } finally {
      await api.close();
    }
  });

  it.each(modes)('%s: SLACK_API_URL on a closed port names SLACK_API_URL', async (_mode, modeEnv) => {
    const closed = await freePort();
    expect(await failedStart(`http://127.0.0.1:${closed}/api/`, modeEnv)).toContain(
      `SLACK_API_URL: Slack cannot be reached at http://127.0.0.1:${closed}/api/ (ECONNREFUSED)`,
    );
  });

  it('Socket Mode: an app-level token Slack refuses names SLACK_APP_TOKEN', async () => {
    const api = await fakeSlack({
      'auth.test': AUTH_OK,
      'apps.connections.open': { ok: false, error: 'invalid_auth' },
    });
    try {
      expect(await failedStart(api.apiUrl, modes[1][1])).toMatch(
        /^atlassian-iam bot: cannot start: SLACK_APP_TOKEN: Slack does not accept this token \(invalid_auth\); create an app-level token/,
      );
    } finally {
      await api.close();
    }
  });
});

describe('finding 6: SIGTERM drains in-flight work and exits 0', () => {
  let atlassian: EmulatedAtlassian;
  beforeAll(async () => {
    atlassian = await startEmulatedAtlassian({
      directoryId: 'dir-drain',
      token: 'tok-drain',
      latencyMs: 1_500,
    });
  });
  afterAll(() => atlassian.close());

  it('npm start then SIGTERM: the bot logs "stopping", exits 0 and leaves no orphan answering', async () => {
    const cwd = makeTempDir('atlassian-iam-npm-start-');
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        PORT: String(port),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (c: Buffer) => (output += c.toString()));
    npm.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    const answers = () =>
      send(url, 'GET', '/healthz').then(
        (a) => a.status === 200,
        () => false,
      );
    await waitUntil(answers, `npm start to answer /healthz:\n${output}`, 20_000);
    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"message":"stopping: finishing the operations in flight"');
    expect(output).toContain('"message":"stopped"');
    expect(await answers()).toBe(false);
  });

  it('readyz turns 503 at once, a request meanwhile is told the bot is restarting, the running command finishes', async () => {
    const bot = await startBot({ SLACK_API_URL: slack.apiUrl, ...atlassian.env, LOG_LEVEL: 'info' });
    const responseUrl = `${slack.responseUrlBase}drain-1`;
    const first = slashCommandBody('/iam-get-user', 'drain@example.com', 'UADMIN', responseUrl);
    expect((await postSigned(bot.url, first)).status).toBe(200);
    await waitUntil(() => atlassian.server.requests.length > 0, 'the SCIM request');
    const started = Date.now();
    bot.child.kill('SIGTERM');
    await waitUntil(async () => (await send(bot.url, 'GET', '/readyz')).status === 503, 'readyz 503', 1_000);
    const ready = await send(bot.url, 'GET', '/readyz');
    expect(JSON.parse(ready.body)).toEqual({ ready: false, reason: 'draining: the bot is shutting down' });
    const second = slashCommandBody(
      '/iam-get-user',
      'late@example.com',
      'UADMIN',
      `${slack.responseUrlBase}d2`,
    );
    const late = await postSigned(bot.url, second);
    expect(late.status).toBe(200);
    expect(await late.text()).toContain('The bot is restarting');
    expect(await bot.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(
      JSON.stringify(slack.calls.filter((c) => JSON.stringify(c.args).includes('drain@example.com'))),
    ).toMatch(/drain@example\.com/);
  });
});

describe('SIGTERM with Atlassian not answering', () => {
  it('stops waiting for the stuck command after the drain limit and exits 0 within 30 s', async () => {
    const stuck = await startEmulatedAtlassian({
      directoryId: 'dir-stuck',
      token: 'tok-stuck',
      latencyMs: 120_000,
    });
    try {
      const bot = await startBot({ SLACK_API_URL: slack.apiUrl, ...stuck.env, ATLASSIAN_TIMEOUT: '120s' });
      const body = slashCommandBody(
        '/iam-get-user',
        'stuck@example.com',
        'UADMIN',
        `${slack.responseUrlBase}st`,
      );
      expect((await postSigned(bot.url, body)).status).toBe(200);
      await waitUntil(() => stuck.server.requests.length > 0, 'the SCIM request');
      const started = Date.now();
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(bot.output()).toContain('stopping without waiting longer for work in flight');
    } finally {
      await stuck.close();
    }
  }, 45_000);
});

describe('Socket Mode health routes on HEALTH_PORT', () => {
  it('serves /healthz at once, /readyz 503 until the connection is open and again when it drops', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    slack.socketModeUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/link`;
    const cwd = makeTempDir('atlassian-iam-health-port-');
    const healthPort = await freePort();
    const child = spawn(process.execPath, [BOT_PATH], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: 'xapp-1-health',
        SLACK_API_URL: slack.apiUrl,
        HEALTH_PORT: String(healthPort),
        DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
      },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${healthPort}`;
    try {
      const connected = new Promise<import('ws').WebSocket>((resolve) => wss.once('connection', resolve));
      const socket = await connected;
      await waitUntil(
        () =>
          send(url, 'GET', '/healthz').then(
            (a) => a.status === 200,
            () => false,
          ),
        'healthz',
      );
      const before = await send(url, 'GET', '/readyz');
      expect(before.status).toBe(503);
      expect(JSON.parse(before.body).reason).toMatch(/^slack: /);
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A1' } }));
      await waitUntil(async () => (await send(url, 'GET', '/readyz')).status === 200, 'readyz 200');
      expect((await send(url, 'GET', '/slack/events')).status).toBe(404);
      expect((await send(url, 'POST', '/healthz')).status).toBe(405);
      socket.terminate();
      await waitUntil(
        async () => (await send(url, 'GET', '/readyz')).status === 503,
        'readyz 503 after a drop',
      );
    } finally {
      child.kill('SIGKILL');
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      slack.socketModeUrl = null;
    }
  });
});
