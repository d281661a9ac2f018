/**
 * Every database call is bounded: a PostgreSQL that stops answering (paused, or a silent network) fails
 * the call after the statement timeout instead of holding the command, and a SIGTERM behind it, forever.
 */
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY, PostgresStore } from '../../src/store/postgres-store';
import { dropSchema, uniqueName, withPostgres } from '../support/postgres';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

withPostgres((url) => {
  describe('PostgreSQL store behind a connection that goes silent', () => {
    let proxy: TcpProxy;
    let store: PostgresStore;
    const schema = uniqueName('iam_timeouts');

    beforeAll(async () => {
      const target = new URL(url);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxied = new URL(url);
      proxied.host = `127.0.0.1:${proxy.port}`;
      store = await PostgresStore.open(proxied.toString(), { schema, statementTimeoutMs: 300 });
    });

    afterAll(async () => {
      await store.close().catch(() => undefined);
      await proxy.close();
      await dropSchema(url, schema);
    });

    it('fails a call within the timeout while the server is silent, and works again once it answers', async () => {
      await store.listAudit();
      proxy.pause();
      const started = Date.now();
      await expect(store.listAudit()).rejects.toThrow(/PostgreSQL/);
      expect(Date.now() - started).toBeLessThan(10_000);
      proxy.resume();
      proxy.cut();
      await expect(store.listAudit()).resolves.toEqual([]);
    });
  });

  it('a start waits for another instance migrating longer than one statement may take, then migrates', async () => {
    const schema = uniqueName('iam_waits');
    const holder = new Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    // 300 ms per statement for commands; the other instance holds the migration lock for 1 s.
    const opening = PostgresStore.open(url, { schema, statementTimeoutMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await holder.query('COMMIT');
    await holder.end();
    const store = await opening;
    try {
      await expect(store.listAudit()).resolves.toEqual([]);
    } finally {
      await store.close();
      await dropSchema(url, schema);
    }
  });
});
