/**
 * PostgresStore: the shared store contract, then what only a shared server has to prove — migrations
 * raced by instances starting together, and exactly-once decisions and claims across separate pools.
 * Every test works in a fresh schema, dropped afterwards. Needs TEST_DATABASE_URL (skipped otherwise).
 */
import type { Client } from 'pg';
import { openStore } from '../../src/store';
import { MIGRATIONS, PostgresStore, migrate } from '../../src/store/postgres-store';
import { dropSchema, uniqueName, withClient, withPostgres } from '../support/postgres';
import { at, describeStoreContract, newApproval, newAudit } from './contract';

withPostgres((url) => {
  let schema: string;

  describeStoreContract(
    'PostgreSQL (fresh schema)',
    async () => {
      schema = uniqueName('iam_test');
      return PostgresStore.open(url, { schema });
    },
    () => dropSchema(url, schema),
  );

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

    beforeEach(() => {
      schema = uniqueName('iam_test');
    });

    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await dropSchema(url, schema);
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

    it('loses nothing across a restart (close and reopen)', async () => {
      const before = await store();
      const pending = newApproval({ createdAt: at(1) });
      const approved = newApproval({ createdAt: at(2) });
      for (const r of [pending, approved]) await before.createApproval(r);
      await before.setApprovalMessage(pending.id, 'C0CHANNEL', '1712345678.000200');
      await before.decideApproval(approved.id, 'approved', 'U0APPROVER', at(4));
      const entry = await before.appendAudit(newAudit({ detail: { note: 'before restart ✓' } }));
      const snapshot = await Promise.all([pending, approved].map((r) => before.getApproval(r.id)));
      await before.close();
      await before.close(); // a second close is harmless

      const after = await store();
      expect(await Promise.all([pending, approved].map((r) => after.getApproval(r.id)))).toEqual(snapshot);
      expect((await after.listPendingApprovals()).map((r) => r.id)).toEqual([pending.id]);
      expect((await after.listApprovedIncomplete()).map((r) => r.id)).toEqual([approved.id]);
      expect(await after.listAudit()).toEqual([entry]);
      expect((await after.appendAudit(newAudit())).id).toBeGreaterThan(entry.id);
    });

    it('decides each of 30 requests exactly once across two pools', async () => {
      const a = await store();
      const b = await store();
      const requests = Array.from({ length: 30 }, (_, i) => newApproval({ createdAt: at(i) }));
      for (const r of requests) await a.createApproval(r);
      const results = await Promise.all(
        requests.flatMap((r) => [
          a.decideApproval(r.id, 'approved', 'U0ALICE', at(40)),
          b.decideApproval(r.id, 'denied', 'U0BOB', at(40)),
        ]),
      );
      for (let i = 0; i < requests.length; i++) {
        const pair = results.slice(2 * i, 2 * i + 2).filter((r) => r !== null);
        expect(pair).toHaveLength(1);
        expect(await b.getApproval(requests[i].id)).toMatchObject({
          status: pair[0]?.status,
          decidedBy: pair[0]?.decidedBy,
        });
      }
      expect(await a.listApprovedIncomplete()).toEqual(await b.listApprovedIncomplete());
    });

    it('gives each claim to one pool only, and completes once', async () => {
      const a = await store();
      const b = await store();
      const requests = Array.from({ length: 20 }, (_, i) => newApproval({ createdAt: at(i) }));
      for (const r of requests) {
        await a.createApproval(r);
        await a.decideApproval(r.id, 'approved', 'U0APPROVER', at(30));
      }
      const claims = await Promise.all(
        requests.flatMap((r) => [
          a.claimApproval(r.id, at(31), 60_000),
          b.claimApproval(r.id, at(31), 60_000),
          a.claimApproval(r.id, at(31), 60_000),
          b.claimApproval(r.id, at(31), 60_000),
        ]),
      );
      for (let i = 0; i < requests.length; i++) {
        expect(claims.slice(4 * i, 4 * i + 4).filter((c) => c !== null)).toHaveLength(1);
      }
      // The lease runs out: another instance may take over, once.
      const later = new Date(at(31).getTime() + 60_000);
      const takeovers = await Promise.all(
        requests.flatMap((r) => [a.claimApproval(r.id, later, 60_000), b.claimApproval(r.id, later, 60_000)]),
      );
      expect(takeovers.filter((c) => c !== null)).toHaveLength(requests.length);
      const completions = await Promise.all(
        requests.flatMap((r) => [
          a.completeApproval(r.id, { by: 'a' }),
          b.completeApproval(r.id, { by: 'b' }),
        ]),
      );
      expect(completions.filter(Boolean)).toHaveLength(requests.length);
    });

    it('hands each expired request to one pool only', async () => {
      const [a, b] = await Promise.all([store(), store()]);
      const requests = Array.from({ length: 40 }, (_, i) =>
        newApproval({ createdAt: at(i), expiresAt: at(50 + (i % 5)) }),
      );
      for (const r of requests) await a.createApproval(r);
      const batches = await Promise.all(
        [50, 51, 52, 53, 54, 54].flatMap((m) => [a.expireApprovals(at(m)), b.expireApprovals(at(m))]),
      );
      const ids = batches.flat().map((r) => r.id);
      expect(ids.sort()).toEqual(requests.map((r) => r.id).sort());
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
