import { type Session, TRACKS } from '../schemas/cohort';
import { sessionDates } from './schedule';
import type { Track } from './seats';

export type { Track };

// open seats for referrers (GET /api/availability): per track, the next cohorts a person could
// still join — a session left to attend and a seat left — read from the cohorts' own seat counters,
// so every enrollment, no-show or withdrawal that moves a counter moves this answer. Public: no
// referral data, no cohort name or id, no telehealth link or address (the kind of place only).

export type LocationType = 'in-person' | 'telehealth';

/** cohorts shown per track */
const AVAILABILITY_PER_TRACK = 3;
/**
 * the longest a cohort runs (CohortSchema: weeks ≤ 16), in days: a cohort that started longer ago
 * than this has no session left, so reads start this far back
 */
export const LONGEST_COHORT_DAYS = 16 * 7;

/** what availability reads of a stored cohort; `location` is optional (cohorts stored before locations existed) */
export interface CohortSeats {
  track: Track;
  population?: 'adult' | 'adolescent';
  startDate: string;
  timeZone: string;
  weeks: number;
  sessions: Session[];
  capacity: number;
  seats: number;
  location?: unknown;
}

export interface OpenCohort {
  /** the cohort's first day (YYYY-MM-DD, the cohort's time zone) */
  startDate: string;
  /** false: not begun yet; true: under way, joined at its next session */
  started: boolean;
  /** the first session a person referred now could attend (YYYY-MM-DD and ISO with offset) */
  nextSessionDate: string;
  nextSessionAt: string;
  sessionsLeft: number;
  sessionsTotal: number;
  seatsLeft: number;
  population: 'adult' | 'adolescent';
  /** the weekly pattern, in the cohort's time zone */
  sessions: Array<{ weekday: Session['weekday']; start: string; minutes: number }>;
  timeZone: string;
  /** absent when the cohort has no location recorded */
  locationType?: LocationType;
}

export interface Availability {
  tracks: Record<Track, OpenCohort[]>;
  generatedAt: string;
}

/** the kind of place a cohort meets at, read leniently: `location.kind` (or `type`), else what it holds */
export const locationTypeOf = (location: unknown): LocationType | undefined => {
  if (!location || typeof location !== 'object') return undefined;
  const l = location as Record<string, unknown>;
  const kind = String(l.kind ?? l.type ?? '').toLowerCase();
  if (kind === 'telehealth' || kind === 'in-person') return kind;
  if (typeof l.url === 'string' || typeof l.link === 'string') return 'telehealth';
  if (l.address) return 'in-person';
  return undefined;
};

/** one cohort as referrers see it, or undefined when no one could join it any more (full, or over) */
export const openCohort = (c: CohortSeats, now: Date): OpenCohort | undefined => {
  const seatsLeft = Math.max(0, c.capacity - c.seats);
  if (seatsLeft === 0) return undefined;
  const all = sessionDates(c);
  const left = all.filter((s) => Date.parse(s.startsAt) > now.getTime());
  const next = left[0];
  if (!next) return undefined;
  const locationType = locationTypeOf(c.location);
  return {
    startDate: c.startDate,
    started: left.length < all.length,
    nextSessionDate: next.date,
    nextSessionAt: next.startsAt,
    sessionsLeft: left.length,
    sessionsTotal: all.length,
    seatsLeft,
    population: c.population ?? 'adult',
    sessions: c.sessions.map((s) => ({ weekday: s.weekday, start: s.start, minutes: s.minutes })),
    timeZone: c.timeZone,
    ...(locationType ? { locationType } : {}),
  };
};

/** per track, the cohorts with a seat and a session left, the soonest next session first */
export const availabilityOf = (cohorts: readonly CohortSeats[], now: Date, perTrack = AVAILABILITY_PER_TRACK): Availability => {
  const tracks = Object.fromEntries(TRACKS.map((t) => [t, [] as OpenCohort[]])) as Record<Track, OpenCohort[]>;
  for (const c of cohorts) {
    if (!TRACKS.includes(c.track)) continue;
    const open = openCohort(c, now);
    if (open) tracks[c.track].push(open);
  }
  for (const t of TRACKS) {
    tracks[t] = tracks[t]
      .sort((a, b) => Date.parse(a.nextSessionAt) - Date.parse(b.nextSessionAt) || b.seatsLeft - a.seatsLeft)
      .slice(0, perTrack);
  }
  return { tracks, generatedAt: now.toISOString() };
};
