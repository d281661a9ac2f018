/**
 * Issue 14's whole-process test: two bot processes (dist/index.js) on one PostgreSQL database, 200
 * approved scheduled disables falling due within the same minute (half spread over 10 s, half at once). Each is carried out exactly once
 * (one PATCH per user), none more than 10 s late, and one instance SIGKILLed mid-way loses none: the
 * other takes over what it had claimed, and announces what it had completed but not announced (issue
 * 11: every result row kept, every thread told). Lateness figures are printed for docs/PERFORMANCE.md.
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

    // Lateness: from each request's time to its result row (written with its completion, in one statement).
    const { rows } = await db.query<{
      id: string;
      late_ms: number;
      results: number;
      actor_pid: string | null;
    }>(
      `SELECT a.id, (EXTRACT(EPOCH FROM (min(l.at) - a.scheduled_at)) * 1000)::float8 AS late_ms,
         count(l.id)::int AS results, a.claimed_by AS actor_pid
       FROM approvals a JOIN audit_log l ON l.request_id = a.id AND l.kind = 'result' AND l.command = 'iam-disable-user'
       GROUP BY a.id, a.scheduled_at, a.claimed_by`,
    );
    // Every result kept, once: a kill cannot fall between the completion and its row.
    expect(rows.filter((r) => r.results === 1)).toHaveLength(COUNT);
    // Every completion announced (run-scheduled row, thread note): what the killed one completed but had
    // not announced, the survivor announces. A kill between a post and its mark repeats that post.
    const unannounced = async () =>
      Number(
        (await db.query<{ n: string }>('SELECT count(*) AS n FROM approvals WHERE unannounced')).rows[0].n,
      );
    const announced = async () => COUNT - (await unannounced());
    await waitForCount(announced, COUNT, base + DUE.BURST_MS + 30_000);
    const { rows: notes } = await db.query<{ id: string; n: number }>(
      `SELECT a.id, count(l.id)::int AS n FROM approvals a
       LEFT JOIN audit_log l ON l.request_id = a.id AND l.command = 'run-scheduled' GROUP BY a.id`,
    );
    const unreported = notes.filter((r) => r.n === 0).length;
    // Completed before the kill, announced after it: the kill window, closed by the survivor.
    const { rows: bridged } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM approvals a
       WHERE (SELECT min(at) FROM audit_log WHERE request_id = a.id AND kind = 'result') < $1
         AND (SELECT min(at) FROM audit_log WHERE request_id = a.id AND command = 'run-scheduled') > $1`,
      [new Date(killedAt)],
    );
    const reportedTwice = notes.filter((r) => r.n > 1).length;
    expect(await unannounced()).toBe(0);
    expect(unreported).toBe(0);
    expect(reportedTwice).toBeLessThanOrEqual(SCHEDULED_BATCH); // at most the batch whose posts the kill cut
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
        `${bridged[0].n} completed before the kill and announced after it, ` +
        `${unreported} completed but left unreported, ${reportedTwice} reported twice`,
    );
    expect(figures.max).toBeLessThanOrEqual(DUE.LATE_LIMIT_MS);
    expect(b.child.exitCode).toBeNull();
  });
});
