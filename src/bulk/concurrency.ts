/**
 * Adaptive concurrency for bulk runs: how many rows may be in flight at once, lowered while Atlassian
 * rate-limits us (HTTP 429) and raised again when it stops. The rule is AIMD (additive increase,
 * multiplicative decrease), the one TCP uses for its congestion window, applied to rows in flight:
 *
 * - The limit starts at the requested concurrency (`--concurrency`, default 8, at most 32), which is
 *   also its ceiling: it never goes above what the admin asked for, and never below 1.
 * - Multiplicative decrease: a 429 halves the limit (rounded down). The SCIM client itself retries the
 *   throttled request after its Retry-After delay, within a bounded number of attempts and total wait;
 *   this controller only decides how many rows send at once. The 429s of one burst are one event:
 *   after a decrease, further 429s are ignored for `holdMs` (default 1 s, the granularity of
 *   Retry-After). Without that hold, the rows already in flight when the quota ran out, all meeting
 *   the same empty quota within milliseconds, would cut the limit to 1 at once.
 * - Additive increase: once `limit` rows in a row have succeeded (about one round of the current
 *   window), the limit grows by one. Only rows started since the last decrease count: a row that
 *   started under the old, too high limit (and maybe waited out a 429) says nothing about the new one.
 * - A decrease cancels nothing: rows already started finish, and a new row starts only while fewer
 *   than `limit` are in flight. So after a decrease the rows in flight drain down to the new limit,
 *   and from then on never exceed it.
 *
 * Why this cannot become a retry storm: each throttled request waits out Retry-After before it is sent
 * again, the retries of one request are bounded, and every burst of 429s halves the number of rows
 * that can send at all, so the load offered to Atlassian falls geometrically until it fits the quota;
 * it then probes upwards by one row per window, and the next 429 halves it again.
 *
 * The controller is pure bookkeeping with an injected clock: `runPool` below does the scheduling.
 */

export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 32;
export const DEFAULT_HOLD_MS = 1000;

export interface AimdOptions {
  /** The starting limit and the ceiling (1 to MAX_CONCURRENCY). */
  max: number;
  /** 429s within this long after a decrease belong to the same burst (default 1000 ms). */
  holdMs?: number;
  /** Milliseconds, monotonic. */
  now: () => number;
}

/** A started row: remembers under which limit (epoch) it started. */
export interface Slot {
  readonly epoch: number;
}

export interface ConcurrencyStats {
  limit: number;
  inFlight: number;
  /** The highest the in-flight count reached. */
  maxInFlight: number;
  /** The lowest the limit went. */
  lowestLimit: number;
  /** 429s reported (every one, including those ignored as part of a burst). */
  throttled: number;
  /** Times the limit was halved. */
  decreases: number;
}

export class AimdController {
  readonly max: number;
  readonly #holdMs: number;
  readonly #now: () => number;
  #limit: number;
  #inFlight = 0;
  #maxInFlight = 0;
  #lowest: number;
  #throttled = 0;
  #decreases = 0;
  /** Bumped at each decrease; rows started before it do not count towards an increase. */
  #epoch = 0;
  #lastDecreaseAt: number | null = null;
  /** Rows of the current epoch that succeeded since the last change of the limit. */
  #successes = 0;

  constructor(options: AimdOptions) {
    if (!Number.isInteger(options.max) || options.max < 1 || options.max > MAX_CONCURRENCY) {
      throw new RangeError(`concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`);
    }
    this.max = options.max;
    this.#holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
    this.#now = options.now;
    this.#limit = options.max;
    this.#lowest = options.max;
  }

  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** True when another row may start now. */
  canStart(): boolean {
    return this.#inFlight < this.#limit;
  }

  /** Records a row starting; call only when `canStart()`. */
  start(): Slot {
    if (!this.canStart()) throw new Error('no free slot: check canStart() first');
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    return { epoch: this.#epoch };
  }

  /**
   * Records a row finishing. `succeeded` is true when the directory did what was asked (success or
   * skipped); failed rows neither raise nor lower the limit (their cause is the row, not the load).
   */
  finish(slot: Slot, succeeded: boolean): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (!succeeded || slot.epoch !== this.#epoch) return;
    this.#successes++;
    if (this.#successes >= this.#limit) {
      this.#successes = 0;
      if (this.#limit < this.max) this.#limit++;
    }
  }

  /** Records a 429; returns true when it lowered the limit (false: part of a burst already acted on). */
  throttle(): boolean {
    this.#throttled++;
    const now = this.#now();
    if (this.#lastDecreaseAt !== null && now - this.#lastDecreaseAt < this.#holdMs) return false;
    this.#lastDecreaseAt = now;
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#lowest = Math.min(this.#lowest, this.#limit);
    this.#decreases++;
    this.#epoch++;
    this.#successes = 0;
    return true;
  }

  stats(): ConcurrencyStats {
    return {
      limit: this.#limit,
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      lowestLimit: this.#lowest,
      throttled: this.#throttled,
      decreases: this.#decreases,
    };
  }
}

export interface PoolOptions {
  /** Checked before each start: true stops starting rows (Ctrl-C); those in flight still finish. */
  shouldStop?: () => boolean;
}

/**
 * Runs `task` for each item, starting one whenever the controller has a free slot. A task resolves to
 * whether it succeeded (see `AimdController.finish`). Resolves once every started task has finished
 * and the items ran out or `shouldStop` said stop; returns how many items were started. A task that
 * rejects counts as failed, and the first such error is thrown once the others have finished.
 */
export function runPool<T>(
  items: Iterable<T>,
  controller: AimdController,
  task: (item: T) => Promise<boolean>,
  options: PoolOptions = {},
): Promise<number> {
  const iterator = items[Symbol.iterator]();
  let exhausted = false;
  let started = 0;
  let failure: { error: unknown } | null = null;
  return new Promise((resolve, reject) => {
    const settleIfDone = (): void => {
      if (controller.inFlight > 0) return;
      if (!exhausted && !options.shouldStop?.()) return;
      if (failure) reject(failure.error);
      else resolve(started);
    };
    const pump = (): void => {
      while (!exhausted && controller.canStart() && !options.shouldStop?.()) {
        const next = iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const slot = controller.start();
        started++;
        let promise: Promise<boolean>;
        try {
          promise = task(next.value);
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(
          (succeeded) => {
            controller.finish(slot, succeeded);
            pump();
          },
          (error: unknown) => {
            failure ??= { error };
            controller.finish(slot, false);
            pump();
          },
        );
      }
      settleIfDone();
    };
    pump();
  });
}
