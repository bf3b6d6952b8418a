import type { Intake } from '../schemas/intake';
import type { EligibilityResult } from '../schemas/views';

/** what an eligibility inquiry is about: the intake's insurance, who is insured, and whether co-occurring conditions were recorded (service type MH too) */
export interface EligibilitySubject {
  insurance: Intake['insurance'];
  patient: Pick<Intake['patient'], 'firstName' | 'lastName' | 'dateOfBirth'>;
  coOccurring?: Intake['coOccurring'];
}

// the embedded payer simulator (docs/ARCHITECTURE.md §9): deterministic answers shaped like an X12 271 for
// service type AI (substance use) at place of service 57 (non-residential SUD treatment)

export const simulateEligibility = (insurance: Intake['insurance'], now: Date): EligibilityResult => {
  const checkedAt = now.toISOString();
  if (insurance.type === 'self-pay') return { outcome: 'self-pay', checkedAt, summary: 'Self-pay: no eligibility inquiry sent' };
  const memberId = insurance.memberId ?? '';
  if (!insurance.payer || !memberId) {
    return { outcome: 'unclear', checkedAt, summary: 'Payer or member ID missing: 270 not sent' };
  }
  if (memberId.toUpperCase().startsWith('INACTIVE')) {
    return { outcome: 'not-covered', checkedAt, summary: '271 EB*6 (inactive coverage) for service type AI' };
  }
  if (memberId.toUpperCase().startsWith('REVIEW')) {
    return { outcome: 'unclear', checkedAt, summary: '271 EB*1 for AI with an authorization requirement (POS 57): manual review' };
  }
  return { outcome: 'covered', checkedAt, summary: '271 EB*1 (active coverage) for service type AI, place of service 57' };
};

/** covered and self-pay go straight to evaluation; everything else to a case worker */
export const statusAfterCheck = (r: EligibilityResult): 'EVALUATION' | 'INSURANCE_REVIEW' =>
  r.outcome === 'covered' || r.outcome === 'self-pay' ? 'EVALUATION' : 'INSURANCE_REVIEW';
