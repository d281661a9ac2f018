// Benchmark of the built Slack bot (dist/index.js, HTTP mode) under concurrent slash commands
// (`npm run build && node scripts/bench-bot.mjs`).
//
// Everything runs on loopback: the emulated Atlassian SCIM server of dist/sandbox, answering every
// request after 500 ms; a stand-in for Slack's Web API (test/support/slack-standin.cjs); and the bot
// as a child process, configured through its environment only. Slash commands are POSTed to
// /slack/events signed as Slack signs them (HMAC-SHA256 of `v0:{ts}:{body}` with the signing secret).
//
// 1. Idle memory: VmRSS (and VmHWM, the peak so far) from /proc/<pid>/status after ~2 s without work,
//    once after start and once after the load below. Target < 150 MB.
// 2. Acks: 50 concurrent signed /iam-get-user commands (50 users created straight in the directory, so
//    setup costs no request), then 50 concurrent /iam-create-user for 50 new users. Each must be
//    acknowledged with HTTP 200; target p99 of the time to the ack < 200 ms.
// 3. Results: for each command, the time from sending it until the stand-in receives the
//    chat.postMessage carrying the user's email, divided by what its SCIM round trips cost
//    (requests x 500 ms; get 1, create 2). Target max ratio <= 1.2. A third table splits the time beyond
//    the SCIM latency into before the first SCIM request, between requests, and after the last answer.
// One /iam-get-user warms the bot up first (Bolt's auth.test, the operator's users.info; not counted).
// The bench's own CPU in each round (load generator, emulated Atlassian and Slack stand-in in this one
// process) is shown beside the bot's: on a small machine they share the same cores.
// After the rounds, each command is run once alone, as a reference without target: what the figures
// are without concurrency, so the table shows how much the 50 at once add.
// Exits 1 when any target is missed or anything fails, 2 when the bot has not been built.
import { spawn, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { URLSearchParams, fileURLToPath } from 'node:url';
import { seedUser } from './bench-lib/directory.mjs';
import { median, percentile, table } from './bench-lib/report.mjs';
import { startSlackStandIn } from '../test/support/slack-standin.cjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOT = path.join(ROOT, 'dist', 'index.js');
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
const LATENCY_MS = 500;
const IDLE_MS = 2000;
const TARGET_ACK_P99_MS = 200;
const TARGET_RATIO = 1.2;
const TARGET_RSS_MB = 150;
const POST_TIMEOUT_MS = 20_000;

const GET = { name: 'get', command: '/iam-get-user', expected: 1, seed: true };
const CREATE = { name: 'create', command: '/iam-create-user', expected: 2, seed: false };
const ROUNDS = [GET, CREATE];

// ---- the child process and its scratch directory: gone on every way out ----------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atlassian-iam-bench-bot-'));
let child = null;
let botOutput = '';
function killBot() {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', () => {
  killBot();
  fs.rmSync(work, { recursive: true, force: true });
});
/** SIGTERM (the bot finishes what is in flight and exits), SIGKILL when it has not exited within 5 s. */
async function stopBot() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if ((await Promise.race([exited, delay(5000, 'timeout')])) === 'timeout') killBot();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killBot();
    process.exit(130);
  });
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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

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

async function startBot() {
  const port = await freePort();
  child = spawn(process.execPath, [BOT], {
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
      DATABASE_URL: `sqlite:${path.join(work, 'bench.db')}`,
      IAM_OPERATORS: OPERATOR,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => (botOutput += chunk.toString()));
  child.stderr.on('data', (chunk) => (botOutput += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the bot exited at start (${child.exitCode ?? child.signalCode})`);
    }
    try {
      if ((await request(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 15_000) throw new Error('the bot did not answer /healthz within 15 s');
    await delay(50);
  }
  return { url, startMs: performance.now() - started };
}

/** VmRSS and VmHWM of the bot in MB, from /proc; where there is no /proc, RSS from ps and no peak. */
function memoryOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, source: `/proc/${pid}/status` };
  } catch {
    return new Promise((resolve) => {
      const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ps.stdout.on('data', (c) => (out += c));
      ps.on('error', () => resolve({ rssMb: NaN, hwmMb: NaN, source: 'unavailable' }));
      ps.on('close', () => resolve({ rssMb: Number(out.trim()) / 1024, hwmMb: NaN, source: 'ps -o rss' }));
    });
  }
}

/** CPU time (user + system) the bot has used so far in ms, from /proc/<pid>/stat; NaN without /proc. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
function cpuMsOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
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

const isSummaryPost = (email) => (call) =>
  call.method === 'chat.postMessage' && !call.args.thread_ts && String(call.args.text ?? '').includes(email);

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

/** Sends `emails.length` slash commands at once; returns per command its ack, post and SCIM timings. */
async function fire(botUrl, spec, emails) {
  const prepared = emails.map((email, i) =>
    signed(slashCommandBody(spec.command, email, `${spec.name}-${i}`)),
  );
  const firstLog = scimLog.length;
  const sent = prepared.map((options) => {
    const started = performance.now();
    return request(`${botUrl}/slack/events`, options).then(
      (answer) => ({ started, answer }),
      (error) => ({ started, error }),
    );
  });
  const posts = emails.map((email) => slack.waitFor(isSummaryPost(email), POST_TIMEOUT_MS).catch(() => null));
  const [acks, posted] = await Promise.all([Promise.all(sent), Promise.all(posts)]);
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

const problems = [];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const mb = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} MB` : 'n/a');
const benchStarted = performance.now();
const loadAtStart = os.loadavg()[0];
let failed = false;

try {
  const bot = await startBot();

  // ---- 1. idle memory after start -------------------------------------------------------------
  await delay(IDLE_MS);
  const idleStart = await memoryOf(child.pid);

  // ---- warm-up: Bolt's auth.test, the operator's users.info, lazy modules (not counted) ---------
  const warmEmail = 'warmup@bench.example.com';
  emailById.set(seedUser(directory, warmEmail).id, warmEmail);
  const [warm] = await fire(bot.url, GET, [warmEmail]);
  if (warm.ack?.status !== 200 || !warm.post) {
    throw new Error(
      `the warm-up command failed: ack ${warm.ack?.status ?? warm.ackError}, ${warm.post ? 'posted' : 'nothing posted'}`,
    );
  }
  await slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts, POST_TIMEOUT_MS);

  // ---- 2 and 3. concurrent rounds --------------------------------------------------------------
  /** Sends `count` commands of `spec` at once and waits until the round has settled. */
  async function round(spec, count, reference) {
    const emails = Array.from(
      { length: count },
      (_, i) => `bench-${spec.name}-${reference ? 'alone' : String(i).padStart(3, '0')}@bench.example.com`,
    );
    if (spec.seed) for (const email of emails) emailById.set(seedUser(directory, email).id, email);
    const threadPosts = () =>
      slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts).length;
    const threadPostsBefore = threadPosts();
    const cpuBefore = cpuMsOf(child.pid);
    const ownCpuBefore = process.cpuUsage();
    const commands = await fire(bot.url, spec, emails);
    // Let the round finish (get's thread replies, audit writes) before the next one starts.
    if (spec.name === 'get') {
      const deadline = performance.now() + POST_TIMEOUT_MS;
      while (threadPosts() < threadPostsBefore + count && performance.now() < deadline) await delay(20);
    }
    await delay(200);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    return {
      spec,
      commands,
      reference,
      cpuMs: cpuMsOf(child.pid) - cpuBefore,
      benchCpuMs: (ownCpu.user + ownCpu.system) / 1000,
    };
  }
  const results = [];
  for (const spec of ROUNDS) results.push(await round(spec, CONCURRENCY, false));

  // ---- idle memory after the load --------------------------------------------------------------
  await delay(IDLE_MS);
  const idleAfter = await memoryOf(child.pid);

  // ---- reference: each command alone, warm (no target; shows what concurrency adds) ------------
  for (const spec of ROUNDS) results.push(await round(spec, 1, true));

  // ---- figures ---------------------------------------------------------------------------------
  const memoryRows = [
    ['idle 2 s after start', idleStart],
    ['idle 2 s after the two rounds', idleAfter],
  ].map(([label, m]) => {
    const ok = m.rssMb < TARGET_RSS_MB;
    if (!ok) failed = true;
    return [label, mb(m.rssMb), mb(m.hwmMb), `< ${TARGET_RSS_MB} MB`, ok ? 'OK' : 'FAIL'];
  });

  const ackRows = [];
  const postRows = [];
  const splitRows = [];
  for (const { spec, commands, reference, cpuMs, benchCpuMs } of results) {
    const label = reference ? `${spec.command} alone` : `${spec.command} x${commands.length}`;
    const verdict = (ok, text) => (reference ? 'reference' : `${text} ${ok ? 'OK' : 'FAIL'}`);
    for (const c of commands) {
      if (c.ackError) problems.push(`${spec.name} ${c.email}: no ack: ${c.ackError}`);
      else if (c.ack.status !== 200)
        problems.push(`${spec.name} ${c.email}: ack HTTP ${c.ack.status} ${c.ack.body.slice(0, 200)}`);
      if (!c.post) problems.push(`${spec.name} ${c.email}: no chat.postMessage within ${POST_TIMEOUT_MS} ms`);
      else if (!String(c.post.args.text).startsWith('✅'))
        problems.push(`${spec.name} ${c.email}: posted "${String(c.post.args.text).split('\n')[0]}"`);
      if (c.scim.length !== spec.expected)
        problems.push(`${spec.name} ${c.email}: ${c.scim.length} SCIM requests, expected ${spec.expected}`);
    }

    const acked = commands.filter((c) => c.ack?.status === 200);
    const ackMs = acked.map((c) => c.ack.at - c.started);
    const p99 = ackMs.length > 0 ? percentile(ackMs, 99) : Infinity;
    const ackOk = acked.length === commands.length && p99 < TARGET_ACK_P99_MS;
    if (!ackOk && !reference) failed = true;
    const ackFig = (f) => (ackMs.length > 0 ? fmt(f(ackMs)) : 'n/a');
    ackRows.push([
      label,
      `${acked.length}/${commands.length}`,
      ackFig((v) => percentile(v, 50)),
      ackFig((v) => percentile(v, 95)),
      ackFig((v) => percentile(v, 99)),
      ackFig((v) => Math.max(...v)),
      verdict(ackOk, `p99 < ${TARGET_ACK_P99_MS} ms`),
    ]);

    const done = commands.filter((c) => c.post);
    const postMs = done.map((c) => c.post.at - c.started);
    const ratios = postMs.map((ms) => ms / (spec.expected * LATENCY_MS));
    const counts = [...new Set(commands.map((c) => c.scim.length))].sort((a, b) => a - b);
    const ratioMax = ratios.length > 0 ? Math.max(...ratios) : Infinity;
    const postOk = done.length === commands.length && ratioMax <= TARGET_RATIO;
    if (!postOk && !reference) failed = true;
    postRows.push([
      label,
      `${counts.join('/')} (${spec.expected})`,
      `${done.length}/${commands.length}`,
      postMs.length > 0 ? fmt(median(postMs)) : 'n/a',
      postMs.length > 0 ? fmt(Math.max(...postMs)) : 'n/a',
      ratios.length > 0 ? median(ratios).toFixed(2) : 'n/a',
      ratios.length > 0 ? ratioMax.toFixed(2) : 'n/a',
      verdict(postOk, `max <= ${TARGET_RATIO}`),
    ]);

    // Where the time beyond requests x latency goes. The answer of a request is taken to leave at its
    // arrival + LATENCY_MS (the server waits that long, then answers from memory in well under 1 ms).
    const timed = done.filter((c) => c.scim.length > 0);
    const before = timed.map((c) => c.scim[0].at - c.started);
    const between = timed.flatMap((c) => c.scim.slice(1).map((r, i) => r.at - (c.scim[i].at + LATENCY_MS)));
    const after = timed.map((c) => c.post.at - (c.scim[c.scim.length - 1].at + LATENCY_MS));
    const pair = (v) => (v.length > 0 ? `${median(v).toFixed(0)} / ${Math.max(...v).toFixed(0)}` : '—');
    const extra = timed.map((c) => c.post.at - c.started - spec.expected * LATENCY_MS);
    // One command alone uses less CPU than the clock tick of /proc/<pid>/stat can show.
    const cpu =
      Number.isFinite(cpuMs) && commands.length > 1
        ? `${fmt(cpuMs)} (${(cpuMs / commands.length).toFixed(1)} ms/cmd)`
        : '—';
    splitRows.push([label, pair(before), pair(between), pair(after), pair(extra), cpu, fmt(benchCpuMs)]);
  }

  // ---- report ----------------------------------------------------------------------------------
  console.log(
    `atlassian-iam bot bench — node ${process.version}, ${os.cpus().length} CPU(s), load average ${loadAtStart.toFixed(2)} at start; ` +
      `bot started in ${fmt(bot.startMs)}; ` +
      `emulated Atlassian answers after ${LATENCY_MS} ms; ${CONCURRENCY} concurrent slash commands per round`,
  );
  table(
    `Idle memory of the bot process (${idleStart.source}; VmHWM is the peak so far)`,
    ['moment', 'VmRSS', 'VmHWM', 'target', 'result'],
    memoryRows,
  );
  table(
    'Slash-command acknowledgements (signed POST /slack/events until its HTTP answer ends)',
    ['round', 'HTTP 200', 'p50', 'p95', 'p99', 'max', 'target'],
    ackRows,
  );
  table(
    `Results posted (sending the command until chat.postMessage reaches the Slack stand-in); ratio = time ÷ (SCIM requests x ${LATENCY_MS} ms)`,
    ['round', 'SCIM req/cmd (min)', 'posted', 'time p50', 'time max', 'ratio p50', 'ratio max', 'target'],
    postRows,
  );
  table(
    'Time beyond the SCIM latency, median / max in ms (answer taken to leave at arrival + latency)',
    [
      'round',
      'before 1st SCIM request',
      'between requests',
      'after last answer',
      'total extra',
      `bot CPU in round (${(1000 / CLOCK_TICKS).toFixed(0)} ms ticks)`,
      'bench CPU in round',
    ],
    splitRows,
  );
  const logLines = botOutput.split('\n').filter((l) => l.trim() !== '');
  if (logLines.length > 0) {
    console.log(
      `\nbot log (LOG_LEVEL=warn): ${logLines.length} line(s), first: ${logLines[0].slice(0, 300)}`,
    );
    if (logLines.some((l) => /"level":"error"/.test(l))) problems.push('the bot logged errors (see above)');
  }
} catch (error) {
  failed = true;
  problems.push(`bench aborted: ${error.message}`);
  if (botOutput.trim()) problems.push(`bot output:\n${botOutput.trim().split('\n').slice(-20).join('\n')}`);
} finally {
  await stopBot();
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
