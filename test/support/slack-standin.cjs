// A small local stand-in for Slack's Web API, reached by the bot through SLACK_API_URL: it answers the
// methods the bot uses with Slack-shaped JSON and records every call with the moment it arrived.
// CommonJS so that both the jest suites (TypeScript, types in slack-standin.d.cts) and the benchmark
// scripts (ESM) load this one copy.
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function jsonOrText(value) {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The Web API sends form bodies whose structured values (blocks, view) are JSON text. */
function parseArgs(body, contentType) {
  if (body === '') return {};
  if (contentType && contentType.includes('application/json')) return JSON.parse(body);
  const args = {};
  for (const [key, value] of new URLSearchParams(body)) {
    args[key] = /^[[{]/.test(value) ? jsonOrText(value) : value;
  }
  return args;
}

async function startSlackStandIn() {
  const calls = [];
  const users = new Map();
  const groups = new Map();
  const closedChannels = new Set();
  const channelErrors = new Map();
  const failing = new Map();
  const waiters = [];
  let ts = 1_700_000_000;
  let viewId = 0;

  const answer = (method, args) => {
    if (failing.has(method)) return { ok: false, error: failing.get(method) };
    switch (method) {
      case 'apps.connections.open':
        return standIn.socketModeUrl
          ? { ok: true, url: standIn.socketModeUrl }
          : { ok: false, error: 'not_allowed' };
      case 'auth.test':
        return {
          ok: true,
          url: 'https://example.slack.com/',
          team: 'Example',
          user: 'iam',
          team_id: 'T1',
          user_id: 'UBOT',
          bot_id: 'BBOT',
        };
      case 'chat.postMessage':
        if (closedChannels.has(String(args.channel))) return { ok: false, error: 'not_in_channel' };
        if (channelErrors.has(String(args.channel)))
          return { ok: false, error: channelErrors.get(String(args.channel)) };
        return { ok: true, channel: args.channel, ts: `${++ts}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${++ts}.000200` };
      case 'views.open':
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: `V${++viewId}`, hash: `h${viewId}` } };
      case 'users.info': {
        const record = users.get(String(args.user));
        if (!record) return { ok: false, error: 'user_not_found' };
        // Slack names every user's workspace; the stand-in's own is T1 (see auth.test).
        return { ok: true, user: { id: args.user, team_id: 'T1', ...record } };
      }
      case 'usergroups.users.list':
        return { ok: true, users: groups.get(String(args.usergroup)) ?? [] };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server = http.createServer(async (req, res) => {
    const at = performance.now();
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isResponseUrl = url.pathname.startsWith('/response/');
    const method = isResponseUrl ? 'response_url' : url.pathname.replace(/^\/api\//, '');
    const call = { method, args: parseArgs(body, req.headers['content-type']), at };
    calls.push(call);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(call)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(isResponseUrl ? { ok: true } : answer(method, call.args)));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;

  const standIn = {
    socketModeUrl: null,
    apiUrl: `${base}/api/`,
    responseUrlBase: `${base}/response/`,
    calls,
    users,
    groups,
    closedChannels,
    channelErrors,
    failing,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor(predicate, timeoutMs = 10_000) {
      const done = calls.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`the bot did not make the expected Slack call within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}

module.exports = { startSlackStandIn };
