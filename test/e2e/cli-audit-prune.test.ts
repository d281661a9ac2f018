/**
 * `atlassian-iam audit prune` as a process: retention on purpose. Nothing is pruned unless asked; a dry
 * run only counts; a real prune removes the older entries and records itself in the log it pruned.
 */
import path from 'node:path';
import { openSqlite } from '../../src/store/sqlite';
import { SqliteStore } from '../../src/store/sqlite-store';
import { newAudit } from '../store/contract';
import { describeRun, makeTempDir, removeTempDirs, requireBuiltCli, runCli } from '../support/cli';

let cwd: string;
let database: string;
const day = (n: number) => new Date(Date.UTC(2025, 0, n));

const cli = (args: string[]) =>
  runCli(['audit', ...args], { cwd, env: { DATABASE_URL: `sqlite:${database}` } });

async function withStore<T>(work: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore(openSqlite(database));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  requireBuiltCli();
  cwd = makeTempDir();
  database = path.join(cwd, 'audit.db');
  await withStore(async (store) => {
    for (let n = 1; n <= 10; n++) await store.appendAudit(newAudit({ at: day(n), outcome: `day-${n}` }));
  });
});

afterAll(removeTempDirs);

describe('atlassian-iam audit prune', () => {
  it('needs --before, and refuses a time in the future, changing nothing', async () => {
    const missing = await cli(['prune']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('audit prune needs --before');
    const future = await cli(['prune', '--before', '2999-01-01']);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('is in the future');
    expect(await withStore((s) => s.listAudit({ limit: 100 }))).toHaveLength(10);
  });

  it('counts on a dry run, reminds to export, and removes nothing', async () => {
    const run = await cli(['prune', '--before', '2025-01-04', '--dry-run']);
    expect({ code: run.code, run: describeRun(run) }).toMatchObject({ code: 0 });
    expect(run.stdout).toBe(
      '3 audit entries are older than 2025-01-04T00:00:00.000Z; nothing was removed (dry run).\n',
    );
    expect(run.stderr).toContain('export them first: atlassian-iam audit --before 2025-01-04T00:00:00.000Z');
    expect(await withStore((s) => s.listAudit({ limit: 100 }))).toHaveLength(10);
  });

  it('a dry run names the absolute cut-off for the prune too, so a relative one cannot take more than was exported', async () => {
    const run = await cli(['prune', '--before', '2025-01-04', '--dry-run']);
    expect(run.stderr).toContain('then prune with the same cut-off');
    expect(run.stderr).toContain('atlassian-iam audit prune --before 2025-01-04T00:00:00.000Z');
  });

  it('an export whose entries hold the value of a configured secret masks it and says so on stderr', async () => {
    const run = await runCli(['audit', '--csv'], {
      cwd,
      env: {
        DATABASE_URL: `sqlite:${database}`,
        ATLASSIAN_ACCESS_TOKEN: 'example',
        ATLASSIAN_DIRECTORY_ID: 'dir-prune',
      },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('jane@[REDACTED].com');
    expect(run.stdout).not.toContain('example');
    expect(run.stderr).toContain('contain the value of a configured secret');
    const plain = await cli(['--csv']);
    expect(plain.stderr).not.toContain('configured secret');
  });

  it('the reminded export reads exactly the entries a prune would remove', async () => {
    const run = await cli(['--before', '2025-01-04', '--json']);
    expect(run.code).toBe(0);
    const outcomes = (JSON.parse(run.stdout) as { outcome: string }[]).map((e) => e.outcome);
    expect(outcomes).toEqual(['day-3', 'day-2', 'day-1']);
  });

  it('never removes the last day: --before 6m (minutes, not months) is refused, changing nothing', async () => {
    for (const recent of ['6m', '23h', '90s']) {
      const run = await cli(['prune', '--before', recent]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('audit prune never removes the last day');
    }
    expect((await cli(['prune', '--before', '6m'])).stderr).toContain('for months give days');
    expect(await withStore((s) => s.listAudit({ limit: 100 }))).toHaveLength(10);
  });

  it('removes the older entries and records the prune, before and after', async () => {
    const run = await cli(['prune', '--before', '2025-01-04']);
    expect({ code: run.code, run: describeRun(run) }).toMatchObject({ code: 0 });
    expect(run.stdout).toBe('Removed 3 audit entries older than 2025-01-04T00:00:00.000Z.\n');
    const left = await withStore((s) => s.listAudit({ limit: 100 }));
    expect(left.filter((e) => e.outcome.startsWith('day-')).map((e) => e.outcome)).toEqual([
      'day-10',
      'day-9',
      'day-8',
      'day-7',
      'day-6',
      'day-5',
      'day-4',
    ]);
    const prunes = left.filter((e) => e.command === 'audit-prune');
    expect(prunes.map((e) => [e.kind, e.outcome, e.source, e.detail])).toEqual([
      ['result', 'success', 'cli', { before: '2025-01-04T00:00:00.000Z', removed: 3 }],
      ['command', 'received', 'cli', { before: '2025-01-04T00:00:00.000Z' }],
    ]);
    expect(prunes[0]?.actor).toMatch(/^cli:/);
  });
});

describe('the export a prune reminds of, beyond one page (--all)', () => {
  const ENTRIES = 12_345;
  let big: string;
  const exportCli = (args: string[]) =>
    runCli(['audit', ...args], { cwd, env: { DATABASE_URL: `sqlite:${big}` } });

  beforeAll(async () => {
    big = path.join(cwd, 'big.db');
    const db = openSqlite(big);
    await new SqliteStore(db).close(); // creates the schema
    const raw = openSqlite(big);
    // All at one time, as a burst from one instance: a --before cutoff cannot page through them.
    const insert = raw.prepare(
      `INSERT INTO audit_log (at, actor, source, kind, command, target, outcome, request_id, detail)
       VALUES ('2020-01-01T00:00:00.000Z', 'U1', 'slack', 'result', 'iam-disable-user', ?, 'success', NULL, NULL)`,
    );
    raw.transaction(() => {
      for (let i = 0; i < ENTRIES; i++) insert.run(`user${i}@example.com`);
    })();
    raw.close();
  });

  it('the dry run names an export that holds every entry the prune would remove', async () => {
    const dry = await exportCli(['prune', '--before', '2021-01-01', '--dry-run']);
    expect(dry.stdout).toContain(`${ENTRIES} audit entries are older than`);
    const hint = /export them first: atlassian-iam audit (.*) > audit-before\.csv/.exec(dry.stderr);
    expect(hint).not.toBeNull();
    const exported = await exportCli(hint![1].split(' '));
    expect({ code: exported.code, run: describeRun(exported) }).toMatchObject({ code: 0 });
    const lines = exported.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,at,actor,source,kind,command,target,outcome,request_id,detail');
    const ids = new Set(lines.slice(1).map((line) => line.split(',')[0]));
    expect(ids.size).toBe(ENTRIES);
    expect(lines).toHaveLength(ENTRIES + 1);
    expect(exported.stderr).toContain(`${ENTRIES} audit entries written`);
  });

  it('--all --json is one JSON array of every entry; --all needs --csv or --json and excludes --limit', async () => {
    const json = await exportCli(['--all', '--json']);
    expect(json.code).toBe(0);
    const entries = JSON.parse(json.stdout) as { id: number }[];
    expect(new Set(entries.map((e) => e.id)).size).toBe(ENTRIES);
    const table = await exportCli(['--all']);
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('--all is for exports: add --csv or --json');
    const both = await exportCli(['--all', '--csv', '--limit', '5']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('choose one of --all and --limit');
  });
});
