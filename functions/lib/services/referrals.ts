import { createHash, randomUUID } from 'node:crypto';
import type { Deps } from '../adapters';
import { type Actor, type NewEvent, type ReferralRecord, type SeatReservation, SYSTEM_ACTOR as SYSTEM } from '../adapters/ports';
import { ConflictError, NotFoundError, ReferralClosedError, ValidationError } from '../errors';
import { statusAfterCheck } from '../domain/eligibility';
import { displayName } from '../domain/messages';
import { newReference } from '../domain/reference';
import { daysBefore, LONGEST_COHORT_DAYS } from '../domain/availability';
import { holdsSeat, openCohorts, sessionAfter } from '../domain/seats';
import { triage } from '../domain/triage';
import {
  BREACHES_BEFORE_ATTENTION, detoxExpired, GATE_OF_STEP, GATES, type GateStatus, isFinal, isGateStatus, nextStatusAfter, routeTo, type Route,
} from '../domain/workflow';
import { logger } from '../logger';
import { metrics } from '../observability';
import { CRISIS_RESOURCES, type Intake, type IntakeResponse } from '../schemas/intake';
import { DecisionSchemas, MAX_FIRST_SESSION_RETRIES, type Decision, type Enrollment, type FirstSession, type Step, type WaitlistDecision } from '../schemas/decisions';
import type { Status } from '../schemas/views';
import { noticesFor } from './notices';
import { validate } from '../validate';

// the referral's application services: each loads what it needs, applies a pure domain rule and
// writes the change with its events and the notices it causes (the outbox) in one conditional
// transaction; a conflicting writer makes it read and decide again

/** the next version of a record: one status change (or none) and its STATUS_CHANGED event */
const advance = (r: ReferralRecord, now: Date, changes: Partial<ReferralRecord>, actor: Actor): { next: ReferralRecord; events: NewEvent[] } => {
  const at = now.toISOString();
  const next: ReferralRecord = { ...r, ...changes, version: r.version + 1, updatedAt: at };
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
const commit = async (deps: Deps, next: ReferralRecord, events: NewEvent[], options?: Parameters<Deps['repo']['save']>[2]): Promise<void> => {
  await deps.repo.save(next, events, options);
  for (const e of events) {
    if (e.type !== 'STATUS_CHANGED' || !e.to) continue;
    if (e.to === 'NEEDS_ATTENTION') metrics.count('NeedsAttention');
    if (next.reached[e.to] === e.at) metrics.milestone(e.to, (Date.parse(e.at!) - Date.parse(next.receivedAt)) / 1000);
  }
};

const load = async (deps: Deps, referralId: string): Promise<ReferralRecord> => {
  const r = await deps.repo.get(referralId);
  if (!r) throw new NotFoundError('No referral with that id');
  return r;
};

const loadIntake = async (deps: Deps, referralId: string): Promise<Intake> => {
  const intake = await deps.repo.getIntake(referralId);
  if (!intake) throw new NotFoundError('No referral with that id');
  return intake;
};

const route = (deps: Deps, r: ReferralRecord, next: Status): Route => routeTo(next, deps.config, r.detoxSince, deps.now(), r);

/**
 * Runs a read-decide-write step until it commits: a ConflictError from the conditional save means
 * another writer (a gate opening, a decision, a withdraw) got there first, so read again and decide
 * again on what is there now. Other errors (a full cohort, validation) end it.
 */
const retryOnConflict = async <T>(fn: () => Promise<T>, attempts = 6): Promise<T> => {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConflictError) || err.code !== 'Conflict' || i >= attempts - 1) throw err;
      await new Promise((r) => setTimeout(r, 10 * (i + 1) + Math.random() * 20));
    }
  }
};

// ---- intake ---------------------------------------------------------------------------------

export interface IntakeOptions {
  channel: 'web' | 'phone';
  actor: Actor;
  idempotencyKey?: string;
}

/** canonical JSON (sorted keys) so key order does not change the hash */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  : JSON.stringify(v);

const responseFor = (r: ReferralRecord): IntakeResponse => ({
  referralId: r.referralId, reference: r.reference, status: r.status, urgent: r.urgent,
  ...(r.urgent ? { crisisResources: CRISIS_RESOURCES } : {}),
});

/**
 * Stores a referral (META, INTAKE, reference, RECEIVED event, idempotency record: one transaction)
 * and starts its workflow. The same Idempotency-Key with the same body answers the same referral
 * (and starts its workflow if an earlier try could not); with another body it is a 409.
 */
export const submitIntake = async (deps: Deps, intake: Intake, opts: IntakeOptions): Promise<{ response: IntakeResponse; replayed: boolean }> => {
  const bodyHash = createHash('sha256').update(canonical({ intake, channel: opts.channel })).digest('hex');
  const replay = async (): Promise<{ response: IntakeResponse; replayed: boolean } | undefined> => {
    if (!opts.idempotencyKey) return undefined;
    const rec = await deps.repo.getIdempotency(opts.idempotencyKey);
    if (!rec) return undefined;
    if (rec.bodyHash !== bodyHash) throw new ConflictError('This Idempotency-Key was used with a different body', 'IdempotencyKeyInUse');
    const r = await load(deps, rec.referralId);
    if (r.status === 'RECEIVED') await deps.workflow.start(r.referralId);
    return { response: responseFor(r), replayed: true };
  };

  const now = deps.now().toISOString();
  const { urgent, flags } = triage(intake);
  const referral: ReferralRecord = {
    referralId: randomUUID(), reference: newReference(), status: 'RECEIVED', urgent, flags, channel: opts.channel,
    receivedAt: now, updatedAt: now, version: 1,
    displayName: displayName(intake.patient.firstName, intake.patient.lastName),
    searchName: intake.patient.lastName.toLowerCase(), language: intake.patient.preferredLanguage,
    breaches: 0, reached: { RECEIVED: now },
  };
  const event: NewEvent = { at: now, type: 'RECEIVED', actor: opts.actor, to: 'RECEIVED', detail: { channel: opts.channel, urgent, flags } };
  const idem = opts.idempotencyKey ? { key: opts.idempotencyKey, bodyHash, referralId: referral.referralId } : undefined;
  for (let attempt = 0; ; attempt++) {
    const earlier = await replay();
    if (earlier) return earlier;
    try {
      // "we received your request" is true from this commit on: its notices are part of it
      const notices = noticesFor(referral, intake, 'received', { patient: 'received', physician: 'received' });
      if (urgent) notices.push(...noticesFor(referral, intake, 'urgent', { program: { kind: 'urgent' } }));
      await deps.repo.create(referral, intake, event, notices, idem);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      if (err instanceof ConflictError && err.code === 'ReferenceCollision') {
        referral.reference = newReference();
        continue;
      }
      // a concurrent request with the same key is writing: read what it stored on the next turn
      const racing = err instanceof ConflictError || (err as Error).name === 'TransactionCanceledException';
      if (!racing) throw err;
      await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
    }
  }
  logger.info('referral received', { referralId: referral.referralId, channel: opts.channel, urgent });
  metrics.count('ReferralReceived');
  if (urgent) metrics.count('ReferralUrgent');
  await deps.workflow.start(referral.referralId);
  return { response: responseFor(referral), replayed: false };
};

// ---- workflow tasks -------------------------------------------------------------------------

/** a payer that has not answered by then is treated as unclear: a case worker reviews coverage */
const ELIGIBILITY_TIMEOUT_MS = 10_000;

/** a task found the referral already closed (e.g. withdrawn meanwhile): the workflow ends quietly */
const closedAlready = (r: ReferralRecord) => new ReferralClosedError(r.status);

/** task: eligibility check → EVALUATION or INSURANCE_REVIEW (re-run after a restart: the status already moved on) */
export const checkInsurance = async (deps: Deps, referralId: string): Promise<Route> => {
  const intake = await loadIntake(deps, referralId);
  return retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (isFinal(r.status)) throw closedAlready(r);
    if (r.status !== 'RECEIVED') return route(deps, r, r.status);
    // a failed or slow check never blocks the referral: it goes to a case worker
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      deps.eligibility.check(intake.insurance, intake.patient),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { name: 'EligibilityTimeout' })), ELIGIBILITY_TIMEOUT_MS);
      }),
    ])
      // the error's name only: a payer's message may quote the member's name or date of birth
      .catch((err: Error) => ({ outcome: 'error' as const, checkedAt: deps.now().toISOString(), summary: `Eligibility check failed (${err.name})` }))
      .finally(() => clearTimeout(timer));
    const { next, events } = advance(r, deps.now(), { status: statusAfterCheck(result), eligibility: result }, SYSTEM);
    events.unshift({ at: next.updatedAt, type: 'INSURANCE_CHECKED', actor: SYSTEM, detail: { outcome: result.outcome, summary: result.summary } });
    await commit(deps, next, events);
    return route(deps, next, next.status);
  });
};

export interface OpenGateInput {
  referralId: string;
  status: GateStatus;
  taskToken: string;
  timeoutSeconds?: number;
}

/**
 * task (callback): stores the gate's token on the referral, so a staff decision can resume it. A
 * decision that arrived while this gate was opening (or while its timer fired) is applied at once.
 */
export const openGate = async (deps: Deps, input: OpenGateInput): Promise<void> => {
  const step = GATES[input.status];
  if (!step) throw new ValidationError(`Not a gate: ${input.status}`);
  await retryOnConflict(async () => {
    const r = await load(deps, input.referralId);
    if (isFinal(r.status)) throw closedAlready(r);
    const now = deps.now();
    const waiting = r.unapplied?.find((u) => u.step === step);
    if (waiting) {
      await commit(deps, { ...r, version: r.version + 1, updatedAt: now.toISOString(), unapplied: r.unapplied!.filter((u) => u !== waiting) }, []);
      await deps.workflow.resume(input.taskToken, waiting.route);
      logger.info('gate opened with its decision waiting', { referralId: r.referralId, step });
      return;
    }
    if (r.status !== input.status && r.status !== 'NEEDS_ATTENTION') {
      // the referral is past this gate: its decision committed but was never handed over (the task
      // is re-run after a crash, say). Hand it over now; never reopen a decided step.
      const decided = r.decided?.[step];
      if (!decided) throw Object.assign(new Error(`referral is ${r.status}, not at ${input.status}`), { name: 'UnexpectedStatus' });
      await deps.workflow.resume(input.taskToken, decided);
      logger.info('gate opened after its decision; handed over', { referralId: r.referralId, step });
      return;
    }
    const reopen = r.pendingStep === step;
    const { next, events } = advance(r, now, {
      status: r.status === 'NEEDS_ATTENTION' ? r.status : input.status,
      pendingStep: step,
      taskToken: input.taskToken,
      gateOpenedAt: reopen ? r.gateOpenedAt : now.toISOString(),
      gateDueAt: input.timeoutSeconds ? new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString() : undefined,
      breaches: reopen ? r.breaches : 0,
      detoxSince: input.status === 'DETOX' ? r.detoxSince ?? now.toISOString() : r.detoxSince,
      handover: undefined,
    }, SYSTEM);
    // the first opening shows in the timeline as the STATUS_CHANGED that led here; a reopening is its own event
    if (reopen) events.push({ at: next.updatedAt, type: 'GATE_REOPENED', actor: SYSTEM, step });
    await commit(deps, next, events);
    logger.info('gate open', { referralId: r.referralId, step, reopen });
  });
};

export type EscalateInput =
  | { referralId: string; kind: 'breach'; status: GateStatus }
  | { referralId: string; kind: 'failure'; error?: string };

/** task: a gate's timer ran out (escalate; reopen, needs attention or expire), or a task kept failing */
export const escalate = async (deps: Deps, input: EscalateInput): Promise<Route | { status: Status }> => {
  if (input.kind === 'failure') {
    const errorCode = String(input.error ?? 'Unknown').replace(/[^\w.-]/g, '').slice(0, 80) || 'Unknown';
    return retryOnConflict(async () => {
      const r = await load(deps, input.referralId);
      if (isFinal(r.status)) return { status: r.status };
      const now = deps.now();
      // the execution ends here: no gate stays pending; staff resume it at the step that failed (or withdraw)
      const resumeAt = r.status === 'NEEDS_ATTENTION' ? r.failure?.resumeAt ?? (r.pendingStep ? GATE_OF_STEP[r.pendingStep] : 'RECEIVED') : r.status;
      const { next, events } = advance(r, now, {
        status: 'NEEDS_ATTENTION', taskToken: undefined, pendingStep: undefined, gateDueAt: undefined, unapplied: undefined,
        failure: { error: errorCode, at: now.toISOString(), resumeAt },
      }, SYSTEM);
      events.unshift({ at: next.updatedAt, type: 'TASK_FAILED', actor: SYSTEM, detail: { error: errorCode, resumeAt } });
      // the program is told once per stop: a RecordFailure retried after it committed (its invocation
      // failed afterwards) finds the failure recorded already and adds no second alert
      const told = r.status === 'NEEDS_ATTENTION' && !!r.failure;
      await commit(deps, next, events, told ? {} : { notices: noticesFor(next, undefined, 'failure', { program: { kind: 'failure', errorCode } }) });
      logger.warn('referral needs attention after task failure', { referralId: r.referralId, errorCode });
      return { status: next.status };
    });
  }
  const gate = input.status;
  const step = GATES[gate];
  return retryOnConflict(async () => {
    const r = await load(deps, input.referralId);
    if (isFinal(r.status)) throw closedAlready(r);
    const now = deps.now();
    if (r.pendingStep !== step) {
      // decided as the timer fired: that decision could not resume the timed-out task, so the gate
      // reopens briefly and applies it as it opens
      const decided = r.decided?.[step];
      if (decided && !r.unapplied?.some((u) => u.step === step)) {
        await commit(deps, { ...r, version: r.version + 1, updatedAt: now.toISOString(), unapplied: [...(r.unapplied ?? []), { step, route: decided }] }, []);
      }
      return { next: gate, timeoutSeconds: 60 };
    }
    if (gate === 'WAITLISTED') return reviewWaitlist(deps, r, now);
    if (gate === 'DETOX' && detoxExpired(r.detoxSince, deps.config.DETOX_MAX_DAYS, now)) {
      const { next, events } = advance(r, now, { status: 'EXPIRED', pendingStep: undefined, taskToken: undefined, gateDueAt: undefined }, SYSTEM);
      events.unshift({ at: next.updatedAt, type: 'SLA_BREACHED', actor: SYSTEM, step, detail: { expired: true, maxDays: deps.config.DETOX_MAX_DAYS } });
      await commit(deps, next, events, { notices: noticesFor(next, await loadIntake(deps, r.referralId), 'closed', { patient: 'closed', physician: 'closed' }) });
      return { next: 'EXPIRED' };
    }
    const breaches = r.breaches + 1;
    const attention = breaches >= BREACHES_BEFORE_ATTENTION;
    const { next, events } = advance(r, now, { breaches, taskToken: undefined, ...(attention ? { status: 'NEEDS_ATTENTION' as const } : {}) }, SYSTEM);
    const ageHours = Math.round((now.getTime() - Date.parse(r.gateOpenedAt ?? r.updatedAt)) / 360_000) / 10;
    events.unshift({ at: next.updatedAt, type: 'SLA_BREACHED', actor: SYSTEM, step, detail: { breach: breaches, ageHours } });
    const alert = { kind: 'sla' as const, step, ageHours, breaches, gateOpenedAt: r.gateOpenedAt ?? '' };
    await commit(deps, next, events, { notices: noticesFor(next, undefined, 'sla', { program: alert }) });
    metrics.count('SlaBreached');
    return route(deps, next, gate);
  });
};

/**
 * The waitlist's timer is a weekly review, not an SLA: a WAITLIST_REVIEW_DUE event and a program
 * notice (no PHI: reference, weeks waiting, seats free in the person's track now), then the same
 * gate waits another week. It never escalates to NEEDS_ATTENTION.
 */
const reviewWaitlist = async (deps: Deps, r: ReferralRecord, now: Date): Promise<Route> => {
  const since = r.waitlist?.since ?? r.gateOpenedAt ?? r.updatedAt;
  const track = r.waitlist?.track ?? 'any';
  const reviews = (r.waitlist?.reviews ?? 0) + 1;
  const waitingDays = Math.floor((now.getTime() - Date.parse(since)) / 86_400_000);
  const seatsFree = openCohorts(await currentCohorts(deps, now), track, now, deps.config.CLOSURE_DATES).reduce((n, c) => n + c.capacity - c.seats, 0);
  const { next, events } = advance(r, now, { taskToken: undefined, waitlist: { since, track, reviews } }, SYSTEM);
  events.unshift({ at: next.updatedAt, type: 'WAITLIST_REVIEW_DUE', actor: SYSTEM, step: 'waitlist', detail: { review: reviews, waitingDays, seatsFree } });
  const alert = { kind: 'waitlist-review' as const, review: reviews, waitingDays, seatsFree };
  await commit(deps, next, events, { notices: noticesFor(next, undefined, 'waitlist-review', { program: alert }) });
  logger.info('waitlist review due', { referralId: r.referralId, review: reviews, seatsFree });
  return route(deps, next, 'WAITLISTED');
};

// ---- staff actions --------------------------------------------------------------------------

/** the calendar day (YYYY-MM-DD) of an instant in the program's time zone */
const localDay = (iso: string, timeZone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/** the cohorts that may still have a session (begun at most the longest a cohort runs ago), as GET /api/availability reads them */
const currentCohorts = (deps: Deps, now: Date) =>
  deps.repo.cohortsStartingFrom(daysBefore(localDay(now.toISOString(), deps.config.PROGRAM_TIME_ZONE), LONGEST_COHORT_DAYS + 1));

/** what a decision found out that its notices need (PHI-free parameters) */
interface DecisionFacts {
  enrolment?: { cohortId: string; startDate: string };
  /** a missed first session retried: the next one */
  missed?: { cohortId: string; sessionAt: string; retry: number };
}

/**
 * the notices a decision's target causes: the referrer hears of an acceptance, an enrolment, the
 * waitlist and a start; closings (a no-show too) tell both; a missed session reminds the person
 */
const decisionNotices = (next: ReferralRecord, intake: Intake, step: Step, facts: DecisionFacts = {}) => {
  const { enrolment, missed } = facts;
  if (next.status === 'ENROLLED' && enrolment) {
    return noticesFor(next, intake, 'enrolled', { patient: 'schedule', physician: 'enrolled', params: enrolment });
  }
  if (next.status === 'ENROLLED' && missed) {
    return noticesFor(next, intake, `missed-${missed.retry}`, { patient: 'missed', params: { cohortId: missed.cohortId, sessionAt: missed.sessionAt } });
  }
  if (next.status === 'WAITLISTED') return noticesFor(next, intake, 'waitlisted', { patient: 'waitlisted', physician: 'waitlisted' });
  if (next.status === 'STARTED') return noticesFor(next, intake, 'started', { physician: 'started' });
  if (isFinal(next.status)) return noticesFor(next, intake, 'closed', { patient: 'closed', physician: 'closed' });
  if (step === 'evaluation') return noticesFor(next, intake, 'accepted', { physician: 'accepted' });
  return [];
};

/**
 * A case worker decides a step: accepted while its gate is open, and also while the gate is still
 * opening (the referral's status is that gate's, its token not stored yet) — then the gate applies
 * it the moment it opens. Written with its event, its notices (and for enrolment the seat) in one
 * transaction conditional on the version read; then the workflow resumes. 409 when the referral is
 * not at that step or the step was decided already.
 */
export const decideStep = async (deps: Deps, referralId: string, step: Step, body: unknown, actor: Actor): Promise<{ referralId: string; status: Status; decided: Step }> =>
  retryOnConflict(async () => {
    const r = await load(deps, referralId);
    const open = r.pendingStep === step && !!r.taskToken;
    // opening: the referral is at this step's gate but its token is not stored yet — the gate is
    // opening for the first time (status is the gate's), or reopening after its timer fired
    // (not when this step was just decided and its gate has not reopened yet: a detox extension or
    // a first-session retry leaves the status as it was, and a second click is not a second decision)
    const opening = !open && !r.unapplied?.some((u) => u.step === step) && r.handover?.step !== step
      && (r.pendingStep === step || (!r.pendingStep && isGateStatus(r.status) && GATES[r.status] === step));
    if (!open && !opening) {
      throw new ConflictError(r.pendingStep ? `This referral is waiting for ${r.pendingStep}, not ${step}` : 'This step is not waiting for a decision (it may have been decided already)', 'NotPending');
    }
    const decision = validate(DecisionSchemas[step], body) as Decision;
    const target = nextStatusAfter(step, decision);
    const now = deps.now();
    let seat: SeatReservation | undefined;
    const facts: DecisionFacts = {};
    const changes: Partial<ReferralRecord> = {};
    const extraEvents: NewEvent[] = [];
    const intake = await loadIntake(deps, referralId);
    if ((step === 'enrollment' && !(decision as Enrollment).waitlist) || step === 'waitlist') {
      const { cohortId } = decision as WaitlistDecision;
      // read first so an unknown cohort is a 400 on its field, not a "full" 409 from the seat condition
      const cohort = await deps.repo.getCohort(cohortId);
      if (!cohort) throw new ValidationError('Some fields need attention', { cohortId: ['No cohort with that id'] });
      const first = sessionAfter(cohort, now, deps.config.CLOSURE_DATES);
      if (!first) throw new ConflictError('That cohort has no session left; choose another cohort', 'CohortOver');
      seat = { cohortId };
      facts.enrolment = { cohortId, startDate: first.date };
      Object.assign(changes, { cohortId, firstSession: { at: first.startsAt, retries: 0 } });
    } else if (step === 'enrollment') {
      // the waitlist is for when no cohort of the person's track with sessions left has a seat
      const track = intake.schedulePreference;
      const withSeats = openCohorts(await currentCohorts(deps, now), track, now, deps.config.CLOSURE_DATES);
      if (withSeats.length) {
        const n = withSeats.length;
        throw new ConflictError(`${n === 1 ? 'A cohort' : `${n} cohorts`} of this track ${n === 1 ? 'has' : 'have'} seats left: enrol the person instead of waitlisting`, 'SeatsAvailable');
      }
      changes.waitlist = { since: now.toISOString(), track, reviews: 0 };
    } else if (step === 'first-session') {
      const f = decision as FirstSession;
      if (f.attended) {
        // not before the session the person was expected at (its local date: the ISO carries the group's offset)
        const earliest = r.firstSession?.at.slice(0, 10) ?? localDay(r.reached.ENROLLED ?? r.updatedAt, deps.config.PROGRAM_TIME_ZONE);
        if (f.on < earliest) throw new ValidationError('Some fields need attention', { on: [`The first session this person could attend was on ${earliest}: attendance cannot be recorded before it`] });
      } else if (f.next === 'retry') {
        const retries = r.firstSession?.retries ?? 0;
        if (retries >= MAX_FIRST_SESSION_RETRIES) {
          throw new ValidationError('Some fields need attention', { next: [`The first session was missed ${retries + 1} times: close the referral as a no-show (or withdraw it)`] });
        }
        const cohort = r.cohortId ? await deps.repo.getCohort(r.cohortId) : undefined;
        // the session after the one that was missed (and after now)
        const after = new Date(Math.max(now.getTime(), r.firstSession ? Date.parse(r.firstSession.at) : 0));
        const upcoming = cohort ? sessionAfter(cohort, after, deps.config.CLOSURE_DATES) : undefined;
        if (!cohort || !upcoming) throw new ConflictError('No session is left in this cohort: close the referral as a no-show, or withdraw it', 'CohortOver');
        changes.firstSession = { at: upcoming.startsAt, retries: retries + 1 };
        facts.missed = { cohortId: cohort.cohortId, sessionAt: upcoming.startsAt, retry: retries + 1 };
        // the case worker calls before the next session (what is in the way: transport, work, child care)
        extraEvents.push({ type: 'CONTACT_REMINDER', actor: SYSTEM, step, detail: { reason: 'missed-first-session', retry: retries + 1, of: MAX_FIRST_SESSION_RETRIES, nextSessionAt: upcoming.startsAt } });
      } else if (holdsSeat(r)) {
        // a no-show gives the seat back in the same transaction, for the waitlist
        seat = { cohortId: r.cohortId!, release: true };
        changes.seatReleasedAt = now.toISOString();
        extraEvents.push({ type: 'SEAT_RELEASED', actor, detail: { cohortId: r.cohortId! } });
      }
    }
    const nextRoute = routeTo(target, deps.config, r.detoxSince, now, { ...r, ...changes, breaches: 0 });
    const { next, events } = advance(r, now, {
      status: target, pendingStep: undefined, taskToken: undefined, gateOpenedAt: undefined, gateDueAt: undefined, breaches: 0,
      decided: { ...r.decided, [step]: nextRoute },
      handover: open ? { token: r.taskToken!, route: nextRoute, step } : undefined,
      ...(opening ? { unapplied: [...(r.unapplied ?? []), { step, route: nextRoute }] } : {}),
      ...changes,
      ...(target === 'DETOX' ? { detoxSince: r.detoxSince ?? now.toISOString() } : {}),
    }, actor);
    events.unshift({ at: next.updatedAt, type: 'STEP_DECIDED', actor, step, detail: decision as unknown as Record<string, unknown> });
    events.push(...extraEvents.map((e) => ({ ...e, at: next.updatedAt })));
    const notices = decisionNotices(next, intake, step, facts);
    await commit(deps, next, events, { seat, notices });
    if (open) {
      await deps.workflow.resume(r.taskToken!, nextRoute).catch((err: Error) => {
        // the gate's timer fired meanwhile (the escalation reopens the gate, which applies this
        // decision), or Step Functions did not answer (sweep hands it over with the kept token)
        logger.warn('resume failed; the decision will be handed over later', { referralId, step, errorName: err.name });
      });
    }
    logger.info('step decided', { referralId, step, to: target, whileOpening: opening });
    return { referralId, status: target, decided: step };
  });

/** withdraw from any non-final status: status, event and closing notices in one commit, then stop the execution */
export const withdraw = async (deps: Deps, referralId: string, reason: string, actor: Actor): Promise<{ referralId: string; status: Status }> => {
  const intake = await loadIntake(deps, referralId);
  const done = await retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (isFinal(r.status)) throw new ConflictError(`This referral is already closed (${r.status})`, 'AlreadyClosed');
    // an enrolled person withdrawn before the start gives the seat back in the same transaction
    const seat: SeatReservation | undefined = holdsSeat(r) ? { cohortId: r.cohortId!, release: true } : undefined;
    const { next, events } = advance(r, deps.now(), {
      status: 'WITHDRAWN', pendingStep: undefined, taskToken: undefined, gateDueAt: undefined, unapplied: undefined, failure: undefined, handover: undefined,
      ...(seat ? { seatReleasedAt: deps.now().toISOString() } : {}),
    }, actor);
    events.unshift({ at: next.updatedAt, type: 'WITHDRAWN', actor, detail: { reason } });
    if (seat) events.push({ at: next.updatedAt, type: 'SEAT_RELEASED', actor, detail: { cohortId: seat.cohortId } });
    // the closing notices exist only if this withdraw commits: a withdraw that loses a race tells nobody anything
    await commit(deps, next, events, { seat, notices: noticesFor(next, intake, 'closed', { patient: 'closed', physician: 'closed' }) });
    return next;
  });
  await deps.workflow.stop(done.execution ?? referralId, 'withdrawn by staff').catch((err: Error) => {
    // already ended (e.g. needs attention after a failure): nothing to stop; a task that still runs finds it closed
    logger.info('stop skipped', { referralId, errorName: err.name });
  });
  return { referralId, status: done.status };
};

/**
 * Resume a referral that NEEDS_ATTENTION after a task failure: back to the status where the
 * workflow stopped, with a RESUMED event naming the user, then a new execution that enters the same
 * state machine at that step.
 */
export const resume = async (deps: Deps, referralId: string, actor: Actor, note?: string): Promise<{ referralId: string; status: Status }> => {
  const { next, name, at } = await retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (r.status !== 'NEEDS_ATTENTION') throw new ConflictError(`Only a referral that needs attention can be resumed (this one is ${r.status})`, 'NotNeedsAttention');
    if (!r.failure) throw new ConflictError(`This referral is waiting for ${r.pendingStep ?? 'a decision'}: decide that step instead`, 'GateOpen');
    const resumes = (r.resumes ?? 0) + 1;
    const name = `${referralId}-r${resumes}`;
    const at = r.failure.resumeAt;
    const changed = advance(r, deps.now(), { status: at, failure: undefined, execution: name, resumes, pendingStep: undefined, taskToken: undefined, breaches: 0 }, actor);
    changed.events.unshift({ at: changed.next.updatedAt, type: 'RESUMED', actor, detail: { error: r.failure.error, resumeAt: at, ...(note ? { note } : {}) } });
    await commit(deps, changed.next, changed.events);
    return { next: changed.next, name, at };
  });
  await deps.workflow.start(referralId, { name, route: route(deps, next, at) });
  logger.info('referral resumed', { referralId, resumeAt: at });
  return { referralId, status: next.status };
};

// ---- sweep ----------------------------------------------------------------------------------

/**
 * Restarts workflows that were lost, for referrals idle for STRANDED_AFTER_SECONDS with no gate
 * open: a decision whose hand-over never happened (the decider died before SendTaskSuccess, or Step
 * Functions did not answer) is handed over with its kept token; an intake whose execution never
 * started, or a referral whose execution is gone, gets one (starting is idempotent by name, so a
 * workflow that is merely slow is left alone). Answers how many were moved on.
 */
export const restartStranded = async (deps: Deps): Promise<number> => {
  const before = deps.now().getTime() - deps.config.STRANDED_AFTER_SECONDS * 1000;
  let moved = 0;
  const moveOn = async (r: ReferralRecord, status: Status): Promise<boolean> => {
    if (r.handover) {
      try {
        await deps.workflow.resume(r.handover.token, r.handover.route);
        return true;
      } catch (err) {
        // the token was used or timed out: the workflow moved on, or its timer reopens the gate
        logger.info('hand-over not needed', { referralId: r.referralId, errorName: (err as Error).name });
      }
    }
    const resumed = r.execution ? { name: r.execution, route: route(deps, r, status) } : undefined;
    const first = !resumed && status === 'RECEIVED';
    const started = first ? await deps.workflow.start(r.referralId) : await deps.workflow.start(r.referralId, resumed ?? { name: r.referralId, route: route(deps, r, status) });
    return started === 'started';
  };
  for (const status of ['RECEIVED', ...Object.keys(GATES)] as Status[]) {
    let startKey: Record<string, string> | undefined;
    do {
      const page = await deps.repo.list({ status, limit: 100, startKey });
      for (const r of page.items) {
        if (r.pendingStep || Date.parse(r.updatedAt) > before) continue;
        try {
          if (await moveOn(r, status)) moved++;
        } catch (err) {
          logger.warn('could not restart a stranded workflow', { referralId: r.referralId, errorName: (err as Error).name });
        }
      }
      startKey = page.lastKey;
    } while (startKey);
  }
  return moved;
};
