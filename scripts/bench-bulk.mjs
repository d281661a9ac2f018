// Benchmark of `atlassian-iam bulk` against a rate-limited emulated Atlassian (`npm run bench:bulk`).
//
// The built CLI (dist/cli/main.js) runs `bulk disable` over a CSV of 2,000 users, each one lookup and one
// PATCH, against the loopback SCIM server of dist/sandbox with 50 ms latency per request and a token
// bucket of 50 requests per second (bucket depth 50, one second's worth): a request that finds the
// bucket empty is answered 429 with `Retry-After: 1`, as Atlassian does. At the quota the run takes
// about 2,000 x 2 / 50 = 80 s. Figures:
//   - achieved rate: requests the server accepted (not 429) per second, from the first request's
//     arrival to the last answer, against the allowed 50/s (target >= 90 %);
//   - failed rows: failed, malformed or not run, from the CLI's --json summary, and users left active
//     in the directory (target 0);
//   - progress: stderr is a pipe, so the CLI prints plain progress lines; each is timestamped on
//     arrival. Target: at least one per second, i.e. lines / seconds from the first line to the last
//     >= 1, and no gap between two lines longer than 1.1 s (100 ms allowed for timer and pipe jitter);
//   - and, to show there is no retry storm: the 429 answers as a share of all requests, and the most
//     requests the server had in flight at once.
// Exits 1 when a target is missed, 2 when the CLI has not been built.
// BENCH_USERS, BENCH_RATE, BENCH_BURST, BENCH_LATENCY_MS and BENCH_CONCURRENCY override the defaults.
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { seedUser } from './bench-lib/directory.mjs';
import { table } from './bench-lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first (\`npm run bench:bulk\` does it).`);
  process.exit(2);
}
const { default: sandbox } = await import('../dist/sandbox/index.js');
const { default: sqlite } = await import('../dist/store/sqlite.js');

const number = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const USERS = number('BENCH_USERS', 2000);
const RATE = number('BENCH_RATE', 50);
const BURST = number('BENCH_BURST', RATE);
const LATENCY_MS = number('BENCH_LATENCY_MS', 50);
const CONCURRENCY = process.env.BENCH_CONCURRENCY;
const TARGET_UTILISATION = 0.9;
const TARGET_MAX_GAP_MS = 1100;
const TOKEN = 'bench-token';
const DIRECTORY_ID = 'dir-bench-bulk';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atlassian-iam-bench-bulk-'));
const db = sqlite.openSqlite(':memory:');
const directory = sandbox.openSandbox(db);

// ---- the rate-limited server --------------------------------------------------------------------
let tokens = BURST;
let refilledAt = performance.now();
let inFlight = 0;
let maxInFlight = 0;
let accepted = 0;
let limited = 0;
let firstArrival = null;
let lastAnswer = null;
const patchesById = new Map();

/** Token bucket: RATE tokens a second, at most BURST stored; each accepted request takes one. */
function takeToken(now) {
  tokens = Math.min(BURST, tokens + ((now - refilledAt) * RATE) / 1000);
  refilledAt = now;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

const server = await sandbox.startScimServer({
  directory,
  directoryId: DIRECTORY_ID,
  token: TOKEN,
  latencyMs: LATENCY_MS,
  onRequest: () => {
    firstArrival ??= performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
  },
  // Called after the latency, right before the answer is sent: the moment the request leaves the server.
  intercept: (request) => {
    const now = performance.now();
    inFlight--;
    lastAnswer = now;
    if (!takeToken(now)) {
      limited++;
      return {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '429',
          detail: 'Rate limit exceeded: try again later.',
        },
      };
    }
    accepted++;
    if (request.method === 'PATCH') patchesById.set(request.path, (patchesById.get(request.path) ?? 0) + 1);
    return undefined;
  },
});

// ---- the input ----------------------------------------------------------------------------------
const emails = Array.from(
  { length: USERS },
  (_, i) => `user-${String(i + 1).padStart(5, '0')}@bench.example.com`,
);
for (const email of emails) seedUser(directory, email);
const csv = path.join(work, 'leavers.csv');
fs.writeFileSync(csv, `email\n${emails.join('\n')}\n`);

// ---- the run ------------------------------------------------------------------------------------
const args = ['bulk', 'disable', csv, '--json', ...(CONCURRENCY ? ['--concurrency', CONCURRENCY] : [])];
const started = performance.now();
const result = await new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      ATLASSIAN_URL: server.url,
      ATLASSIAN_ACCESS_TOKEN: TOKEN,
      ATLASSIAN_DIRECTORY_ID: DIRECTORY_ID,
      DATABASE_URL: `sqlite:${path.join(work, 'audit.db')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  const stderrLines = [];
  let partial = '';
  child.stdout.on('data', (chunk) => out.push(chunk));
  child.stderr.on('data', (chunk) => {
    const at = performance.now();
    const text = partial + chunk.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) stderrLines.push({ at, line });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
  child.on('error', reject);
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    if (partial !== '') stderrLines.push({ at: performance.now(), line: partial });
    resolve({
      code,
      signal,
      wallMs: performance.now() - started,
      stdout: Buffer.concat(out).toString('utf8'),
      stderrLines,
    });
  });
});

// ---- figures ------------------------------------------------------------------------------------
const problems = [];
let summary = null;
try {
  summary = JSON.parse(result.stdout);
} catch {
  problems.push(
    `stdout is not the JSON summary (exit ${result.code}${result.signal ? `, ${result.signal}` : ''})`,
  );
}
const windowS = firstArrival !== null && lastAnswer !== null ? (lastAnswer - firstArrival) / 1000 : NaN;
const achieved = accepted / windowS;
const utilisation = achieved / RATE;

const rows = summary?.rows;
const failedRows = rows ? rows.failed + rows.malformed + rows.notRun : USERS;
const stillActive = emails.filter((email) => {
  const answer = directory.handle({
    method: 'GET',
    path: '/Users',
    query: new URLSearchParams({ filter: `userName eq "${email}"` }),
  });
  return answer.body.Resources?.[0]?.active !== false;
}).length;
const doublePatched = [...patchesById.values()].filter((n) => n > 1).length;

const progress = result.stderrLines.filter(({ line }) => line.startsWith('bulk disable: '));
const gaps = progress.slice(1).map((p, i) => p.at - progress[i].at);
const maxGapMs = gaps.length > 0 ? Math.max(...gaps) : Infinity;
const progressSpanS = progress.length > 1 ? (progress.at(-1).at - progress[0].at) / 1000 : 0;
const perSecond = progressSpanS > 0 ? progress.length / progressSpanS : 0;
const otherStderr = result.stderrLines.filter(
  ({ line }) => line.trim() !== '' && !line.startsWith('bulk disable: '),
);

const utilisationOk = utilisation >= TARGET_UTILISATION;
const failedOk = failedRows === 0 && stillActive === 0 && result.code === 0;
const progressOk = perSecond >= 1 && maxGapMs <= TARGET_MAX_GAP_MS;
if (!utilisationOk || !failedOk || !progressOk) problems.push('a target is missed');
if (doublePatched > 0) problems.push(`${doublePatched} users were PATCHed more than once`);

console.log(
  `atlassian-iam bulk bench — node ${process.version}, ${os.cpus().length} CPU(s); bulk disable of ${USERS} users, ` +
    `server latency ${LATENCY_MS} ms, token bucket ${RATE}/s (depth ${BURST}), 429 with Retry-After: 1`,
);
const pct = (x) => `${(x * 100).toFixed(1)} %`;
table(
  'Targets',
  ['figure', 'value', 'target', 'result'],
  [
    [
      'achieved rate (accepted requests/s)',
      `${achieved.toFixed(1)}/s = ${pct(utilisation)} of ${RATE}/s`,
      `>= ${pct(TARGET_UTILISATION)}`,
      utilisationOk ? 'OK' : 'FAIL',
    ],
    [
      'failed rows (failed + malformed + not run)',
      `${failedRows} (users still active: ${stillActive}; exit ${result.code})`,
      '0',
      failedOk ? 'OK' : 'FAIL',
    ],
    [
      'progress lines per second (mean)',
      `${perSecond.toFixed(2)} (${progress.length} lines)`,
      '>= 1',
      perSecond >= 1 ? 'OK' : 'FAIL',
    ],
    [
      'longest gap between progress lines',
      `${(maxGapMs / 1000).toFixed(2)} s`,
      `<= ${(TARGET_MAX_GAP_MS / 1000).toFixed(1)} s`,
      maxGapMs <= TARGET_MAX_GAP_MS ? 'OK' : 'FAIL',
    ],
  ],
);
const total = accepted + limited;
table(
  'Other figures',
  ['figure', 'value'],
  [
    ['wall time of the CLI process', `${(result.wallMs / 1000).toFixed(1)} s`],
    ['server window (first request to last answer)', `${windowS.toFixed(1)} s`],
    ['requests accepted / answered 429', `${accepted} / ${limited} (${pct(limited / total)} of ${total})`],
    ['most requests in flight at the server', String(maxInFlight)],
    [
      'concurrency (start / lowest / end)',
      summary
        ? `${summary.concurrency.initial} / ${summary.concurrency.lowest} / ${summary.concurrency.final} (halved ${summary.concurrency.decreases} times)`
        : '?',
    ],
    ['429s seen by the CLI', summary ? String(summary.throttled) : '?'],
    ['rows per second (CLI summary)', summary ? String(summary.rowsPerSecond) : '?'],
    ['users PATCHed more than once', String(doublePatched)],
    ['other stderr lines', String(otherStderr.length)],
  ],
);
if (otherStderr.length > 0) {
  console.log(
    `\nfirst other stderr lines:\n${otherStderr
      .slice(0, 5)
      .map((l) => `  ${l.line.slice(0, 200)}`)
      .join('\n')}`,
  );
}
if (problems.length > 0) console.log(`\nProblems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
console.log(
  `\n${problems.length > 0 ? 'FAIL' : 'OK'}: bench finished in ${(result.wallMs / 1000).toFixed(1)} s`,
);

await server.close();
db.close();
fs.rmSync(work, { recursive: true, force: true });
process.exit(problems.length > 0 ? 1 : 0);
