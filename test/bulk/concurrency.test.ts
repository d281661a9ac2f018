/** The AIMD controller and the pool, driven by a hand-moved clock and hand-settled tasks: no sleeps. */
import { AimdController, MAX_CONCURRENCY, runPool } from '../../src/bulk/concurrency';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Starts `n` rows and returns their slots. */
function startN(controller: AimdController, n: number) {
  return Array.from({ length: n }, () => controller.start());
}

describe('AimdController', () => {
  it('starts at the requested concurrency and never lets more rows start', () => {
    const controller = new AimdController({ max: 3, now: clock().now });
    startN(controller, 3);
    expect(controller.canStart()).toBe(false);
    expect(() => controller.start()).toThrow(/no free slot/);
    expect(controller.stats()).toMatchObject({ limit: 3, inFlight: 3, maxInFlight: 3 });
  });

  it('refuses a concurrency outside 1..32', () => {
    for (const max of [0, MAX_CONCURRENCY + 1, 2.5]) {
      expect(() => new AimdController({ max, now: () => 0 })).toThrow(RangeError);
    }
  });

  it('halves on a 429, once per burst (hold), and never below 1', () => {
    const time = clock();
    const controller = new AimdController({ max: 8, holdMs: 1000, now: time.now });
    expect(controller.throttle()).toBe(true);
    expect(controller.limit).toBe(4);
    time.advance(999);
    expect(controller.throttle()).toBe(false); // the same burst
    expect(controller.limit).toBe(4);
    time.advance(1);
    expect(controller.throttle()).toBe(true);
    expect(controller.limit).toBe(2);
    for (let i = 0; i < 5; i++) {
      time.advance(1000);
      controller.throttle();
    }
    expect(controller.limit).toBe(1);
    expect(controller.stats()).toMatchObject({ lowestLimit: 1, throttled: 8, decreases: 7 });
  });

  it('adds one after `limit` successes of rows started under the current limit, up to the ceiling', () => {
    const time = clock();
    const controller = new AimdController({ max: 4, now: time.now });
    const before = startN(controller, 4); // started under limit 4
    controller.throttle(); // limit 2, a new epoch
    for (const slot of before) controller.finish(slot, true); // old epoch: no increase
    expect(controller.limit).toBe(2);

    const first = startN(controller, 2);
    controller.finish(first[0], true);
    controller.finish(first[1], false); // a failed row is no evidence either way
    expect(controller.limit).toBe(2);
    const second = controller.start();
    controller.finish(second, true); // two successes at limit 2
    expect(controller.limit).toBe(3);

    for (let i = 0; i < 3 + 4 + 4; i++) controller.finish(controller.start(), true);
    expect(controller.limit).toBe(4); // 3 → 4 after three successes; never above the ceiling
  });
});

/** A task whose settlement the test controls. */
interface Pending {
  item: number;
  settle(ok: boolean): void;
  fail(error: Error): void;
}

function manualTasks() {
  const pending: Pending[] = [];
  const started: number[] = [];
  const task = (item: number) =>
    new Promise<boolean>((resolve, reject) => {
      started.push(item);
      pending.push({ item, settle: resolve, fail: reject });
    });
  return { pending, started, task };
}

/** Lets promise callbacks run (no timers involved). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('runPool', () => {
  it('keeps at most `limit` tasks in flight, in item order, and resolves when all are done', async () => {
    const controller = new AimdController({ max: 3, now: () => 0 });
    const { pending, started, task } = manualTasks();
    const done = runPool([1, 2, 3, 4, 5, 6, 7], controller, task);
    expect(started).toEqual([1, 2, 3]);
    pending.shift()?.settle(true);
    await flush();
    expect(started).toEqual([1, 2, 3, 4]);
    expect(controller.inFlight).toBe(3);
    while (pending.length > 0) {
      pending.shift()?.settle(true);
      await flush();
      expect(controller.inFlight).toBeLessThanOrEqual(3);
    }
    await expect(done).resolves.toBe(7);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('after a 429 starts nothing until the rows in flight are below the new limit', async () => {
    const time = clock();
    const controller = new AimdController({ max: 8, now: time.now });
    const { pending, started, task } = manualTasks();
    const items = Array.from({ length: 40 }, (_, i) => i + 1);
    const done = runPool(items, controller, task);
    expect(started).toHaveLength(8);
    controller.throttle(); // limit 4 with 8 in flight
    for (let i = 0; i < 4; i++) {
      pending.shift()?.settle(true);
      await flush();
    }
    expect(started).toHaveLength(8); // 4 in flight now: still no room
    pending.shift()?.settle(true);
    await flush();
    expect(started).toHaveLength(9); // 3 in flight → one starts
    const observed: number[] = [];
    while (pending.length > 0) {
      observed.push(controller.inFlight);
      pending.shift()?.settle(true);
      await flush();
    }
    await done;
    // The limit climbs back one at a time (4 → 5 after 4 successes, …) and never past 8.
    expect(Math.max(...observed.slice(0, 4))).toBeLessThanOrEqual(4);
    expect(Math.max(...observed)).toBeLessThanOrEqual(8);
    expect(controller.limit).toBeGreaterThan(4);
  });

  it('stops starting rows when told to, and resolves once those in flight finish', async () => {
    const controller = new AimdController({ max: 2, now: () => 0 });
    const { pending, started, task } = manualTasks();
    let stop = false;
    const done = runPool([1, 2, 3, 4, 5], controller, task, { shouldStop: () => stop });
    stop = true;
    pending.shift()?.settle(true);
    await flush();
    expect(started).toEqual([1, 2]);
    pending.shift()?.settle(false);
    await expect(done).resolves.toBe(2);
  });

  it('rejects with the first task error only after the other tasks finished', async () => {
    const controller = new AimdController({ max: 2, now: () => 0 });
    const { pending, task } = manualTasks();
    let settled = false;
    const done = runPool([1, 2], controller, task).finally(() => (settled = true));
    pending.shift()?.fail(new Error('boom'));
    await flush();
    expect(settled).toBe(false);
    pending.shift()?.settle(true);
    await expect(done).rejects.toThrow('boom');
  });

  it('resolves at once with no items', async () => {
    const controller = new AimdController({ max: 2, now: () => 0 });
    await expect(runPool([], controller, async () => true)).resolves.toBe(0);
  });
});
