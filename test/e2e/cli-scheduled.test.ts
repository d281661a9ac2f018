/** The CLI's scheduled disables, as a real process: `--at` stores one, `run-scheduled` carries it out once. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, removeTempDirs, requireBuiltCli, runCli } from '../support/cli';
import { createDatabase, dropDatabase, uniqueName, withPostgres } from '../support/postgres';
import { openStore } from '../../src/store';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

let atlassian: EmulatedAtlassian;

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-scheduled', token: 'tok-sched-SECRET-7' });
});

afterAll(async () => {
  await atlassian.close();
  removeTempDirs();
});

const patches = () => atlassian.server.requests.filter((r) => r.method === 'PATCH');

function setup() {
  const cwd = makeTempDir('atlassian-iam-scheduled-');
  const database = path.join(cwd, 'iam.db');
  return { cwd, database, env: { ...atlassian.env, DATABASE_URL: `sqlite:${database}`, TZ: 'UTC' } };
}

/** A fresh setup with `email` in the directory and `policy` written to a policy file (not yet in env). */
function setupWithPolicy(email: string, policy: string) {
  const fresh = setup();
  atlassian.seedUser(email);
  const policyFile = path.join(fresh.cwd, 'policy.yaml');
  fs.writeFileSync(policyFile, policy);
  return { ...fresh, policyFile };
}

it('refuses a bad --at with exit 2 and stores nothing', async () => {
  const { cwd, database, env } = setup();
  atlassian.seedUser('bad@example.com');
  const profile = ['--user-profile', '{"email":"bad@example.com"}'];
  for (const [at, message] of [
    ['tomorrowish', 'cannot read the time "tomorrowish"'],
    ['2020-01-01 10:00', 'is in the past'],
    ['in 91d', 'at most 90 days ahead'],
    ['2026-03-29 02:30 Europe/Berlin', ''],
  ]) {
    const run = await runCli(['iam-disable-user', ...profile, '--at', at], { env, cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  }
  const enable = await runCli(['iam-enable-user', ...profile, '--at', 'in 2h'], { env, cwd });
  expect(enable.code).toBe(2);
  expect(enable.stderr).toContain('--at applies to iam-disable-user only');
  expect(fs.existsSync(database)).toBe(false);
  expect(patches()).toEqual([]);
});

it("--at follows IAM_POLICY_FILE: refuses a time beyond the rule's maxScheduleAhead; a bad file is its FILE:LINE lines", async () => {
  const { cwd, database, env, policyFile } = setupWithPolicy(
    'policy@example.com',
    'rules:\n  - name: short-notice\n    action: disable\n    maxScheduleAhead: 7d\n',
  );
  const args = ['iam-disable-user', '--user-profile', '{"email":"policy@example.com"}', '--at'];
  const tooFar = await runCli([...args, 'in 10d'], { env: { ...env, IAM_POLICY_FILE: policyFile }, cwd });
  expect(tooFar.code).toBe(2);
  expect(tooFar.stderr).toContain(
    'is too far ahead: schedules may be at most 7 days ahead under rule 1 (short-notice) of IAM_POLICY_FILE',
  );
  expect(fs.existsSync(database)).toBe(false);

  fs.writeFileSync(policyFile, 'rules:\n  - action: disable\n    aprovers: [U0SEC]\n');
  const broken = await runCli([...args, 'in 2h'], { env: { ...env, IAM_POLICY_FILE: policyFile }, cwd });
  expect(broken.code).toBe(2);
  expect(broken.stderr).toContain(`${policyFile}:3: rule 1 aprovers:`);
  expect(broken.stderr).toContain('did you mean approvers?');
  expect(fs.existsSync(database)).toBe(false);
  expect(patches()).toEqual([]);

  const within = await runCli([...args, 'in 6d'], { env: { ...env, IAM_POLICY_FILE: '' }, cwd });
  expect(within.code).toBe(0);
});

it('--at stores the disable approved by cli:<user>; run-scheduled carries it out once when due; audit shows both', async () => {
  const { cwd, database, env } = setup();
  const userId = atlassian.seedUser('leaver@example.com');
  const scheduled = await runCli(
    [
      'iam-disable-user',
      '--user-profile',
      '{"email":"leaver@example.com"}',
      '--at',
      'in 2h',
      '--reason',
      'last day',
    ],
    { env, cwd },
  );
  expect(scheduled.code).toBe(0);
  expect(scheduled.stdout).toMatch(
    /^Scheduled: disable leaver@example\.com at \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)/,
  );
  expect(patches()).toEqual([]);

  const notYet = await runCli(['run-scheduled'], { env, cwd });
  expect(notYet.code).toBe(0);
  expect(notYet.stdout).toBe('No scheduled request is due.\n');

  const db = new Database(database);
  try {
    const row = db.prepare('SELECT status, decided_by, reason, schedule_zone FROM approvals').get();
    expect(row).toMatchObject({ status: 'approved', reason: 'last day', schedule_zone: 'UTC' });
    expect((row as { decided_by: string }).decided_by).toMatch(/^cli:/);
    // Two hours pass.
    db.prepare('UPDATE approvals SET scheduled_at = ?').run(new Date(Date.now() - 1000).toISOString());
  } finally {
    db.close();
  }
  const [first, second] = await Promise.all([
    runCli(['run-scheduled'], { env, cwd }),
    runCli(['run-scheduled'], { env, cwd }),
  ]);
  expect([first.code, second.code]).toEqual([0, 0]);
  expect([first.stdout, second.stdout].sort()).toEqual([
    '1 scheduled request(s) carried out; `atlassian-iam audit` shows each result.\n',
    'No scheduled request is due.\n',
  ]);
  expect(patches().filter((r) => r.path.endsWith(`/Users/${userId}`))).toHaveLength(1);

  const audit = await runCli(['audit', '--json'], { env, cwd });
  const rows = JSON.parse(audit.stdout) as { command: string; outcome: string; source: string }[];
  expect(rows.map((r) => [r.command, r.outcome, r.source]).reverse()).toEqual([
    ['iam-disable-user', 'scheduled', 'cli'],
    ['iam-disable-user', 'success', 'cli'],
    ['run-scheduled', 'carried-out', 'cli'],
  ]);
});

it('tells at once, and schedules nothing, for a user who is not there', async () => {
  const { cwd, database, env } = setup();
  const run = await runCli(
    ['iam-disable-user', '--user-profile', '{"email":"ghost@example.com"}', '--at', 'in 1h'],
    { env, cwd },
  );
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Nothing was scheduled.');
  // The store is opened only for something to store.
  expect(fs.existsSync(database)).toBe(false);
});

it('F12: --at refuses without a reason under `reason: required`, and a second pending schedule of one user', async () => {
  const { cwd, database, env, policyFile } = setupWithPolicy(
    'max@example.com',
    'rules:\n  - name: rr\n    action: disable\n    reason: required\n    maxScheduleAhead: 1d\n',
  );
  const withPolicy = { env: { ...env, IAM_POLICY_FILE: policyFile }, cwd };
  const args = ['iam-disable-user', '--user-profile', '{"email":"max@example.com"}', '--at', 'in 2h'];
  for (const reason of [[], ['--reason', ''], ['--reason', '  ']]) {
    const run = await runCli([...args, ...reason], withPolicy);
    expect([run.code, run.stderr]).toEqual([
      2,
      expect.stringContaining('rule 1 (rr) of IAM_POLICY_FILE requires a reason: add --reason "why"'),
    ]);
  }
  expect(fs.existsSync(database)).toBe(false);

  const first = await runCli([...args, '--reason', 'left'], withPolicy);
  expect(first.code).toBe(0);
  const requestId = /request ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
  const second = await runCli([...args.slice(0, -1), 'in 3h', '--reason', 'left'], withPolicy);
  expect(second.code).toBe(2);
  expect(second.stderr).toMatch(
    new RegExp(
      `max@example\\.com already has a scheduled disable at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(UTC\\), request ${requestId}; an approver can cancel it with its Cancel button in the bot's App Home, then schedule again\\. Nothing was scheduled`,
    ),
  );
  const db = new Database(database);
  try {
    expect(db.prepare('SELECT COUNT(*) AS n FROM approvals').get()).toEqual({ n: 1 });
  } finally {
    db.close();
  }
});

/**
 * Six `iam-disable-user --at` of one user started at once against `databaseUrl`: one stores its
 * schedule (exit 0); every other exits 2 with the words a second schedule gets, naming that one.
 */
async function raceSchedules(email: string, databaseUrl: string, cwd: string) {
  atlassian.seedUser(email);
  const env = { ...atlassian.env, DATABASE_URL: databaseUrl, TZ: 'UTC' };
  const args = ['iam-disable-user', '--user-profile', JSON.stringify({ email }), '--at'];
  const runs = await Promise.all(
    Array.from({ length: 6 }, (_, i) => runCli([...args, `in ${i + 2}h`], { env, cwd, timeoutMs: 60_000 })),
  );
  const stored = runs.filter((run) => run.code === 0);
  expect(stored).toHaveLength(1);
  const requestId = /request ([0-9a-f-]{36})/.exec(stored[0].stdout)?.[1];
  const refusal = new RegExp(
    `${email.replace('.', '\\.')} already has a scheduled disable at .*, request ${requestId}; an approver can cancel it .*Nothing was scheduled`,
  );
  for (const run of runs.filter((r) => r !== stored[0])) {
    expect([run.code, run.stderr]).toEqual([2, expect.stringMatching(refusal)]);
  }
  const store = await openStore(
    databaseUrl.startsWith('sqlite:')
      ? { kind: 'sqlite', path: databaseUrl.slice('sqlite:'.length) }
      : { kind: 'postgres', url: databaseUrl },
  );
  try {
    expect((await store.listScheduled()).map((r) => r.id)).toEqual([requestId]);
  } finally {
    await store.close();
  }
}

it('task D finding 2: six --at of one user at once (six processes, one SQLite file): one schedule stored, five refused with the usual words', async () => {
  const { cwd, database } = setup();
  await raceSchedules('race-sqlite@example.com', `sqlite:${database}`, cwd);
});

withPostgres((testUrl) => {
  it('task D finding 2: six --at of one user at once on PostgreSQL: one schedule stored, five refused with the usual words', async () => {
    const name = uniqueName('iam_cli_race');
    const url = await createDatabase(testUrl, name);
    try {
      await raceSchedules('race-pg@example.com', url, makeTempDir('atlassian-iam-race-'));
    } finally {
      await dropDatabase(testUrl, name);
    }
  });
});

it('F12: two due schedules of one user: the first carries it out, the second reports already-disabled', async () => {
  const { cwd, database, env } = setup();
  const userId = atlassian.seedUser('jane-twice@example.com');
  const args = ['iam-disable-user', '--user-profile', '{"email":"jane-twice@example.com"}', '--at'];
  expect((await runCli([...args, 'in 2h'], { env, cwd })).code).toBe(0);
  const db = new Database(database);
  try {
    // A second schedule stored before schedules were one per user: a copy of the row, without the key
    // that guards one open schedule per user (the migration leaves it empty on such a copy).
    const columns = (db.prepare('PRAGMA table_info(approvals)').all() as { name: string }[])
      .map((column) => column.name)
      .filter((name) => name !== 'id' && name !== 'open_key');
    db.prepare(
      `INSERT INTO approvals (id, ${columns.join(', ')}) SELECT 'second-schedule', ${columns.join(', ')} FROM approvals`,
    ).run();
    db.prepare('UPDATE approvals SET scheduled_at = ?').run(new Date(Date.now() - 1000).toISOString());
  } finally {
    db.close();
  }
  const run = await runCli(['run-scheduled'], { env, cwd });
  expect(run.stdout).toBe('2 scheduled request(s) carried out; `atlassian-iam audit` shows each result.\n');
  expect(patches().filter((r) => r.path.endsWith(`/Users/${userId}`))).toHaveLength(1);
  const audit = JSON.parse((await runCli(['audit', '--json'], { env, cwd })).stdout) as {
    command: string;
    outcome: string;
  }[];
  expect(
    audit
      .filter((row) => row.command === 'run-scheduled')
      .map((row) => row.outcome)
      .sort(),
  ).toEqual(['already-disabled', 'carried-out']);
});
