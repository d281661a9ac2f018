/** The run gate on its own: what each error means for a run, rate-limit pauses, the circuit breaker. */
import { failureKind, RunGate, type Ticket, type Verdict } from '../../src/bulk/gate';
import { ScimRateLimitedError, ScimRequestError } from '../../src/scim/errors';

describe('failureKind', () => {
  it.each([
    ['ENOTFOUND', 'unreachable'],
    ['EAI_AGAIN', 'unreachable'],
    ['CERT_HAS_EXPIRED', 'unreachable'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unreachable'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'unreachable'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'unreachable'],
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'unreachable'],
    ['ECONNREFUSED', 'transient'],
    ['ECONNRESET', 'transient'],
    ['ETIMEDOUT', 'transient'],
  ])('a request that got no answer with %s is %s', (code, kind) => {
    expect(failureKind(new ScimRequestError(null, 'x', code))).toBe(kind);
  });

  it('tells a rate limit, a 5xx and an answer apart by type and status', () => {
    expect(failureKind(new ScimRateLimitedError('slow down', 120_000))).toBe('rate-limited');
    expect(failureKind(new ScimRequestError(503, 'down'))).toBe('transient');
    expect(failureKind(new ScimRequestError(400, 'bad'))).toBe('answered');
    expect(failureKind(new ScimRequestError(null, '2 users match'))).toBe('answered');
  });
});

function gate(concurrency = 8, maxOpenMs = 60_000) {
  let clock = 0;
  const waits: string[] = [];
  const g = new RunGate({
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    concurrency,
    onWait: (text) => waits.push(text),
    breaker: { maxOpenMs },
  });
  const enter = async (): Promise<Ticket> => {
    const ticket = await g.enter(() => false);
    if (ticket === null) throw new Error('stopped');
    return ticket;
  };
  return { g, waits, enter, at: () => clock };
}

const storm = new ScimRequestError(503, 'Atlassian is unavailable (HTTP 503)');

it('one pause for the 429s of the rows in flight; nobody enters before Retry-After is over', async () => {
  const { g, waits, enter, at } = gate();
  const tickets = await Promise.all([enter(), enter(), enter()]);
  const verdicts = await Promise.all(
    tickets.map((t) => g.settle(t, new ScimRateLimitedError('Too many requests.', 120_000))),
  );
  expect(verdicts).toEqual(['retry', 'retry', 'retry']);
  expect(g.counts.pauses).toBe(1);
  expect(waits).toEqual(['rate limited by Atlassian: waiting 120 s, then sending the rows again']);
  expect(g.waiting()).toBe('rate limited by Atlassian: waiting 120 s');
  await enter();
  expect(at()).toBeGreaterThanOrEqual(120_000);
});

it('a 5xx while other rows are answered fails only its row', async () => {
  const { g, enter } = gate();
  const [a, b] = [await enter(), await enter()];
  const failed = g.settle(a, storm);
  await g.settle(b, null);
  await expect(failed).resolves.toBe<Verdict>('fail');
  expect(g.counts.breakerOpened).toBe(0);
});

it('5 rows failing in a row open the breaker; all are sent again after one probe row is answered', async () => {
  const { g, enter, waits, at } = gate();
  const tickets = await Promise.all(Array.from({ length: 6 }, () => enter()));
  const verdicts = tickets.slice(0, 5).map((t) => g.settle(t, storm));
  await expect(Promise.all(verdicts)).resolves.toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
  expect(g.counts.breakerOpened).toBe(1);
  expect(waits[0]).toBe(
    'Atlassian failing: Atlassian is unavailable (HTTP 503); circuit breaker open, pausing: one row probes in 1 s',
  );
  // The sixth row, in flight when the breaker opened, is sent again too.
  await expect(g.settle(tickets[5], storm)).resolves.toBe('retry');
  const probe = await enter();
  expect(probe.probe).toBe(true);
  expect(at()).toBeGreaterThanOrEqual(1000);
  // A failed probe doubles the cooldown; an answered one closes the breaker.
  await expect(g.settle(probe, storm)).resolves.toBe('retry');
  const second = await enter();
  expect(at()).toBeGreaterThanOrEqual(3000);
  await expect(g.settle(second, null)).resolves.toBe('done');
  expect(waits.at(-1)).toBe('Atlassian answers again: circuit breaker closed, resuming');
  expect((await enter()).probe).toBe(false);
});

it('a storm outlasting maxOpenMs gives up with the reason and lets nobody in', async () => {
  const { g, enter } = gate(1, 10_000);
  await expect(g.settle(await enter(), storm)).resolves.toBe('retry'); // 1 row at a time: opens at once
  let verdict: Verdict = 'retry';
  while (verdict === 'retry') verdict = await g.settle(await enter(), storm);
  expect(verdict).toBe('fail');
  expect(g.gaveUp).toMatch(
    /^Atlassian kept failing for \d+ s, the circuit breaker stopped the run \(last error: Atlassian is unavailable \(HTTP 503\)\); run the same command again later$/,
  );
  await expect(g.enter(() => false)).resolves.toBeNull();
});

it('Ctrl-C during a long pause is heard within a quarter second: waiting rows get no ticket', async () => {
  const { g, enter, at } = gate();
  await g.settle(await enter(), new ScimRateLimitedError('Too many requests.', 120_000));
  let stop = false;
  const waiting = g.enter(() => stop);
  await new Promise<void>((resolve) => setImmediate(resolve));
  stop = true;
  const stoppedAt = at();
  await expect(waiting).resolves.toBeNull();
  expect(at() - stoppedAt).toBeLessThanOrEqual(250);
});
