/**
 * PostgresStore: the shared store contract (including exactly-once decisions and claims across two
 * pools), then what only a shared server has to prove — migrations raced by instances starting together.
 * Every test works in a fresh schema, dropped afterwards. Needs TEST_DATABASE_URL (skipped otherwise).
 */
import type { Client } from 'pg';
import { openStore } from '../../src/store';
import { MIGRATIONS, PostgresStore, migrate } from '../../src/store/postgres-store';
import { dropSchema, uniqueName, withClient, withPostgres } from '../support/postgres';
import { at, describeStoreContract, newApproval, newAudit } from './contract';

withPostgres((url) => {
  let schema: string;

  describeStoreContract('PostgreSQL (fresh schema)', {
    makeStore: async () => {
      schema = uniqueName('iam_test');
      return PostgresStore.open(url, { schema });
    },
    openAgain: () => PostgresStore.open(url, { schema }),
    refuseAuditRows: () =>
      withClient(url, async (client) => {
        // NOT VALID: the rows already there stay; every new one fails the check.
        await client.query(
          `ALTER TABLE ${schema}.audit_log ADD CONSTRAINT refuse_rows CHECK (false) NOT VALID`,
        );
      }),
    cleanup: () => dropSchema(url, schema),
  });

  describe('PostgresStore on a shared server', () => {
    const open: PostgresStore[] = [];
    const store = async (): Promise<PostgresStore> => {
      const s = await PostgresStore.open(url, { schema });
      open.push(s);
      return s;
    };
    /** One connection whose search_path is the test's schema. */
    const inSchema = <T>(work: (client: Client) => Promise<T>) =>
      withClient(url, async (client) => {
        await client.query(`SET search_path TO ${schema}`);
        return work(client);
      });
    const migrationRows = () =>
      inSchema(async (c) =>
        (
          await c.query<{ version: number; n: string }>(
            'SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
          )
        ).rows.map((r) => [r.version, Number(r.n)]),
      );

    /** The test's schema with only its first `count` migrations applied, as an older release left it. */
    const schemaAt = async (c: Client, count: number) => {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await c.query(`SET search_path TO ${schema}`);
      await c.query(
        'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      for (const [i, sql] of MIGRATIONS.slice(0, count).entries()) {
        await c.query(sql);
        await c.query('INSERT INTO schema_migrations VALUES ($1, now())', [i + 1]);
      }
    };

    beforeEach(() => {
      schema = uniqueName('iam_test');
    });

    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await dropSchema(url, schema);
    });

    it('reads a request stored before migration 3 as a disable, and can end it as failed', async () => {
      await inSchema(async (c) => {
        await schemaAt(c, 2);
        await c.query(
          `INSERT INTO approvals (id, requester_id, channel_id, profile, target, status, created_at, expires_at)
           VALUES ('old', 'U1', 'C1', '{"id":"u1"}', 'ann@example.com', 'pending', $1, $2)`,
          [at(0), at(60)],
        );
      });
      const migrated = await store();
      expect(await migrated.getApproval('old')).toMatchObject({ action: 'disable', profile: { id: 'u1' } });
      expect(await migrated.failApproval('old', 'broken')).toMatchObject({ status: 'failed' });
    });

    it('migrates two open schedules of one user stored before the one-open rule: both kept, the oldest guards the user (task D)', async () => {
      await inSchema(async (c) => {
        // Found by what it does, not by number: versions are renumbered when work is merged.
        await schemaAt(
          c,
          MIGRATIONS.findIndex((sql) => sql.includes('open_key')),
        );
        for (const [id, minutes] of [
          ['older', 0],
          ['newer', 1],
        ] as const) {
          await c.query(
            `INSERT INTO approvals (id, requester_id, channel_id, profile, target, status, created_at, expires_at, scheduled_at)
             VALUES ($1, 'cli:admin', '', '{"id":"u1"}', 'ann@example.com', 'approved', $2, $3, $3)`,
            [id, at(minutes), at(60 + minutes)],
          );
        }
      });
      const migrated = await store();
      expect((await migrated.listScheduled()).map((r) => r.id)).toEqual(['older', 'newer']);
      const third = newApproval({ profile: { id: 'u1' }, schedule: { at: at(80), zone: 'UTC' } });
      await expect(migrated.createApproval(third)).rejects.toMatchObject({ existing: { id: 'older' } });
      await migrated.failApproval('older', 'cancelled by hand');
      // The newer one was stored before the rule and holds no key: a new schedule is taken.
      await expect(migrated.createApproval(third)).resolves.toMatchObject({ status: 'pending' });
    });

    it('applies each migration once; a second start applies nothing', async () => {
      const first = await store();
      await first.close();
      await store();
      expect(await migrationRows()).toEqual(MIGRATIONS.map((_, i) => [i + 1, 1]));
      expect(await inSchema((c) => migrate(c, schema))).toEqual([]);
    });

    it('two instances starting together on an empty schema both work, each version recorded once', async () => {
      const [a, b, c] = await Promise.all([store(), store(), store()]);
      expect(await migrationRows()).toEqual(MIGRATIONS.map((_, i) => [i + 1, 1]));
      const request = newApproval();
      await a.createApproval(request);
      expect(await b.decideApproval(request.id, 'approved', 'U0APPROVER', at(1))).not.toBeNull();
      expect(await c.getApproval(request.id)).toMatchObject({ status: 'approved', decidedBy: 'U0APPROVER' });
      const entry = await c.appendAudit(newAudit());
      expect(await a.listAudit()).toEqual([entry]);
    });

    it('keeps times as timestamptz and JSON as json', async () => {
      await store();
      const types = await inSchema(async (c) =>
        Object.fromEntries(
          (
            await c.query<{ column_name: string; data_type: string }>(
              `SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = $1 AND table_name = 'approvals'`,
              [schema],
            )
          ).rows.map((r) => [r.column_name, r.data_type]),
        ),
      );
      expect(types).toMatchObject({
        created_at: 'timestamp with time zone',
        expires_at: 'timestamp with time zone',
        decided_at: 'timestamp with time zone',
        claimed_until: 'timestamp with time zone',
        profile: 'json',
        result: 'json',
      });
    });

    it('refuses a database whose schema is newer than it knows', async () => {
      await store();
      await inSchema((c) =>
        c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
          MIGRATIONS.length + 1,
        ]),
      );
      await expect(PostgresStore.open(url, { schema })).rejects.toThrow(
        /^PostgreSQL \(DATABASE_URL\): The database schema is version \d+, newer than this program supports/,
      );
    });

    it('refuses a schema name it would have to quote', async () => {
      await expect(PostgresStore.open(url, { schema: 'Robert"; DROP TABLE x; --' })).rejects.toThrow(
        /schema name/,
      );
    });
  });

  describe('errors', () => {
    it('never shows the password: a missing database is named, the URL and password are not', async () => {
      const target = new URL(url);
      target.password = 'pw-SECRET-4711';
      target.pathname = `/${uniqueName('iam_missing')}`;
      const failure = openStore({ kind: 'postgres', url: target.toString() });
      await expect(failure).rejects.toThrow(
        /^PostgreSQL \(DATABASE_URL\): database "iam_missing_\w+" does not exist/,
      );
      await expect(failure).rejects.not.toThrow(/pw-SECRET-4711|postgres:\/\//);
    });

    it('on the database clock, expiry, decisions, leases and audit times come from the server, whatever the caller passes (issue 11: one clock)', async () => {
      schema = uniqueName('iam_test');
      const s = await PostgresStore.open(url, { schema, clock: 'database' });
      const serverNow = () =>
        withClient(url, async (c) => (await c.query<{ now: Date }>('SELECT now() AS now')).rows[0].now);
      try {
        const before = await serverNow();
        // The caller's clock says 2030 (an instance far off): every time below is the server's instead.
        const request = await s.createApproval(newApproval({ createdAt: at(0), expiresAt: at(5) }));
        const after = await serverNow();
        expect(request.createdAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
        expect(request.createdAt.getTime()).toBeLessThanOrEqual(after.getTime());
        expect(request.expiresAt.getTime() - request.createdAt.getTime()).toBe(5 * 60_000);
        // A caller 4 minutes (or years) fast expires nothing early.
        expect(await s.expireApprovals(at(10))).toEqual([]);
        const decided = await s.decideApproval(request.id, 'approved', 'U0APPROVER', at(10), newAudit());
        expect(decided?.decidedAt?.getTime()).toBeGreaterThanOrEqual(before.getTime());
        expect(decided?.decidedAt?.getTime()).toBeLessThan(request.expiresAt.getTime());
        // A lease taken now runs 2 minutes by the server's clock: a caller far ahead cannot take it over.
        expect(await s.claimApproval(request.id, at(0), 120_000, 'host/1/a')).not.toBeNull();
        expect(await s.claimApproval(request.id, at(10), 120_000, 'host/2/b')).toBeNull();
        expect(await s.renewClaim(request.id, 'host/1/a', at(20), 120_000)).toBe(true);
        expect(await s.claimApproval(request.id, at(30), 120_000, 'host/2/b')).toBeNull();
        const row = await s.appendAudit(newAudit({ at: at(99) }));
        expect(row.at.getTime()).toBeGreaterThanOrEqual(before.getTime());
        expect(row.at.getTime()).toBeLessThanOrEqual((await serverNow()).getTime());
        // Replicas read the server's time to follow it (src/store/database-clock.ts).
        const told = (await s.databaseTime())!.getTime();
        expect(told).toBeGreaterThanOrEqual(row.at.getTime());
        expect(told).toBeLessThanOrEqual((await serverNow()).getTime());
      } finally {
        await s.close();
        await dropSchema(url, schema);
      }
    });

    it('on the database clock, follow-ups fall due and are marked sent by the server clock', async () => {
      schema = uniqueName('iam_test');
      const s = await PostgresStore.open(url, { schema, clock: 'database' });
      try {
        const request = await s.createApproval(newApproval({ createdAt: at(0), expiresAt: at(60) }));
        const created = request.createdAt.getTime();
        const followUp = { requestId: request.id, kind: 'remind', notify: ['U0APPROVER'] } as const;
        await s.addFollowUps([
          { ...followUp, n: 1, dueAt: new Date(created) },
          { ...followUp, n: 2, dueAt: new Date(created + 30 * 60_000) },
        ]);
        // The caller's clock says 2030: only what is due by the server's clock is handed out.
        const claimed = await s.claimDueFollowUps(at(59), 'host/1/a', 10);
        expect(claimed.map((f) => f.n)).toEqual([1]);
        expect(claimed[0].sentAt.getTime()).toBeGreaterThanOrEqual(created);
        expect(claimed[0].sentAt.getTime()).toBeLessThan(created + 60_000);
      } finally {
        await s.close();
        await dropSchema(url, schema);
      }
    });

    it('reports a duplicate id and a bad limit as its own errors', async () => {
      schema = uniqueName('iam_test');
      const s = await PostgresStore.open(url, { schema });
      try {
        await expect(s.listAudit({ limit: -1 })).rejects.toThrow(RangeError);
        await s.createApproval(newApproval({ id: 'dup' }));
        await expect(s.createApproval(newApproval({ id: 'dup' }))).rejects.toThrow(
          'An approval request with id dup already exists.',
        );
      } finally {
        await s.close();
        await dropSchema(url, schema);
      }
    });
  });
});
