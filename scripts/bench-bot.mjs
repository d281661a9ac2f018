// Benchmark of the built Slack bot (dist/index.js, HTTP mode) against a same-work floor, under
// concurrent slash commands (`npm run bench:bot`).
//
// Everything runs on loopback: the emulated Atlassian SCIM server of dist/sandbox, answering every
// request after 500 ms; a stand-in for Slack's Web API (test/support/slack-standin.cjs); and two child
// processes configured through their environment only: the bot, and the floor
// (scripts/bench-lib/floor-bot.mjs), a bare Bolt app with the project's own Bolt and axios that acks,
// makes the same SCIM requests and posts the same messages as the bot, and does nothing else. Slash
// commands are POSTed to /slack/events signed as Slack signs them.
//
// 1. Idle memory: VmRSS from /proc/<pid>/status ~2 s after start. Target for the bot: <= 100 MB.
// 2. Three alternating rounds: in each, 50 concurrent /iam-get-user (users created straight in the
//    directory), then 50 concurrent /iam-create-user (new users), sent to the bot and to the floor in
//    turn (the order alternates between rounds). For each burst: the p99 of the time to the HTTP 200
//    acknowledgement, and the time until the LAST result's chat.postMessage reaches the stand-in.
// 3. Ratios bot / floor of both, per round; the targets apply to their median over the rounds:
//    ack p99 ratio <= 1.3, last-result ratio <= 1.05.
// One get and one create warm each process up first (not counted); the bot's messages of that warm-up
// are what the floor posts. Exits 1 when a target is missed or anything fails, 2 when not built.
import { spawn, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { URLSearchParams, fileURLToPath } from 'node:url';
import { freePort } from './bench-lib/net.mjs';
import { seedUser } from './bench-lib/directory.mjs';
import { median, percentile, table } from './bench-lib/report.mjs';
import { startSlackStandIn } from '../test/support/slack-standin.cjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOT = path.join(ROOT, 'dist', 'index.js');
const FLOOR = path.join(ROOT, 'scripts', 'bench-lib', 'floor-bot.mjs');
for (const file of [BOT, path.join(ROOT, 'dist', 'sandbox', 'server.js')]) {
  if (!fs.existsSync(file)) {
    console.error(`${file} is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
}
const { default: sandbox } = await import('../dist/sandbox/index.js');
const { default: sqlite } = await import('../dist/store/sqlite.js');

const TOKEN = 'bench-token';
const DIRECTORY_ID = 'dir-bench';
const BOT_TOKEN = 'xoxb-bench';
const SIGNING_SECRET = 'bench-signing-secret-0123456789';
const OPERATOR = 'UBENCH';
const CHANNEL = 'CBENCH';
const CONCURRENCY = 50;
const ROUND_COUNT = 3;
const LATENCY_MS = 500;
const IDLE_MS = 2000;
const TARGET_ACK_RATIO = 1.3;
const TARGET_RESULT_RATIO = 1.05;
const TARGET_RSS_MB = 100;
const POST_TIMEOUT_MS = 20_000;

const GET = { name: 'get', command: '/iam-get-user', expected: 1, seed: true };
const CREATE = { name: 'create', command: '/iam-create-user', expected: 2, seed: false };
const SPECS = [GET, CREATE];

// ---- the child processes and their scratch directory: gone on every way out ------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atlassian-iam-bench-bot-'));
const children = [];
function killAll() {
  for (const { child } of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', () => {
  killAll();
  fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
/** SIGTERM (the process finishes what is in flight and exits), SIGKILL when it has not exited within 5 s. */
async function stop({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited, delay(5000, 'timeout')])) === 'timeout') child.kill('SIGKILL');
}

const db = sqlite.openSqlite(':memory:');
const directory = sandbox.openSandbox(db);
/** Every SCIM request with the moment it arrived, in arrival order. */
const scimLog = [];
const scim = await sandbox.startScimServer({
  directory,
  directoryId: DIRECTORY_ID,
  token: TOKEN,
  latencyMs: LATENCY_MS,
  onRequest: (request) => scimLog.push({ at: performance.now(), request }),
});
const slack = await startSlackStandIn();
// A normal member (no admin, no guest); IAM_OPERATORS names it, so it may run the commands.
slack.users.set(OPERATOR, {
  name: 'bench',
  is_admin: false,
  is_owner: false,
  is_restricted: false,
  is_ultra_restricted: false,
  is_bot: false,
  deleted: false,
});

/** GET or POST on loopback with a fresh connection (as Slack's requests arrive); resolves at the end of the answer. */
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
          at: performance.now(),
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts `script` as a child on a free port and waits until its /healthz answers. */
async function startProcess(name, script, extraEnv = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      ATLASSIAN_URL: scim.url,
      ATLASSIAN_ACCESS_TOKEN: TOKEN,
      ATLASSIAN_DIRECTORY_ID: DIRECTORY_ID,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, output: '', url: `http://127.0.0.1:${port}` };
  children.push(proc);
  child.stdout.on('data', (chunk) => (proc.output += chunk.toString()));
  child.stderr.on('data', (chunk) => (proc.output += chunk.toString()));
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited at start (${child.exitCode ?? child.signalCode}):\n${proc.output}`);
    }
    try {
      if ((await request(`${proc.url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 15_000) throw new Error(`${name} did not answer /healthz within 15 s`);
    await delay(50);
  }
  proc.startMs = performance.now() - started;
  return proc;
}

/** VmRSS of a process in MB, from /proc; where there is no /proc, RSS from ps. */
function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
    return Number(ps.stdout?.trim()) / 1024;
  }
}

function slashCommandBody(command, text, index) {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T1',
    team_domain: 'example',
    channel_id: CHANNEL,
    channel_name: 'it-ops',
    user_id: OPERATOR,
    user_name: 'bench',
    command,
    text,
    api_app_id: 'A1',
    response_url: `${slack.responseUrlBase}${index}`,
    trigger_id: `trigger-bench-${index}`,
  }).toString();
}

/** The request as Slack sends it: form body, timestamp and `v0=` HMAC-SHA256 signature headers. */
function signed(body) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': `v0=${signature}`,
    },
    body,
  };
}

const posts = () => slack.calls.filter((c) => c.method === 'chat.postMessage');
const mentions = (call, email) => JSON.stringify(call.args).includes(email);
const isResultPost = (email) => (call) =>
  call.method === 'chat.postMessage' && !call.args.thread_ts && mentions(call, email);

/** The email a SCIM request is about: its userName filter, the userName it creates, or the user id's. */
const emailById = new Map();
function emailOfRequest(request) {
  const filter = new URLSearchParams(request.query).get('filter') ?? '';
  const quoted = /"([^"]+)"/.exec(filter);
  if (quoted) return quoted[1];
  if (request.body && typeof request.body === 'object' && typeof request.body.userName === 'string')
    return request.body.userName;
  const id = /\/Users\/([^/]+)$/.exec(request.path)?.[1];
  return id ? emailById.get(decodeURIComponent(id)) : undefined;
}

let commandIndex = 0;
/**
 * Sends one command per email to `proc` at once; waits until every message of each (`messagesPerCommand`)
 * has been posted; returns per command its ack, result post and SCIM requests.
 */
async function burst(proc, spec, emails, messagesPerCommand) {
  if (spec.seed) for (const email of emails) emailById.set(seedUser(directory, email).id, email);
  const prepared = emails.map((email) => signed(slashCommandBody(spec.command, email, `${commandIndex++}`)));
  const firstLog = scimLog.length;
  const sent = prepared.map((options) => {
    const started = performance.now();
    return request(`${proc.url}/slack/events`, options).then(
      (answer) => ({ started, answer }),
      (error) => ({ started, error }),
    );
  });
  const results = emails.map((email) =>
    slack.waitFor(isResultPost(email), POST_TIMEOUT_MS).catch(() => null),
  );
  const [acks, posted] = await Promise.all([Promise.all(sent), Promise.all(results)]);
  // Let the burst finish (thread replies, audit writes) before the next one starts.
  const deadline = performance.now() + POST_TIMEOUT_MS;
  const all = () => posts().filter((c) => emails.some((email) => mentions(c, email))).length;
  while (all() < emails.length * messagesPerCommand && performance.now() < deadline) await delay(20);
  await delay(200);
  const requests = scimLog.slice(firstLog);
  return emails.map((email, i) => ({
    email,
    started: acks[i].started,
    ack: acks[i].answer ?? null,
    ackError: acks[i].error?.message ?? null,
    post: posted[i],
    scim: requests.filter((r) => emailOfRequest(r.request) === email),
  }));
}

/** The messages the bot posted for one command, as templates for the floor (`{{EMAIL}}` for the email). */
function templatesOf(email, calls) {
  return calls
    .filter((c) => mentions(c, email))
    .map(({ args }) => {
      const { channel: _channel, thread_ts: _thread, ...rest } = args;
      return JSON.parse(JSON.stringify(rest).replaceAll(email, '{{EMAIL}}'));
    });
}

const problems = [];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const benchStarted = performance.now();
const loadAtStart = os.loadavg()[0];
let failed = false;

/** Checks every command of a burst and returns its figures. */
function figures(label, spec, commands) {
  for (const c of commands) {
    if (c.ackError) problems.push(`${label} ${c.email}: no ack: ${c.ackError}`);
    else if (c.ack.status !== 200) problems.push(`${label} ${c.email}: ack HTTP ${c.ack.status}`);
    if (!c.post) problems.push(`${label} ${c.email}: no result posted within ${POST_TIMEOUT_MS} ms`);
    if (c.scim.length !== spec.expected)
      problems.push(`${label} ${c.email}: ${c.scim.length} SCIM requests, expected ${spec.expected}`);
  }
  const ackMs = commands.filter((c) => c.ack?.status === 200).map((c) => c.ack.at - c.started);
  const postMs = commands.filter((c) => c.post).map((c) => c.post.at - c.started);
  return {
    ackP99: ackMs.length === commands.length ? percentile(ackMs, 99) : Infinity,
    lastResult: postMs.length === commands.length ? Math.max(...postMs) : Infinity,
  };
}

try {
  const bot = await startProcess('bot', BOT, {
    DATABASE_URL: `sqlite:${path.join(work, 'bench.db')}`,
    IAM_OPERATORS: OPERATOR,
  });
  await delay(IDLE_MS);
  const botIdle = memoryOf(bot.child.pid);

  // Warm-up of the bot (auth.test, the operator's users.info, lazy modules); its messages become the
  // floor's templates, so both post the same bytes.
  const templates = {};
  for (const spec of SPECS) {
    const email = `warmup-${spec.name}@bench.example.com`;
    const before = posts().length;
    const [warm] = await burst(bot, spec, [email], spec === GET ? 2 : 1);
    if (warm.ack?.status !== 200 || !warm.post) throw new Error(`the bot's warm-up ${spec.name} failed`);
    templates[spec.name] = templatesOf(email, posts().slice(before));
  }
  const templateFile = path.join(work, 'templates.json');
  fs.writeFileSync(templateFile, JSON.stringify(templates));
  const floor = await startProcess('floor', FLOOR, { BENCH_TEMPLATES: templateFile });
  await delay(IDLE_MS);
  const floorIdle = memoryOf(floor.child.pid);
  for (const spec of SPECS) {
    const email = `warmup-${spec.name}@floor.example.com`;
    const [warm] = await burst(floor, spec, [email], templates[spec.name].length);
    if (warm.ack?.status !== 200 || !warm.post) throw new Error(`the floor's warm-up ${spec.name} failed`);
  }

  // Alternating rounds.
  const rows = [];
  const ratios = { get: { ack: [], result: [] }, create: { ack: [], result: [] } };
  for (let round = 1; round <= ROUND_COUNT; round++) {
    for (const spec of SPECS) {
      const order = round % 2 === 1 ? [bot, floor] : [floor, bot];
      const measured = {};
      for (const proc of order) {
        const emails = Array.from(
          { length: CONCURRENCY },
          (_, i) => `r${round}-${proc.name}-${spec.name}-${String(i).padStart(3, '0')}@bench.example.com`,
        );
        const commands = await burst(proc, spec, emails, templates[spec.name].length);
        measured[proc.name] = figures(`round ${round} ${proc.name} ${spec.name}`, spec, commands);
      }
      const ackRatio = measured.bot.ackP99 / measured.floor.ackP99;
      const resultRatio = measured.bot.lastResult / measured.floor.lastResult;
      ratios[spec.name].ack.push(ackRatio);
      ratios[spec.name].result.push(resultRatio);
      rows.push([
        String(round),
        `${spec.command} x${CONCURRENCY}`,
        `${fmt(measured.bot.ackP99)} / ${fmt(measured.floor.ackP99)}`,
        ackRatio.toFixed(2),
        `${fmt(measured.bot.lastResult)} / ${fmt(measured.floor.lastResult)}`,
        resultRatio.toFixed(3),
      ]);
    }
  }

  console.log(
    `atlassian-iam bot bench — node ${process.version}, ${os.cpus().length} CPU(s), load average ${loadAtStart.toFixed(2)} at start; ` +
      `emulated Atlassian answers after ${LATENCY_MS} ms; ${CONCURRENCY} concurrent slash commands per burst; ` +
      `floor: ${path.relative(ROOT, FLOOR)}`,
  );
  const rssOk = botIdle <= TARGET_RSS_MB;
  if (!rssOk) failed = true;
  table(
    'Idle memory ~2 s after start (VmRSS)',
    ['process', 'VmRSS', 'target', 'result'],
    [
      ['bot', `${botIdle.toFixed(1)} MB`, `<= ${TARGET_RSS_MB} MB`, rssOk ? 'OK' : 'FAIL'],
      ['floor', `${floorIdle.toFixed(1)} MB`, '—', 'reference'],
    ],
  );
  table(
    'Each burst: ack p99 and last result (bot / floor), and their ratio',
    ['round', 'burst', 'ack p99', 'ack ratio', 'last result', 'result ratio'],
    rows,
  );
  const summary = [];
  for (const spec of SPECS) {
    const ack = median(ratios[spec.name].ack);
    const result = median(ratios[spec.name].result);
    const ok = ack <= TARGET_ACK_RATIO && result <= TARGET_RESULT_RATIO;
    if (!ok) failed = true;
    summary.push([
      spec.command,
      `${ack.toFixed(2)} (<= ${TARGET_ACK_RATIO})`,
      `${result.toFixed(3)} (<= ${TARGET_RESULT_RATIO})`,
      ok ? 'OK' : 'FAIL',
    ]);
  }
  table(
    `Median over ${ROUND_COUNT} rounds, bot / floor`,
    ['command', 'ack p99 ratio', 'last result ratio', 'result'],
    summary,
  );
  for (const proc of [bot, floor]) {
    const lines = proc.output.split('\n').filter((l) => /"level":"error"|Error/.test(l));
    if (lines.length > 0) problems.push(`${proc.name} logged errors, first: ${lines[0].slice(0, 300)}`);
  }
} catch (error) {
  failed = true;
  problems.push(`bench aborted: ${error.message}`);
  for (const proc of children) {
    if (proc.output.trim())
      problems.push(`${proc.name} output:\n${proc.output.trim().split('\n').slice(-20).join('\n')}`);
  }
} finally {
  await Promise.all(children.map(stop));
}

if (problems.length > 0) {
  failed = true;
  const shown = problems.slice(0, 15);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
  console.log(`\nProblems:\n${shown.map((p) => `  - ${p}`).join('\n')}`);
}
console.log(
  `\n${failed ? 'FAIL' : 'OK'}: bench finished in ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`,
);

await Promise.all([scim.close(), slack.close()]);
agent.destroy();
db.close();
process.exit(failed ? 1 : 0);
