import { describe, expect, test } from '@jest/globals';
import { availabilityLines, clockTime, cohortSentence, longDay, shortWeekday, weeklyPattern } from '../../../web/src/shared/availability';
import type { Availability, OpenCohort } from '../../../functions/lib/domain/availability';

// open seats in words, both languages, dates written out as the page's language writes them

const open = (o: Partial<OpenCohort> = {}): OpenCohort => ({
  startDate: '2026-12-07',
  started: false,
  nextSessionDate: '2026-12-07',
  nextSessionAt: '2026-12-07T18:00:00-05:00',
  sessionsLeft: 24,
  sessionsTotal: 24,
  seatsLeft: 3,
  population: 'adult',
  timeZone: 'America/New_York',
  sessions: [
    { weekday: 'MO', start: '18:00', minutes: 180 },
    { weekday: 'WE', start: '18:00', minutes: 180 },
    { weekday: 'TH', start: '18:00', minutes: 180 },
  ],
  ...o,
});
const spaces = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('dates and times in the page language', () => {
  test('a calendar day written out, without a time zone shift', () => {
    expect(longDay('2026-12-07', 'en')).toBe('Monday, December 7');
    expect(longDay('2026-12-07', 'es')).toBe('lunes 7 de diciembre');
    expect(longDay('2027-01-01', 'es')).toBe('viernes 1 de enero');
  });

  test('weekdays and times', () => {
    expect([shortWeekday('MO', 'en'), shortWeekday('TH', 'es')]).toEqual(['Mon', 'jue']);
    expect([spaces(clockTime('18:00', 'en')), clockTime('18:00', 'es'), spaces(clockTime('09:30', 'en'))]).toEqual([
      '6:00 PM',
      '18:00',
      '9:30 AM',
    ]);
    expect(spaces(weeklyPattern(open(), 'en'))).toBe('Mon, Wed, Thu · 6:00 PM');
    expect(
      weeklyPattern(
        open({
          sessions: [
            { weekday: 'MO', start: '18:00', minutes: 180 },
            { weekday: 'SA', start: '10:00', minutes: 180 },
          ],
        }),
        'es',
      ),
    ).toBe('lun 18:00, sáb 10:00');
  });
});

describe('sentences', () => {
  test('the next group of a track, with its seats and place, in English and Spanish', () => {
    expect(cohortSentence('evening', open(), 'en')).toBe('Next evening group starts Monday, December 7 — 3 seats left.');
    expect(cohortSentence('evening', open({ seatsLeft: 1, locationType: 'telehealth' }), 'en')).toBe(
      'Next evening group starts Monday, December 7 — 1 seat left (by video).',
    );
    expect(cohortSentence('morning', open({ locationType: 'in-person' }), 'es')).toBe(
      'El próximo grupo de la mañana empieza el lunes 7 de diciembre: quedan 3 plazas (presencial).',
    );
    expect(cohortSentence('evening', open({ seatsLeft: 1 }), 'es')).toBe(
      'El próximo grupo de la tarde empieza el lunes 7 de diciembre: queda 1 plaza.',
    );
  });

  test('a group under way says when one can join', () => {
    expect(cohortSentence('evening', open({ started: true, nextSessionDate: '2026-12-09' }), 'en')).toBe(
      'An evening group under way can take you from Wednesday, December 9 — 3 seats left.',
    );
    expect(cohortSentence('morning', open({ started: true, nextSessionDate: '2026-12-09' }), 'en')).toMatch(/^A morning group under way/);
    expect(cohortSentence('evening', open({ started: true, nextSessionDate: '2026-12-09' }), 'es')).toBe(
      'Un grupo de la tarde ya en curso puede recibirle desde el miércoles 9 de diciembre: quedan 3 plazas.',
    );
  });

  test('the intake page: the soonest of each track, or one line saying the groups are full', () => {
    const a: Availability = {
      tracks: { morning: [], evening: [open(), open({ nextSessionDate: '2026-12-14' })] },
      generatedAt: '2026-12-01T00:00:00Z',
    };
    expect(availabilityLines(a, 'en')).toEqual(['Next evening group starts Monday, December 7 — 3 seats left.']);
    expect(availabilityLines({ ...a, tracks: { morning: [], evening: [] } }, 'es')).toEqual([expect.stringContaining('llenos')]);
  });
});
