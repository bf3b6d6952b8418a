import { describe, expect, test } from '@jest/globals';
import { availabilityOf, locationTypeOf, LONGEST_COHORT_DAYS, openCohort } from '../../../../functions/lib/domain/availability';
import { CohortSchema } from '../../../../functions/lib/schemas/cohort';
import { cohort, dayFromToday, TEST_NOW } from '../support/fixtures';

// open seats for referrers: from the cohorts' seat counters, per track, only what someone could still join

const now = new Date(TEST_NOW); // a Wednesday, 10:00 in New York

describe('openCohort', () => {
  test('a cohort not begun yet: its start, seats left, weekly pattern and every session still ahead', () => {
    // Act
    const open = openCohort(
      cohort({ seats: 7, capacity: 10, location: { kind: 'telehealth', url: 'https://video.example.org/room/9' } }),
      now,
    );

    // Assess
    expect(open).toEqual({
      startDate: dayFromToday(7),
      started: false,
      nextSessionDate: dayFromToday(7),
      nextSessionAt: `${dayFromToday(7)}T09:00:00-05:00`,
      sessionsLeft: 24,
      sessionsTotal: 24,
      seatsLeft: 3,
      population: 'adult',
      sessions: [
        { weekday: 'MO', start: '09:00', minutes: 180 },
        { weekday: 'WE', start: '09:00', minutes: 180 },
        { weekday: 'FR', start: '09:00', minutes: 180 },
      ],
      timeZone: 'America/New_York',
      locationType: 'telehealth',
    });
    // the link itself is never public
    expect(JSON.stringify(open)).not.toContain('video.example.org');
  });

  test('a cohort under way is joined at its next session and says how many are left', () => {
    // Prepare: started 9 days ago (a Monday), MO/WE/FR; today's 09:00 session began an hour ago
    const c = cohort({ startDate: dayFromToday(-9), weeks: 2 });

    // Act
    const open = openCohort(c, now);

    // Assess: Friday is next; of 6 sessions, Mon+Wed+Fri of week 1 and Mon+Wed of week 2 are past
    expect(open).toMatchObject({ started: true, nextSessionDate: dayFromToday(2), sessionsLeft: 1, sessionsTotal: 6 });
  });

  test('a full cohort, or one with no session left, is not open', () => {
    expect(openCohort(cohort({ seats: 10, capacity: 10 }), now)).toBeUndefined();
    expect(openCohort(cohort({ seats: 12, capacity: 10 }), now)).toBeUndefined();
    expect(openCohort(cohort({ startDate: dayFromToday(-30), weeks: 2 }), now)).toBeUndefined();
  });
});

describe('availabilityOf', () => {
  test('per track, soonest next session first, at most three, full ones left out', () => {
    // Prepare
    const evening = (startIn: number, seats: number) =>
      cohort({
        track: 'evening',
        startDate: dayFromToday(startIn),
        seats,
        sessions: [
          { weekday: 'MO', start: '18:00', minutes: 180 },
          { weekday: 'WE', start: '18:00', minutes: 180 },
          { weekday: 'TH', start: '18:00', minutes: 180 },
        ],
      });
    const cohorts = [evening(21, 2), evening(7, 10), evening(14, 9), evening(28, 0), evening(35, 5), cohort({ seats: 9 })];

    // Act
    const a = availabilityOf(cohorts, now);

    // Assess
    expect(a.tracks.evening.map((c) => [c.startDate, c.seatsLeft])).toEqual([
      [dayFromToday(14), 1],
      [dayFromToday(21), 8],
      [dayFromToday(28), 10],
    ]);
    expect(a.tracks.morning.map((c) => c.seatsLeft)).toEqual([1]);
    expect(a.generatedAt).toBe(TEST_NOW);
  });

  test('no cohorts: both tracks are there, empty', () => {
    expect(availabilityOf([], now).tracks).toEqual({ morning: [], evening: [] });
  });
});

describe('locationTypeOf', () => {
  test('reads the location kind, and a location without one by what it holds', () => {
    expect(locationTypeOf({ kind: 'in-person', address: '12 Main St' })).toBe('in-person');
    expect(locationTypeOf({ kind: 'telehealth', url: 'https://x.example' })).toBe('telehealth');
    expect(locationTypeOf({ url: 'https://x.example' })).toBe('telehealth');
    expect(locationTypeOf({ address: '12 Main St' })).toBe('in-person');
    expect(locationTypeOf(undefined)).toBeUndefined();
    expect(locationTypeOf('somewhere')).toBeUndefined();
  });
});

test('LONGEST_COHORT_DAYS covers the longest cohort the schema accepts, and no more is accepted', () => {
  const base = {
    name: 'X',
    track: 'morning',
    startDate: dayFromToday(7),
    capacity: 10,
    location: { kind: 'in-person', address: '1 Main St' },
    sessions: [
      { weekday: 'MO', start: '09:00', minutes: 180 },
      { weekday: 'WE', start: '09:00', minutes: 180 },
      { weekday: 'FR', start: '09:00', minutes: 180 },
    ],
  };
  const schema = CohortSchema('America/New_York');
  expect(schema.safeParse({ ...base, weeks: LONGEST_COHORT_DAYS / 7 }).success).toBe(true);
  expect(schema.safeParse({ ...base, weeks: LONGEST_COHORT_DAYS / 7 + 1 }).success).toBe(false);
});
