import type { Intake } from './intake';
import type { Step } from './decisions';
import type { CohortInput } from './cohort';

// response shapes of the staff API (what the console renders); PHI only in ReferralDetail.intake

export const STATUSES = [
  'RECEIVED',
  'INSURANCE_CHECK',
  'INSURANCE_REVIEW',
  'EVALUATION',
  'DETOX',
  'ENROLLMENT',
  'WAITLISTED',
  'ENROLLED',
  'STARTED',
  'REFERRED_OUT',
  'NOT_COVERED',
  'WITHDRAWN',
  'EXPIRED',
  'NO_SHOW',
  'NEEDS_ATTENTION',
] as const;
export type Status = (typeof STATUSES)[number];
/** ENROLLED is a gate (first session) and WAITLISTED a gate (a seat); a referral ends at one of these */
export const FINAL_STATUSES: readonly Status[] = ['STARTED', 'REFERRED_OUT', 'NOT_COVERED', 'WITHDRAWN', 'EXPIRED', 'NO_SHOW'];

export type SlaState = 'on-time' | 'due-soon' | 'overdue';

export interface ReferralSummary {
  referralId: string;
  reference: string;
  status: Status;
  pendingStep?: Step;
  urgent: boolean;
  channel: 'web' | 'phone';
  receivedAt: string;
  /** first name + last initial: enough to recognise a row, minimum necessary */
  displayName: string;
  /** the staff member following the referral up (caseload), by username */
  assignedTo?: string;
  /** the open gate is an urgent referral's first contact (its short timer, URGENT_FIRST_CONTACT_HOURS) */
  firstContact?: boolean;
  /** when the pending gate opened and when it is due (ISO), with its SLA state now */
  gateOpenedAt?: string;
  gateDueAt?: string;
  sla?: SlaState;
  /** WAITLISTED: since when the person waits for a seat, and in which track (the waitlist is ordered by `since`) */
  waitlist?: { since: string; track: 'morning' | 'evening' | 'any' };
  /** ENROLLED: the session the person is expected at (ISO with offset) and how many missed sessions were retried */
  firstSession?: { at: string; retries: number };
}

export interface ReferralEvent {
  at: string;
  type: string; // RECEIVED, STATUS_CHANGED, INSURANCE_CHECKED, STEP_DECIDED, SLA_BREACHED, DISCLOSURE, NOTICE_SENT, NOTICE_FAILED, NOTICE_CANCELLED, WITHDRAWN, TASK_FAILED, RESUMED, CONTACT_REMINDER, WAITLIST_REVIEW_DUE, SEAT_RELEASED, ...
  actor: { kind: 'patient' | 'staff' | 'system'; sub?: string; username?: string };
  from?: Status;
  to?: Status;
  step?: Step;
  /** codes and staff-entered decision details; never the intake's PHI */
  detail?: Record<string, unknown>;
}

export interface EligibilityResult {
  outcome: 'covered' | 'self-pay' | 'not-covered' | 'unclear' | 'error';
  checkedAt: string;
  /** e.g. X12 271 EB segment summary: service type AI, place of service 57 */
  summary: string;
  /** who answered: the embedded simulator or the clearinghouse (absent on results stored before issue 16: the simulator) */
  source?: 'simulator' | 'clearinghouse';
  /** the payer ID the inquiry was sent with (clearinghouse), so a re-check shows what was asked */
  payerId?: string;
  /**
   * why the result is unclear, for the case worker: an X12 AAA reject code (`AAA-72`) or one of ours
   * (`AUTH_REQUIRED`, `BUSY`, `HTTP_500`, `TIMEOUT`, `BAD_RESPONSE`, `NO_PAYER_ID`, `NO_MEMBER_ID`), and its plain meaning
   */
  reason?: { code: string; meaning: string };
  /** in-network benefit facts for service type AI (USD; coinsurance as a percent), only those the payer sent */
  benefits?: { copay?: number; coinsurancePercent?: number; deductibleRemaining?: number };
}

export interface ReferralDetail extends ReferralSummary {
  intake: Intake;
  eligibility?: EligibilityResult;
  breaches: number;
  cohortId?: string;
  /** NEEDS_ATTENTION after a task failure: the error (a code) and the status a resume restarts at */
  failure?: { error: string; at: string; resumeAt: Status };
  /** the caseload owner and since when */
  assignment?: { username: string; since: string };
  /** the latest contact attempt logged (phone, text, email) and its outcome */
  lastContact?: { at: string; channel: 'phone' | 'text' | 'email'; outcome: string; by: ReferralEvent['actor'] };
  /** the patient revoked consent to share with the physician (recorded by staff): no physician email since */
  consentRevoked?: { at: string; receivedVia: 'phone' | 'in-person' | 'letter' | 'email'; by: ReferralEvent['actor'] };
  events: ReferralEvent[];
}

/** the ASL state (statemachines/referral.asl.json) in which a referral sits while in a status */
export const STATE_FOR_STATUS: Partial<Record<Status, string>> = {
  INSURANCE_CHECK: 'CheckInsurance',
  INSURANCE_REVIEW: 'InsuranceReview',
  EVALUATION: 'Evaluation',
  DETOX: 'Detox',
  ENROLLMENT: 'Enrollment',
  WAITLISTED: 'Waitlist',
  ENROLLED: 'FirstSession',
  STARTED: 'Close',
  NO_SHOW: 'Close',
  REFERRED_OUT: 'Close',
  NOT_COVERED: 'Close',
  EXPIRED: 'Close',
};

export interface CohortView extends Omit<CohortInput, 'location'> {
  /** absent on cohorts stored before cohorts had a location */
  location?: CohortInput['location'];
  cohortId: string;
  seats: number;
  seatsLeft: number;
  /** next few session starts (ISO with offset), program closure days left out */
  nextSessions: string[];
  /** sessions still ahead and sessions in all (closure days left out): a late start joins for `sessionsLeft` */
  sessionsLeft?: number;
  sessionsTotal?: number;
  /** referrals on the waitlist whose track this cohort serves (their preference is its track, or any) */
  waiting?: number;
  roster?: Array<{ referralId: string; reference: string; displayName: string; enrolledAt: string }>;
}

export interface Dashboard {
  byStatus: Record<Status, number>;
  urgentOpen: number;
  overdueGates: number;
  /** median hours from intake to the first time each status was reached */
  medianHoursFromIntake: Partial<Record<'EVALUATION' | 'DETOX' | 'ENROLLMENT' | 'ENROLLED' | 'STARTED', number>>;
  generatedAt: string;
}

export interface ErrorBody {
  error: string;
  message: string;
  fields?: Record<string, string[]>;
}
