import { describe, expect, test } from '@jest/globals';
import { CohortSchema, SessionSchema } from '../../../../functions/lib/schemas/cohort';
import { fieldErrors } from '../../../../functions/lib/schemas/common';
import { dayFromToday, TEST_NOW } from '../support/fixtures';

const Schema = CohortSchema('America/Chicago');

const threeByThree = [
  { weekday: 'MO', start: '09:00', minutes: 180 },
  { weekday: 'WE', start: '09:00', minutes: 180 },
  { weekday: 'FR', start: '09:00', minutes: 180 },
];

const cohortBody = (over: Record<string, unknown> = {}) => ({
  name: 'Morning A',
  track: 'morning',
  startDate: dayFromToday(7),
  timeZone: 'America/New_York',
  capacity: 10,
  weeks: 8,
  sessions: threeByThree,
  location: { kind: 'in-person', address: '12 Harbor St, Boston, MA 02110' },
  ...over,
});

const failingPaths = (body: unknown): string[] => {
  const parsed = Schema.safeParse(body);
  return parsed.success ? [] : Object.keys(fieldErrors(parsed.error));
};

describe('CohortSchema', () => {
  test('an adult cohort of 3 × 3 h a week with 10 seats passes', () => {
    expect(Schema.safeParse(cohortBody())).toMatchObject({ success: true, data: { population: 'adult', capacity: 10 } });
  });

  test('a missing time zone takes the program default given to the schema', () => {
    // Prepare
    const { timeZone: _tz, ...body } = cohortBody();

    // Act
    const parsed = Schema.parse(body);

    // Assess
    expect(parsed.timeZone).toBe('America/Chicago');
  });

  test.each([0, 11, 2.5])('a capacity of %s fails on capacity (1–10)', (capacity) => {
    expect(failingPaths(cohortBody({ capacity }))).toEqual(['capacity']);
  });

  test('a capacity of 1 passes', () => {
    expect(Schema.safeParse(cohortBody({ capacity: 1 })).success).toBe(true);
  });

  test('an adult track under 9 hours a week fails on sessions', () => {
    // Prepare
    const body = cohortBody({
      sessions: [
        { weekday: 'MO', start: '09:00', minutes: 180 },
        { weekday: 'WE', start: '09:00', minutes: 179 },
        { weekday: 'FR', start: '09:00', minutes: 180 },
      ],
    });

    // Act
    const parsed = Schema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(false);
    expect(fieldErrors(parsed.error!)).toEqual({ sessions: [expect.stringContaining('at least 9 hours')] });
  });

  test('an adolescent track of 6 hours a week passes', () => {
    expect(
      Schema.safeParse(
        cohortBody({
          population: 'adolescent',
          track: 'evening',
          sessions: [
            { weekday: 'TU', start: '16:00', minutes: 180 },
            { weekday: 'TH', start: '16:00', minutes: 180 },
          ],
        }),
      ).success,
    ).toBe(true);
  });

  test('an adolescent track under 6 hours a week fails on sessions', () => {
    expect(
      failingPaths(cohortBody({ population: 'adolescent', track: 'evening', sessions: [{ weekday: 'TU', start: '16:00', minutes: 300 }] })),
    ).toEqual(['sessions']);
  });

  test.each(['Mars/Olympus_Mons', 'EST', 'not a zone'])('the time zone "%s" fails on timeZone', (timeZone) => {
    expect(failingPaths(cohortBody({ timeZone }))).toEqual(['timeZone']);
  });

  test('two sessions on the same weekday fail on sessions', () => {
    // Prepare
    const body = cohortBody({ sessions: [...threeByThree, { weekday: 'MO', start: '13:00', minutes: 60 }] });

    // Act
    const fields = fieldErrors(Schema.safeParse(body).error!);

    // Assess
    expect(fields).toEqual({ sessions: ['One session per weekday'] });
  });

  test('an impossible start date fails on startDate', () => {
    expect(failingPaths(cohortBody({ startDate: '2026-02-30' }))).toEqual(['startDate']);
  });
});

describe(`CohortSchema: track and start date (the clock is pinned to a Wednesday, ${TEST_NOW})`, () => {
  test('an evening cohort with 09:00 sessions fails on track, naming the morning time', () => {
    expect(fieldErrors(Schema.safeParse(cohortBody({ track: 'evening' })).error!)).toEqual({
      track: ["An evening cohort's sessions start at 16:00 or later; 09:00 is a morning time"],
    });
  });

  test('a morning cohort with an 18:00 session fails on track', () => {
    const sessions = [...threeByThree.slice(0, 2), { weekday: 'FR', start: '18:00', minutes: 180 }];
    expect(failingPaths(cohortBody({ sessions }))).toEqual(['track']);
  });

  test('16:00 is the first evening minute by default; the boundary is configurable', () => {
    const at = (start: string) => threeByThree.map((s) => ({ ...s, start }));
    expect(Schema.safeParse(cohortBody({ track: 'evening', sessions: at('16:00') })).success).toBe(true);
    expect(failingPaths(cohortBody({ track: 'evening', sessions: at('15:59') }))).toEqual(['track']);
    expect(
      CohortSchema('America/Chicago', { eveningFrom: '17:00' }).safeParse(cohortBody({ track: 'evening', sessions: at('16:30') })).success,
    ).toBe(false);
    expect(
      CohortSchema('America/Chicago', { eveningFrom: '17:00' }).safeParse(cohortBody({ track: 'morning', sessions: at('16:30') })).success,
    ).toBe(true);
  });

  test('a start date that has passed fails on startDate; today passes', () => {
    expect(fieldErrors(Schema.safeParse(cohortBody({ startDate: dayFromToday(-60) })).error!)).toEqual({
      startDate: ['The start date has passed: choose today or a later day'],
    });
    expect(Schema.safeParse(cohortBody({ startDate: dayFromToday(0) })).success).toBe(true);
  });

  test('"today" is the cohort zone\'s today: at 15:00 UTC it is still the same day in Honolulu', () => {
    expect(Schema.safeParse(cohortBody({ startDate: dayFromToday(0), timeZone: 'Pacific/Honolulu' })).success).toBe(true);
    expect(failingPaths(cohortBody({ startDate: dayFromToday(-1), timeZone: 'Pacific/Honolulu' }))).toEqual(['startDate']);
  });
});

describe('CohortSchema: location', () => {
  test('a telehealth cohort with an https link passes', () => {
    const location = { kind: 'telehealth', url: 'https://meet.example.org/iop-evening' };
    expect(Schema.safeParse(cohortBody({ location }))).toMatchObject({ success: true, data: { location } });
  });

  test('a new cohort without a location fails on location', () => {
    const { location: _l, ...body } = cohortBody();
    expect(fieldErrors(Schema.safeParse(body).error!)).toEqual({ location: ['Required'] });
  });

  test.each([
    ['an empty address', { kind: 'in-person', address: '  ' }, 'location.address'],
    ['a plain http link', { kind: 'telehealth', url: 'http://meet.example.org/x' }, 'location.url'],
    ['a link that is not a URL', { kind: 'telehealth', url: 'zoom room 4' }, 'location.url'],
    ['an unknown kind', { kind: 'phone', number: '555' }, 'location.kind'],
  ])('%s fails on %s', (_what, location, path) => {
    expect(failingPaths(cohortBody({ location }))).toEqual([path]);
  });
});

describe('SessionSchema', () => {
  test('a weekday, a 24-hour start and a length pass', () => {
    expect(SessionSchema.safeParse({ weekday: 'SU', start: '23:30', minutes: 30 }).success).toBe(true);
  });

  test.each([
    ['a 12-hour start', { weekday: 'MO', start: '9:00', minutes: 60 }, 'start'],
    ['24:00', { weekday: 'MO', start: '24:00', minutes: 60 }, 'start'],
    ['an unknown weekday', { weekday: 'MON', start: '09:00', minutes: 60 }, 'weekday'],
    ['under 30 minutes', { weekday: 'MO', start: '09:00', minutes: 20 }, 'minutes'],
  ])('%s fails', (_what, body, path) => {
    const parsed = SessionSchema.safeParse(body);
    expect(Object.keys(fieldErrors(parsed.error!))).toEqual([path]);
  });
});
