/**
 * Approved work survives Atlassian trouble, measured on the bot's own listeners (Bolt driven through a
 * fake receiver, the real SCIM client, the emulated Atlassian behind test/support/fault-proxy.ts):
 * - an approved disable that meets an Atlassian storm (every request answered 503) stays approved, its
 *   card says so, and the sweep carries it out once the storm is over;
 * - past IAM_APPROVED_RETRY_DEADLINE it ends as failed and the approver and requester are told;
 * - a permanent failure ends it at once;
 * - a disable that finds the user already disabled after our own cut-short attempt is reported as done;
 * - the lease of a live holder is renewed while its PATCH is in flight, so nobody takes it over.
 * Time is the injected clock: the "60 s storm" is 60 s of that clock (the sweep's waits are computed
 * from it); in real time each attempt lasts only as long as the SCIM client's own retries (~3 s).
 */
import { APPROVAL_LEASE_MS, recoverApproved } from '../../src/handlers';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../support/fault-proxy';
import {
  blocksOf,
  buttonClick,
  type DrivenBot,
  hasButtons,
  shown,
  slashCommand,
  startWorld,
  tsOf,
  type World,
} from '../support/fake-receiver';
import { recordReliability } from '../support/reliability';

const APPROVE = 'iam_disable_approve';
const STORM = { kind: 'answer', status: 503, body: '{"detail":"storm"}' } as const;
const PASS = { kind: 'pass' } as const;

const rows: (string | number)[][] = [];
const totals = { approvedDisablesInStorm: 0, approvedDisablesCompletedAfterStorm: 0 };

let world: World;
let proxy: FaultProxy | null = null;
/** Every request to Atlassian goes through this rule: `then` is switched between STORM and PASS. */
let weather: FaultRule;

afterEach(async () => {
  await world?.close();
  await proxy?.close();
  proxy = null;
});

afterAll(() => {
  recordReliability({
    id: '10-approved-work',
    title: 'Approved work and Atlassian trouble',
    description:
      'Approved disables that meet an Atlassian storm (every SCIM request answered 503 for 60 s) must stay ' +
      'approved and be carried out by the sweep once it is over; the storm and the waits run on an injected ' +
      'clock (backoff 1, 2, 4 … min), so 60 s of storm take a few real seconds. Also: the retry deadline, a ' +
      'permanent failure, a disable finished by our own cut-short attempt, and the lease heartbeat. Measured ' +
      'on the listeners through a fake receiver, the real SCIM client and the emulated Atlassian.',
    columns: ['case', 'tried', 'handled', 'how it was judged'],
    rows,
    totals,
  });
});

async function startStormWorld(env: Record<string, string> = {}, leaseRenewMs?: number) {
  world = await startWorld();
  weather = { actions: [], then: PASS };
  proxy = await startFaultProxy(world.atlassian!.server.url, [weather]);
  return world.startBot({
    env: { ATLASSIAN_URL: proxy.url, IAM_APPROVERS: 'UAPPROVER', ...env },
    ...(leaseRenewMs ? { approvedRetry: { leaseRenewMs } } : {}),
  });
}

interface Requested {
  id: string;
  userId: string;
  ts: string;
}

async function requestDisable(driven: DrivenBot, email: string): Promise<Requested> {
  const userId = world.seedUser(email);
  await driven.receiver.send(slashCommand('/iam-disable-user', email, 'UREQ', world.responseUrl(email)));
  await driven.receiver.idle();
  const post = await world.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes(email),
  );
  const id = blocksOf(post)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === APPROVE)?.value;
  if (!id) throw new Error('the request message has no Approve button');
  return { id, userId, ts: tsOf(world.slack, post) };
}

async function approve(driven: DrivenBot, request: Requested) {
  await driven.receiver.send(
    buttonClick(APPROVE, request.id, 'UAPPROVER', world.responseUrl(`ok-${request.id}`), request.ts),
  );
  await driven.receiver.idle();
}

const isActive = (userId: string) =>
  (
    world.atlassian!.directory.handle({
      method: 'GET',
      path: `/Users/${userId}`,
      query: new URLSearchParams(),
      body: undefined,
    }).body as {
      active?: boolean;
    }
  ).active;
const lastCard = (ts: string) =>
  world.slack
    .callsTo('chat.update')
    .filter((c) => c.args.ts === ts)
    .at(-1);
const sweep = (driven: DrivenBot) => recoverApproved(driven.bot.context, driven.bot.app.client);

describe('approved work survives Atlassian trouble (issue 11)', () => {
  it('approved disables that meet a 60 s Atlassian storm stay approved, say so on their card, and are all carried out by the sweep after it (weak: the approval was used up)', async () => {
    const driven = await startStormWorld();
    const requests: Requested[] = [];
    for (let i = 0; i < 3; i++) requests.push(await requestDisable(driven, `storm${i}@example.com`));
    weather.then = STORM;
    for (const request of requests) await approve(driven, request);
    const store = driven.bot.context.store;
    for (const request of requests) {
      expect(await store.getApproval(request.id)).toMatchObject({ status: 'approved', attempts: 1 });
      expect(shown(lastCard(request.ts)!)).toContain('Atlassian is not answering; retrying until');
    }
    // 30 s into the storm the sweep finds nothing due (the next attempt is 1 min after the first).
    world.advance(30_000);
    expect(await sweep(driven)).toBe(0);
    world.advance(30_000);
    weather.then = PASS;
    expect(await sweep(driven)).toBe(requests.length);
    for (const request of requests) {
      const done = await store.getApproval(request.id);
      const completed = done?.status === 'completed' && isActive(request.userId) === false;
      totals.approvedDisablesInStorm += 1;
      if (completed) totals.approvedDisablesCompletedAfterStorm += 1;
      expect(done).toMatchObject({ status: 'completed', attempts: 2 });
      expect(shown(lastCard(request.ts)!)).toContain('User disabled');
    }
    rows.push([
      'approved disables in a 60 s storm (injected clock)',
      requests.length,
      totals.approvedDisablesCompletedAfterStorm,
      'completed after the storm, user inactive, card "User disabled"',
    ]);
    const retried = (await store.listAudit({ limit: 100 })).filter((e) => e.outcome === 'retrying');
    expect(retried).toHaveLength(requests.length);
  });

  it('an approved disable that Atlassian keeps failing ends as failed at IAM_APPROVED_RETRY_DEADLINE, and the approver and the requester are told', async () => {
    const driven = await startStormWorld({ IAM_APPROVED_RETRY_DEADLINE: '5m' });
    const request = await requestDisable(driven, 'long@example.com');
    weather.then = STORM;
    await approve(driven, request);
    const store = driven.bot.context.store;
    // Attempts at 0, 1, 3 (waits 1 and 2 min), then 5 (the wait of 4 min is cut to the deadline).
    for (const minutes of [1, 2]) {
      world.advance(minutes * 60_000);
      await sweep(driven);
      expect((await store.getApproval(request.id))?.status).toBe('approved');
    }
    world.advance(2 * 60_000);
    await sweep(driven);
    const ended = await store.getApproval(request.id);
    expect(ended).toMatchObject({ status: 'failed', attempts: 4 });
    expect(String(ended?.result?.reason)).toContain('Atlassian did not answer until');
    expect(shown(lastCard(request.ts)!)).toContain('failed');
    const dms = world.slack
      .callsTo('chat.postMessage')
      .filter((c) => ['UREQ', 'UAPPROVER'].includes(String(c.args.channel)));
    expect(dms.map((c) => c.args.channel).sort()).toEqual(['UAPPROVER', 'UREQ']);
    for (const dm of dms) expect(shown(dm)).toContain('long@example.com failed');
    expect(isActive(request.userId)).toBe(true);
    rows.push(['storm past the retry deadline', 1, 1, 'failed with the reason, approver and requester told']);
  }, 60_000);

  it('a permanent failure (400) ends the approved disable at once, without retries', async () => {
    const driven = await startStormWorld();
    const request = await requestDisable(driven, 'perm@example.com');
    weather.method = 'PATCH';
    weather.then = { kind: 'answer', status: 400, body: '{"detail":"bad request"}' };
    await approve(driven, request);
    const done = await driven.bot.context.store.getApproval(request.id);
    expect(done).toMatchObject({ status: 'completed' });
    expect(done?.nextAttemptAt).toBeUndefined();
    expect(shown(lastCard(request.ts)!)).toContain('failed (error 400)');
    rows.push(['permanent failure (400)', 1, 1, 'ended at once, no retry']);
  });

  it('a disable that finds the user already disabled after our own cut-short attempt is reported as done, not skipped (weak: "skipped: already disabled")', async () => {
    const driven = await startStormWorld();
    const request = await requestDisable(driven, 'cut@example.com');
    const store = driven.bot.context.store;
    // Another instance approved it, claimed it, sent the PATCH and died before recording the result.
    await store.decideApproval(request.id, 'approved', 'UAPPROVER', world.now);
    expect(
      await store.claimApproval(request.id, world.now, APPROVAL_LEASE_MS, 'elsewhere/1/x'),
    ).not.toBeNull();
    world.atlassian!.directory.handle({
      method: 'PATCH',
      path: `/Users/${request.userId}`,
      query: new URLSearchParams(),
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { active: false } }],
      },
    });
    world.advance(APPROVAL_LEASE_MS + 1);
    expect(await sweep(driven)).toBe(1);
    const done = await store.getApproval(request.id);
    expect(done?.status).toBe('completed');
    expect((done?.result as { IAM: { Vendor: { skipped: boolean } } }).IAM.Vendor.skipped).toBe(false);
    expect(shown(lastCard(request.ts)!)).toContain('User disabled');
    expect(shown(lastCard(request.ts)!)).not.toContain('skipped');
    const results = (await store.listAudit({ limit: 100 })).filter(
      (e) => e.requestId === request.id && e.kind === 'result',
    );
    expect(results.map((e) => e.outcome)).toEqual(['success']);
    rows.push(['disable finished by our own cut-short attempt', 1, 1, 'reported "User disabled"']);
  });

  it('a live holder renews its lease while its PATCH is in flight, so it is not taken over past 2 minutes (weak: lease never renewed)', async () => {
    const driven = await startStormWorld({}, 50);
    const request = await requestDisable(driven, 'slow@example.com');
    weather.method = 'PATCH';
    weather.actions = [{ kind: 'delay-after', ms: 1_500 }];
    const clicked = approve(driven, request);
    const store = driven.bot.context.store;
    while (!proxy!.requests.some((r) => r.method === 'PATCH')) await new Promise((r) => setTimeout(r, 20));
    world.advance(3 * 60_000); // past the first lease, while the PATCH is still in flight
    await new Promise((r) => setTimeout(r, 300)); // a few heartbeats
    expect(await store.claimApproval(request.id, world.now, APPROVAL_LEASE_MS, 'elsewhere/9/y')).toBeNull();
    await clicked;
    expect((await store.getApproval(request.id))?.status).toBe('completed');
    expect(world.patches()).toHaveLength(1);
    rows.push(['holder past its first lease, PATCH in flight', 1, 1, 'lease renewed, not taken over']);
  });
});
