import type { Deps } from '../adapters';
import type { EligibilitySubject } from '../adapters/ports';
import type { EligibilityResult } from '../schemas/views';

/**
 * Asks the eligibility port, answering by `withinMs` whatever happens: an adapter that throws or has
 * not answered by then gives an `error` result naming the error only (a payer's message may quote the
 * member's name or date of birth). A failed or slow check never blocks a referral: it goes to a case
 * worker. Used by check-insurance (the workflow) and the re-check (a case worker waits).
 */
export const askEligibility = async (
  deps: Deps,
  subject: EligibilitySubject,
  options: { withinMs: number; retryWhenBusy: boolean },
): Promise<EligibilityResult> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    deps.eligibility.check(subject, { retryWhenBusy: options.retryWhenBusy }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { name: 'EligibilityTimeout' })), options.withinMs);
    }),
  ])
    .catch(
      (err: Error): EligibilityResult => ({
        outcome: 'error',
        checkedAt: deps.now().toISOString(),
        summary: `Eligibility check failed (${err.name})`,
      }),
    )
    .finally(() => clearTimeout(timer));
};
