import { describe, expect, test } from '@jest/globals';
import {
  buildInvite, firstOnOrAfter, isoInZone, nextSessions, sessionDates, zonedInstant, type InviteInput,
} from '../../../../functions/lib/domain/schedule';

// 2026: DST in America/New_York ends on Sunday 1 November (02:00 EDT → 01:00 EST)

const NY = 'America/New_York';

const cohort = {
  name: 'Morning A',
  startDate: '2026-10-26', // a Monday, one week before the change
  timeZone: NY,
  weeks: 3,
  sessions: [
    { weekday: 'TU' as const, start: '09:00', minutes: 180 },
    { weekday: 'TH' as const, start: '09:00', minutes: 180 },
    { weekday: 'SA' as const, start: '10:30', minutes: 180 },
  ],
};

const invite = (over: Partial<InviteInput> = {}): InviteInput => ({
  cohortId: 'cohort-morning-a',
  cohort,
  referralId: 'ref-1',
  summary: 'Group session',
  location: 'Harbor IOP, 12 Main St',
  organizer: { name: 'Harbor IOP', email: 'program@iop.example.org' },
  attendee: 'jordan.quintana@example.com',
  now: new Date('2026-10-20T15:04:05.678Z'),
  ...over,
});

/** RFC 5545 content lines, unfolded */
const lines = (ics: string): string[] => ics.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);

/** the content lines of each VEVENT */
const vevents = (ics: string): string[][] => {
  const out: string[][] = [];
  let cur: string[] | undefined;
  for (const l of lines(ics)) {
    if (l === 'BEGIN:VEVENT') cur = [];
    else if (l === 'END:VEVENT') { out.push(cur!); cur = undefined; }
    else cur?.push(l);
  }
  return out;
};

const prop = (event: string[], name: string): string[] => event.filter((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));

describe('firstOnOrAfter', () => {
  test.each([
    ['2026-10-26', 'MO', '2026-10-26'],
    ['2026-10-26', 'TU', '2026-10-27'],
    ['2026-10-26', 'SU', '2026-11-01'],
    ['2026-10-27', 'MO', '2026-11-02'],
    ['2026-12-30', 'FR', '2027-01-01'],
    ['2028-02-27', 'TU', '2028-02-29'],
  ] as const)('from %s the first %s is %s', (from, weekday, expected) => {
    expect(firstOnOrAfter(from, weekday)).toBe(expected);
  });
});

describe('zonedInstant and isoInZone across the end of DST', () => {
  test('a Tuesday 09:00 session before the change is 09:00 local at -04:00', () => {
    expect(isoInZone('2026-10-27', '09:00', NY)).toBe('2026-10-27T09:00:00-04:00');
    expect(zonedInstant('2026-10-27', '09:00', NY).toISOString()).toBe('2026-10-27T13:00:00.000Z');
  });

  test('the same Tuesday 09:00 session after the change stays 09:00 local at -05:00', () => {
    expect(isoInZone('2026-11-03', '09:00', NY)).toBe('2026-11-03T09:00:00-05:00');
    expect(zonedInstant('2026-11-03', '09:00', NY).toISOString()).toBe('2026-11-03T14:00:00.000Z');
  });

  test('a Sunday-of-the-change session after 02:00 is already standard time', () => {
    expect(isoInZone('2026-11-01', '09:00', NY)).toBe('2026-11-01T09:00:00-05:00');
  });

  test('the start of DST in March moves the offset the other way', () => {
    expect(isoInZone('2026-03-07', '18:00', NY)).toBe('2026-03-07T18:00:00-05:00');
    expect(isoInZone('2026-03-09', '18:00', NY)).toBe('2026-03-09T18:00:00-04:00');
  });

  test('a zone east of UTC gives a positive offset', () => {
    expect(isoInZone('2026-07-01', '09:00', 'Europe/Madrid')).toBe('2026-07-01T09:00:00+02:00');
  });
});

describe('sessionDates', () => {
  test('gives sessions × weeks dated sessions, sorted by start', () => {
    // Act
    const dated = sessionDates(cohort);

    // Assess
    expect(dated).toHaveLength(cohort.sessions.length * cohort.weeks);
    const starts = dated.map((s) => Date.parse(s.startsAt));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(dated.map((s) => s.date)).toEqual([
      '2026-10-27', '2026-10-29', '2026-10-31', '2026-11-03', '2026-11-05', '2026-11-07', '2026-11-10', '2026-11-12', '2026-11-14',
    ]);
  });

  test('every session keeps its local start time while the offset changes with DST', () => {
    const dated = sessionDates(cohort);
    expect(dated.filter((s) => s.start === '09:00').map((s) => s.startsAt)).toEqual([
      '2026-10-27T09:00:00-04:00', '2026-10-29T09:00:00-04:00',
      '2026-11-03T09:00:00-05:00', '2026-11-05T09:00:00-05:00',
      '2026-11-10T09:00:00-05:00', '2026-11-12T09:00:00-05:00',
    ]);
  });
});

describe('nextSessions', () => {
  test('lists the next three starts after now', () => {
    expect(nextSessions(cohort, new Date('2026-11-03T14:00:00Z'))).toEqual([
      '2026-11-05T09:00:00-05:00', '2026-11-07T10:30:00-05:00', '2026-11-10T09:00:00-05:00',
    ]);
  });

  test('is empty once the cohort has ended', () => {
    expect(nextSessions(cohort, new Date('2026-12-01T00:00:00Z'))).toEqual([]);
  });
});

describe('buildInvite', () => {
  test('is a REQUEST calendar with a VTIMEZONE for the cohort zone', () => {
    // Act
    const l = lines(buildInvite(invite()));

    // Assess
    expect(l[0]).toBe('BEGIN:VCALENDAR');
    expect(l).toContain('METHOD:REQUEST');
    const tz = l.slice(l.indexOf('BEGIN:VTIMEZONE'), l.indexOf('END:VTIMEZONE') + 1);
    expect(tz).toContain(`TZID:${NY}`);
    expect(tz).toEqual(expect.arrayContaining(['BEGIN:STANDARD', 'BEGIN:DAYLIGHT', 'TZOFFSETTO:-0500', 'TZOFFSETTO:-0400']));
  });

  test('has one recurring VEVENT per weekly session, COUNT = weeks and BYDAY = its weekday', () => {
    // Act
    const events = vevents(buildInvite(invite()));

    // Assess
    expect(events).toHaveLength(3);
    expect(events.map((e) => prop(e, 'RRULE'))).toEqual([
      ['RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TU'],
      ['RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TH'],
      ['RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=SA'],
    ]);
  });

  test('starts each series on its first date in local wall-clock time with TZID', () => {
    const events = vevents(buildInvite(invite()));
    expect(events.map((e) => [prop(e, 'DTSTART')[0], prop(e, 'DTEND')[0]])).toEqual([
      [`DTSTART;TZID=${NY}:20261027T090000`, `DTEND;TZID=${NY}:20261027T120000`],
      [`DTSTART;TZID=${NY}:20261029T090000`, `DTEND;TZID=${NY}:20261029T120000`],
      [`DTSTART;TZID=${NY}:20261031T103000`, `DTEND;TZID=${NY}:20261031T133000`],
    ]);
  });

  test('writes DTSTAMP in UTC (ending in Z) whatever the cohort zone', () => {
    const events = vevents(buildInvite(invite()));
    for (const e of events) expect(prop(e, 'DTSTAMP')).toEqual(['DTSTAMP:20261020T150405Z']);
  });

  test('names the organizer and only the one recipient on each event, with stable unique UIDs', () => {
    // Act
    const events = vevents(buildInvite(invite({ attendee: 'alopez@clinic.example.com' })));

    // Assess
    for (const e of events) {
      expect(prop(e, 'ORGANIZER')).toEqual(['ORGANIZER;CN="Harbor IOP":mailto:program@iop.example.org']);
      expect(prop(e, 'ATTENDEE').map((a) => a.slice(a.lastIndexOf(':') + 1))).toEqual(['alopez@clinic.example.com']);
    }
    const uids = events.map((e) => prop(e, 'UID')[0]);
    expect(new Set(uids).size).toBe(3);
    expect(uids[0]).toBe('UID:cohort-morning-a-TU-ref-1@iop-intake-referral');
  });

  test('a late session that runs past midnight ends on the next day', () => {
    // Prepare
    const late = { ...cohort, sessions: [{ weekday: 'FR' as const, start: '22:00', minutes: 180 }] };

    // Act
    const [event] = vevents(buildInvite(invite({ cohort: late })));

    // Assess
    expect(prop(event!, 'DTEND')).toEqual([`DTEND;TZID=${NY}:20261031T010000`]);
  });

  test('the same input gives the same calendar (no hidden clock)', () => {
    expect(buildInvite(invite())).toBe(buildInvite(invite()));
  });
});
