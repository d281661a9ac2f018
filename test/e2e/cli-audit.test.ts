/** The CLI appends its commands and results to the same audit log as the bot, and never a secret. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTempDir, removeTempDirs, requireBuiltCli, runCli } from '../support/cli';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

const TOKEN = 'tok-audit-SECRET-42';
let atlassian: EmulatedAtlassian;

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-audit', token: TOKEN });
});

afterAll(async () => {
  await atlassian.close();
  removeTempDirs();
});

it('records a command and its result with the OS user as actor, and nothing for bad input', async () => {
  const cwd = makeTempDir('atlassian-iam-audit-');
  const database = path.join(cwd, 'audit.db');
  const env = {
    ...atlassian.env,
    DATABASE_URL: `sqlite:${database}`,
  };
  const bad = await runCli(['iam-create-user', '--user-profile', '{"email":'], { env, cwd });
  expect(bad.code).toBe(2);
  expect(fs.existsSync(database)).toBe(false);

  const created = await runCli(['iam-create-user', '--user-profile', '{"email":"audit@example.com"}'], {
    env,
    cwd,
  });
  expect(created.code).toBe(0);

  const db = new Database(database, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT actor, source, kind, command, target, outcome, detail FROM audit_log ORDER BY id')
      .all() as {
      actor: string;
      detail: string | null;
    }[];
    expect(rows.map(({ detail: _detail, ...rest }) => rest)).toEqual([
      {
        actor: expect.stringMatching(/^cli:/),
        source: 'cli',
        kind: 'command',
        command: 'iam-create-user',
        target: 'audit@example.com',
        outcome: 'received',
      },
      {
        actor: expect.stringMatching(/^cli:/),
        source: 'cli',
        kind: 'result',
        command: 'iam-create-user',
        target: 'audit@example.com',
        outcome: 'success',
      },
    ]);
    expect(JSON.parse(rows[1].detail ?? 'null')).toMatchObject({
      IAM: { Vendor: { action: 'create', success: true } },
    });
  } finally {
    db.close();
  }
  expect(fs.readFileSync(database).includes(TOKEN)).toBe(false);
});

it('issue 11 finding 2: with the audit log unavailable the CLI sends nothing, says so and exits 1', async () => {
  const cwd = makeTempDir('atlassian-iam-audit-');
  const database = path.join(cwd, 'audit.db');
  const env = { ...atlassian.env, DATABASE_URL: `sqlite:${database}` };
  expect(
    (await runCli(['iam-get-user', '--user-profile', '{"email":"x@example.com"}'], { env, cwd })).code,
  ).toBe(1);
  // The audit log now refuses rows, as a read-only or full disk would …
  const db = new Database(database);
  db.exec(
    `CREATE TRIGGER broken BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`,
  );
  db.close();
  const cases = [
    { DATABASE_URL: `sqlite:${database}` },
    // … and a PostgreSQL server that cannot be reached.
    { DATABASE_URL: 'postgres://iam:pw@127.0.0.1:1/iam' },
  ];
  for (const extra of cases) {
    const before = atlassian.server.requests.length;
    const run = await runCli(['iam-enable-user', '--user-profile', '{"email":"nobody@example.com"}'], {
      env: { ...atlassian.env, ...extra },
      cwd,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('atlassian-iam: The audit log is unavailable, so nothing was done.');
    expect(run.stdout).toBe('');
    expect(atlassian.server.requests.length).toBe(before);
  }
});

it('issue 13: with --json, an unavailable audit log is one JSON error object on stdout, exit 1', async () => {
  const cwd = makeTempDir('atlassian-iam-audit-');
  const before = atlassian.server.requests.length;
  const run = await runCli(['iam-enable-user', '--json', '--user-profile', 'nobody@example.com'], {
    env: { ...atlassian.env, DATABASE_URL: 'postgres://iam:pw@127.0.0.1:1/iam' },
    cwd,
  });
  expect(run.code).toBe(1);
  expect(JSON.parse(run.stdout)).toEqual({
    error: { kind: 'audit', message: 'The audit log is unavailable, so nothing was done.' },
  });
  expect(atlassian.server.requests.length).toBe(before);
});

it('issue 10 finding 4: iam-get-user with the id "." exits 2 and sends no request', async () => {
  const cwd = makeTempDir('atlassian-iam-audit-');
  const before = atlassian.server.requests.length;
  for (const id of ['.', '..', 'a/b']) {
    const run = await runCli(['iam-get-user', '--user-profile', JSON.stringify({ id })], {
      env: { ...atlassian.env, DATABASE_URL: `sqlite:${path.join(cwd, 'audit.db')}` },
      cwd,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`id ${JSON.stringify(id)} is not a user id`);
    expect(run.stdout).toBe('');
  }
  expect(atlassian.server.requests.length).toBe(before);
  // Bad input touches nothing, not even the audit log.
  expect(fs.existsSync(path.join(cwd, 'audit.db'))).toBe(false);
});
