import type { Deps } from '../adapters';
import type { Actor, NewEvent, ReferralRecord } from '../adapters/ports';
import { LONGEST_COHORT_DAYS } from '../domain/availability';
import { addDays, localDay } from '../domain/dates';
import { routeTo, type Route } from '../domain/workflow';
import { ConflictError, NotFoundError, ReferralClosedError } from '../errors';
import { metrics } from '../observability';
import type { Intake } from '../schemas/intake';
import type { Status } from '../schemas/views';

// the shape every change to a referral takes, shared by the services: read the record, decide with
// a pure domain rule, write the next version with its events (and the notices it causes) in one
// conditional transaction; a conflicting writer makes it read and decide again

/** the next version of a record with `changes` (for a change that is not a status change: see advance) */
export const bump = (r: ReferralRecord, now: Date, changes: Partial<ReferralRecord>): ReferralRecord => ({
  ...r,
  ...changes,
  version: r.version + 1,
  updatedAt: now.toISOString(),
});

/** the next version of a record: one status change (or none) and its STATUS_CHANGED event */
export const advance = (
  r: ReferralRecord,
  now: Date,
  changes: Partial<ReferralRecord>,
  actor: Actor,
): { next: ReferralRecord; events: NewEvent[] } => {
  const next = bump(r, now, changes);
  const at = next.updatedAt;
  const events: NewEvent[] = [];
  if (next.status !== r.status) {
    next.reached = { ...r.reached, [next.status]: r.reached[next.status] ?? at };
    events.push({ at, type: 'STATUS_CHANGED', actor, from: r.status, to: next.status });
  }
  return { next, events };
};

/**
 * Saves a change (see ReferralRepository.save) and, once it committed, counts what it made true:
 * each status reached for the first time (seconds since intake) and every NEEDS_ATTENTION.
 */
export const commit = async (
  deps: Deps,
  next: ReferralRecord,
  events: NewEvent[],
  options?: Parameters<Deps['repo']['save']>[2],
): Promise<void> => {
  await deps.repo.save(next, events, options);
  for (const e of events) {
    if (e.type !== 'STATUS_CHANGED' || !e.to) continue;
    if (e.to === 'NEEDS_ATTENTION') metrics.count('NeedsAttention');
    if (next.reached[e.to] === e.at) metrics.milestone(e.to, (Date.parse(e.at!) - Date.parse(next.receivedAt)) / 1000);
  }
};

export const load = async (deps: Deps, referralId: string): Promise<ReferralRecord> => {
  const r = await deps.repo.get(referralId);
  if (!r) throw new NotFoundError('No referral with that id');
  return r;
};

export const loadIntake = async (deps: Deps, referralId: string): Promise<Intake> => {
  const intake = await deps.repo.getIntake(referralId);
  if (!intake) throw new NotFoundError('No referral with that id');
  return intake;
};

export const route = (deps: Deps, r: ReferralRecord, next: Status): Route => routeTo(next, deps.config, r.detoxSince, deps.now(), r);

/**
 * Runs a read-decide-write step until it commits: a ConflictError from the conditional save means
 * another writer (a gate opening, a decision, a withdraw) got there first, so read again and decide
 * again on what is there now. Other errors (a full cohort, validation) end it.
 */
export const retryOnConflict = async <T>(fn: () => Promise<T>, attempts = 6): Promise<T> => {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConflictError) || err.code !== 'Conflict' || i >= attempts - 1) throw err;
      await new Promise((r) => setTimeout(r, 10 * (i + 1) + Math.random() * 20));
    }
  }
};

/** a task found the referral already closed (e.g. withdrawn meanwhile): the workflow ends quietly */
export const closedAlready = (r: ReferralRecord) => new ReferralClosedError(r.status);

/** the cohorts that may still have a session (begun at most the longest a cohort runs ago), as GET /api/availability reads them */
export const currentCohorts = (deps: Deps, now: Date) =>
  deps.repo.cohortsStartingFrom(addDays(localDay(now.toISOString(), deps.config.PROGRAM_TIME_ZONE), -(LONGEST_COHORT_DAYS + 1)));
