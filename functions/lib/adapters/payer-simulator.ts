import { simulateEligibility } from '../domain/eligibility';
import { now } from '../clock';
import type { EligibilityChecker, EligibilitySubject } from './ports';

/**
 * The embedded eligibility adapter: a deterministic payer simulator (docs/ARCHITECTURE.md §9). A clearinghouse
 * adapter (X12 270 out, 271 in, service type AI, place of service 57) implements the same port.
 */
export class PayerSimulator implements EligibilityChecker {
  async check(subject: EligibilitySubject) {
    return { ...simulateEligibility(subject.insurance, now()), source: 'simulator' as const };
  }
}
