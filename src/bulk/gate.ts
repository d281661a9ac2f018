/**
 * When a bulk run may send: the whole run waits out a rate limit, and a circuit breaker keeps a storm
 * of 5xx answers or timeouts from spending rows.
 *
 * - **Rate limit.** A row whose SCIM client gave up on a 429 (ScimRateLimitedError) pauses the whole
 *   run for Atlassian's Retry-After (DEFAULT_PAUSE_MS when it gives none); no row starts a request
 *   until then, and the row is sent again afterwards. A rate limit never fails a row.
 * - **Circuit breaker.** A row whose last error is transient (5xx, timeout, reset, refused, after the
 *   client's own retries) counts towards a streak; any answer from Atlassian ends the streak. A row that
 *   fails so while the streak is short waits for the verdict: when `failures` rows in a row fail so (or
 *   every row in flight did), the breaker opens and they are all sent again later; when another row is
 *   answered first, the failure was the row's own and it fails as before. While open, nothing is sent
 *   but one probe row after a cooldown (1 s, doubling up to 30 s); a probe that is answered closes the
 *   breaker and the run resumes. A failed probe still failing `maxOpenMs` (5 min) after the breaker
 *   opened gives up: the run stops, and `gaveUp` says why.
 *
 * Rows that wait are not counted as in flight towards Atlassian (`active`). Pure bookkeeping over an
 * injected clock and sleep, so tests run minutes of waiting in no time.
 */
import { isTlsErrorCode, RETRYABLE_CODES } from '../scim/client';
import { ScimRateLimitedError, type ScimRequestError } from '../scim/errors';

/** A 429 without Retry-After pauses the run this long. */
export const DEFAULT_PAUSE_MS = 30_000;

export interface BreakerLimits {
  /** Rows failing transiently in a row that open the breaker (fewer when fewer rows run at once). */
  failures: number;
  firstCooldownMs: number;
  maxCooldownMs: number;
  /** A failed probe this long after the breaker opened stops the run. */
  maxOpenMs: number;
}

export const DEFAULT_BREAKER: BreakerLimits = {
  failures: 5,
  firstCooldownMs: 1000,
  maxCooldownMs: 30_000,
  maxOpenMs: 5 * 60_000,
};

/**
 * What a row's last error means for the run. `unreachable`: nothing can get through (DNS, TLS,
 * certificates): stop. ECONNREFUSED is `transient`: a proxy or load balancer restarting refuses for a
 * while, and nothing was sent, so the breaker's wait-and-probe fits it better than stopping at once.
 */
export type FailureKind = 'rate-limited' | 'unreachable' | 'transient' | 'answered';

const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EPROTO']);

export function failureKind(error: ScimRequestError): FailureKind {
  if (error instanceof ScimRateLimitedError) return 'rate-limited';
  const { code, status } = error;
  if (code !== null && (UNREACHABLE_CODES.has(code) || code.startsWith('ERR_TLS_') || isTlsErrorCode(code))) {
    return 'unreachable';
  }
  if ((status !== null && status >= 500) || (code !== null && RETRYABLE_CODES.has(code))) return 'transient';
  return 'answered';
}

/** Held by a row between `enter` and `settle`. */
export interface Ticket {
  readonly probe: boolean;
}

/** After `settle`: the row is done (report it), is to be sent again, or fails with its last result. */
export type Verdict = 'done' | 'retry' | 'fail';

export interface GateOptions {
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  /** Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Told when the run starts waiting (a line for the progress log). */
  onWait?: (text: string) => void;
  breaker?: Partial<BreakerLimits>;
  /** Concurrency: the streak that opens the breaker is never longer than this. */
  concurrency: number;
}

/** Longest single sleep while waiting, so that Ctrl-C and a stop are heard within it. */
const SLICE_MS = 250;

export class RunGate {
  readonly #o: Required<Pick<GateOptions, 'now' | 'sleep'>> & GateOptions;
  readonly #limits: BreakerLimits;
  #pausedUntil = 0;
  #open = false;
  #probing = false;
  #openedAt = 0;
  #cooldownMs = 0;
  #nextProbeAt = 0;
  #streak = 0;
  #active = 0;
  #pending: ((verdict: Verdict) => void)[] = [];
  #lastTransient = '';
  #gaveUp: string | null = null;
  #pauses = 0;
  #opened = 0;

  constructor(options: GateOptions) {
    this.#o = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
    this.#limits = { ...DEFAULT_BREAKER, ...options.breaker };
  }

  /** Why the breaker stopped the run, once it has. */
  get gaveUp(): string | null {
    return this.#gaveUp;
  }

  /** Rate-limit pauses and breaker openings so far, for the summary. */
  get counts(): { pauses: number; breakerOpened: number } {
    return { pauses: this.#pauses, breakerOpened: this.#opened };
  }

  /** What the run is waiting for now, for the progress line; null while it sends freely. */
  waiting(): string | null {
    const now = this.#o.now();
    if (now < this.#pausedUntil)
      return `rate limited by Atlassian: waiting ${seconds(this.#pausedUntil - now)} s`;
    if (this.#probing) return 'Atlassian failing: circuit breaker open, probing with one row';
    if (this.#open)
      return `Atlassian failing: circuit breaker open, next probe in ${seconds(this.#nextProbeAt - now)} s`;
    return null;
  }

  /** Waits until this row may send; null when the run is stopping (`stopping()` or the breaker gave up). */
  async enter(stopping: () => boolean): Promise<Ticket | null> {
    for (;;) {
      if (stopping() || this.#gaveUp !== null) return null;
      const now = this.#o.now();
      const until = Math.max(this.#pausedUntil, this.#open ? this.#nextProbeAt : 0);
      if (now >= until && !this.#probing) {
        const probe = this.#open;
        this.#probing = probe;
        this.#active++;
        return { probe };
      }
      await this.#o.sleep(Math.max(1, Math.min(SLICE_MS, until - now)));
    }
  }

  /**
   * The row's attempt ended: `error` is its last SCIM error (null when Atlassian did what was asked,
   * or the row failed for a reason of its own). Resolves at once, except for a transient failure
   * while the breaker is closed, which waits for the verdict described above.
   */
  settle(ticket: Ticket, error: ScimRequestError | null): Promise<Verdict> {
    this.#active--;
    const kind = error === null ? 'answered' : failureKind(error);
    let verdict: Verdict | Promise<Verdict>;
    if (error instanceof ScimRateLimitedError) {
      this.#pause(error.retryAfterMs ?? DEFAULT_PAUSE_MS);
      if (ticket.probe) this.#probing = false;
      verdict = 'retry';
    } else if (kind === 'unreachable') {
      // The run stops (see runner): this says nothing about a storm either way.
      if (ticket.probe) this.#probing = false;
      verdict = 'done';
    } else if (kind === 'transient') {
      this.#lastTransient = (error as ScimRequestError).message;
      verdict = this.#transient(ticket);
    } else {
      this.#answered();
      verdict = 'done';
    }
    this.#decideIfIdle();
    return Promise.resolve(verdict);
  }

  /** The row ended without sending anything (a profile problem): it tells nothing about Atlassian. */
  release(ticket: Ticket): void {
    this.#active--;
    if (ticket.probe) this.#probing = false;
    this.#decideIfIdle();
  }

  #pause(ms: number): void {
    const now = this.#o.now();
    const already = now < this.#pausedUntil;
    this.#pausedUntil = Math.max(this.#pausedUntil, now + ms);
    // The 429s of the rows in flight are one rate limit: one pause, one line.
    if (already) return;
    this.#pauses++;
    this.#o.onWait?.(`rate limited by Atlassian: waiting ${seconds(ms)} s, then sending the rows again`);
  }

  #answered(): void {
    this.#streak = 0;
    this.#resolvePending('fail');
    if (!this.#open) return;
    this.#open = this.#probing = false;
    this.#o.onWait?.('Atlassian answers again: circuit breaker closed, resuming');
  }

  #transient(ticket: Ticket): Verdict | Promise<Verdict> {
    const now = this.#o.now();
    if (ticket.probe) {
      this.#probing = false;
      if (now - this.#openedAt >= this.#limits.maxOpenMs) {
        this.#gaveUp =
          `Atlassian kept failing for ${seconds(now - this.#openedAt)} s, the circuit breaker stopped the run ` +
          `(last error: ${this.#lastTransient}); run the same command again later`;
        this.#resolvePending('fail');
        return 'fail';
      }
      this.#cooldownMs = Math.min(this.#limits.maxCooldownMs, this.#cooldownMs * 2);
      this.#nextProbeAt = now + this.#cooldownMs;
      this.#o.onWait?.(
        `probe row failed: ${this.#lastTransient}; next probe in ${seconds(this.#cooldownMs)} s`,
      );
      return 'retry';
    }
    if (this.#open) return 'retry';
    this.#streak++;
    if (this.#streak >= Math.min(this.#limits.failures, this.#o.concurrency)) {
      this.#openBreaker(now);
      return 'retry';
    }
    return new Promise<Verdict>((resolve) => this.#pending.push(resolve));
  }

  #openBreaker(now: number): void {
    this.#open = true;
    this.#opened++;
    this.#openedAt = now;
    this.#cooldownMs = this.#limits.firstCooldownMs;
    this.#nextProbeAt = now + this.#cooldownMs;
    this.#resolvePending('retry');
    this.#o.onWait?.(
      `Atlassian failing: ${this.#lastTransient}; circuit breaker open, pausing: one row probes in ${seconds(this.#cooldownMs)} s`,
    );
  }

  /** Pending failures with nobody left in flight to tell them apart from a storm: each was the row's own. */
  #decideIfIdle(): void {
    if (this.#active === 0) this.#resolvePending('fail');
  }

  #resolvePending(verdict: Verdict): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const resolve of pending) resolve(verdict);
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
