import type { Deps } from '../adapters';
import type { Actor } from '../adapters/ports';
import { ConflictError } from '../errors';
import { logger } from '../logger';
import type { Intake } from '../schemas/intake';
import type { Recheck } from '../schemas/recheck';
import type { EligibilityResult, Status } from '../schemas/views';
import { advance, commit, load, loadIntake, retryOnConflict } from './change';
import { askEligibility } from './eligibility';

// the insurance re-check (issue 16 item 5): at the insurance review a case worker corrects the
// member ID or the payer and runs the eligibility check again. The corrected insurance, the new
// result and its ELIGIBILITY_RECHECKED event are one transaction; the referral stays at its gate
// (the case worker then decides the insurance-review step as before).

/**
 * a case worker is waiting: a checker that has not answered by then is an error result. The
 * clearinghouse adapter gives up on its request at 8 s (an unclear TIMEOUT result) first; this is
 * the backstop, under the API function's 10 s with time left to save
 */
const RECHECK_TIMEOUT_MS = 9_000;

type Insurance = Intake['insurance'];

/** the fields a re-check may correct, in the order the timeline names them */
const CORRECTABLE = ['payer', 'payerId', 'memberId'] as const;

/** the stored insurance with the correction applied: a payer named without an ID drops the stored ID (it was another payer's) */
export const corrected = (insurance: Insurance, c: Recheck): Insurance => {
  const next: Insurance = { ...insurance };
  if (c.memberId !== undefined) next.memberId = c.memberId;
  if (c.payer !== undefined) {
    next.payer = c.payer;
    if (c.payerId === undefined) delete next.payerId;
  }
  if (c.payerId !== undefined) next.payerId = c.payerId;
  return next;
};

/** which of the correctable fields differ (names only: never a value) */
const changedFields = (before: Insurance, after: Insurance): string[] => CORRECTABLE.filter((k) => before[k] !== after[k]);

const notInReview = (status: Status) =>
  new ConflictError(
    `Insurance can be checked again only while the referral is in insurance review (this one is ${status})`,
    'NotInInsuranceReview',
  );

/**
 * Checks the referral's insurance again with the case worker's corrections. 409 unless the referral
 * is in INSURANCE_REVIEW. A lost race reads again; the check is asked again only when the insurance
 * to check changed meanwhile (another re-check), so a busy table does not mean more payer requests.
 */
export const recheckInsurance = async (
  deps: Deps,
  referralId: string,
  correction: Recheck,
  actor: Actor,
): Promise<{ referralId: string; status: Status; eligibility: EligibilityResult; changed: string[] }> => {
  const answers = new Map<string, EligibilityResult>();
  const done = await retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (r.status !== 'INSURANCE_REVIEW') throw notInReview(r.status);
    const intake = await loadIntake(deps, referralId);
    const insurance = corrected(intake.insurance, correction);
    const key = JSON.stringify(insurance);
    let result = answers.get(key);
    if (!result) {
      result = await askEligibility(deps, { ...intake, insurance }, { withinMs: RECHECK_TIMEOUT_MS, retryWhenBusy: false });
      answers.set(key, result);
    }
    const changed = changedFields(intake.insurance, insurance);
    const { next, events } = advance(r, deps.now(), { eligibility: result }, actor);
    events.unshift({
      at: next.updatedAt,
      type: 'ELIGIBILITY_RECHECKED',
      actor,
      step: 'insurance-review',
      detail: {
        outcome: result.outcome,
        summary: result.summary,
        ...(result.reason ? { reason: result.reason.code } : {}),
        changed,
      },
    });
    await commit(deps, next, events, changed.length ? { intake: { ...intake, insurance } } : undefined);
    return { next, result, changed };
  });
  logger.info('insurance checked again', {
    referralId,
    outcome: done.result.outcome,
    reason: done.result.reason?.code,
    changed: done.changed,
  });
  return { referralId, status: done.next.status, eligibility: done.result, changed: done.changed };
};
