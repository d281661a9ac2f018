/**
 * When a scheduled action runs: `at 2026-12-31 17:00 [ZONE]` or `in 2h` (also `30m`, `3d`). Pure: the
 * clock, the requester's own time zone and the limit are passed in, so Slack and the CLI read times
 * the same way. Bad input throws ScheduleError (a ProfileError, so a slash command answers with usage).
 */
import { ProfileError } from './profile';
import { formatPolicyDuration } from '../policy';

export class ScheduleError extends ProfileError {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export interface ScheduleContext {
  now: Date;
  /** The zone of a time written without one: the requester's Slack time zone (IANA name), or UTC. */
  defaultZone: string;
  /**
   * How far ahead a schedule may be (policy `maxScheduleAhead`); absent: the caller checks it with
   * checkScheduleAhead once the rule is known (it depends on the user as the directory shows them).
   */
  maxAheadMs?: number;
}

export interface Schedule {
  at: Date;
  /** The zone the time was read in, as shown to people: an IANA name, `UTC` or `UTC+02:00`. */
  zone: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const UNITS: Record<string, number> = { m: MINUTE, h: 60 * MINUTE, d: DAY };
const EXAMPLES = 'write e.g. "at 2026-12-31 17:00", "at 2026-12-31 17:00 Europe/Berlin" or "in 2h" (m, h, d)';

/** `in 30m`, `in 2h`, `in 3d` (also `2 hours`, `3 days`). */
const RELATIVE = /^(\d{1,6})\s*(m|mins?|minutes?|h|hours?|d|days?)$/i;
/** `2026-12-31 17:00` (or `T`), then optionally `Z`, `UTC`, an offset `+02:00` or an IANA zone name. */
const ABSOLUTE = /^(\d{4})-(\d{2})-(\d{2})(?:\s+|T)(\d{1,2}):(\d{2})(?:\s*(\S+))?$/;
const OFFSET = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$/i;

const pad = (n: number): string => String(n).padStart(2, '0');

/** Throws ScheduleError unless `zone` is an IANA time zone this runtime knows; returns its name. */
export function checkTimeZone(zone: string): string {
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    // The name as written (Asia/Kolkata stays, though ICU may call it Asia/Calcutta), spelt as ICU does.
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch {
    throw new ScheduleError(
      `"${zone}" is not a time zone: use an IANA name such as Europe/Berlin, or +02:00`,
    );
  }
}

/** How far `zone`'s wall clock is ahead of UTC at the instant `utcMs` (ms; whole seconds). */
function zoneOffsetMs(zone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time (given as if it were UTC) names in `zone`. A time the clocks skip (DST
 * starts) or pass twice (DST ends) is refused: which instant was meant cannot be known, and an
 * offboarding at the wrong hour is worse than asking again with an offset.
 */
function instantIn(zone: string, wallMs: number, written: string): Date {
  const offsets = new Set([-DAY, 0, DAY].map((shift) => zoneOffsetMs(zone, wallMs + shift)));
  const instants = [...offsets]
    .map((offset) => wallMs - offset)
    .filter((instant) => zoneOffsetMs(zone, instant) === wallMs - instant);
  const unique = [...new Set(instants)];
  if (unique.length === 0) {
    throw new ScheduleError(
      `${written} does not exist in ${zone}: the clocks skip it (summer time starts); pick another time`,
    );
  }
  if (unique.length > 1) {
    throw new ScheduleError(
      `${written} happens twice in ${zone} (summer time ends); add the offset you mean, e.g. "${written} ${offsetText(zone, Math.min(...unique))}"`,
    );
  }
  return new Date(unique[0]);
}

function offsetText(zone: string, utcMs: number): string {
  const minutes = Math.round(zoneOffsetMs(zone, utcMs) / MINUTE);
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

function parseAbsolute(text: string, defaultZone: string): Schedule {
  const match = ABSOLUTE.exec(text);
  if (!match) throw new ScheduleError(`cannot read the time "${text}": ${EXAMPLES}`);
  const [year, month, day, hour, minute] = match.slice(1, 6).map(Number);
  const wallMs = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wallMs);
  if (hour > 23 || minute > 59 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new ScheduleError(`"${text}" is not a date and time of the calendar: ${EXAMPLES}`);
  }
  const written = `${year}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}`;
  const zoneText = match[6];
  if (zoneText === undefined) return { at: instantIn(defaultZone, wallMs, written), zone: defaultZone };
  if (/^(Z|UTC|GMT)$/i.test(zoneText)) return { at: check, zone: 'UTC' };
  const offset = OFFSET.exec(zoneText);
  if (offset) {
    const [, sign, hours, minutes] = offset;
    if (Number(hours) > 14 || Number(minutes) > 59) {
      throw new ScheduleError(`"${zoneText}" is not a UTC offset: offsets run from -12:00 to +14:00`);
    }
    const ms = (Number(hours) * 60 + Number(minutes)) * MINUTE * (sign === '-' ? -1 : 1);
    return { at: new Date(wallMs - ms), zone: `UTC${sign}${hours}:${minutes}` };
  }
  const zone = checkTimeZone(zoneText);
  return { at: instantIn(zone, wallMs, written), zone };
}

function parseRelative(text: string, now: Date, defaultZone: string): Schedule {
  const match = RELATIVE.exec(text);
  if (!match) throw new ScheduleError(`cannot read the delay "${text}": ${EXAMPLES}`);
  const ms = Number(match[1]) * UNITS[match[2].charAt(0).toLowerCase()];
  return { at: new Date(now.getTime() + ms), zone: defaultZone };
}

/** Reads `at …` or `in …`; refuses a time that is not in the future or beyond the limit. */
export function parseSchedule(kind: 'at' | 'in', text: string, context: ScheduleContext): Schedule {
  const defaultZone = checkTimeZone(context.defaultZone);
  const trimmed = text.trim();
  if (trimmed === '') throw new ScheduleError(`say when after "${kind}": ${EXAMPLES}`);
  const schedule =
    kind === 'at' ? parseAbsolute(trimmed, defaultZone) : parseRelative(trimmed, context.now, defaultZone);
  if (schedule.at.getTime() <= context.now.getTime()) {
    throw new ScheduleError(
      `${formatInZone(schedule.at, schedule.zone)} (${schedule.zone}) is in the past; give a time in the future`,
    );
  }
  if (context.maxAheadMs !== undefined) checkScheduleAhead(schedule, context.now, context.maxAheadMs);
  return schedule;
}

/** Refuses a schedule more than `maxAheadMs` after `now`; `limitFrom` names the rule that sets the limit. */
export function checkScheduleAhead(schedule: Schedule, now: Date, maxAheadMs: number, limitFrom = ''): void {
  if (schedule.at.getTime() - now.getTime() <= maxAheadMs) return;
  throw new ScheduleError(
    `${formatInZone(schedule.at, schedule.zone)} (${schedule.zone}) is too far ahead: schedules may be at most ${aheadText(maxAheadMs)} ahead${limitFrom ? ` under ${limitFrom}` : ''}`,
  );
}

/** `1 day`, `90 days`; a limit that is not whole days as the policy file writes it (`36h`, `1d12h`). */
function aheadText(ms: number): string {
  if (ms % DAY !== 0) return formatPolicyDuration(ms);
  const days = ms / DAY;
  return `${days} day${days === 1 ? '' : 's'}`;
}

/** `2026-12-31 17:00` as the wall clock of `zone` (an IANA name, `UTC` or `UTC±hh:mm`) shows it. */
export function formatInZone(at: Date, zone: string): string {
  const offset = OFFSET.exec(zone);
  const shifted = offset
    ? at.getTime() + (Number(offset[2]) * 60 + Number(offset[3])) * MINUTE * (offset[1] === '-' ? -1 : 1)
    : at.getTime() + zoneOffsetMs(zone === 'UTC' ? 'UTC' : zone, at.getTime());
  const d = new Date(shifted);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/**
 * Takes a schedule phrase off a disable command's text: `jane@example.com at 2026-12-31 17:00
 * reason="last day"` → the text without it, and `at` with `2026-12-31 17:00`. The phrase comes right
 * after the user and runs until the first key=value pair. Text without one comes back unchanged.
 */
export function splitSchedule(text: string): {
  text: string;
  when: { kind: 'at' | 'in'; text: string } | null;
} {
  const match = /^(\s*\S+)\s+(at|in)\s+(.*?)(?=\s+[A-Za-z][\w.-]*=|\s*$)/i.exec(text);
  if (!match || match[1].includes('=')) return { text, when: null };
  const rest = text.slice(match[0].length);
  return {
    text: `${match[1]}${rest}`,
    when: { kind: match[2].toLowerCase() as 'at' | 'in', text: match[3].trim() },
  };
}

/** What a stored scheduled request shows of itself, to find a second schedule of the same user. */
export interface StoredSchedule {
  id: string;
  action: string;
  profile: Record<string, unknown>;
  /** Whom it concerns, as a person reads it. */
  target: string;
  scheduledAt?: Date;
  scheduleZone?: string;
}

const sameText = (a: unknown, b: unknown): boolean =>
  typeof a === 'string' && typeof b === 'string' && a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The pending scheduled disable of the user `who` names (by Atlassian id, email or username), if any:
 * one user gets one schedule, so a second is refused rather than run twice.
 */
export function scheduledDisableOf<T extends StoredSchedule>(
  scheduled: readonly T[],
  who: Record<string, unknown>,
): T | undefined {
  return scheduled.find(
    (request) =>
      request.action === 'disable' &&
      (['id', 'email', 'username'] as const).some((key) => sameText(request.profile[key], who[key])),
  );
}

/** The refusal of a second schedule, naming the first and how to cancel it. */
export function alreadyScheduledMessage(existing: StoredSchedule, howToCancel: string): string {
  const zone = existing.scheduleZone ?? 'UTC';
  const when = existing.scheduledAt ? ` at ${formatInZone(existing.scheduledAt, zone)} (${zone})` : '';
  return `${existing.target} already has a scheduled disable${when}, request ${existing.id}; ${howToCancel}, then schedule again. Nothing was scheduled`;
}
