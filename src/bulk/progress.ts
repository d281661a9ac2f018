/**
 * Progress of a bulk run, on stderr. On a terminal: one line redrawn in place (a bar, done/total,
 * rate, ETA, failures), at most ten times a second and at least once a second. Otherwise (a pipe, a
 * log file, CI): a plain line at the start, then one a second on the second (never more often, never
 * less while the run lasts), and a last one at the end. Log lines and row problems written meanwhile
 * go through `log`, which keeps them from being drawn over.
 */

export interface ProgressSnapshot {
  /** Rows this run is to do (rows already done in an earlier run excluded). */
  total: number;
  done: number;
  failed: number;
  malformed: number;
  /** The concurrency limit now. */
  limit: number;
  /** 429 answers met so far. */
  throttled: number;
  /** What the run waits for (a rate limit, the circuit breaker); null while it sends. */
  waiting?: string | null;
  elapsedMs: number;
  /** Rows per second lately; null before there is anything to measure. */
  rate: number | null;
  /** Estimated time left; null when unknown. */
  etaMs: number | null;
}

/** `0s`, `42s`, `3m 07s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

const percent = (s: ProgressSnapshot): string =>
  `${s.total === 0 ? 100 : Math.floor((s.done / s.total) * 100)}%`;

const rateText = (s: ProgressSnapshot): string =>
  s.rate === null ? '– rows/s' : `${s.rate.toFixed(1)} rows/s`;

const etaText = (s: ProgressSnapshot): string =>
  s.done >= s.total ? 'done' : s.etaMs === null ? 'ETA –' : `ETA ${formatDuration(s.etaMs)}`;

/** The figures both displays show, after done/total. */
function figures(s: ProgressSnapshot): string[] {
  const parts = [rateText(s), etaText(s), `${s.failed} failed`];
  if (s.malformed > 0) parts.push(`${s.malformed} malformed`);
  parts.push(`concurrency ${s.limit}`);
  if (s.throttled > 0) parts.push(`${s.throttled}× 429`);
  return parts;
}

/** A line for logs: `bulk disable: 120/2000 rows (6%), 24.0 rows/s, ETA 1m 18s, 0 failed, concurrency 4`. */
export function plainLine(label: string, s: ProgressSnapshot): string {
  const waiting = s.waiting ? `${s.waiting}, ` : '';
  return `${label}: ${s.done}/${s.total} rows (${percent(s)}), ${waiting}${figures(s).join(', ')}, ${formatDuration(
    s.elapsedMs,
  )} elapsed`;
}

/** The terminal line, fitted to `columns`: the bar shrinks first, then goes. */
export function barLine(label: string, s: ProgressSnapshot, columns: number): string {
  // Fixed-width figures, so that the bar keeps its length as the numbers change.
  const counts = `${String(s.done).padStart(String(s.total).length)}/${s.total} ${percent(s).padStart(4)}`;
  const [rate, eta, ...rest] = figures(s);
  const tail = [rate.padStart(13), eta.padEnd(11), ...(s.waiting ? [s.waiting] : []), ...rest].join('  ');
  const fixed = `${label}  ${counts}  ${tail}`;
  const room = columns - 1 - fixed.length - 3;
  if (room < 10) return fixed.slice(0, Math.max(0, columns - 1));
  const width = Math.min(30, room);
  const filled = s.total === 0 ? width : Math.min(width, Math.floor((s.done / s.total) * width));
  return `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${counts}  ${tail}`;
}

/** Rows per second over the last `windowMs` (or since the start, when the run is younger). */
export class RateMeter {
  readonly #windowMs: number;
  readonly #startedAt: number;
  readonly #times: number[] = [];

  constructor(startedAt: number, windowMs = 10_000) {
    this.#startedAt = startedAt;
    this.#windowMs = windowMs;
  }

  #any = false;

  record(at: number): void {
    this.#times.push(at);
    this.#any = true;
  }

  /** Null until a row has finished; 0 after a window without any. */
  rate(now: number): number | null {
    const since = now - this.#windowMs;
    let first = 0;
    while (first < this.#times.length && this.#times[first] <= since) first++;
    if (first > 0) this.#times.splice(0, first);
    const span = Math.min(this.#windowMs, now - this.#startedAt);
    if (span <= 0 || !this.#any) return null;
    return (this.#times.length * 1000) / span;
  }
}

export type Schedule = (callback: () => void, ms: number) => () => void;

/** setTimeout that does not keep the process alive; returns its cancel function. */
export const realSchedule: Schedule = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface ProgressOptions {
  label: string;
  write: (text: string) => void;
  /** stderr is a terminal: draw the bar. */
  tty: boolean;
  /** The terminal's width (default 80). */
  columns?: () => number | undefined;
  snapshot: () => ProgressSnapshot;
  /** Milliseconds, monotonic. */
  now: () => number;
  schedule?: Schedule;
  /** Plain mode: one line per this long (default 1000 ms). */
  intervalMs?: number;
  /** Terminal: redraws at most this often (default 100 ms). */
  redrawMs?: number;
}

const CLEAR_LINE = '\r\x1b[2K';

export class ProgressDisplay {
  readonly #o: Required<Omit<ProgressOptions, 'columns'>> & Pick<ProgressOptions, 'columns'>;
  #running = false;
  #startedAt = 0;
  #ticks = 0;
  #cancelTick: (() => void) | null = null;
  #cancelRedraw: (() => void) | null = null;
  #lastDraw = -Infinity;
  #barShown = false;

  constructor(options: ProgressOptions) {
    this.#o = { schedule: realSchedule, intervalMs: 1000, redrawMs: 100, ...options };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedAt = this.#o.now();
    this.#ticks = 0;
    this.#render();
    this.#scheduleTick();
  }

  /** A row finished: the terminal bar is redrawn soon (plain lines keep their cadence). */
  changed(): void {
    if (!this.#running || !this.#o.tty || this.#cancelRedraw) return;
    const wait = this.#lastDraw + this.#o.redrawMs - this.#o.now();
    if (wait <= 0) {
      this.#render();
      return;
    }
    this.#cancelRedraw = this.#o.schedule(() => {
      this.#cancelRedraw = null;
      if (this.#running) this.#render();
    }, wait);
  }

  /** Writes `text` (whole lines) without breaking the bar. */
  log(text: string): void {
    if (this.#o.tty && this.#barShown) {
      this.#o.write(CLEAR_LINE + text);
      this.#barShown = false;
      if (this.#running) this.#render();
    } else {
      this.#o.write(text);
    }
  }

  /** Stops the timers and leaves the last state as a plain line. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#cancelTick?.();
    this.#cancelRedraw?.();
    this.#cancelTick = this.#cancelRedraw = null;
    const line = plainLine(this.#o.label, this.#o.snapshot());
    this.#o.write((this.#o.tty && this.#barShown ? CLEAR_LINE : '') + line + '\n');
    this.#barShown = false;
  }

  /** Plain mode: the next line on the next whole interval since the start (no drift); terminal: 1 s refresh. */
  #scheduleTick(): void {
    const interval = this.#o.tty ? 1000 : this.#o.intervalMs;
    const elapsed = this.#o.now() - this.#startedAt;
    this.#ticks = Math.max(this.#ticks + 1, Math.floor(elapsed / interval) + 1);
    const wait = Math.max(0, this.#startedAt + this.#ticks * interval - this.#o.now());
    this.#cancelTick = this.#o.schedule(() => {
      this.#cancelTick = null;
      if (!this.#running) return;
      this.#render();
      this.#scheduleTick();
    }, wait);
  }

  #render(): void {
    this.#lastDraw = this.#o.now();
    const snapshot = this.#o.snapshot();
    if (this.#o.tty) {
      // A terminal that does not know its size (0 columns, e.g. a bare pty) gets the usual 80.
      const columns = this.#o.columns?.() || 80;
      this.#o.write(CLEAR_LINE + barLine(this.#o.label, snapshot, columns));
      this.#barShown = true;
    } else {
      this.#o.write(plainLine(this.#o.label, snapshot) + '\n');
    }
  }
}
