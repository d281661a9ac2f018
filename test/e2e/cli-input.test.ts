/**
 * Issue 13, "Strict, helpful input" and "One database per installation", through the built CLI
 * (`node dist/cli/main.js`) on the embedded sandbox: each process gets its own HOME, so the default
 * database lands in that HOME's data directory.
 */
import fs from 'node:fs';
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

beforeAll(requireBuiltCli);
afterAll(removeTempDirs);

function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${describeRun(run)}`);
}

/** A fresh installation: its own HOME (so its own default database) and working directory. */
function installation(): {
  home: string;
  cli: (args: string[], extra?: Record<string, string>) => Promise<CliRun>;
} {
  const home = makeTempDir('atlassian-iam-home-');
  return {
    home,
    cli: (args, extra = {}) =>
      runCli(args, { cwd: makeTempDir('atlassian-iam-cwd-'), env: { HOME: home, ...extra } }),
  };
}

const defaultDatabase = (home: string): string =>
  path.join(home, '.local', 'share', 'atlassian-iam', 'atlassian-iam.db');

interface AuditRow {
  command: string;
  outcome: string;
}

async function auditRows(cli: ReturnType<typeof installation>['cli']): Promise<AuditRow[]> {
  const run = await cli(['audit', '--json']);
  expectExit(run, 0);
  return parseJsonOutput<AuditRow[]>(run);
}

describe('issue 13: unknown profile keys and CSV columns', () => {
  it('create {"firstname":"Jane"} is refused before anything is done: did you mean givenname?', async () => {
    const { cli, home } = installation();
    const run = await cli([
      'iam-create-user',
      '--user-profile',
      '{"email":"jane@example.com","firstname":"Jane"}',
    ]);
    expectExit(run, 2);
    expect(run.stderr).toMatch(/firstname is not a profile key: did you mean givenname\?/);
    expect(run.stdout).toBe('');
    expect(fs.existsSync(defaultDatabase(home))).toBe(false);
  });

  it('update {"titel":"CTO"} is no longer audited as a success with nothing changed', async () => {
    const { cli } = installation();
    expectExit(await cli(['iam-create-user', '--user-profile', 'jane@example.com']), 0);
    const before = await auditRows(cli);
    const run = await cli([
      'iam-update-user',
      '--user-profile',
      '{"email":"jane@example.com","titel":"CTO"}',
    ]);
    expectExit(run, 2);
    expect(run.stderr).toMatch(/titel is not a profile key: did you mean title\?/);
    expect(await auditRows(cli)).toEqual(before);
  });

  it('iam-get-user with an empty id or a blank email exits 2 and leaves no "received" row without its result (finding 10)', async () => {
    const { cli } = installation();
    expectExit(await cli(['iam-create-user', '--user-profile', 'jane@example.com']), 0);
    for (const profile of ['{"id":""}', '{"email":" "}']) {
      const run = await cli(['iam-get-user', '--user-profile', profile]);
      expectExit(run, 2);
      expect(run.stderr).toMatch(/no identifier/);
    }
    const gets = (await auditRows(cli)).filter((row) => row.command === 'iam-get-user');
    expect(gets.map((row) => row.outcome).sort()).toEqual(['received', 'received', 'rejected', 'rejected']);
  });

  it('a scim:NAME key goes through to the directory as that SCIM attribute', async () => {
    const { cli } = installation();
    const run = await cli([
      'iam-create-user',
      '--json',
      '--user-profile',
      '{"email":"jj@example.com","scim:nickName":"JJ"}',
    ]);
    expectExit(run, 0);
    const got = await cli(['iam-get-user', '--json', '--user-profile', 'jj@example.com']);
    expect(
      parseJsonOutput<{ IAM: { Vendor: { details: { nickName?: string } } } }>(got).IAM.Vendor.details
        .nickName,
    ).toBe('JJ');
  });

  it('a bulk CSV with header "emial" is ONE error naming the column, and no row runs', async () => {
    const { cli } = installation();
    const dir = makeTempDir('atlassian-iam-csv-');
    const file = path.join(dir, 'joiners.csv');
    fs.writeFileSync(file, 'emial,title\na@example.com,Eng\nb@example.com,Eng\nc@example.com,Eng\n');
    const run = await cli(['bulk', 'create', file]);
    expectExit(run, 2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /joiners\.csv: column 1 of the header row \("emial"\) is not a profile key: did you mean email\?/,
      ),
    ]);
    expect(run.stderr).not.toMatch(/malformed/);
    expect(fs.existsSync(`${file}.report.jsonl`)).toBe(false);
  });
});

describe('issue 13: every command has its own --help', () => {
  it('iam-create-user --help lists its profile keys and an example, not the global help', async () => {
    const { cli } = installation();
    const run = await cli(['iam-create-user', '--help']);
    expectExit(run, 0);
    expect(run.stdout).toMatch(/^Usage: atlassian-iam iam-create-user --user-profile/);
    expect(run.stdout).toMatch(/Profile keys \(case-insensitive\): id, email, username, givenname, surname/);
    expect(run.stdout).toMatch(/groups \(a list of group names\)/);
    expect(run.stdout).toMatch(
      /Example:\n {2}atlassian-iam iam-create-user --user-profile '\{"email":"jane@example\.com"/,
    );
    expect(run.stdout).not.toMatch(/Commands \(XSOAR names/);
  });

  it.each(['iam-update-user', 'get-user', 'iam-disable-user', 'enable-user', 'test-module'])(
    "%s --help is that command's own help",
    async (command) => {
      const run = await installation().cli([command, '-h']);
      expectExit(run, 0);
      expect(run.stdout).toMatch(/^Usage: atlassian-iam (iam-)?[a-z-]+/);
      expect(run.stdout).not.toMatch(/Commands \(XSOAR names/);
    },
  );
});

describe('issue 13: flags', () => {
  it('takes a bare email as --user-profile, as Slack does', async () => {
    const { cli } = installation();
    expectExit(await cli(['iam-create-user', '--user-profile', 'jane@example.com']), 0);
    const run = await cli(['iam-get-user', '--json', '--user-profile', ' jane@example.com ']);
    expectExit(run, 0);
    expect(parseJsonOutput<{ IAM: { Vendor: { email: string } } }>(run).IAM.Vendor.email).toBe(
      'jane@example.com',
    );
  });

  it('reads --allow-enable off/on like every other yes/no', async () => {
    const { cli } = installation();
    expectExit(await cli(['iam-create-user', '--user-profile', 'jane@example.com']), 0);
    expectExit(await cli(['iam-disable-user', '--user-profile', 'jane@example.com']), 0);
    const kept = await cli([
      'iam-update-user',
      '--json',
      '--allow-enable',
      'off',
      '--user-profile',
      'jane@example.com',
    ]);
    expectExit(kept, 0);
    expect(parseJsonOutput<{ IAM: { Vendor: { active: boolean } } }>(kept).IAM.Vendor.active).toBe(false);
  });

  it('refuses a repeated single-value flag instead of letting the second win', async () => {
    const { cli, home } = installation();
    const run = await cli([
      'iam-create-user',
      '--user-profile',
      'a@example.com',
      '--user-profile',
      'b@example.com',
    ]);
    expectExit(run, 2);
    expect(run.stderr).toBe(
      'atlassian-iam: --user-profile is given twice; give it once; run atlassian-iam --help\n',
    );
    expect(fs.existsSync(defaultDatabase(home))).toBe(false);
  });

  it('answers an unknown flag in our own words, with the closest flag (no parseArgs quote)', async () => {
    const run = await installation().cli(['iam-get-user', '--user-profil', 'a@example.com']);
    expectExit(run, 2);
    expect(run.stderr).toBe(
      'atlassian-iam: unknown option --user-profil (did you mean --user-profile?); run atlassian-iam --help\n',
    );
  });

  it('with --json, every error is one JSON object on stdout with the same exit status', async () => {
    const { cli } = installation();
    const dir = makeTempDir('atlassian-iam-csv-');
    fs.writeFileSync(path.join(dir, 'x.csv'), 'emial\na@example.com\n');
    const cases: [string[], Record<string, string>, number, string, RegExp][] = [
      [['iam-get-user', '--json', '--bogus'], {}, 2, 'input', /unknown option --bogus/],
      [['iam-get-user', '--json', '--user-profile', '{"titel":"x"}'], {}, 2, 'input', /did you mean title/],
      [
        ['iam-get-user', '--json', '--user-profile', 'a@example.com'],
        { LOG_LEVEL: 'chatty' },
        2,
        'configuration',
        /LOG_LEVEL/,
      ],
      [
        ['iam-create-user', '--json', '--user-profile', '{"email":"not-an-email"}'],
        {},
        2,
        'input',
        /email must be an email address/,
      ],
      [['bulk', 'create', path.join(dir, 'x.csv'), '--json'], {}, 2, 'input', /did you mean email/],
      [['bulk', 'create', '--json', '--concurrency'], {}, 2, 'input', /--concurrency needs a value/],
    ];
    for (const [args, env, code, kind, message] of cases) {
      const run = await cli(args, env);
      expectExit(run, code);
      const { error } = parseJsonOutput<{ error: { kind: string; message: string; problems?: string[] } }>(
        run,
      );
      expect(error.kind).toBe(kind);
      expect([error.message, ...(error.problems ?? [])].join('\n')).toMatch(message);
    }
  });
});

describe('issue 13: one database per installation', () => {
  it('finds from another working directory the user created from the first, and says where the database is, once', async () => {
    const { cli, home } = installation();
    const created = await cli(['iam-create-user', '--user-profile', 'jane@example.com']);
    expectExit(created, 0);
    const file = defaultDatabase(home);
    expect(fs.existsSync(file)).toBe(true);
    expect(created.stderr).toContain(`created the database ${file}`);

    const got = await cli(['iam-get-user', '--json', '--user-profile', 'jane@example.com']);
    expectExit(got, 0);
    expect(got.stderr).not.toContain('created the database');
    expect(fs.existsSync(path.join(got.cwd, 'data'))).toBe(false);
  });

  it('uses $XDG_DATA_HOME/atlassian-iam when XDG_DATA_HOME is set', async () => {
    const { cli } = installation();
    const xdg = makeTempDir('atlassian-iam-xdg-');
    expectExit(
      await cli(['iam-create-user', '--user-profile', 'jane@example.com'], { XDG_DATA_HOME: xdg }),
      0,
    );
    expect(fs.existsSync(path.join(xdg, 'atlassian-iam', 'atlassian-iam.db'))).toBe(true);
  });

  it('--help names the database path', async () => {
    const { cli, home } = installation();
    const run = await cli(['--help']);
    expectExit(run, 0);
    expect(run.stdout).toContain(`Database (DATABASE_URL): ${defaultDatabase(home)}`);
    expect(fs.existsSync(defaultDatabase(home))).toBe(false);
  });
});
