import { formatInZone, parseSchedule, ScheduleError, splitSchedule } from '../../src/iam/schedule';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const context = (defaultZone = 'UTC', maxAheadMs = 90 * DAY) => ({ now: NOW, defaultZone, maxAheadMs });

describe('parseSchedule: when a scheduled disable runs', () => {
  it.each([
    // [kind, text, requester zone, instant, zone shown]
    ['in', '2h', 'UTC', '2026-06-01T14:00:00.000Z', 'UTC'],
    ['in', '30m', 'Europe/Berlin', '2026-06-01T12:30:00.000Z', 'Europe/Berlin'],
    ['in', '3d', 'UTC', '2026-06-04T12:00:00.000Z', 'UTC'],
    ['in', '2 hours', 'UTC', '2026-06-01T14:00:00.000Z', 'UTC'],
    ['at', '2026-12-31 17:00', 'UTC', '2026-12-31T17:00:00.000Z', 'UTC'],
    // Without a zone, the requester's own Slack zone: Berlin is UTC+1 in winter, UTC+2 in summer.
    ['at', '2026-08-31 17:00', 'Europe/Berlin', '2026-08-31T15:00:00.000Z', 'Europe/Berlin'],
    ['at', '2026-08-31 17:00', 'America/New_York', '2026-08-31T21:00:00.000Z', 'America/New_York'],
    ['at', '2026-08-31 17:00', 'Asia/Kolkata', '2026-08-31T11:30:00.000Z', 'Asia/Kolkata'],
    // A zone written after the time wins over the requester's.
    ['at', '2026-08-31 17:00 Europe/Berlin', 'America/New_York', '2026-08-31T15:00:00.000Z', 'Europe/Berlin'],
    ['at', '2026-08-31 17:00 Asia/Tokyo', 'UTC', '2026-08-31T08:00:00.000Z', 'Asia/Tokyo'],
    ['at', '2026-08-31 17:00 +02:00', 'Asia/Tokyo', '2026-08-31T15:00:00.000Z', 'UTC+02:00'],
    ['at', '2026-08-31 17:00 -0530', 'UTC', '2026-08-31T22:30:00.000Z', 'UTC-05:30'],
    ['at', '2026-08-31 17:00 UTC', 'Europe/Berlin', '2026-08-31T17:00:00.000Z', 'UTC'],
    ['at', '2026-08-31T17:00 Z', 'Europe/Berlin', '2026-08-31T17:00:00.000Z', 'UTC'],
    // DST edges (Europe/Berlin 2026: summer time 29 March 02:00→03:00, ends 25 October 03:00→02:00).
    ['at', '2026-10-25 01:59', 'Europe/Berlin', '2026-10-24T23:59:00.000Z', 'Europe/Berlin'],
    ['at', '2026-10-25 03:00', 'Europe/Berlin', '2026-10-25T02:00:00.000Z', 'Europe/Berlin'],
    ['at', '2026-10-25 02:30 +02:00', 'Europe/Berlin', '2026-10-25T00:30:00.000Z', 'UTC+02:00'],
    ['at', '2026-10-25 02:30 +01:00', 'Europe/Berlin', '2026-10-25T01:30:00.000Z', 'UTC+01:00'],
    // New York's summer time ends 1 November 2026 at 02:00 (EDT → EST).
    ['at', '2026-11-01 03:00', 'America/New_York', '2026-11-01T08:00:00.000Z', 'America/New_York'],
  ])('%s %s (requester in %s) → %s in %s', (kind, text, zone, instant, shown) => {
    const schedule = parseSchedule(kind as 'at' | 'in', text, context(zone, 400 * DAY));
    expect(schedule.at.toISOString()).toBe(instant);
    expect(schedule.zone).toBe(shown);
  });

  it.each([
    ['at', 'tomorrowish', /cannot read the time "tomorrowish"/],
    ['in', 'a while', /cannot read the delay "a while"/],
    ['at', '', /say when after "at"/],
    ['at', '2026-02-30 10:00', /not a date and time of the calendar/],
    ['at', '2026-08-31 24:00', /not a date and time of the calendar/],
    ['at', '2026-08-31 17:00 Mars/Olympus', /"Mars\/Olympus" is not a time zone/],
    ['at', '2026-08-31 17:00 +15:00', /not a UTC offset/],
    ['at', '2026-05-31 17:00', /is in the past; give a time in the future/],
    ['at', '2026-06-01 12:00', /is in the past/],
    ['in', '0m', /is in the past/],
    ['in', '91d', /too far ahead: schedules may be at most 90 days ahead/],
    ['at', '2026-12-31 17:00', /2026-12-31 17:00 \(Europe\/Berlin\) is too far ahead/],
    // Spring forward: 02:30 never happens in Berlin on 29 March 2026; fall back: 02:30 happens twice.
    ['at', '2027-03-28 02:30 Europe/Berlin', /does not exist in Europe\/Berlin/],
    ['at', '2026-10-25 02:30', /happens twice in Europe\/Berlin.*"2026-10-25 02:30 \+02:00"/],
  ])('refuses %s "%s"', (kind, text, message) => {
    const zone = 'Europe/Berlin';
    const limit = text.startsWith('2027') ? 400 * DAY : 90 * DAY;
    expect(() => parseSchedule(kind as 'at' | 'in', text, context(zone, limit))).toThrow(message);
    expect(() => parseSchedule(kind as 'at' | 'in', text, context(zone, limit))).toThrow(ScheduleError);
  });

  it('takes the limit as a parameter (the policy maxScheduleAhead)', () => {
    expect(() => parseSchedule('in', '2d', context('UTC', DAY))).toThrow(/at most 1 day ahead/);
    expect(parseSchedule('in', '23h', context('UTC', DAY)).at.toISOString()).toBe('2026-06-02T11:00:00.000Z');
  });

  it('F9: says "1 day" for a one-day limit and a limit under a day as the policy writes it, not "0 days"', () => {
    expect(() => parseSchedule('in', '2d', context('UTC', DAY))).toThrow(/at most 1 day ahead$/);
    expect(() => parseSchedule('in', '3h', context('UTC', 2 * 3_600_000))).toThrow(/at most 2h ahead$/);
    expect(() => parseSchedule('in', '3d', context('UTC', 2 * DAY))).toThrow(/at most 2 days ahead$/);
  });

  it('refuses an unknown requester zone rather than guessing', () => {
    expect(() => parseSchedule('in', '2h', context('Nowhere/Land'))).toThrow(/not a time zone/);
  });
});

describe('formatInZone', () => {
  it.each([
    ['2026-08-31T15:00:00.000Z', 'Europe/Berlin', '2026-08-31 17:00'],
    ['2026-12-31T16:00:00.000Z', 'Europe/Berlin', '2026-12-31 17:00'],
    ['2026-08-31T15:00:00.000Z', 'UTC+02:00', '2026-08-31 17:00'],
    ['2026-08-31T22:30:00.000Z', 'UTC-05:30', '2026-08-31 17:00'],
    ['2026-08-31T17:00:00.000Z', 'UTC', '2026-08-31 17:00'],
  ])('%s in %s reads %s', (instant, zone, text) => {
    expect(formatInZone(new Date(instant), zone)).toBe(text);
  });
});

describe('splitSchedule: the schedule phrase of /iam-disable-user', () => {
  it.each([
    [
      'jane@example.com at 2026-12-31 17:00 reason="last day"',
      'jane@example.com reason="last day"',
      { kind: 'at', text: '2026-12-31 17:00' },
    ],
    ['jane@example.com in 2h', 'jane@example.com', { kind: 'in', text: '2h' }],
    [
      'jane@example.com at 2026-12-31 17:00 Europe/Berlin reason="x y"',
      'jane@example.com reason="x y"',
      { kind: 'at', text: '2026-12-31 17:00 Europe/Berlin' },
    ],
    ['jane@example.com AT tomorrowish', 'jane@example.com', { kind: 'at', text: 'tomorrowish' }],
    ['jane@example.com reason="in the morning"', 'jane@example.com reason="in the morning"', null],
    ['email=jane@example.com reason=x', 'email=jane@example.com reason=x', null],
    ['jane@example.com', 'jane@example.com', null],
  ])('%s', (text, rest, when) => {
    expect(splitSchedule(text)).toEqual({ text: rest, when });
  });
});
