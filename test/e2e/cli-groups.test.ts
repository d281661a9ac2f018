/**
 * Whole-process tests of the group commands of the built CLI (`node dist/cli/main.js`): against an emulated
 * Atlassian on 127.0.0.1 (every request checked against Atlassian's OpenAPI document) and against the
 * embedded SANDBOX directory with zero configuration.
 */
import path from 'node:path';
import {
  type CliRun,
  describeRun,
  makeTempDir,
  parseJsonOutput,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';
import { readCsv } from '../support/audit-output';
import { assertValidRequests } from '../support/openapi';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

const TOKEN = 'tok-groups-SECRET-1';
const JANE = JSON.stringify({ email: 'jane@example.com' });
const JIRA = 'jira-software-users';

interface GroupOutput {
  IAM: {
    Vendor: {
      action: string;
      success: boolean;
      skipped: boolean;
      reason: string | null;
      errorMessage: string | null;
      group?: string;
      groups?: { id: string; displayName: string }[];
    };
  };
}

function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}\n${describeRun(run)}`);
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
}

const vendor = (run: CliRun) => parseJsonOutput<GroupOutput>(run).IAM.Vendor;

beforeAll(() => requireBuiltCli());
afterAll(() => removeTempDirs());

/** The scenario of issue 15 (first increment), run the same way against both directories. */
async function scenario(cli: (args: string[]) => Promise<CliRun>): Promise<void> {
  const listed = await cli(['iam-get-groups', '--json']);
  expectExit(listed, 0);
  expect(vendor(listed).groups?.map((g) => g.displayName)).toEqual([JIRA, 'confluence-users']);

  const table = await cli(['iam-get-groups']);
  expectExit(table, 0);
  expect(table.stdout).toMatch(/Get Groups Results[\s\S]*jira-software-users[\s\S]*confluence-users/);

  const add = await cli(['iam-add-to-group', '--user-profile', JANE, '--group', JIRA, '--json']);
  expectExit(add, 0);
  expect(vendor(add)).toMatchObject({ action: 'add-to-group', success: true, skipped: false, group: JIRA });

  const again = await cli(['iam-add-to-group', '--user-profile', JANE, '--group', JIRA]);
  expectExit(again, 0);
  expect(again.stdout).toMatch(/Add User To Group Results[\s\S]*User is already a member\./);

  const mine = await cli(['iam-get-groups', '--user-profile', JANE, '--json']);
  expectExit(mine, 0);
  expect(vendor(mine).groups?.map((g) => g.displayName)).toEqual([JIRA]);

  const remove = await cli(['iam-remove-from-group', '--user-profile', JANE, '--group', JIRA, '--json']);
  expectExit(remove, 0);
  expect(vendor(remove)).toMatchObject({ success: true, skipped: false, group: JIRA });

  const removeAgain = await cli(['iam-remove-from-group', '--user-profile', JANE, '--group', JIRA, '--json']);
  expectExit(removeAgain, 0);
  expect(vendor(removeAgain)).toMatchObject({
    success: true,
    skipped: true,
    reason: 'User is not a member.',
  });

  const unknown = await cli(['iam-add-to-group', '--user-profile', JANE, '--group', 'jira-users']);
  expectExit(unknown, 1);
  expect(unknown.stdout).toContain(
    'Group "jira-users" does not exist in the directory (closest: "jira-software-users", "confluence-users"). Only groups of this SCIM directory can be managed, not groups created in Atlassian administration.',
  );

  const created = await cli([
    'iam-create-user',
    '--user-profile',
    JSON.stringify({ email: 'joe@example.com', groups: ['confluence-users', JIRA] }),
    '--json',
  ]);
  expectExit(created, 0);
  expect(vendor(created)).toMatchObject({ action: 'create', success: true });
  expect(vendor(created).groups?.map((g) => g.displayName)).toEqual(['confluence-users', JIRA]);

  const refused = await cli([
    'iam-create-user',
    '--user-profile',
    JSON.stringify({ email: 'ann@example.com', groups: 'confluence-users,jira-admins' }),
    '--json',
  ]);
  expectExit(refused, 1);
  expect(vendor(refused).errorMessage).toMatch(/^Nothing was created: Group "jira-admins" does not exist/);
  const ann = await cli([
    'iam-get-user',
    '--user-profile',
    JSON.stringify({ email: 'ann@example.com' }),
    '--json',
  ]);
  expectExit(ann, 1);
}

describe('group commands against the emulated Atlassian', () => {
  let atlassian: EmulatedAtlassian;
  beforeEach(async () => {
    atlassian = await startEmulatedAtlassian({ directoryId: 'dir-groups', token: TOKEN });
  });
  afterEach(async () => atlassian.close());

  it('list, add, add again (skipped), remove, remove again (skipped), unknown group, create with groups; every request valid', async () => {
    atlassian.seedUser('jane@example.com');
    const cwd = makeTempDir();
    const env = { ...atlassian.env, DATABASE_URL: `sqlite:${path.join(cwd, 'audit.db')}` };
    await scenario((args) => runCli(args, { env, cwd }));
    assertValidRequests(atlassian.server.requests);
    // ONE PATCH per membership change: the add, the remove and the two joins of the create.
    const patches = atlassian.server.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(4);

    const audit = await runCli(['audit', '--csv'], { env, cwd });
    expectExit(audit, 0);
    const rows = readCsv(audit.stdout);
    const commands = rows.slice(1).map((row) => `${row[5]} ${row[7]}`);
    expect(commands).toEqual(
      expect.arrayContaining([
        'iam-add-to-group received',
        'iam-add-to-group success',
        'iam-add-to-group skipped',
        'iam-remove-from-group success',
        'iam-get-groups success',
        'iam-add-to-group failure',
      ]),
    );

    // audit --group: the group commands' rows (command and result) about that group, whatever its case.
    const byGroup = await runCli(['audit', '--group', 'JIRA-Software-Users', '--json'], { env, cwd });
    expectExit(byGroup, 0);
    const entries =
      parseJsonOutput<{ command: string; outcome: string; detail: { group?: string } }[]>(byGroup);
    expect(entries.map((e) => `${e.command} ${e.outcome}`).reverse()).toEqual([
      'iam-add-to-group received',
      'iam-add-to-group success',
      'iam-add-to-group received',
      'iam-add-to-group skipped',
      'iam-remove-from-group received',
      'iam-remove-from-group success',
      'iam-remove-from-group received',
      'iam-remove-from-group skipped',
    ]);
    expect(entries.every((e) => e.detail.group === JIRA)).toBe(true);
    const none = await runCli(['audit', '--group', 'no-such-group'], { env, cwd });
    expectExit(none, 0);
    expect(none.stdout + none.stderr).toMatch(/no audit entries in group no-such-group/);
  }, 60_000);

  it('bad input exits 2 and sends nothing', async () => {
    const env = { ...atlassian.env };
    const noGroup = await runCli(['iam-add-to-group', '--user-profile', JANE], { env });
    expectExit(noGroup, 2);
    expect(noGroup.stderr).toMatch(/needs --group NAME/);
    const stray = await runCli(['iam-get-user', '--user-profile', JANE, '--group', JIRA], { env });
    expectExit(stray, 2);
    const badGroups = await runCli(
      ['iam-create-user', '--user-profile', JSON.stringify({ email: 'a@example.com', groups: 5 })],
      { env },
    );
    expectExit(badGroups, 2);
    expect(atlassian.server.requests).toEqual([]);
  });
});

describe('group commands against the SANDBOX, with no configuration', () => {
  it('starts with the two example groups and runs the same scenario', async () => {
    const cwd = makeTempDir();
    const env = { DATABASE_URL: `sqlite:${path.join(cwd, 'sandbox.db')}` };
    const cli = (args: string[]) => runCli(args, { env, cwd });
    const jane = await cli(['iam-create-user', '--user-profile', JANE]);
    expectExit(jane, 0);
    const run = await cli(['iam-get-groups']);
    expect(run.stderr).toMatch(/SANDBOX/);
    await scenario(cli);
  }, 60_000);
});
