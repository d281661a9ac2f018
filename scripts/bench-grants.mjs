// Benchmark of grant expiry (`npm run bench:grants`): time-bound group access revoked at its end.
//
// The built bot (dist/index.js) runs on a database of its own (SQLite by default; with
// BENCH_DATABASE_URL=postgres://… two instances share it) against the loopback SCIM server of
// dist/sandbox (50 ms latency per request) and a stand-in for Slack's Web API. 1,000 users are members
// of one group; 1,000 grants are stored ending within one minute (evenly spread, starting 15 s after the
// bot is up). Figures:
//   - revocation lateness: each grant's ended_at (when the bot ended it, after removing the member)
//     minus its ends_at, p50 / p99 / max (target: p99 <= 10 s);
//   - PATCHes per revocation: PATCH /Groups requests the server received, over the grants ended
//     (floor 1: one PATCH per membership removed; target: exactly 1);
//   - grants not ended 30 s after the last end (target 0).
// Exits 1 when a target is missed, 2 when the bot has not been built.
// BENCH_GRANTS, BENCH_SPREAD_MS, BENCH_LATENCY_MS and BENCH_DATABASE_URL override the defaults.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './bench-lib/net.mjs';
import { seedUser, PATCH_SCHEMA } from './bench-lib/directory.mjs';
import { percentile, table } from './bench-lib/report.mjs';
import { startSlackStandIn } from '../test/support/slack-standin.cjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOT = path.join(ROOT, 'dist', 'index.js');
if (!fs.existsSync(BOT)) {
  console.error(`${BOT} is missing: run \`npm run build\` first (\`npm run bench:grants\` does it).`);
  process.exit(2);
}
const { default: sandbox } = await import('../dist/sandbox/index.js');
const { default: sqlite } = await import('../dist/store/sqlite.js');
const { openStore } = await import('../dist/store/index.js');

const number = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const GRANTS = number('BENCH_GRANTS', 1000);
const SPREAD_MS = number('BENCH_SPREAD_MS', 60_000);
const LATENCY_MS = number('BENCH_LATENCY_MS', 50);
const LEAD_MS = 15_000;
const TARGET_P99_MS = 10_000;
const POSTGRES = process.env.BENCH_DATABASE_URL;
const GROUP = 'jira-software-users';
const TOKEN = 'bench-token';
const DIRECTORY_ID = 'dir-bench-grants';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atlassian-iam-bench-grants-'));
const databaseUrl = POSTGRES ?? `sqlite:${path.join(work, 'bot.db')}`;
const location = POSTGRES
  ? { kind: 'postgres', url: POSTGRES }
  : { kind: 'sqlite', path: path.join(work, 'bot.db') };
const db = sqlite.openSqlite(':memory:');
const directory = sandbox.openSandbox(db);
let groupPatches = 0;
const scim = await sandbox.startScimServer({
  directory,
  directoryId: DIRECTORY_ID,
  token: TOKEN,
  latencyMs: LATENCY_MS,
  onRequest: (request) => {
    if (request.method === 'PATCH' && request.path.includes('/Groups/')) groupPatches++;
  },
});
const slack = await startSlackStandIn();

const children = [];
async function startBot(name) {
  const port = await freePort();
  const child = spawn(process.execPath, [BOT], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      SLACK_BOT_TOKEN: 'xoxb-bench-grants',
      SLACK_SIGNING_SECRET: 'bench-grants-signing-secret',
      SLACK_API_URL: slack.apiUrl,
      ATLASSIAN_URL: scim.url,
      ATLASSIAN_ACCESS_TOKEN: TOKEN,
      ATLASSIAN_DIRECTORY_ID: DIRECTORY_ID,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, output: '' };
  children.push(proc);
  child.stdout.on('data', (chunk) => (proc.output += chunk.toString()));
  child.stderr.on('data', (chunk) => (proc.output += chunk.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${proc.output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (ok) return proc;
    if (Date.now() > deadline) throw new Error(`${name} did not answer /healthz within 15 s`);
    await delay(50);
  }
}

// ---- the directory: GRANTS members of one group ---------------------------------------------------
const users = Array.from(
  { length: GRANTS },
  (_, i) => seedUser(directory, `holder-${String(i + 1).padStart(5, '0')}@bench.example.com`).id,
);
const found = directory.handle({
  method: 'GET',
  path: '/Groups',
  query: new URLSearchParams({ filter: `displayName eq "${GROUP}"` }),
});
const groupId = found.body.Resources[0].id;
directory.handle({
  method: 'PATCH',
  path: `/Groups/${groupId}`,
  query: new URLSearchParams(),
  body: {
    schemas: [PATCH_SCHEMA],
    Operations: [{ op: 'add', path: 'members', value: users.map((value) => ({ value })) }],
  },
});

// ---- the bots, then the grants (the bots created the schema) ---------------------------------------
const instances = POSTGRES ? 2 : 1;
for (let i = 0; i < instances; i++) await startBot(`bot-${i + 1}`);
const store = await openStore(location);
const base = Date.now() + LEAD_MS;
for (let i = 0; i < GRANTS; i++) {
  await store.createGrant({
    id: `bench-grant-${i}`,
    requestId: null,
    userId: users[i],
    target: `holder-${i}`,
    slackUserId: null,
    groupId,
    groupName: GROUP,
    grantedBy: 'UBENCH',
    grantedAt: new Date(),
    endsAt: new Date(base + Math.floor((i * SPREAD_MS) / GRANTS)),
    channelId: null,
    threadTs: null,
    noticesAt: [],
  });
}
const storedMs = Date.now() - (base - LEAD_MS);

// ---- wait for the ends ------------------------------------------------------------------------------
const deadline = base + SPREAD_MS + 30_000;
let active = GRANTS;
while (Date.now() < deadline) {
  active = (await store.listGrants({ active: true })).length;
  if (active === 0) break;
  await delay(500);
}
const ended = await store.listGrants({ active: false });
await store.close();

// ---- figures ----------------------------------------------------------------------------------------
const late = ended.map((g) => g.endedAt.getTime() - g.endsAt.getTime());
const p50 = late.length ? percentile(late, 50) : NaN;
const p99 = late.length ? percentile(late, 99) : NaN;
const max = late.length ? Math.max(...late) : NaN;
const perRevocation = ended.length ? groupPatches / ended.length : NaN;
const problems = [];
if (active > 0) problems.push(`${active} grants not ended 30 s after the last end`);
if (!(p99 <= TARGET_P99_MS)) problems.push('revocation lateness p99 over 10 s');
if (perRevocation !== 1) problems.push(`${groupPatches} PATCHes for ${ended.length} revocations`);

console.log(
  `atlassian-iam grant expiry bench — node ${process.version}, ${os.cpus().length} CPU(s); ${GRANTS} grants ending ` +
    `within ${SPREAD_MS / 1000} s, ${instances} bot instance(s) on ${POSTGRES ? 'PostgreSQL' : 'SQLite'}, ` +
    `server latency ${LATENCY_MS} ms; grants stored in ${(storedMs / 1000).toFixed(1)} s`,
);
table(
  'Figures',
  ['figure', 'value', 'target', 'result'],
  [
    ['revocation lateness p50', `${(p50 / 1000).toFixed(2)} s`, '', ''],
    [
      'revocation lateness p99',
      `${(p99 / 1000).toFixed(2)} s`,
      '<= 10 s',
      p99 <= TARGET_P99_MS ? 'OK' : 'FAIL',
    ],
    ['revocation lateness max', `${(max / 1000).toFixed(2)} s`, '', ''],
    [
      'PATCHes per revocation',
      `${perRevocation.toFixed(3)} (${groupPatches} / ${ended.length})`,
      '1 (floor)',
      perRevocation === 1 ? 'OK' : 'FAIL',
    ],
    ['grants not ended', String(active), '0', active === 0 ? 'OK' : 'FAIL'],
  ],
);
if (problems.length > 0) {
  console.log(`\nProblems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  for (const proc of children)
    console.log(`\n${proc.name} output (last 2000 characters):\n${proc.output.slice(-2000)}`);
}
console.log(`\n${problems.length > 0 ? 'FAIL' : 'OK'}`);

for (const proc of children) proc.child.kill('SIGTERM');
await Promise.all(
  children.map(
    (proc) =>
      new Promise((resolve) => (proc.child.exitCode !== null ? resolve() : proc.child.on('exit', resolve))),
  ),
);
await scim.close();
await slack.close();
db.close();
fs.rmSync(work, { recursive: true, force: true });
process.exit(problems.length > 0 ? 1 : 0);
