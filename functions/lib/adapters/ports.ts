import type { Intake } from '../schemas/intake';
import type { Step } from '../schemas/decisions';
import type { CohortInput } from '../schemas/cohort';
import type { EligibilityResult, ReferralEvent, Status } from '../schemas/views';
import type { Route } from '../domain/workflow';

// the ports the application talks to; adapters (DynamoDB, SES, Step Functions, payer) sit behind them

export interface Actor {
  kind: 'patient' | 'staff' | 'system';
  sub?: string;
  username?: string;
}

/** the referral's META item: status, gate and codes — no PHI but the display name and search key */
export interface ReferralRecord {
  referralId: string;
  reference: string;
  status: Status;
  urgent: boolean;
  flags: string[];
  channel: 'web' | 'phone';
  receivedAt: string;
  updatedAt: string;
  version: number;
  displayName: string;
  /** lower-case last name, for the staff search (prefix) */
  searchName: string;
  language: 'en' | 'es';
  pendingStep?: Step;
  /** the open gate's task token; never leaves the backend */
  taskToken?: string;
  gateOpenedAt?: string;
  gateDueAt?: string;
  /** SLA breaches of the gate now open */
  breaches: number;
  detoxSince?: string;
  eligibility?: EligibilityResult;
  cohortId?: string;
  /**
   * the last decision and its route; `unresumed` when SendTaskSuccess failed because the gate's
   * timer fired at the same moment — the gate the escalation reopens then resumes with it at once
   */
  lastDecision?: { step: Step; route: Route; unresumed?: boolean };
  /** first time each status was reached (dashboard medians) */
  reached: Partial<Record<Status, string>>;
}

export interface NewEvent extends Omit<ReferralEvent, 'at'> {
  at?: string;
}

/** a seat to take in the same transaction; the stored cohort's own `seats < capacity` is the guard */
export interface SeatReservation {
  cohortId: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface CohortRecord extends CohortInput {
  cohortId: string;
  seats: number;
  createdAt: string;
  createdBy: Actor;
}

export interface SeatRecord {
  referralId: string;
  reference: string;
  displayName: string;
  enrolledAt: string;
}

export interface IdempotencyRecord {
  key: string;
  bodyHash: string;
  referralId: string;
}

export interface ReferralRepository {
  /** one transaction: META, INTAKE, reference, RECEIVED event and (optionally) the idempotency record */
  create(referral: ReferralRecord, intake: Intake, event: NewEvent, idempotency?: IdempotencyRecord): Promise<void>;
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  get(referralId: string): Promise<ReferralRecord | undefined>;
  getIntake(referralId: string): Promise<Intake | undefined>;
  findByReference(reference: string): Promise<ReferralRecord | undefined>;
  events(referralId: string): Promise<ReferralEvent[]>;
  /**
   * Writes `next` and its events in one transaction, on condition that the stored version is
   * `next.version - 1` (no lost update); a seat reservation joins the same transaction.
   * Throws ConflictError when the condition fails, CohortFullError when the cohort is full.
   */
  save(next: ReferralRecord, events: NewEvent[], seat?: SeatReservation): Promise<void>;
  /** a queue (by status) or all referrals, urgent first then oldest first for queues, newest first for all */
  list(query: { status?: Status; q?: string; cursor?: string; limit: number }): Promise<Page<ReferralRecord>>;
  countByStatus(status: Status): Promise<number>;
  /**
   * claims a notice by writing its event (e.g. DISCLOSURE) as pending, so a retried task never sends
   * it twice; false when already sent. Pending events stay out of the timeline.
   */
  claimNotice(referralId: string, noticeKey: string, event: NewEvent): Promise<boolean>;
  /** marks the claimed notice's event sent, recording the provider's message id */
  noticeSent(referralId: string, noticeKey: string, messageId: string): Promise<void>;
  releaseNotice(referralId: string, noticeKey: string): Promise<void>;
  putCohort(cohort: CohortRecord): Promise<void>;
  getCohort(cohortId: string): Promise<CohortRecord | undefined>;
  listCohorts(): Promise<CohortRecord[]>;
  roster(cohortId: string): Promise<SeatRecord[]>;
  ping(): Promise<void>;
}

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** a text/calendar; method=REQUEST part */
  calendar?: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

export interface Workflow {
  /** starts the referral's execution (name = referralId, input = { referralId }); idempotent */
  start(referralId: string): Promise<void>;
  resume(taskToken: string, route: Route): Promise<void>;
  stop(referralId: string, cause: string): Promise<void>;
  /** answers when the state machine is reachable and active (health) */
  ping(): Promise<void>;
}

export interface EligibilityChecker {
  check(insurance: Intake['insurance'], patient: Pick<Intake['patient'], 'firstName' | 'lastName' | 'dateOfBirth'>): Promise<EligibilityResult>;
}
