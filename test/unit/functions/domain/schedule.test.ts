import { describe, expect, test } from '@jest/globals';
import ICAL from 'ical.js';
import {
  buildInvite,
  closuresBetween,
  firstOnOrAfter,
  isoInZone,
  nextSessions,
  sessionDates,
  sessionsLeft,
  zonedInstant,
  type InviteInput,
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
  location: '12 Main St, Suite 3, Boston, MA 02110',
  description: 'Questions, or cannot come? Call (555) 010-0100.\nWhat to bring: A photo ID.',
  organizer: { name: 'Harbor IOP', email: 'program@iop.example.org' },
  attendee: 'jordan.quintana@example.com',
  now: new Date('2026-10-20T15:04:05.678Z'),
  ...over,
});

/** RFC 5545 content lines, unfolded */
const lines = (ics: string): string[] =>
  ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter(Boolean);

/** the content lines of each VEVENT */
const vevents = (ics: string): string[][] => {
  const out: string[][] = [];
  let cur: string[] | undefined;
  for (const l of lines(ics)) {
    if (l === 'BEGIN:VEVENT') cur = [];
    else if (l === 'END:VEVENT') {
      out.push(cur!);
      cur = undefined;
    } else cur?.push(l);
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
      '2026-10-27',
      '2026-10-29',
      '2026-10-31',
      '2026-11-03',
      '2026-11-05',
      '2026-11-07',
      '2026-11-10',
      '2026-11-12',
      '2026-11-14',
    ]);
  });

  test('every session keeps its local start time while the offset changes with DST', () => {
    const dated = sessionDates(cohort);
    expect(dated.filter((s) => s.start === '09:00').map((s) => s.startsAt)).toEqual([
      '2026-10-27T09:00:00-04:00',
      '2026-10-29T09:00:00-04:00',
      '2026-11-03T09:00:00-05:00',
      '2026-11-05T09:00:00-05:00',
      '2026-11-10T09:00:00-05:00',
      '2026-11-12T09:00:00-05:00',
    ]);
  });
});

describe('nextSessions', () => {
  test('lists the next three starts after now', () => {
    expect(nextSessions(cohort, new Date('2026-11-03T14:00:00Z'))).toEqual([
      '2026-11-05T09:00:00-05:00',
      '2026-11-07T10:30:00-05:00',
      '2026-11-10T09:00:00-05:00',
    ]);
  });

  test('is empty once the cohort has ended', () => {
    expect(nextSessions(cohort, new Date('2026-12-01T00:00:00Z'))).toEqual([]);
  });
});

describe('closure days', () => {
  const closed = ['2026-10-29', '2026-11-01', '2026-11-14'];

  test('sessionDates leaves out the sessions on closure days', () => {
    expect(sessionDates(cohort, closed).map((s) => s.date)).toEqual([
      '2026-10-27',
      '2026-10-31',
      '2026-11-03',
      '2026-11-05',
      '2026-11-07',
      '2026-11-10',
      '2026-11-12',
    ]);
  });

  test('sessionsLeft counts the sessions still ahead, closures left out', () => {
    expect(sessionsLeft(cohort, new Date('2026-11-04T00:00:00Z'), closed).map((s) => s.date)).toEqual([
      '2026-11-05',
      '2026-11-07',
      '2026-11-10',
      '2026-11-12',
    ]);
  });

  test('closuresBetween names only the closure days the group would have met on (Sunday Nov 1 is not a session day)', () => {
    expect(closuresBetween(cohort, closed, '2026-10-27', '2026-11-14')).toEqual(['2026-10-29', '2026-11-14']);
    expect(closuresBetween(cohort, closed, '2026-11-01', '2026-11-13')).toEqual([]);
  });
});

/** the invitation as a calendar program reads it (ical.js, Mozilla's parser): each VEVENT and the local start of every occurrence */
const parsed = (ics: string) => {
  const cal = new ICAL.Component(ICAL.parse(ics));
  for (const tz of cal.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  return cal.getAllSubcomponents('vevent').map((v) => {
    const event = new ICAL.Event(v);
    const starts: string[] = [];
    const instants: string[] = [];
    const it = event.iterator();
    for (let t = it.next(); t; t = it.next()) {
      starts.push(t.toString());
      instants.push(t.toJSDate().toISOString());
    }
    return { event, starts, instants };
  });
};

describe('buildInvite, read with ical.js', () => {
  test('parses as one calendar: METHOD REQUEST, three events with title, location and description as given', () => {
    // Act
    const cal = new ICAL.Component(ICAL.parse(buildInvite(invite())));
    const events = parsed(buildInvite(invite()));

    // Assess
    expect(cal.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(events).toHaveLength(3);
    for (const { event } of events) {
      expect(event.summary).toBe('Group session');
      expect(event.location).toBe('12 Main St, Suite 3, Boston, MA 02110');
      expect(event.description).toBe('Questions, or cannot come? Call (555) 010-0100.\nWhat to bring: A photo ID.');
    }
  });

  test('every occurrence is at its local time in the cohort zone, across the end of DST', () => {
    // Act
    const [tuesdays] = parsed(buildInvite(invite()));

    // Assess
    expect(tuesdays!.starts).toEqual(['2026-10-27T09:00:00', '2026-11-03T09:00:00', '2026-11-10T09:00:00']);
    expect(tuesdays!.event.startDate.zone?.tzid).toBe(NY);
    expect(tuesdays!.instants).toEqual(['2026-10-27T13:00:00.000Z', '2026-11-03T14:00:00.000Z', '2026-11-10T14:00:00.000Z']);
  });

  test('only RFC 5545 properties: no TIMEZONE-ID and no X- extension anywhere', () => {
    // Act
    const ics = buildInvite(invite());

    // Assess
    expect(lines(ics).filter((l) => /^(TIMEZONE-ID|X-)/.test(l))).toEqual([]);
    const standard = new Set([
      'BEGIN',
      'END',
      'VERSION',
      'PRODID',
      'METHOD',
      'TZID',
      'LAST-MODIFIED',
      'TZNAME',
      'TZOFFSETFROM',
      'TZOFFSETTO',
      'DTSTART',
      'RRULE',
      'UID',
      'SEQUENCE',
      'DTSTAMP',
      'DTEND',
      'SUMMARY',
      'LOCATION',
      'DESCRIPTION',
      'ORGANIZER',
      'ATTENDEE',
      'EXDATE',
      'RDATE',
    ]);
    expect(
      lines(ics)
        .map((l) => l.split(/[:;]/)[0])
        .filter((name) => !standard.has(name!)),
    ).toEqual([]);
  });

  test('program closure days are excluded with EXDATE: no occurrence falls on them, the series still runs to the last week', () => {
    // Prepare: the program is closed on Thursday Oct 29 and Saturday Nov 7
    const ics = buildInvite(invite({ closed: ['2026-10-29', '2026-11-07'] }));

    // Act
    const [tue, thu, sat] = parsed(ics);

    // Assess
    expect(tue!.starts).toEqual(['2026-10-27T09:00:00', '2026-11-03T09:00:00', '2026-11-10T09:00:00']);
    expect(thu!.starts).toEqual(['2026-11-05T09:00:00', '2026-11-12T09:00:00']);
    expect(sat!.starts).toEqual(['2026-10-31T10:30:00', '2026-11-14T10:30:00']);
    expect(prop(vevents(ics)[2]!, 'EXDATE')).toEqual([`EXDATE;TZID=${NY}:20261107T103000`]);
  });

  test('a closure on the first session of a series starts the series at the next one (no excluded first instance)', () => {
    // Act
    const [, thu] = parsed(buildInvite(invite({ closed: ['2026-10-29'] })));

    // Assess
    expect(thu!.event.startDate.toString()).toBe('2026-11-05T09:00:00');
    expect(thu!.starts).toEqual(['2026-11-05T09:00:00', '2026-11-12T09:00:00']);
    expect(prop(vevents(buildInvite(invite({ closed: ['2026-10-29'] })))[1]!, 'EXDATE')).toEqual([]);
  });

  test('joining late: only the sessions still ahead are in the series', () => {
    // Act
    const events = parsed(buildInvite(invite({ now: new Date('2026-11-04T12:00:00Z') })));

    // Assess
    expect(events.map((e) => e.starts)).toEqual([
      ['2026-11-10T09:00:00'],
      ['2026-11-05T09:00:00', '2026-11-12T09:00:00'],
      ['2026-11-07T10:30:00', '2026-11-14T10:30:00'],
    ]);
  });

  test('a cohort without a location has no LOCATION (never the program name)', () => {
    const ics = buildInvite(invite({ location: undefined }));
    expect(lines(ics).filter((l) => l.startsWith('LOCATION'))).toEqual([]);
    expect(parsed(ics)).toHaveLength(3);
  });

  test('a description with commas, semicolons and a new line survives the round trip', () => {
    const description = 'Join by video at this link: https://meet.example.org/a?x=1;y=2\nQuestions, or cannot come? Call (555) 010-0100.';
    expect(parsed(buildInvite(invite({ description })))[0]!.event.description).toBe(description);
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
