import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteStore, openStore } from '../../src/store';
import { openSqlite } from '../../src/store/sqlite';
import { MIGRATIONS } from '../../src/store/sqlite-store';
import { fillUntilFull, unstoredClaims } from '../support/full-sqlite';
import { at, describeStoreContract, newApproval } from './contract';

let dir: string;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'store-'));
const openAt = (file: string): SqliteStore => new SqliteStore(openSqlite(file));

describeStoreContract('SQLite (temporary file)', {
  makeStore: async () => {
    dir = tmp();
    return openAt(join(dir, 'iam.db'));
  },
  openAgain: async () => openAt(join(dir, 'iam.db')),
  refuseAuditRows: async () => {
    const db = openSqlite(join(dir, 'iam.db'));
    db.exec(
      `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`,
    );
    db.close();
  },
  cleanup: () => rmSync(dir, { recursive: true, force: true }),
});

describe('SqliteStore on a file', () => {
  let file: string;
  const open: SqliteStore[] = [];
  const store = (): SqliteStore => {
    const s = openAt(file);
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = tmp();
    file = join(dir, 'data', 'iam.db');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The database file with only its first `count` migrations applied, as an older release left it. */
  const databaseAt = (count: number) => {
    mkdirSync(join(dir, 'data'));
    const db = openSqlite(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)');
    MIGRATIONS.slice(0, count).forEach((sql, i) => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(i + 1, new Date().toISOString());
    });
    return db;
  };

  it('applies each migration once, however often and however many connections open the file', async () => {
    const first = store();
    await first.close();
    store();
    store();
    const db = openSqlite(file);
    try {
      const rows = db
        .prepare<[], { version: number; n: number; applied_at: string }>(
          'SELECT version, COUNT(*) AS n, MIN(applied_at) AS applied_at FROM schema_migrations GROUP BY version ORDER BY version',
        )
        .all();
      expect(rows.map((r) => [r.version, r.n])).toEqual(MIGRATIONS.map((_, i) => [i + 1, 1]));
      for (const r of rows) expect(new Date(r.applied_at).toISOString()).toBe(r.applied_at);
      const tables = db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['approvals', 'audit_log', 'schema_migrations']));
    } finally {
      db.close();
    }
  });

  it('reads a request stored before migration 4 as a disable, and can end it as failed', async () => {
    const db = databaseAt(3);
    db.prepare(
      `INSERT INTO approvals (id, requester_id, channel_id, profile, target, reason, status, created_at, expires_at,
         decided_by, decided_at, claimed_until, claimed_by)
       VALUES ('old', 'U1', 'C1', '{"id":"u1"}', 'ann@example.com', NULL, 'approved', ?, ?, 'U2', ?, ?, 'h/1/b')`,
    ).run(at(0).toISOString(), at(60).toISOString(), at(1).toISOString(), at(2).toISOString());
    db.close();
    const migrated = store();
    expect(await migrated.getApproval('old')).toMatchObject({
      action: 'disable',
      status: 'approved',
      profile: { id: 'u1' },
      decidedBy: 'U2',
      claimedBy: 'h/1/b',
    });
    expect(await migrated.failApproval('old', 'broken')).toMatchObject({ status: 'failed' });
  });

  it('migrates two open schedules of one user stored before the one-open rule: both kept, the oldest guards the user (task D)', async () => {
    // Found by what it does, not by number: versions are renumbered when work is merged.
    const db = databaseAt(MIGRATIONS.findIndex((sql) => sql.includes('open_key')));
    const insert = db.prepare(
      `INSERT INTO approvals (id, requester_id, channel_id, profile, target, status, created_at, expires_at, scheduled_at)
       VALUES (?, 'cli:admin', '', '{"id":"u1"}', 'ann@example.com', 'approved', ?, ?, ?)`,
    );
    insert.run('older', at(0).toISOString(), at(60).toISOString(), at(60).toISOString());
    insert.run('newer', at(1).toISOString(), at(70).toISOString(), at(70).toISOString());
    db.close();
    const migrated = store();
    expect((await migrated.listScheduled()).map((r) => r.id)).toEqual(['older', 'newer']);
    const third = newApproval({ profile: { id: 'u1' }, schedule: { at: at(80), zone: 'UTC' } });
    await expect(migrated.createApproval(third)).rejects.toMatchObject({ existing: { id: 'older' } });
    await migrated.failApproval('older', 'cancelled by hand');
    // The newer one was stored before the rule and holds no key: a new schedule is taken.
    await expect(migrated.createApproval(third)).resolves.toMatchObject({ status: 'pending' });
  });

  it('keeps the action and every other column of requests stored before grants existed', async () => {
    // Found by what it does, not by number: versions are renumbered when work is merged.
    const grants = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE grants'));
    const db = databaseAt(grants);
    db.prepare(
      `INSERT INTO approvals (id, requester_id, channel_id, team_id, profile, target, status, action,
         created_at, expires_at, scheduled_at, schedule_zone, attempts, last_error)
       VALUES ('old', 'U1', 'C1', 'T1', '{"id":"u1"}', 'ann@example.com', 'pending', 'enable', ?, ?, ?,
         'UTC', 2, 'busy')`,
    ).run(at(0).toISOString(), at(60).toISOString(), at(30).toISOString());
    db.close();
    expect(await store().getApproval('old')).toMatchObject({
      action: 'enable',
      teamId: 'T1',
      profile: { id: 'u1' },
      scheduledAt: at(30),
      scheduleZone: 'UTC',
      attempts: 2,
      lastError: 'busy',
    });
  });

  it('refuses a database whose schema is newer than it knows', () => {
    store();
    const db = openSqlite(file);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
      MIGRATIONS.length + 1,
      new Date().toISOString(),
    );
    db.close();
    expect(() => openAt(file)).toThrow(/newer than this program supports/);
  });

  it('closes its database', async () => {
    const s = openAt(file);
    await s.close();
    await expect(s.getApproval('x')).rejects.toThrow(/not open/);
  });
});

describe('openStore', () => {
  beforeEach(() => {
    dir = tmp();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a SQLite store, creating the parent directory', async () => {
    const s = await openStore({ kind: 'sqlite', path: join(dir, 'nested', 'iam.db') });
    try {
      expect(s).toBeInstanceOf(SqliteStore);
      expect(existsSync(join(dir, 'nested', 'iam.db'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('reports a PostgreSQL server it cannot reach without echoing the URL, its password or host', async () => {
    // Port 1 on loopback: refused at once, no server needed.
    const url = 'postgres://iam:s3cret-pw@127.0.0.1:1/iam';
    const failure = openStore({ kind: 'postgres', url });
    await expect(failure).rejects.toThrow(/^PostgreSQL \(DATABASE_URL\): .*refused the connection/);
    await expect(failure).rejects.not.toThrow(/s3cret|127\.0\.0\.1|iam@|:1\b/);
  });
});

/**
 * Two real processes race on one file. They load the compiled store (`npm run build`), so the test is
 * skipped when dist/store/sqlite-store.js is missing.
 */
const DIST = resolve(__dirname, '../../dist/store');
const distBuilt = existsSync(join(DIST, 'sqlite-store.js'));
const describeIfBuilt = distBuilt ? describe : describe.skip;
if (!distBuilt) {
  console.warn(
    'Skipping the two-process SqliteStore test: dist/store/sqlite-store.js is missing (run npm run build).',
  );
}

const RACER = `
const { SqliteStore } = require(process.env.DIST + '/sqlite-store.js');
const { openSqlite } = require(process.env.DIST + '/sqlite.js');
const [file, decideAt, expireFrom, idsJson, decider] = process.argv.slice(2);
// Each process takes the requests in its own random order, pausing now and then, so the two overlap.
const ids = JSON.parse(idsJson).sort(() => Math.random() - 0.5);
const pause = () => new Promise((resolve) => setTimeout(resolve, 1));
const store = new SqliteStore(openSqlite(file));
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  const won = [];
  const expired = [];
  const now = new Date(decideAt);
  for (let i = 0; i < ids.length; i++) {
    if (await store.decideApproval(ids[i], i % 2 ? 'denied' : 'approved', decider, now)) won.push(ids[i]);
    // The expiry clock advances a minute a step, so both processes compete for the newly due requests.
    const later = new Date(Date.parse(expireFrom) + i * 60000);
    for (const r of await store.expireApprovals(later)) expired.push(r.id);
    if (i % 10 === 0) await pause();
  }
  for (const r of await store.expireApprovals(now)) expired.push(r.id);
  await store.close();
  process.stdout.write(JSON.stringify({ won, expired }) + '\\n');
  process.stdin.destroy();
});
`;

interface RaceResult {
  won: string[];
  expired: string[];
}

function race(
  script: string,
  args: string[],
): { ready: Promise<void>; go: () => void; done: Promise<RaceResult> } {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, DIST } });
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((res) => (markReady = res));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<RaceResult>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`racer exited with ${code}: ${err}`));
      res(JSON.parse(out.slice('ready\n'.length)) as RaceResult);
    });
  });
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describeIfBuilt('SqliteStore across processes', () => {
  beforeEach(() => {
    dir = tmp();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('two processes deciding and expiring the same requests: each is taken exactly once', async () => {
    const file = join(dir, 'iam.db');
    const script = join(dir, 'racer.js');
    writeFileSync(script, RACER);
    const setup = openAt(file);
    const toDecide = Array.from({ length: 200 }, (_, i) =>
      newApproval({ createdAt: at(i), expiresAt: at(1000) }),
    );
    const toExpire = Array.from({ length: 50 }, (_, i) =>
      newApproval({ createdAt: at(i), expiresAt: at(100 + 3 * i) }),
    );
    for (const r of [...toDecide, ...toExpire]) await setup.createApproval(r);
    await setup.close();

    const ids = JSON.stringify(toDecide.map((r) => r.id));
    const racers = ['U0PROC1', 'U0PROC2'].map((who) =>
      race(script, [file, at(500).toISOString(), at(100).toISOString(), ids, who]),
    );
    await Promise.all(racers.map((r) => r.ready));
    racers.forEach((r) => r.go());
    const [one, two] = await Promise.all(racers.map((r) => r.done));

    const won = [...one.won, ...two.won];
    expect(won.sort()).toEqual(toDecide.map((r) => r.id).sort());
    const expired = [...one.expired, ...two.expired];
    expect(expired.sort()).toEqual(toExpire.map((r) => r.id).sort());

    const check = openAt(file);
    try {
      expect(await check.listPendingApprovals()).toEqual([]);
      for (const r of toDecide) {
        const decidedBy = (await check.getApproval(r.id))?.decidedBy;
        expect(decidedBy).toBe(one.won.includes(r.id) ? 'U0PROC1' : 'U0PROC2');
      }
    } finally {
      await check.close();
    }
  });
});

/** issue 11 finding 1 (see test/support/full-sqlite.ts). */
describeIfBuilt('SqliteStore on a full disk', () => {
  beforeEach(() => {
    dir = tmp();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('full SQLite database: every write failure is reported and nothing is claimed that was not stored', async () => {
    const file = join(dir, 'iam.db');
    const outcome = fillUntilFull(dir, file);
    const { claimed, failures, silent, attempts } = outcome;
    expect(silent).toBe(0);
    const succeeded = claimed.audit.length + claimed.approvals.length + claimed.decided.length;
    expect(failures).toBeGreaterThan(attempts / 2);
    expect(succeeded + failures).toBe(attempts);
    expect(await unstoredClaims(file, outcome)).toBe(0);
    const check = openAt(file);
    try {
      expect((await check.listAudit({ limit: 10_000 })).length).toBe(claimed.audit.length);
      expect((await check.listPendingApprovals()).length + claimed.decided.length).toBe(
        claimed.approvals.length,
      );
    } finally {
      await check.close();
    }
  });
});
