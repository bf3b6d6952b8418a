import type { Intake } from '../schemas/intake';
import type { Step } from '../schemas/decisions';
import type { CohortInput, CohortLocation } from '../schemas/cohort';
import type { ContactChannel, ContactOutcome, RevocationChannel } from '../schemas/caseload';
import type { EligibilityResult, ReferralEvent, Status } from '../schemas/views';
import type { Route } from '../domain/workflow';
import type { TrackPreference } from '../domain/seats';
import type { EligibilitySubject } from '../domain/eligibility';

// the ports the application talks to; adapters (DynamoDB, SES, Step Functions, payer) sit behind them

export interface Actor {
  kind: 'patient' | 'staff' | 'system';
  sub?: string;
  username?: string;
}

/** who the workflow, the sender and sweep act as on the timeline */
export const SYSTEM_ACTOR: Readonly<Actor> = { kind: 'system' };

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
  /** the latest decision of each step and where it leads (a reopened gate may need it again) */
  decided?: Partial<Record<Step, Route>>;
  /**
   * decisions accepted but not yet handed to the workflow: made while their gate was still opening
   * (no token stored yet) or while its timer fired. The gate applies its entry the moment it opens.
   */
  unapplied?: Array<{ step: Step; route: Route }>;
  /**
   * the token a decision resumed, kept until the next gate opens: if the decider died before
   * SendTaskSuccess (or it failed), sweep hands the decision over with it
   */
  handover?: { token: string; route: Route; step?: Step };
  /** NEEDS_ATTENTION after a task failure: where the workflow stopped, so staff can resume it there */
  failure?: { error: string; at: string; resumeAt: Status };
  /** the current execution's name when not the referral id (a resumed workflow), and how many resumes */
  execution?: string;
  resumes?: number;
  /** first time each status was reached (dashboard medians) */
  reached: Partial<Record<Status, string>>;
  /**
   * the patient withdrew their consent to share with the referring physician (42 CFR 2.31),
   * recorded by staff with a CONSENT_REVOKED event: from then on no physician email is sent
   */
  consentRevoked?: ConsentRevocation;
  /** the staff member who owns the referral's follow-up (caseload: "My referrals"), since when */
  assignedTo?: Assignee;
  /** the latest contact attempt logged (each one is a CONTACT_LOGGED event) */
  lastContact?: { at: string; channel: ContactChannel; outcome: ContactOutcome; by: Actor };
  /** ENROLLED: the session the person is expected at (ISO with offset) and how many missed sessions were retried */
  firstSession?: { at: string; retries: number };
  /** WAITLISTED (kept afterwards): since when, for which track, and how many weekly reviews came due */
  waitlist?: { since: string; track: TrackPreference; reviews: number };
  /** when the seat of `cohortId` was given back (NO_SHOW, or a withdrawal before the start) */
  seatReleasedAt?: string;
}

interface Assignee {
  /** the staff username (the JWT's `username`): the caseload index key */
  username: string;
  /** known when the person assigned themselves */
  sub?: string;
  since: string;
}

interface ConsentRevocation {
  /** when the program received the revocation (ISO instant) */
  at: string;
  receivedVia: RevocationChannel;
  /** the staff member who recorded it */
  by: Actor;
}

export interface NewEvent extends Omit<ReferralEvent, 'at'> {
  at?: string;
}

/** a seat to take in the same transaction; the stored cohort's own `seats < capacity` is the guard */
export interface SeatReservation {
  cohortId: string;
  /** give the referral's seat back instead (counter down, SEAT item removed) in the same transaction */
  release?: boolean;
}

export interface Page<T> {
  items: T[];
  /** where the next page starts (a table key); the API hands it out only as a signed cursor */
  lastKey?: Record<string, string>;
}

export interface CohortRecord extends Omit<CohortInput, 'location'> {
  /** absent on cohorts stored before cohorts had a location */
  location?: CohortLocation;
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

export type Audience = 'patient' | 'physician' | 'program';

/**
 * One email to send (the transactional outbox). Written in the same transaction as the change it
 * reports, with the referral's status at that moment; rendered and sent after the commit by
 * send-notices (table stream) or, when a send failed, by sweep. At most one per (referral, key):
 * the key names the milestone and the recipient, e.g. `closed:physician`.
 */
export interface NoticeRecord {
  referralId: string;
  key: string;
  audience: Audience;
  /** what to say: a PatientNotice, PhysicianNotice or program alert kind (domain/messages.ts) */
  notice: string;
  milestone: string;
  /** the referral's status when the change committed */
  status: Status;
  /** small, PHI-free parameters of the message (cohort id, step, age in hours, error code) */
  params?: Record<string, string | number>;
  state: 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  createdAt: string;
  /** pending: when the next try is due; sending: when the claim's lease runs out */
  dueAt: string;
  messageId?: string;
  lastError?: string;
}

export interface IdempotencyRecord {
  key: string;
  bodyHash: string;
  referralId: string;
}

/** the referral, its intake and its timeline (the services' reads and their one conditional write) */
interface ReferralStore {
  /** one transaction: META, INTAKE, reference, RECEIVED event, its notices and (optionally) the idempotency record */
  create(
    referral: ReferralRecord,
    intake: Intake,
    event: NewEvent,
    notices: NoticeRecord[],
    idempotency?: IdempotencyRecord,
  ): Promise<void>;
  get(referralId: string): Promise<ReferralRecord | undefined>;
  getIntake(referralId: string): Promise<Intake | undefined>;
  findByReference(reference: string): Promise<ReferralRecord | undefined>;
  events(referralId: string): Promise<ReferralEvent[]>;
  /**
   * Writes `next`, its events and the notices it causes in one transaction, on condition that the
   * stored version is `next.version - 1` (no lost update); a seat reservation (or its release) joins the same
   * transaction. Throws ConflictError when the condition fails, CohortFullError when the cohort is full.
   * `intake` replaces the stored intake in the same transaction (an insurance re-check's corrections).
   */
  save(
    next: ReferralRecord,
    events: NewEvent[],
    options?: { seat?: SeatReservation; notices?: NoticeRecord[]; cancelNotices?: NoticeRecord[]; intake?: Intake },
  ): Promise<void>;
  /**
   * the open referrals assigned to `username` (caseload), urgent first then oldest first; the
   * `cancelNotices` option of save cancels pending outbox notices in the same transaction (on
   * condition each is still pending: one a sender claimed meanwhile makes it a ConflictError)
   */
  listByOwner(username: string, query: { startKey?: Record<string, string>; limit: number }): Promise<Page<ReferralRecord>>;
  /** a queue (by status) or all referrals: urgent first then oldest first for queues (the waitlist: longest waiting first), newest first for all */
  list(query: { status?: Status; q?: string; startKey?: Record<string, string>; limit: number }): Promise<Page<ReferralRecord>>;
  countByStatus(status: Status): Promise<number>;
  /**
   * referrals received in [from, to] (ISO instants, inclusive), oldest first, a page at a time
   * (reports: the funnel); the META items only, never the intake
   */
  receivedBetween(
    range: { from: string; to: string },
    page: { limit: number; startKey?: Record<string, string> },
  ): Promise<Page<ReferralRecord>>;
  /**
   * appends one event to a referral's timeline without changing the referral (an audit record such
   * as an export of its PHI); written once (attribute_not_exists), the referral must exist
   */
  appendEvent(referralId: string, event: NewEvent & { at: string }, suffix: string): Promise<void>;
}

/** the outbox: notices written with the changes that cause them, claimed, sent or retried (functions/lib/services/notices.ts) */
interface NoticeOutbox {
  /**
   * claims a due notice for sending (pending and due, or a claim whose lease ran out) until
   * `leaseUntil`; undefined when it is not due, already sent, or claimed by another sender
   */
  claimNotice(referralId: string, key: string, now: string, leaseUntil: string): Promise<NoticeRecord | undefined>;
  /** the claimed notice went out: marks it sent and writes its timeline event (NOTICE_SENT or DISCLOSURE) in one transaction */
  noticeSent(notice: NoticeRecord, messageId: string, event: NewEvent): Promise<void>;
  /** the claimed notice failed: due again at `retryAt` (or given up when undefined), with its NOTICE_FAILED event */
  noticeFailed(notice: NoticeRecord, error: string, retryAt: string | undefined, event: NewEvent): Promise<void>;
  /** the claimed notice may no longer be sent (e.g. consent revoked): cancelled, with its event */
  noticeCancelled(notice: NoticeRecord, event: NewEvent): Promise<void>;
  /** notices due by `now` (pending, or claimed with a lease that ran out), oldest first */
  dueNotices(now: string, limit: number): Promise<Array<Pick<NoticeRecord, 'referralId' | 'key'>>>;
  notices(referralId: string): Promise<NoticeRecord[]>;
  /** writes notices that no referral change causes (a program alert); one that exists is left as it is */
  enqueue(notices: NoticeRecord[]): Promise<void>;
}

/** cohorts, their seat counters and rosters (a seat is taken or given back by ReferralStore.save) */
interface CohortStore {
  putCohort(cohort: CohortRecord): Promise<void>;
  getCohort(cohortId: string): Promise<CohortRecord | undefined>;
  listCohorts(): Promise<CohortRecord[]>;
  /** every cohort whose start date is on or after `startDate` (YYYY-MM-DD), soonest first, all pages */
  cohortsStartingFrom(startDate: string): Promise<CohortRecord[]>;
  roster(cohortId: string): Promise<SeatRecord[]>;
}

/** the intake's idempotency records (written by ReferralStore.create) */
interface IdempotencyStore {
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
}

/** the table behind every port above (functions/lib/adapters/dynamodb-repository.ts); ping is the health check */
export interface ReferralRepository extends ReferralStore, NoticeOutbox, CohortStore, IdempotencyStore {
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
  /**
   * starts the referral's execution; idempotent for the same name and route. The first execution
   * is named by the referral id with input `{ referralId }`; a resumed one has its own name and
   * enters the state machine at `route.next`.
   */
  start(referralId: string, resume?: { name: string; route: Route }): Promise<'started' | 'exists'>;
  resume(taskToken: string, route: Route): Promise<void>;
  /** stops the execution named `execution` (the referral id unless resumed) */
  stop(execution: string, cause: string): Promise<void>;
  /** whether the execution named `execution` still runs (false once it ended, however it ended) */
  running(execution: string): Promise<boolean>;
  /** answers when the state machine is reachable and active (health) */
  ping(): Promise<void>;
}

export type { EligibilitySubject };

export interface EligibilityChecker {
  /**
   * Never throws for an answer it cannot use: a payer's rejection, a busy or failing clearinghouse, a
   * timeout or a response of another shape is an `unclear` result with its `reason`. A busy answer
   * (AAA 42, HTTP 5xx, no answer) is asked once more after ELIGIBILITY_RETRY_SECONDS, unless
   * `retryWhenBusy: false` (a case worker waiting on a re-check is answered at once).
   */
  check(subject: EligibilitySubject, options?: { retryWhenBusy?: boolean }): Promise<EligibilityResult>;
}
