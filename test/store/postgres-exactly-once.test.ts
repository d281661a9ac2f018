/**
 * Issue 11: a PostgreSQL write whose backend is terminated (or whose connection is lost) is carried out
 * exactly once or reported as failed: never stored twice, never "not mine" for our own commit. A TCP
 * proxy in front of the server ends one backend the way pg_terminate_backend does, after its work
 * (the reply swallowed, FATAL 57P01 sent instead) or before it. Needs TEST_DATABASE_URL.
 */
import { PostgresStore } from '../../src/store/postgres-store';
import { dropSchema, uniqueName, withClient, withPostgres } from '../support/postgres';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { at, newApproval, newAudit } from './contract';

withPostgres((url) => {
  describe('PostgreSQL writes whose backend is terminated: carried out exactly once', () => {
    let proxy: TcpProxy;
    let store: PostgresStore;
    let schema: string;

    beforeEach(async () => {
      schema = uniqueName('iam_once');
      const target = new URL(url);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432), { postgres: true });
      const proxied = new URL(url);
      proxied.host = `127.0.0.1:${proxy.port}`;
      store = await PostgresStore.open(proxied.toString(), { schema });
    });

    afterEach(async () => {
      await store.close().catch(() => undefined);
      await proxy.close();
      await dropSchema(url, schema);
    });

    /** The rows of `table` in the test's schema, read directly (not through the proxy or the store). */
    const stored = (table: string, columns = '*') =>
      withClient(url, async (c) => (await c.query(`SELECT ${columns} FROM ${schema}.${table}`)).rows);

    it('(1) appendAudit whose INSERT INTO audit_log is terminated after its work: succeeds, one row stored', async () => {
      proxy.terminateAt('INSERT INTO audit_log');
      const entry = await store.appendAudit(newAudit({ actor: 'U0ONCE' }));
      expect(proxy.terminations).toBe(1);
      expect(await stored('audit_log', 'id, actor')).toEqual([{ id: String(entry.id), actor: 'U0ONCE' }]);
    });

    it('(2) a write whose COMMIT is terminated after committing: reports success with its row, one row stored', async () => {
      proxy.terminateAt('COMMIT');
      const entry = await store.appendAudit(newAudit({ actor: 'U0COMMIT' }));
      expect(proxy.terminations).toBe(1);
      expect(entry).toMatchObject({ actor: 'U0COMMIT' });
      expect(await stored('audit_log', 'id, actor')).toEqual([{ id: String(entry.id), actor: 'U0COMMIT' }]);
    });

    it('a write whose COMMIT never reached the server (terminated before it): run again, one row stored', async () => {
      proxy.terminateAt('COMMIT', 'before-work');
      const entry = await store.appendAudit(newAudit({ actor: 'U0AGAIN' }));
      expect(proxy.terminations).toBe(1);
      expect(await stored('audit_log', 'id, actor')).toEqual([{ id: String(entry.id), actor: 'U0AGAIN' }]);
    });

    it('a write whose COMMIT outcome cannot be asked (every txid_status ended too): reported as failed, stored once', async () => {
      proxy.terminateAt('COMMIT');
      // The lookup is a read: sent once and again 6 times, each ended before the server sees it.
      for (let i = 0; i < 7; i += 1) proxy.terminateAt('txid_status', 'before-work');
      await expect(store.appendAudit(newAudit({ actor: 'U0UNKNOWN' }))).rejects.toThrow(
        /lost during COMMIT .*whether the change was stored cannot be told/,
      );
      expect(proxy.terminations).toBe(8);
      expect(await stored('audit_log', 'actor')).toEqual([{ actor: 'U0UNKNOWN' }]);
    });

    describe.each([
      ['the statement', 'INSERT INTO'],
      ['COMMIT', 'COMMIT'],
    ])('(3) terminated after the work of %s', (_, sql) => {
      it('createApproval: stored once and returned', async () => {
        const request = newApproval();
        proxy.terminateAt(sql === 'COMMIT' ? sql : 'INSERT INTO approvals');
        expect(await store.createApproval(request)).toMatchObject({ id: request.id, status: 'pending' });
        expect(proxy.terminations).toBe(1);
        expect(await stored('approvals', 'id, status')).toEqual([{ id: request.id, status: 'pending' }]);
      });

      it('claimTrigger: stored once, and says it is the first', async () => {
        proxy.terminateAt(sql === 'COMMIT' ? sql : 'INSERT INTO slack_triggers');
        expect(await store.claimTrigger('1337.42.trigger', at(0))).toBe(true);
        expect(proxy.terminations).toBe(1);
        expect(await stored('slack_triggers', 'trigger_id')).toEqual([{ trigger_id: '1337.42.trigger' }]);
        expect(await store.claimTrigger('1337.42.trigger', at(1))).toBe(false);
      });
    });

    it.each([['INSERT INTO approval_votes'], ['COMMIT']])(
      '(4) voteApproval (several statements) terminated after the work of %s: carried out once',
      async (sql) => {
        const request = newApproval();
        await store.createApproval(request);
        proxy.terminateAt(sql);
        const vote = await store.voteApproval(request.id, 'U0A', at(1), () =>
          newAudit({ actor: 'U0A', kind: 'decision', command: 'approve', requestId: request.id }),
        );
        expect(proxy.terminations).toBe(1);
        expect(vote).toMatchObject({ counted: true, decided: true, request: { status: 'approved' } });
        expect(await stored('approval_votes', 'request_id, voter_id')).toEqual([
          { request_id: request.id, voter_id: 'U0A' },
        ]);
        expect(await stored('audit_log', 'actor, request_id')).toEqual([
          { actor: 'U0A', request_id: request.id },
        ]);
        expect(await stored('approvals', 'status, decided_by')).toEqual([
          { status: 'approved', decided_by: 'U0A' },
        ]);
      },
    );
  });
});
