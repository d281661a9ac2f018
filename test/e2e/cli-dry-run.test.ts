/**
 * `--dry-run` of the built CLI against an emulated Atlassian on loopback: the plan is printed (the diff
 * before → after, "no change", what would be created, or why it is skipped), exit 0, and Atlassian sees
 * lookups only (GET), never a write. One audit row with outcome `dry-run` is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RecordedRequest } from '../../src/sandbox';
import {
  type CliRun,
  describeRun,
  makeTempDir,
  parseJsonOutput,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';
import { openApiProblems } from '../support/openapi';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

const TOKEN = 'tok-dry-SECRET-3';
let atlassian: EmulatedAtlassian;
let cwd: string;

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-dry', token: TOKEN });
  cwd = makeTempDir('atlassian-iam-dry-');
});

afterAll(async () => {
  await atlassian?.close();
  removeTempDirs();
});

const env = (): Record<string, string> => ({
  ...atlassian.env,
  ATLASSIAN_TIMEOUT: '5s',
  DATABASE_URL: `sqlite:${path.join(cwd, 'audit.db')}`,
});

/** Runs the command with --dry-run; returns the run and the requests Atlassian received meanwhile. */
async function dryRun(
  command: string,
  profile: Record<string, unknown>,
  args: string[] = [],
): Promise<{ run: CliRun; requests: RecordedRequest[] }> {
  const before = atlassian.server.requests.length;
  const run = await runCli([command, '--dry-run', '--user-profile', JSON.stringify(profile), ...args], {
    env: env(),
    cwd,
  });
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
  return { run, requests: atlassian.server.requests.slice(before) };
}

function expectOnlyLookups(requests: RecordedRequest[]): void {
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.map((r) => r.method).filter((m) => m !== 'GET')).toEqual([]);
  expect(openApiProblems(requests)).toEqual([]);
}

function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${describeRun(run)}`);
}

/** The user as the directory holds it now. */
function stored(id: string): Record<string, unknown> {
  const answer = atlassian.directory.handle({
    method: 'GET',
    path: `/Users/${id}`,
    query: new URLSearchParams(),
    body: undefined,
  });
  return answer.body as Record<string, unknown>;
}

describe('--dry-run on each write command: only GETs reach Atlassian, the plan is printed, exit 0', () => {
  it('iam-update-user --dry-run prints each changing attribute before → after and changes nothing', async () => {
    const id = atlassian.seedUser('dry.update@example.com', { title: 'Engineer' });
    const { run, requests } = await dryRun('iam-update-user', {
      email: 'dry.update@example.com',
      title: 'Staff Engineer',
      surname: 'Doe',
    });
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(run.stdout).toContain('DRY RUN: iam-update-user: nothing was sent');
    expect(run.stdout).toContain(`would change dry.update@example.com (id ${id}): 2 attributes`);
    expect(run.stdout).toMatch(/title\s+Engineer → Staff Engineer/);
    expect(run.stdout).toMatch(/name\.familyName\s+\(none\) → Doe/);
    expect(stored(id)).toMatchObject({ title: 'Engineer' });
    expect(stored(id)).not.toHaveProperty('name.familyName');
  });

  it('iam-update-user --dry-run says "no change" when the user already holds every value', async () => {
    atlassian.seedUser('dry.same@example.com', { title: 'Engineer' });
    const { run, requests } = await dryRun('iam-update-user', {
      email: 'dry.same@example.com',
      title: 'Engineer',
    });
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(run.stdout).toMatch(/no change: dry\.same@example\.com .* already has these values/);
  });

  it('iam-create-user --dry-run prints the user it would create and creates none', async () => {
    const { run, requests } = await dryRun('iam-create-user', {
      email: 'dry.new@example.com',
      title: 'Engineer',
    });
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(run.stdout).toContain('would create dry.new@example.com');
    expect(run.stdout).toMatch(/title\s+\(none\) → Engineer/);
    const listed = atlassian.directory.handle({
      method: 'GET',
      path: '/Users',
      query: new URLSearchParams({ filter: 'userName eq "dry.new@example.com"' }),
      body: undefined,
    });
    expect((listed.body as { totalResults: number }).totalResults).toBe(0);
  });

  it('iam-create-user --dry-run with groups looks each group up and says the user would join it', async () => {
    const { run, requests } = await dryRun('iam-create-user', {
      email: 'dry.groups@example.com',
      groups: ['jira-software-users'],
    });
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(run.stdout).toContain('would create dry.groups@example.com');
    expect(run.stdout).toContain('then joins groups: jira-software-users');
  });

  it('iam-create-user --dry-run with an unknown group fails as the command would: exit 1, nothing sent', async () => {
    const { run, requests } = await dryRun('iam-create-user', {
      email: 'dry.nogroup@example.com',
      groups: ['no-such-group'],
    });
    expectExit(run, 1);
    expectOnlyLookups(requests);
    expect(run.stdout).toContain('Nothing would be created');
  });

  it('iam-disable-user --dry-run --json prints the plan object: active true → false', async () => {
    const id = atlassian.seedUser('dry.disable@example.com');
    const { run, requests } = await dryRun('iam-disable-user', { email: 'dry.disable@example.com' }, [
      '--json',
    ]);
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(parseJsonOutput(run)).toEqual({
      dryRun: true,
      command: 'iam-disable-user',
      kind: 'change',
      user: { id, email: 'dry.disable@example.com', username: 'dry.disable@example.com' },
      changes: [{ attribute: 'active', before: 'true', after: 'false' }],
      takesOver: false,
    });
    expect(stored(id)).toMatchObject({ active: true });
  });

  it('iam-enable-user --dry-run of an active user prints the skip reason', async () => {
    atlassian.seedUser('dry.enable@example.com');
    const { run, requests } = await dryRun('iam-enable-user', { email: 'dry.enable@example.com' });
    expectExit(run, 0);
    expectOnlyLookups(requests);
    expect(run.stdout).toMatch(/would skip dry\.enable@example\.com .*: User is already enabled\./);
  });

  it('writes one audit row with outcome dry-run and the plan, and no result row', async () => {
    atlassian.seedUser('dry.audit@example.com');
    const { run } = await dryRun('iam-disable-user', { email: 'dry.audit@example.com' });
    expectExit(run, 0);
    const db = new Database(path.join(cwd, 'audit.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT kind, outcome FROM audit_log WHERE target = 'dry.audit@example.com'")
        .all();
      expect(rows).toEqual([{ kind: 'command', outcome: 'dry-run' }]);
    } finally {
      db.close();
    }
  });

  it('--dry-run on a read command is refused with exit 2 and sends nothing', async () => {
    const { run, requests } = await dryRun('iam-get-user', { email: 'dry.audit@example.com' });
    expectExit(run, 2);
    expect(run.stderr).toContain('--dry-run applies to the write commands only');
    expect(requests).toEqual([]);
  });
});

describe('bulk --dry-run', () => {
  it("prints each row's plan marked dry-run and a summary, sends only GETs, writes no report; a real run then does every row", async () => {
    const id = atlassian.seedUser('bulk.dry.a@example.com', { title: 'Engineer' });
    atlassian.seedUser('bulk.dry.b@example.com', { title: 'Lead' });
    const csv = path.join(cwd, 'dry.csv');
    fs.writeFileSync(
      csv,
      [
        'email,title',
        'bulk.dry.a@example.com,Staff Engineer',
        'bulk.dry.b@example.com,Lead',
        'bulk.dry.c@example.com,Intern',
      ].join('\n') + '\n',
    );
    const before = atlassian.server.requests.length;
    const run = await runCli(['bulk', 'update', 'dry.csv', '--dry-run'], {
      env: { ...env(), IAM_CREATE_IF_NOT_FOUND: 'true' },
      cwd,
    });
    expectExit(run, 0);
    expectOnlyLookups(atlassian.server.requests.slice(before));
    expect(run.stdout).toContain(
      `row 2 (bulk.dry.a@example.com): dry-run: would change bulk.dry.a@example.com (id ${id}): 1 attribute`,
    );
    expect(run.stdout).toMatch(/title\s+Engineer → Staff Engineer/);
    expect(run.stdout).toMatch(/row 3 \(bulk\.dry\.b@example\.com\): dry-run: no change/);
    expect(run.stdout).toContain(
      'row 4 (bulk.dry.c@example.com): dry-run: would create bulk.dry.c@example.com',
    );
    expect(run.stdout).toContain('DRY RUN: bulk update: nothing was sent');
    expect(run.stdout).toContain('1 would change, 1 would be created, 1 no change, 0 would skip');
    expect(fs.existsSync(`${csv}.report.jsonl`)).toBe(false);
    expect(stored(id)).toMatchObject({ title: 'Engineer' });

    const real = await runCli(['bulk', 'update', 'dry.csv', '--json'], {
      env: { ...env(), IAM_CREATE_IF_NOT_FOUND: 'true' },
      cwd,
    });
    expectExit(real, 0);
    expect(JSON.parse(real.stdout)).toMatchObject({ rows: { total: 3, success: 3, alreadyDone: 0 } });
    expect(stored(id)).toMatchObject({ title: 'Staff Engineer' });
  });

  it('with --metrics is refused (a dry run writes no file): exit 2, nothing sent', async () => {
    fs.writeFileSync(path.join(cwd, 'm.csv'), 'email\nbulk.dry.a@example.com\n');
    const before = atlassian.server.requests.length;
    const run = await runCli(['bulk', 'disable', 'm.csv', '--dry-run', '--metrics', 'm.prom'], {
      env: env(),
      cwd,
    });
    expectExit(run, 2);
    expect(run.stderr).toContain('--metrics does not go with --dry-run');
    expect(atlassian.server.requests.slice(before)).toEqual([]);
    expect(fs.existsSync(path.join(cwd, 'm.prom'))).toBe(false);
  });
});
