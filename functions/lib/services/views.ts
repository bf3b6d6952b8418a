import { randomUUID } from 'node:crypto';
import type { Deps } from '../adapters';
import type { Actor, CohortRecord, ReferralRecord } from '../adapters/ports';
import { decodeCursor, encodeCursor } from '../cursor';
import { NotFoundError } from '../errors';
import { sessionDates } from '../domain/schedule';
import { isFinal, isUrgentFirstContact, slaState } from '../domain/workflow';
import { serves, type TrackPreference } from '../domain/seats';
import type { CohortInput } from '../schemas/cohort';
import { availabilityOf, type Availability } from '../domain/availability';
import { addDays, localDay } from '../domain/dates';
import { computeFunnel, type Funnel } from '../domain/funnel';
import { currentCohorts } from './change';
import type { FunnelQueryInput } from '../schemas/reports';
import { STATUSES, type CohortView, type Dashboard, type ReferralDetail, type ReferralSummary, type Status } from '../schemas/views';

// read models for the console: summaries without PHI beyond the display name, details with the
// intake for signed-in staff; the task token never leaves the backend

export const summary = (r: ReferralRecord, now: Date): ReferralSummary => ({
  referralId: r.referralId,
  reference: r.reference,
  status: r.status,
  urgent: r.urgent,
  channel: r.channel,
  receivedAt: r.receivedAt,
  displayName: r.displayName,
  ...(r.pendingStep ? { pendingStep: r.pendingStep } : {}),
  ...(r.assignedTo ? { assignedTo: r.assignedTo.username } : {}),
  ...(r.gateDueAt && isUrgentFirstContact(r.status, r) ? { firstContact: true } : {}),
  ...(r.gateOpenedAt ? { gateOpenedAt: r.gateOpenedAt } : {}),
  // the waitlist's timer is its weekly review, not an SLA: no on-time/overdue state for it
  ...(r.gateDueAt && r.gateOpenedAt
    ? { gateDueAt: r.gateDueAt, ...(r.status === 'WAITLISTED' ? {} : { sla: slaState(r.gateOpenedAt, r.gateDueAt, now) }) }
    : {}),
  ...(r.status === 'WAITLISTED' && r.waitlist ? { waitlist: { since: r.waitlist.since, track: r.waitlist.track } } : {}),
  ...(r.firstSession && !isFinal(r.status) ? { firstSession: r.firstSession } : {}),
});

/** a queue or search page; its cursor is signed and bound to this status and search text */
export const listReferrals = async (deps: Deps, q: { status?: Status; q?: string; cursor?: string; limit: number }) => {
  const binding = { status: q.status, q: q.q?.trim().toLowerCase() };
  const secret = deps.config.CURSOR_SECRET ?? '';
  const page = await deps.repo.list({ status: q.status, q: q.q, limit: q.limit, startKey: decodeCursor(secret, q.cursor, binding) });
  const now = deps.now();
  const nextCursor = encodeCursor(secret, page.lastKey, binding);
  return { items: page.items.map((r) => summary(r, now)), ...(nextCursor ? { nextCursor } : {}) };
};

export const referralDetail = async (deps: Deps, referralId: string): Promise<ReferralDetail> => {
  const [r, intake, events] = await Promise.all([deps.repo.get(referralId), deps.repo.getIntake(referralId), deps.repo.events(referralId)]);
  if (!r || !intake) throw new NotFoundError('No referral with that id');
  return {
    ...summary(r, deps.now()),
    intake,
    breaches: r.breaches,
    events,
    ...(r.eligibility ? { eligibility: r.eligibility } : {}),
    ...(r.cohortId ? { cohortId: r.cohortId } : {}),
    ...(r.failure ? { failure: r.failure } : {}),
    ...(r.assignedTo ? { assignment: { username: r.assignedTo.username, since: r.assignedTo.since } } : {}),
    ...(r.lastContact ? { lastContact: r.lastContact } : {}),
    ...(r.consentRevoked ? { consentRevoked: r.consentRevoked } : {}),
  };
};

const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
};

/** counts per status, urgent open, overdue gates and median hours from intake to each milestone */
export const dashboard = async (deps: Deps): Promise<Dashboard> => {
  const now = deps.now();
  const counts = await Promise.all(STATUSES.map(async (s) => [s, await deps.repo.countByStatus(s)] as const));
  // the medians read the most recent referrals (bounded), enough for a program's working view
  const recent: ReferralRecord[] = [];
  let startKey: Record<string, string> | undefined;
  do {
    const page = await deps.repo.list({ limit: 100, startKey });
    recent.push(...page.items);
    startKey = page.lastKey;
  } while (startKey && recent.length < 1000);
  const hours = (r: ReferralRecord, s: Status) =>
    r.reached[s] ? (Date.parse(r.reached[s]!) - Date.parse(r.receivedAt)) / 3_600_000 : undefined;
  const medianHoursFromIntake: Dashboard['medianHoursFromIntake'] = {};
  for (const s of ['EVALUATION', 'DETOX', 'ENROLLMENT', 'ENROLLED', 'STARTED'] as const) {
    const m = median(recent.map((r) => hours(r, s)).filter((h): h is number => h !== undefined));
    if (m !== undefined) medianHoursFromIntake[s] = Math.round(m * 10) / 10;
  }
  return {
    byStatus: Object.fromEntries(counts) as Record<Status, number>,
    urgentOpen: recent.filter((r) => r.urgent && !isFinal(r.status)).length,
    overdueGates: recent.filter(
      (r) => r.gateDueAt && r.gateOpenedAt && r.status !== 'WAITLISTED' && slaState(r.gateOpenedAt, r.gateDueAt, now) === 'overdue',
    ).length,
    medianHoursFromIntake,
    generatedAt: now.toISOString(),
  };
};

// ---- cohorts --------------------------------------------------------------------------------

/**
 * a cohort as staff see it: its dates with the program's closure days left out, the next three, and
 * the sessions still ahead counted (a late start says how many remain)
 */
const cohortView = (c: CohortRecord, deps: Deps, roster?: CohortView['roster'], waitlist?: readonly TrackPreference[]): CohortView => {
  const { createdAt: _c, createdBy: _b, ...input } = c;
  const now = deps.now().getTime();
  const all = sessionDates(c, deps.config.CLOSURE_DATES);
  const left = all.filter((s) => Date.parse(s.startsAt) > now);
  return {
    ...input,
    seatsLeft: Math.max(0, c.capacity - c.seats),
    nextSessions: left.slice(0, 3).map((s) => s.startsAt),
    sessionsLeft: left.length,
    sessionsTotal: all.length,
    ...(roster ? { roster } : {}),
    ...(waitlist ? { waiting: waitlist.filter((t) => serves(c.track, t)).length } : {}),
  };
};

/** the tracks of the people on the waitlist (one entry each) */
const waitlistTracks = async (deps: Deps): Promise<TrackPreference[]> => {
  const tracks: TrackPreference[] = [];
  let startKey: Record<string, string> | undefined;
  do {
    const page = await deps.repo.list({ status: 'WAITLISTED', limit: 100, startKey });
    tracks.push(...page.items.map((r) => r.waitlist?.track ?? 'any'));
    startKey = page.lastKey;
  } while (startKey);
  return tracks;
};

/** every cohort, and the rule the create form checks sessions against (the program's evening boundary) */
export const listCohorts = async (deps: Deps): Promise<{ items: CohortView[]; eveningFrom: string }> => {
  const [cohorts, waitlist] = await Promise.all([deps.repo.listCohorts(), waitlistTracks(deps)]);
  const rosters = await Promise.all(cohorts.map((c) => deps.repo.roster(c.cohortId)));
  return { items: cohorts.map((c, i) => cohortView(c, deps, rosters[i], waitlist)), eveningFrom: deps.config.EVENING_TRACK_FROM };
};

/**
 * 201 with the new cohort; ConflictError CohortNameTaken when its name is taken on that start date
 * (the repository's putCohort claims the name for its start date in the same transaction)
 */
export const createCohort = async (deps: Deps, input: CohortInput, actor: Actor): Promise<CohortView> => {
  const cohort: CohortRecord = { ...input, cohortId: randomUUID(), seats: 0, createdAt: deps.now().toISOString(), createdBy: actor };
  await deps.repo.putCohort(cohort);
  return cohortView(cohort, deps, []);
};

// ---- open seats, the funnel (issue 14) --------------------------------------------------------

/** open seats per track, from the cohorts' seat counters (public: no referral data) */
export const availability = async (deps: Deps): Promise<Availability> => {
  const now = deps.now();
  return availabilityOf(await currentCohorts(deps, now), now);
};

/** referrals one funnel report reads at most; past this it answers `truncated` */
const FUNNEL_MAX_REFERRALS = 20_000;
const FUNNEL_DEFAULT_DAYS = 90;

/** the funnel of the referrals received in [from, to] (program days) through a channel */
export const funnelReport = async (deps: Deps, q: FunnelQueryInput): Promise<Funnel> => {
  const now = deps.now();
  const timeZone = deps.config.PROGRAM_TIME_ZONE;
  const to = q.to ?? localDay(now.toISOString(), timeZone);
  const from = q.from ?? addDays(to, -(FUNNEL_DEFAULT_DAYS - 1));
  // the UTC instants around those local days, a day wider on each side; computeFunnel keeps the exact days
  const range = { from: `${addDays(from, -1)}T00:00:00.000Z`, to: `${addDays(to, 1)}T23:59:59.999Z` };
  const referrals: ReferralRecord[] = [];
  let startKey: Record<string, string> | undefined;
  do {
    const page = await deps.repo.receivedBetween(range, { limit: 1000, startKey });
    referrals.push(...page.items);
    startKey = page.lastKey;
  } while (startKey && referrals.length < FUNNEL_MAX_REFERRALS);
  return computeFunnel(
    referrals.slice(0, FUNNEL_MAX_REFERRALS),
    { from, to, channel: q.channel },
    { timeZone, now, truncated: !!startKey },
  );
};
