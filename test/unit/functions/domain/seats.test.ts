import { describe, expect, test } from '@jest/globals';
import { holdsSeat, openCohorts, serves, sessionAfter } from '../../../../functions/lib/domain/seats';

// which cohorts can take a person now (while one can, nobody is waitlisted), which session comes next

const NOW = new Date('2026-12-02T15:00:00Z'); // a Wednesday, 10:00 in New York

const cohort = (over: Record<string, unknown> = {}) => ({
  cohortId: 'c-evening',
  track: 'evening' as const,
  startDate: '2026-12-07',
  timeZone: 'America/New_York',
  weeks: 8,
  capacity: 10,
  seats: 3,
  sessions: [
    { weekday: 'MO' as const, start: '18:00', minutes: 180 },
    { weekday: 'WE' as const, start: '18:00', minutes: 180 },
    { weekday: 'TH' as const, start: '18:00', minutes: 180 },
  ],
  ...over,
});

describe('serves', () => {
  test('a cohort serves its own track and people who take any', () => {
    expect([serves('evening', 'evening'), serves('evening', 'any'), serves('evening', 'morning')]).toEqual([true, true, false]);
  });
});

describe('openCohorts', () => {
  test('a cohort of the track with a free seat and sessions ahead is open', () => {
    expect(openCohorts([cohort()], 'evening', NOW).map((c) => c.cohortId)).toEqual(['c-evening']);
  });

  test('a full cohort, one of the other track and one that is over are not', () => {
    const cohorts = [
      cohort({ cohortId: 'full', seats: 10 }),
      cohort({ cohortId: 'morning', track: 'morning', sessions: [{ weekday: 'MO', start: '09:00', minutes: 540 }] }),
      cohort({ cohortId: 'over', startDate: '2026-09-07', weeks: 4 }),
    ];
    expect(openCohorts(cohorts, 'evening', NOW)).toEqual([]);
  });

  test('a person who takes any schedule sees every track', () => {
    const morning = cohort({ cohortId: 'morning', track: 'morning', sessions: [{ weekday: 'MO', start: '09:00', minutes: 540 }] });
    expect(openCohorts([morning], 'any', NOW).map((c) => c.cohortId)).toEqual(['morning']);
  });

  test('a cohort whose only sessions left fall on closure days is not open', () => {
    const lastWeek = cohort({ startDate: '2026-11-02', weeks: 5, sessions: [{ weekday: 'TH', start: '18:00', minutes: 540 }] });
    expect(openCohorts([lastWeek], 'evening', NOW).length).toBe(1);
    expect(openCohorts([lastWeek], 'evening', NOW, ['2026-12-03'])).toEqual([]);
  });

  test('a cohort that has started but still meets is open (a late start)', () => {
    expect(openCohorts([cohort({ cohortId: 'started', startDate: '2026-11-02' })], 'evening', NOW).map((c) => c.cohortId)).toEqual([
      'started',
    ]);
  });
});

describe('sessionAfter', () => {
  test("the first session after an instant, in the cohort's zone", () => {
    expect(sessionAfter(cohort(), NOW)?.startsAt).toBe('2026-12-07T18:00:00-05:00');
    expect(sessionAfter(cohort(), new Date('2026-12-07T23:00:00Z'))?.startsAt).toBe('2026-12-09T18:00:00-05:00');
  });

  test('a closure day is skipped: the next session is the one after it', () => {
    expect(sessionAfter(cohort(), NOW, ['2026-12-07'])?.startsAt).toBe('2026-12-09T18:00:00-05:00');
  });

  test('none once the cohort is over', () => {
    expect(sessionAfter(cohort({ startDate: '2026-09-07', weeks: 4 }), NOW)).toBeUndefined();
  });
});

describe('holdsSeat', () => {
  test('a referral holds its seat from the enrolment until the seat is given back', () => {
    expect(holdsSeat({})).toBe(false);
    expect(holdsSeat({ cohortId: 'c1' })).toBe(true);
    expect(holdsSeat({ cohortId: 'c1', seatReleasedAt: '2026-12-02T15:00:00Z' })).toBe(false);
  });
});
