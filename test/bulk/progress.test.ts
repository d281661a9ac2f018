/** The progress display, with a hand-moved clock and a hand-run timer queue. */
import {
  barLine,
  formatDuration,
  plainLine,
  ProgressDisplay,
  type ProgressSnapshot,
  RateMeter,
  type Schedule,
} from '../../src/bulk/progress';

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  total: 2000,
  done: 120,
  failed: 1,
  malformed: 0,
  limit: 4,
  throttled: 0,
  elapsedMs: 5000,
  rate: 24,
  etaMs: 78_000,
  ...over,
});

/** A fake clock and timer queue: `advance` runs the timers that fall due, in order. */
function fakeTime() {
  let now = 0;
  let timers: { at: number; callback: () => void; id: number }[] = [];
  let ids = 0;
  const schedule: Schedule = (callback, ms) => {
    const id = ++ids;
    timers.push({ at: now + ms, callback, id });
    return () => {
      timers = timers.filter((t) => t.id !== id);
    };
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = next.at;
      next.callback();
    }
    now = until;
  };
  return { now: () => now, schedule, advance, pending: () => timers.length };
}

describe('formatting', () => {
  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(187_000)).toBe('3m 07s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
  });

  it('writes a plain line with done/total, rate, ETA and failures', () => {
    expect(plainLine('bulk disable', snap())).toBe(
      'bulk disable: 120/2000 rows (6%), 24.0 rows/s, ETA 1m 18s, 1 failed, concurrency 4, 5s elapsed',
    );
    expect(plainLine('bulk disable', snap({ rate: null, etaMs: null, malformed: 2, throttled: 3 }))).toBe(
      'bulk disable: 120/2000 rows (6%), – rows/s, ETA –, 1 failed, 2 malformed, concurrency 4, 3× 429, 5s elapsed',
    );
  });

  it('says what the run waits for, right after the counts (issue 11: a rate limit pauses the run)', () => {
    const waiting = 'rate limited by Atlassian: waiting 120 s';
    expect(plainLine('bulk disable', snap({ waiting }))).toBe(
      'bulk disable: 120/2000 rows (6%), rate limited by Atlassian: waiting 120 s, 24.0 rows/s, ETA 1m 18s, 1 failed, concurrency 4, 5s elapsed',
    );
    expect(barLine('bulk disable', snap({ waiting }), 200)).toContain(
      'ETA 1m 18s   rate limited by Atlassian: waiting 120 s  1 failed',
    );
  });

  it('fits the bar line to the terminal width', () => {
    const wide = barLine('bulk disable', snap(), 120);
    expect(wide).toBe(
      'bulk disable [█░░░░░░░░░░░░░░░░░░░░░░░░░░░░░]  120/2000   6%    24.0 rows/s  ETA 1m 18s   1 failed  concurrency 4',
    );
    expect(wide.length).toBeLessThan(120);
    const narrow = barLine('bulk disable', snap(), 60);
    expect(narrow.length).toBeLessThan(60);
    expect(narrow).not.toContain('[');
  });
});

describe('RateMeter', () => {
  it('counts rows over the last window, or since the start when younger', () => {
    const meter = new RateMeter(0, 10_000);
    expect(meter.rate(0)).toBeNull();
    for (let t = 100; t <= 2000; t += 100) meter.record(t);
    expect(meter.rate(2000)).toBeCloseTo(10); // 20 rows in 2 s
    expect(meter.rate(11_950)).toBeCloseTo(0.1); // only the row at 2000 ms is within the last 10 s
    expect(meter.rate(12_050)).toBe(0);
  });
});

describe('ProgressDisplay, not a terminal', () => {
  it('writes a line at the start, one on each second, and one at the end', () => {
    const time = fakeTime();
    const out: { at: number; text: string }[] = [];
    let done = 0;
    const display = new ProgressDisplay({
      label: 'bulk enable',
      tty: false,
      write: (text) => out.push({ at: time.now(), text }),
      snapshot: () => snap({ done, total: 10 }),
      now: time.now,
      schedule: time.schedule,
    });
    display.start();
    for (let i = 0; i < 35; i++) {
      time.advance(100);
      done = Math.min(10, done + 1);
      display.changed(); // does not add lines in plain mode
    }
    display.log('row 7: failed: nope\n');
    display.stop();
    const lines = out.filter((o) => o.text.startsWith('bulk enable: '));
    expect(lines.map((l) => l.at)).toEqual([0, 1000, 2000, 3000, 3500]);
    expect(out.every((o) => o.text.endsWith('\n'))).toBe(true);
    expect(out.map((o) => o.text)).toContain('row 7: failed: nope\n');
    expect(time.pending()).toBe(0);
  });

  it('keeps to whole seconds since the start even when a timer fires late', () => {
    const time = fakeTime();
    const at: number[] = [];
    const late: Schedule = (callback, ms) => time.schedule(callback, ms + 30);
    const display = new ProgressDisplay({
      label: 'x',
      tty: false,
      write: () => at.push(time.now()),
      snapshot: () => snap(),
      now: time.now,
      schedule: late,
    });
    display.start();
    time.advance(5100);
    display.stop();
    expect(at).toEqual([0, 1030, 2030, 3030, 4030, 5030, 5100]);
  });
});

/** Carriage return and erase-line: the bar is redrawn in place. */
const CLEAR = '\r\x1b[2K';

describe('ProgressDisplay on a terminal', () => {
  it('redraws one line in place, at most every 100 ms, and keeps log lines from being drawn over', () => {
    const time = fakeTime();
    const out: string[] = [];
    const display = new ProgressDisplay({
      label: 'bulk create',
      tty: true,
      columns: () => 100,
      write: (text) => out.push(text),
      snapshot: () => snap(),
      now: time.now,
      schedule: time.schedule,
    });
    display.start();
    expect(out).toHaveLength(1);
    expect(out[0].startsWith(`${CLEAR}bulk create [`)).toBe(true);
    expect(out[0]).not.toContain('\n');
    display.changed();
    display.changed();
    expect(out).toHaveLength(1); // throttled
    time.advance(100);
    expect(out).toHaveLength(2);
    display.log('a log line\n');
    expect(out.slice(2).map((text) => text.slice(0, 18))).toEqual([
      `${CLEAR}a log line\n`,
      `${CLEAR}bulk create [`,
    ]);
    time.advance(1000); // the once-a-second refresh
    expect(out.length).toBeGreaterThan(4);
    display.stop();
    const last = out.at(-1) ?? '';
    expect(last.startsWith(`${CLEAR}bulk create: 120/2000 rows `)).toBe(true);
    expect(last.endsWith('\n')).toBe(true);
  });
});
