import ical, { ICalCalendarMethod, ICalEventRepeatingFreq, type ICalWeekday } from 'ical-generator';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import type { CohortInput, Session } from '../schemas/cohort';
import { addDays } from './dates';

// a cohort's weekly sessions → dated sessions and an iCalendar REQUEST (one recurring VEVENT per
// weekly session, TZID + VTIMEZONE so the wall-clock time holds across DST changes). Program closure
// days (config CLOSURE_DATES) hold no session: they are left out of the dates and excluded from
// the invitation's series with EXDATE.

const WEEKDAY_INDEX = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 } as const;

/** first date on or after `from` that falls on `weekday` */
export const firstOnOrAfter = (from: string, weekday: Session['weekday']): string => {
  const dow = new Date(`${from}T00:00:00Z`).getUTCDay();
  return addDays(from, (WEEKDAY_INDEX[weekday] - dow + 7) % 7);
};

/** offset of `timeZone` from UTC in minutes at instant `at` */
const offsetMinutes = (timeZone: string, at: Date): number => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - at.getTime()) / 60_000);
};

/** the instant of a wall-clock date and time in an IANA zone */
export const zonedInstant = (ymd: string, hhmm: string, timeZone: string): Date => {
  const guess = new Date(`${ymd}T${hhmm}:00Z`);
  const first = offsetMinutes(timeZone, guess);
  const instant = new Date(guess.getTime() - first * 60_000);
  const second = offsetMinutes(timeZone, instant);
  return second === first ? instant : new Date(guess.getTime() - second * 60_000);
};

/** ISO 8601 with the zone's offset, e.g. 2026-12-01T09:00:00-05:00 */
export const isoInZone = (ymd: string, hhmm: string, timeZone: string): string => {
  const off = offsetMinutes(timeZone, zonedInstant(ymd, hhmm, timeZone));
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${ymd}T${hhmm}:00${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

export interface DatedSession {
  date: string;
  start: string;
  minutes: number;
  /** ISO with offset */
  startsAt: string;
}

type CohortTimes = Pick<CohortInput, 'startDate' | 'timeZone' | 'weeks' | 'sessions'>;

/** every session of the cohort: each weekly session × weeks, from the start date, in order; none on a closure day */
export const sessionDates = (c: CohortTimes, closed: readonly string[] = []): DatedSession[] =>
  c.sessions
    .flatMap((s) => {
      const first = firstOnOrAfter(c.startDate, s.weekday);
      return Array.from({ length: c.weeks }, (_, w) => {
        const date = addDays(first, 7 * w);
        return { date, start: s.start, minutes: s.minutes, startsAt: isoInZone(date, s.start, c.timeZone) };
      });
    })
    .filter((s) => !closed.includes(s.date))
    .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));

/** the sessions that start after `now` (closure days left out) */
export const sessionsLeft = (c: CohortTimes, now: Date, closed: readonly string[] = []): DatedSession[] =>
  sessionDates(c, closed).filter((s) => Date.parse(s.startsAt) > now.getTime());

/** the next `n` sessions that start after `now` */
export const nextSessions = (c: CohortTimes, now: Date, n = 3, closed: readonly string[] = []): string[] =>
  sessionsLeft(c, now, closed)
    .slice(0, n)
    .map((s) => s.startsAt);

/** the closure days from `from` to `to` (YYYY-MM-DD, inclusive) on which the cohort would have met */
export const closuresBetween = (c: CohortTimes, closed: readonly string[], from: string, to: string): string[] =>
  [
    ...new Set(
      sessionDates(c)
        .map((s) => s.date)
        .filter((d) => closed.includes(d) && d >= from && d <= to),
    ),
  ].sort();

const pad = (n: number) => String(n).padStart(2, '0');
const localStamp = (ymd: string, hhmm: string, plusMinutes = 0): string => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const total = h * 60 + m + plusMinutes;
  const day = addDays(ymd, Math.floor(total / 1440));
  const mins = total % 1440;
  return `${day}T${pad(Math.floor(mins / 60))}:${pad(mins % 60)}:00`;
};
const utcStamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

export interface InviteInput {
  cohortId: string;
  cohort: CohortTimes;
  referralId: string;
  /** the event title: neutral, it shows on a lock screen (never the program's name) */
  summary: string;
  /** LOCATION: the street address or the video link; left out when the cohort has none */
  location?: string;
  /** DESCRIPTION: plain text (the program phone, the link, what to bring) */
  description: string;
  organizer: { name: string; email: string };
  attendee: string;
  /** sessions before this instant are left out (joining a cohort that has started) */
  now: Date;
  /** program closure days (YYYY-MM-DD): excluded from each series with EXDATE */
  closed?: readonly string[];
}

/** non-standard lines the library adds (TIMEZONE-ID, X-WR-TIMEZONE, X-LIC-LOCATION): RFC 5545 properties only */
const NON_STANDARD = /^(TIMEZONE-ID|X-[A-Z0-9-]+)[:;].*\r\n/gm;

/**
 * iCalendar text, METHOD:REQUEST, one recurring VEVENT per weekly session: each series starts at
 * its first session still ahead (after any closure day) and runs to the cohort's last week
 * (COUNT), the closure days in between excluded with EXDATE in the cohort's zone.
 */
export const buildInvite = (i: InviteInput): string => {
  const closed = i.closed ?? [];
  const cal = ical({
    method: ICalCalendarMethod.REQUEST,
    prodId: { company: 'iop-intake-referral', product: 'schedule', language: 'EN' },
    timezone: { name: i.cohort.timeZone, generator: (tz: string) => tzlib_get_ical_block(tz)[0] ?? null },
  });
  for (const s of i.cohort.sessions) {
    const first = firstOnOrAfter(i.cohort.startDate, s.weekday);
    const upcoming = Array.from({ length: i.cohort.weeks }, (_, w) => addDays(first, 7 * w)).filter(
      (d) => zonedInstant(d, s.start, i.cohort.timeZone).getTime() > i.now.getTime(),
    );
    // a series starts on a session that is held (a client may not drop an excluded first instance)
    while (upcoming.length && closed.includes(upcoming[0]!)) upcoming.shift();
    if (!upcoming.length) continue;
    const excluded = upcoming.filter((d) => closed.includes(d));
    cal.createEvent({
      id: `${i.cohortId}-${s.weekday}-${i.referralId}@iop-intake-referral`,
      start: localStamp(upcoming[0]!, s.start),
      end: localStamp(upcoming[0]!, s.start, s.minutes),
      timezone: i.cohort.timeZone,
      summary: i.summary,
      ...(i.location ? { location: i.location } : {}),
      description: i.description,
      repeating: {
        freq: ICalEventRepeatingFreq.WEEKLY,
        count: upcoming.length,
        byDay: [s.weekday as ICalWeekday],
        ...(excluded.length ? { exclude: excluded.map((d) => localStamp(d, s.start)), excludeTimezone: i.cohort.timeZone } : {}),
      },
      organizer: i.organizer,
      attendees: [{ email: i.attendee, rsvp: false }],
      stamp: i.now,
    });
  }
  // RFC 5545 wants DTSTAMP in UTC; the library writes it in the calendar zone
  return cal
    .toString()
    .replace(NON_STANDARD, '')
    .replace(/^DTSTAMP:.*$/gm, `DTSTAMP:${utcStamp(i.now)}`);
};
