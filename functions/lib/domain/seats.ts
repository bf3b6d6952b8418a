import type { CohortInput } from '../schemas/cohort';
import { sessionDates, type DatedSession } from './schedule';

// seats in cohorts: which cohorts can take a person now (the waitlist rule), which session a person
// is expected at, and whether a referral holds a seat that a no-show or a withdrawal gives back

export type Track = CohortInput['track'];
export type TrackPreference = Track | 'any';

type CohortTimes = Pick<CohortInput, 'startDate' | 'timeZone' | 'weeks' | 'sessions'>;
type CohortSeats = CohortTimes & { track: Track; capacity: number; seats: number };

/** a cohort serves a person whose schedule preference is its track, or any */
export const serves = (track: Track, preference: TrackPreference): boolean => preference === 'any' || preference === track;

/** the first session of the cohort that starts after `after`, closure days skipped (undefined once the cohort is over) */
export const sessionAfter = (c: CohortTimes, after: Date, closed: readonly string[] = []): DatedSession | undefined =>
  sessionDates(c, closed).find((s) => Date.parse(s.startsAt) > after.getTime());

/** cohorts of the person's track with a session still ahead and a free seat: while any exists, nobody is waitlisted */
export const openCohorts = <C extends CohortSeats>(
  cohorts: readonly C[],
  preference: TrackPreference,
  now: Date,
  closed: readonly string[] = [],
): C[] => cohorts.filter((c) => serves(c.track, preference) && c.seats < c.capacity && !!sessionAfter(c, now, closed));

/**
 * true while a referral holds the seat its enrolment reserved: from the enrolment until a no-show
 * or a withdrawal gives it back (a person who started keeps it)
 */
export const holdsSeat = (r: { cohortId?: string; seatReleasedAt?: string }): boolean => !!r.cohortId && !r.seatReleasedAt;
