/**
 * Issue 14's whole-process test: two bot processes (dist/index.js) on one PostgreSQL database, 200
 * approved scheduled disables falling due within the same minute (half spread over 10 s, half at once). Each is carried out exactly once
 * (one PATCH per user), none more than 10 s late, and one instance SIGKILLed mid-way loses none: the
 * other takes over what it had claimed. Lateness figures are printed for docs/PERFORMANCE.md.
 * Needs TEST_DATABASE_URL.
 */
import { withPostgres } from '../support/postgres';
import { DUE, dueAt, killInTheBurst, percentile, twoBotsOnPostgres, waitForCount } from '../support/two-bots';
import { SCHEDULED_BATCH } from '../../src/handlers/scheduled';
import { PostgresStore } from '../../src/store/postgres-store';

const COUNT = 200;

jest.setTimeout(120_000);

withPostgres((testUrl) => {
  const world = twoBotsOnPostgres(testUrl, 'sched-pg');

  it('200 scheduled disables due in the same minute: each once, none over 10 s late, a SIGKILL loses none', async () => {
    const { atlassian, databaseUrl, db } = world;
    const [a, b] = await world.start({ IAM_SCHEDULE_POLL: '5s' });

    // Stored as the CLI's --at stores them (approved ahead), each with a posted card to reply under.
    const store = await PostgresStore.open(databaseUrl);
    const base = Date.now() + DUE.LEAD_MS;
    const users: string[] = [];
    try {
      for (let i = 0; i < COUNT; i++) {
        const email = `leaver${i}@example.com`;
        const id = atlassian.seedUser(email);
        users.push(id);
        const now = new Date();
        const at = dueAt(base, i, COUNT);
        await store.createApproval({
          id: `sched-${i}`,
          action: 'disable',
          requesterId: 'UREQ',
          channelId: 'C1',
          teamId: null,
          enterpriseId: null,
          profile: { id, email, username: email },
          target: email,
          reason: 'last day',
          createdAt: now,
          expiresAt: at,
          schedule: { at, zone: 'UTC' },
          approvedBy: 'cli:admin',
        });
        await store.setApprovalMessage(`sched-${i}`, 'C1', `1700000000.${String(i).padStart(6, '0')}`);
      }
    } finally {
      await store.close();
    }

    // Kill one instance mid-way, while it holds claims.
    const killedAt = await killInTheBurst(a, base);

    const done = async () =>
      Number(
        (await db.query<{ n: string }>("SELECT count(*) AS n FROM approvals WHERE status = 'completed'"))
          .rows[0].n,
      );
    await waitForCount(done, COUNT, base + DUE.BURST_MS + 30_000);
    await new Promise((r) => setTimeout(r, 1_000)); // room for a second disable, were there one

    expect(await done()).toBe(COUNT);
    const patches = new Map<string, number>();
    for (const request of atlassian.server.requests.filter((r) => r.method === 'PATCH')) {
      const id = request.path.split('/').pop() ?? '';
      patches.set(id, (patches.get(id) ?? 0) + 1);
    }
    expect(users.filter((id) => patches.get(id) !== 1)).toEqual([]);

    // Lateness: from each request's time to the audit row of its result (written once it was done).
    const { rows } = await db.query<{ id: string; late_ms: number; actor_pid: string | null }>(
      `SELECT a.id, (EXTRACT(EPOCH FROM (min(l.at) - a.scheduled_at)) * 1000)::float8 AS late_ms, a.claimed_by AS actor_pid
       FROM approvals a JOIN audit_log l ON l.request_id = a.id AND l.command = 'run-scheduled'
       GROUP BY a.id, a.scheduled_at, a.claimed_by`,
    );
    // Known gap (see the report in docs/PERFORMANCE.md): a request the killed instance had completed but
    // not yet reported loses its thread note and audit rows (the disable itself is done, once). At most
    // one claim batch is in that window.
    const unreported = COUNT - rows.length;
    expect(unreported).toBeLessThanOrEqual(SCHEDULED_BATCH);
    const late = rows.map((r) => r.late_ms).sort((x, y) => x - y);
    const figures = {
      p50: Math.round(percentile(late, 50)),
      p99: Math.round(percentile(late, 99)),
      max: Math.round(late[late.length - 1]),
    };
    const byKilled = rows.filter((r) => r.actor_pid?.includes(`/${a.child.pid}/`)).length;
    const runs = Number(
      (await db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE command = 'run-scheduled'"))
        .rows[0].n,
    );
    console.log(
      `scheduled disables: ${COUNT} carried out, lateness ms ${JSON.stringify(figures)}, ` +
        `${byKilled} by the instance killed ${killedAt - base} ms after the first was due, ${runs} run-scheduled rows, ` +
        `${unreported} completed by it but left unreported`,
    );
    expect(figures.max).toBeLessThanOrEqual(DUE.LATE_LIMIT_MS);
    expect(b.child.exitCode).toBeNull();
  });
});
