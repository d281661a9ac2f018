/**
 * Every database call is bounded: a PostgreSQL that stops answering (paused, or a silent network) fails
 * the call after the statement timeout instead of holding the command, and a SIGTERM behind it, forever.
 */
import { PostgresStore } from '../../src/store/postgres-store';
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
});
