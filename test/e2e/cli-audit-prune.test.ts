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

  it('the reminded export reads exactly the entries a prune would remove', async () => {
    const run = await cli(['--before', '2025-01-04', '--json']);
    expect(run.code).toBe(0);
    const outcomes = (JSON.parse(run.stdout) as { outcome: string }[]).map((e) => e.outcome);
    expect(outcomes).toEqual(['day-3', 'day-2', 'day-1']);
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
