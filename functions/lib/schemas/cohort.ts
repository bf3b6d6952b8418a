import * as z from 'zod';
import { nowMs } from '../clock';
import { localDay } from '../domain/dates';
import { calendarDate, isCalendarDate, isTimeZone, trimmed } from './common';
import { message } from './messages';

// POST /api/staff/cohorts (docs/ARCHITECTURE.md §3): an IOP group, ASAM level 2.1

export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export const TRACKS = ['morning', 'evening'] as const;
const MAX_COHORT_CAPACITY = 10;
/** ASAM 2.1 minimum weekly hours of structured programming */
export const MIN_WEEKLY_MINUTES = { adult: 9 * 60, adolescent: 6 * 60 } as const;

export const SessionSchema = z.object({
  weekday: z.enum(WEEKDAYS),
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use 24-hour HH:MM'),
  minutes: z.number().int().min(30, 'At least 30 minutes').max(480, 'At most 8 hours'),
});

/** where a cohort meets: a street address, or a telehealth link (https) */
const LocationSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('in-person'), address: trimmed(300) }),
    z.object({
      kind: z.literal('telehealth'),
      url: z
        .string()
        .trim()
        .max(500, 'At most 500 characters')
        .pipe(z.url({ protocol: /^https$/, error: 'Enter the https:// link of the video session' })),
    }),
  ],
  { error: (iss) => (iss.input === undefined ? message('required') : 'Choose in person or telehealth') },
);

export type CohortLocation = z.infer<typeof LocationSchema>;

/** the default boundary between the tracks: a session starting at or after 16:00 is an evening session */
const DEFAULT_EVENING_FROM = '16:00';

/** today in `timeZone` (YYYY-MM-DD) */
const todayIn = (timeZone: string): string => {
  try {
    return localDay(new Date(nowMs()).toISOString(), timeZone);
  } catch {
    return new Date(nowMs()).toISOString().slice(0, 10);
  }
};

export interface CohortRules {
  /** HH:MM: sessions starting at or after it are evening sessions (config EVENING_TRACK_FROM) */
  eveningFrom?: string;
}

/**
 * A new cohort: ASAM 2.1 hours, one session per weekday, a location, sessions that match its track
 * (morning: every session starts before `eveningFrom`; evening: at or after it), and a start date
 * that is not past in the cohort's own time zone. Names are unique per start date (the repository's
 * conditional write, not this schema).
 */
export const CohortSchema = (defaultTimeZone: string, rules: CohortRules = {}) =>
  z
    .object({
      name: trimmed(100),
      track: z.enum(TRACKS),
      population: z.enum(['adult', 'adolescent']).default('adult'),
      startDate: calendarDate(),
      timeZone: z.string().default(defaultTimeZone).refine(isTimeZone, 'Use an IANA time zone such as America/New_York'),
      capacity: z.number().int().min(1, 'Between 1 and 10').max(MAX_COHORT_CAPACITY, 'Between 1 and 10'),
      weeks: z.number().int().min(1).max(16),
      sessions: z.array(SessionSchema).min(1, 'Add at least one weekly session').max(7),
      /** required for new cohorts; cohorts stored before locations existed have none (CohortRecord) */
      location: LocationSchema,
    })
    .superRefine((c, ctx) => {
      const minutes = c.sessions.reduce((sum, s) => sum + s.minutes, 0);
      const min = MIN_WEEKLY_MINUTES[c.population];
      if (minutes < min) {
        ctx.addIssue({
          code: 'custom',
          path: ['sessions'],
          message: `An ${c.population} IOP track needs at least ${min / 60} hours a week (ASAM 2.1); these sessions give ${(minutes / 60).toFixed(1)}`,
        });
      }
      const days = new Set(c.sessions.map((s) => s.weekday));
      if (days.size !== c.sessions.length) ctx.addIssue({ code: 'custom', path: ['sessions'], message: 'One session per weekday' });
      const from = rules.eveningFrom ?? DEFAULT_EVENING_FROM;
      const off = c.sessions.filter((s) => (c.track === 'evening' ? s.start < from : s.start >= from));
      if (off.length) {
        const times = [...new Set(off.map((s) => s.start))].sort().join(', ');
        ctx.addIssue({
          code: 'custom',
          path: ['track'],
          message:
            c.track === 'evening'
              ? `An evening cohort's sessions start at ${from} or later; ${times} is a morning time`
              : `A morning cohort's sessions start before ${from}; ${times} is an evening time`,
        });
      }
      if (isCalendarDate(c.startDate) && c.startDate < todayIn(c.timeZone)) {
        ctx.addIssue({ code: 'custom', path: ['startDate'], message: 'The start date has passed: choose today or a later day' });
      }
    });

export type CohortInput = z.infer<ReturnType<typeof CohortSchema>>;
export type Session = z.infer<typeof SessionSchema>;
