import type { Deps } from '../adapters';
import type { Actor } from '../adapters/ports';
import { nextSessions, sessionCounts } from '../domain/schedule';
import type { CohortInput } from '../schemas/cohort';
import type { CohortView } from '../schemas/views';
import { createCohort, listCohorts } from './views';

// cohorts as staff see them: with the program's closure days left out of their dates and the
// sessions still ahead counted (a late start says how many remain). Creating one claims its name
// for its start date in the same transaction (the repository's putCohort): a duplicate is a 409.

const counted = (deps: Deps, v: CohortView): CohortView => {
  const now = deps.now();
  const closed = deps.config.CLOSURE_DATES;
  return { ...v, nextSessions: nextSessions(v, now, 3, closed), ...sessionCounts(v, now, closed) };
};

/** every cohort, and the rule the create form checks sessions against (the program's evening boundary) */
export const cohortsForStaff = async (deps: Deps): Promise<{ items: CohortView[]; eveningFrom: string }> => {
  const { items } = await listCohorts(deps);
  return { items: items.map((v) => counted(deps, v)), eveningFrom: deps.config.EVENING_TRACK_FROM };
};

/** 201 with the new cohort; ConflictError CohortNameTaken when its name is taken on that start date */
export const createCohortForStaff = async (deps: Deps, input: CohortInput, actor: Actor): Promise<CohortView> =>
  counted(deps, await createCohort(deps, input, actor));
