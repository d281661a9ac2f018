/**
 * `atlassian-iam audit` as a process (`node dist/cli/main.js audit …`), on an audit log written by real CLI
 * commands against the emulated Atlassian: filters, the three output formats, bad options.
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
import { EXPECTED_AUDIT_CSV_HEADER, EXPECTED_AUDIT_TABLE_HEADER, readCsv } from '../support/audit-output';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

const TOKEN = 'tok-audit-read-SECRET-77';
const DIRECTORY_ID = 'dir-audit-read';
/** A username a spreadsheet would run as a formula if the CSV let it. */
const FORMULA = '@SUM(1+1)';

let atlassian: EmulatedAtlassian;
let cwd: string;
let database: string;
/** Between the first commands and the later ones (ISO, millisecond precision). */
let midpoint: string;
const runs: CliRun[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the CLI on the shared database; keeps every run for the secrets check. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(args, { cwd, env: { DATABASE_URL: `sqlite:${database}`, ...env } });
  runs.push(run);
  return run;
}

async function command(name: string, profile: object, expected = 0): Promise<void> {
  const run = await cli([name, '--user-profile', JSON.stringify(profile)], atlassian.env);
  if (run.code !== expected) throw new Error(`${name} failed:\n${describeRun(run)}`);
}

function expectOk(run: CliRun): void {
  if (run.code !== 0) throw new Error(describeRun(run));
}

interface JsonEntry {
  id: number;
  at: string;
  actor: string;
  source: string;
  kind: string;
  command: string;
  target: string | null;
  outcome: string;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

/** Reads CSV back with a real parser (csv-parse), to check that what we write round-trips. */

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY_ID, token: TOKEN });
  cwd = makeTempDir('atlassian-iam-audit-read-');
  database = path.join(cwd, 'audit.db');
  await command('iam-create-user', { email: 'ann@example.com' });
  await command('iam-create-user', { email: 'bea@example.com' });
  await sleep(20);
  midpoint = new Date().toISOString();
  await sleep(20);
  await command('iam-get-user', { email: 'ANN@example.com' });
  // Not found (exit 1), but audited: its target is what a CSV must not let a spreadsheet evaluate.
  await command('iam-get-user', { username: FORMULA }, 1);
});

afterAll(async () => {
  await atlassian?.close();
  removeTempDirs();
});

afterAll(() => {
  // Whatever was asked, no run printed the Atlassian token.
  for (const run of runs) expect(run.stdout + run.stderr).not.toContain(TOKEN);
});

describe('atlassian-iam audit', () => {
  it('prints the latest entries, newest first, as a readable table', async () => {
    const run = await cli(['audit']);
    expectOk(run);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Audit log: 8 entries, newest first');
    expect(lines[1].split(/\s{2,}/)).toEqual(EXPECTED_AUDIT_TABLE_HEADER);
    const rows = lines.slice(3).map((line) => line.split(/\s{2,}/));
    expect(rows.map((r) => [r[4], r[5], r[6]])).toEqual([
      ['iam-get-user', FORMULA, 'failure'],
      ['iam-get-user', FORMULA, 'received'],
      ['iam-get-user', 'ANN@example.com', 'success'],
      ['iam-get-user', 'ANN@example.com', 'received'],
      ['iam-create-user', 'bea@example.com', 'success'],
      ['iam-create-user', 'bea@example.com', 'received'],
      ['iam-create-user', 'ann@example.com', 'success'],
      ['iam-create-user', 'ann@example.com', 'received'],
    ]);
    for (const row of rows) {
      expect(row[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
      expect(row[1]).toMatch(/^cli:/);
      expect(row[2]).toBe('cli');
      expect(row[7]).toBe('-');
    }
    expect(run.stderr).toBe('');
  });

  it('--user matches the target whatever its case; --since takes a date-time or a duration', async () => {
    const ann = await cli(['audit', '--user', 'Ann@Example.COM']);
    expectOk(ann);
    expect(ann.stdout).toContain('Audit log: 4 entries');
    expect(ann.stdout).not.toContain('bea@example.com');

    const later = await cli(['audit', '--since', midpoint, '--json']);
    expectOk(later);
    const entries = parseJsonOutput<JsonEntry[]>(later);
    expect(entries.map((e) => e.target)).toEqual([FORMULA, FORMULA, 'ANN@example.com', 'ANN@example.com']);
    expect(entries.every((e) => e.at >= midpoint)).toBe(true);

    const both = await cli(['audit', '--since', midpoint, '--user', 'ann@example.com', '--json']);
    expect(parseJsonOutput<JsonEntry[]>(both)).toHaveLength(2);

    const hour = await cli(['audit', '--since', '1h', '--limit', '3']);
    expectOk(hour);
    expect(hour.stdout).toContain('Audit log: 3 entries');
    const week = await cli(['audit', '--since', '7d', '--json']);
    expect(parseJsonOutput<JsonEntry[]>(week)).toHaveLength(8);
  });

  it('--json prints the entries with their details, and JSON alone on stdout', async () => {
    const run = await cli(['audit', '--json', '--user', 'bea@example.com']);
    expectOk(run);
    const entries = parseJsonOutput<JsonEntry[]>(run);
    expect(entries.map((e) => [e.kind, e.command, e.outcome])).toEqual([
      ['result', 'iam-create-user', 'success'],
      ['command', 'iam-create-user', 'received'],
    ]);
    expect(entries[0]).toMatchObject({
      source: 'cli',
      actor: expect.stringMatching(/^cli:/),
      target: 'bea@example.com',
      requestId: null,
      detail: { IAM: { Vendor: { action: 'create', success: true, email: 'bea@example.com' } } },
    });
    expect(new Date(entries[0].at).toISOString()).toBe(entries[0].at);
    expect(entries[0].id).toBeGreaterThan(entries[1].id);
  });

  it('--csv prints RFC 4180 CSV and neutralises formulas', async () => {
    const run = await cli(['audit', '--csv']);
    expectOk(run);
    expect(run.stdout).toMatch(/\r\n$/);
    const rows = readCsv(run.stdout);
    expect(rows[0]).toEqual(EXPECTED_AUDIT_CSV_HEADER);
    expect(rows).toHaveLength(9);
    expect(rows.every((r) => r.length === 10)).toBe(true);
    // The formula target is written as text ('@SUM…), never as a cell starting with @.
    expect(rows[1][6]).toBe(`'${FORMULA}`);
    expect(rows[2][6]).toBe(`'${FORMULA}`);
    expect(rows.flat().filter((cell) => /^[=+\-@]/.test(cell))).toEqual([]);
    // The result's detail (JSON with commas and quotes) survives quoting.
    const detail = JSON.parse(rows[1][9]) as { IAM: { Vendor: { success: boolean; username: string } } };
    expect(detail.IAM.Vendor.success).toBe(false);
    expect(rows[2][9]).toBe('');
  });

  it('says clearly when no entry matches, and never creates a database that is not there', async () => {
    const none = await cli(['audit', '--user', 'nobody@example.com']);
    expectOk(none);
    expect(none.stdout).toBe('no audit entries about nobody@example.com\n');

    const json = await cli(['audit', '--since', '2999-01-01', '--json']);
    expectOk(json);
    expect(parseJsonOutput(json)).toEqual([]);
    expect(json.stderr).toContain('no audit entries since 2999-01-01T00:00:00.000Z');

    const csv = await cli(['audit', '--csv', '--user', 'nobody@example.com']);
    expectOk(csv);
    expect(csv.stdout).toBe('id,at,actor,source,kind,command,target,outcome,request_id,detail\r\n');

    const missing = path.join(cwd, 'nowhere', 'none.db');
    const fresh = await cli(['audit'], { DATABASE_URL: `sqlite:${missing}` });
    expectOk(fresh);
    expect(fresh.stdout).toBe(`no audit entries (there is no database at ${missing} yet)\n`);
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  it.each([
    [['--csv', '--json=x'], '--json takes no value'],
    [['--since', 'last tuesday'], '--since "last tuesday" is neither a duration'],
    [['--since', '2025-02-30'], 'neither a duration'],
    [['--limit', '0'], '--limit "0" must be a whole number'],
    [['--verbose'], '--verbose'],
    [['--user-profile', '{}'], '--user-profile'],
    [['jane@example.com'], 'unexpected argument "jane@example.com"'],
  ])('exits 2 for bad options %j, with a clear message and nothing on stdout', async (args, message) => {
    const run = await cli(['audit', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`atlassian-iam audit: `);
    expect(run.stderr).toContain(message);
  });

  it('issue 13: with --json, a bad option or configuration is one JSON error object on stdout, exit 2', async () => {
    const both = await cli(['audit', '--json', '--csv']);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toEqual({
      error: { kind: 'input', message: 'choose one of --json and --csv; run atlassian-iam audit --help' },
    });
    const config = await cli(['audit', '--json'], { DATABASE_URL: 'mysql://nope' });
    expect(config.code).toBe(2);
    expect(JSON.parse(config.stdout)).toMatchObject({
      error: { kind: 'configuration', problems: ['DATABASE_URL: must be sqlite:PATH or postgres://…'] },
    });
  });

  it('exits 2 for a bad configuration, naming the variable', async () => {
    const run = await cli(['audit'], { DATABASE_URL: 'mysql://nope' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DATABASE_URL: must be sqlite:PATH or postgres://');
  });

  it('has its own help, and the main help lists it', async () => {
    const help = await cli(['audit', '--help']);
    expectOk(help);
    expect(help.stdout).toContain('Usage: atlassian-iam audit [--since WHEN] [--before WHEN]');
    expect(help.stdout).toContain('atlassian-iam audit prune --before WHEN [--dry-run]');
    const main = await cli(['--help']);
    expect(main.stdout).toMatch(/^ {2}audit +read the audit log/m);
  });
});
