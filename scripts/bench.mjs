// Benchmark of the built CLI against an emulated Atlassian SCIM server on loopback (`npm run bench`).
//
// 1. Round trips: for each command the number of SCIM requests one CLI process sends must be the
//    minimum of SPEC.md section 3 (get 1, create 2, update 2, disable 2, enable 2), and the time the
//    server's latency adds must be what those requests cost, no more:
//      ratio = (wall with 100 ms latency - wall without) / (requests x 100 ms)   (median of 5 runs each)
//    A ratio above 1 means extra waits (more requests, retries, serialised setup); target <= 1.1.
// 2. Cold start: wall time of a fresh `iam-get-user` process (median of 5, target < 300 ms) and its
//    peak RSS (target < 100 MB). The RSS comes from the process itself: node is started with
//    `--require` of a tiny preload that writes process.resourceUsage().maxRSS (KB) to a file on exit.
//    That works wherever node does; /usr/bin/time -f %M is GNU-only, so it is shown only as a
//    cross-check when present.
// Exits 1 when any target is missed, 2 when the CLI has not been built.
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { seedUser as seedInto } from './bench-lib/directory.mjs';
import { median, table } from './bench-lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first (\`npm run bench\` does it).`);
  process.exit(2);
}
const { default: sandbox } = await import('../dist/sandbox/index.js');
const { default: sqlite } = await import('../dist/store/sqlite.js');

const TOKEN = 'bench-token';
const DIRECTORY_ID = 'dir-bench';
const RUNS = 5;
const LATENCY_MS = 100;
const TARGET_RATIO = 1.1;
const TARGET_COLD_MS = 300;
const TARGET_RSS_MB = 100;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atlassian-iam-bench-'));
const db = sqlite.openSqlite(':memory:');
const directory = sandbox.openSandbox(db);
const servers = {
  0: await sandbox.startScimServer({ directory, directoryId: DIRECTORY_ID, token: TOKEN, latencyMs: 0 }),
  [LATENCY_MS]: await sandbox.startScimServer({
    directory,
    directoryId: DIRECTORY_ID,
    token: TOKEN,
    latencyMs: LATENCY_MS,
  }),
};

/** Seeds a user straight into the directory (no HTTP, so no request is counted and no latency paid). */
const seedUser = (email, options) => seedInto(directory, email, options);

const COMMANDS = [
  {
    name: 'get',
    command: 'iam-get-user',
    expected: 1,
    action: 'get',
    setup: (e) => seedUser(e),
    profile: (e) => ({ email: e }),
  },
  {
    name: 'create',
    command: 'iam-create-user',
    expected: 2,
    action: 'create',
    setup: () => {},
    profile: (e) => ({ email: e }),
  },
  {
    name: 'update',
    command: 'iam-update-user',
    expected: 2,
    action: 'update',
    setup: (e) => seedUser(e),
    profile: (e) => ({ email: e, title: 'Bench Engineer' }),
  },
  {
    name: 'disable',
    command: 'iam-disable-user',
    expected: 2,
    action: 'disable',
    setup: (e) => seedUser(e),
    profile: (e) => ({ email: e }),
  },
  {
    name: 'enable',
    command: 'iam-enable-user',
    expected: 2,
    action: 'enable',
    setup: (e) => seedUser(e, { active: false }),
    profile: (e) => ({ email: e }),
  },
];

function childEnv(url) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    ATLASSIAN_URL: url,
    ATLASSIAN_ACCESS_TOKEN: TOKEN,
    ATLASSIAN_DIRECTORY_ID: DIRECTORY_ID,
  };
}

/** Spawns `[prefix…] node [nodeArgs…] dist/cli/main.js args…` in the scratch directory (no .env there). */
function run(args, { url = servers[0].url, nodeArgs = [], prefix = [], env = {} } = {}) {
  const [file, ...rest] = [...prefix, process.execPath, ...nodeArgs, CLI, ...args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, rest, {
      cwd: work,
      env: { ...childEnv(url), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        ms: performance.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const problems = [];

/** One CLI run of a command against the server with `latency`; returns its wall time and request count. */
async function measure(spec, latency, index) {
  const email = `${spec.name}-${latency}-${index}@bench.example.com`;
  spec.setup(email);
  const server = servers[latency];
  const before = server.requests.length;
  const result = await run([spec.command, '--user-profile', JSON.stringify(spec.profile(email)), '--json'], {
    url: server.url,
  });
  const requests = server.requests.length - before;
  let vendor;
  try {
    vendor = JSON.parse(result.stdout).IAM.Vendor;
  } catch {
    vendor = undefined;
  }
  if (result.code !== 0 || !vendor || vendor.action !== spec.action || !vendor.success || vendor.skipped) {
    problems.push(
      `${spec.name} (latency ${latency} ms, run ${index + 1}): exit ${result.code}, ` +
        `result ${vendor ? JSON.stringify({ action: vendor.action, success: vendor.success, skipped: vendor.skipped, errorMessage: vendor.errorMessage }) : 'not JSON'}` +
        (result.stderr.trim() ? `; stderr: ${result.stderr.trim().split('\n')[0]}` : ''),
    );
  }
  return { ms: result.ms, requests };
}

const benchStarted = performance.now();
let failed = false;

// Warm the file-system cache once, so the first measured run is not an outlier.
seedUser('warmup@bench.example.com');
await run(['iam-get-user', '--user-profile', '{"email":"warmup@bench.example.com"}', '--json']);

// ---- 1. round trips and latency ----------------------------------------------------------------
const samples = Object.fromEntries(COMMANDS.map((c) => [c.name, { 0: [], [LATENCY_MS]: [], counts: [] }]));
for (let i = 0; i < RUNS; i++) {
  for (const spec of COMMANDS) {
    // Interleaved, so drift on the machine affects both latencies alike.
    for (const latency of [0, LATENCY_MS]) {
      const { ms, requests } = await measure(spec, latency, i);
      samples[spec.name][latency].push(ms);
      samples[spec.name].counts.push(requests);
    }
  }
}

const rows = [];
for (const spec of COMMANDS) {
  const s = samples[spec.name];
  const counts = [...new Set(s.counts)];
  const countOk = counts.length === 1 && counts[0] === spec.expected;
  const fast = median(s[0]);
  const slow = median(s[LATENCY_MS]);
  const ratio = (slow - fast) / (spec.expected * LATENCY_MS);
  const ratioOk = ratio <= TARGET_RATIO;
  if (!countOk || !ratioOk) failed = true;
  rows.push([
    spec.name,
    String(spec.expected),
    counts.join('/'),
    countOk ? 'OK' : 'FAIL',
    `${fast.toFixed(0)} ms`,
    `${slow.toFixed(0)} ms`,
    ratio.toFixed(2),
    `<= ${TARGET_RATIO} ${ratioOk ? 'OK' : 'FAIL'}`,
  ]);
}

// ---- 2. cold start: wall time and peak RSS -----------------------------------------------------
seedUser('cold@bench.example.com');
const coldArgs = ['iam-get-user', '--user-profile', '{"email":"cold@bench.example.com"}', '--json'];
const coldTimes = [];
for (let i = 0; i < RUNS; i++) {
  const before = servers[0].requests.length;
  const result = await run(coldArgs);
  if (result.code !== 0) problems.push(`cold get run ${i + 1}: exit ${result.code}`);
  if (servers[0].requests.length - before !== 1)
    problems.push(`cold get run ${i + 1}: not exactly 1 request`);
  coldTimes.push(result.ms);
}

const preload = path.join(work, 'max-rss-preload.cjs');
fs.writeFileSync(
  preload,
  "process.on('exit', () => { require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n",
);
const rssKb = [];
for (let i = 0; i < RUNS; i++) {
  const file = path.join(work, `rss-${i}.txt`);
  const result = await run(coldArgs, { nodeArgs: ['--require', preload], env: { BENCH_RSS_FILE: file } });
  if (result.code !== 0 || !fs.existsSync(file)) {
    problems.push(`RSS run ${i + 1}: exit ${result.code}, no RSS written`);
    continue;
  }
  rssKb.push(Number(fs.readFileSync(file, 'utf8')));
}

let gnuTimeKb = null;
if (fs.existsSync('/usr/bin/time')) {
  const result = await run(coldArgs, { prefix: ['/usr/bin/time', '-f', '%M'] });
  const last = result.stderr.trim().split('\n').pop() ?? '';
  if (/^\d+$/.test(last)) gnuTimeKb = Number(last);
}

const coldMs = median(coldTimes);
const peakMb = rssKb.length > 0 ? Math.max(...rssKb) / 1024 : Infinity;
const coldOk = coldMs < TARGET_COLD_MS;
const rssOk = peakMb < TARGET_RSS_MB;
if (!coldOk || !rssOk) failed = true;

// ---- report -------------------------------------------------------------------------------------
console.log(
  `atlassian-iam bench — node ${process.version}, ${os.cpus().length} CPU(s), ${RUNS} runs per figure`,
);
table(
  `SCIM round trips per command and added latency (median of ${RUNS}; server latency ${LATENCY_MS} ms per request)`,
  ['command', 'expected', 'received', 'count', 'wall 0 ms', `wall ${LATENCY_MS} ms`, 'ratio', 'target'],
  rows,
);
table(
  'Cold iam-get-user process (server without latency)',
  ['metric', 'value', 'target', 'result'],
  [
    [
      `wall time (median of ${RUNS})`,
      `${coldMs.toFixed(0)} ms`,
      `< ${TARGET_COLD_MS} ms`,
      coldOk ? 'OK' : 'FAIL',
    ],
    [`peak RSS (max of ${RUNS})`, `${peakMb.toFixed(1)} MB`, `< ${TARGET_RSS_MB} MB`, rssOk ? 'OK' : 'FAIL'],
  ],
);
console.log(
  `\nwall times of the cold runs: ${coldTimes.map((t) => t.toFixed(0)).join(', ')} ms; ` +
    `RSS measured with process.resourceUsage().maxRSS via --require preload: ${rssKb.map((k) => (k / 1024).toFixed(1)).join(', ')} MB` +
    (gnuTimeKb === null ? '' : `; cross-check /usr/bin/time -f %M: ${(gnuTimeKb / 1024).toFixed(1)} MB`),
);
if (problems.length > 0) {
  failed = true;
  console.log(`\nProblems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
console.log(
  `\n${failed ? 'FAIL' : 'OK'}: bench finished in ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`,
);

await Promise.all(Object.values(servers).map((s) => s.close()));
db.close();
fs.rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
