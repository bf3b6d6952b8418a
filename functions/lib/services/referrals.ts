import { createHash, randomUUID } from 'node:crypto';
import type { Deps } from '../adapters';
import { type Actor, type NewEvent, type ReferralRecord, type SeatReservation, SYSTEM_ACTOR as SYSTEM } from '../adapters/ports';
import { ConflictError, ValidationError } from '../errors';
import { displayName } from '../domain/messages';
import { newReference } from '../domain/reference';
import { holdsSeat, openCohorts, sessionAfter } from '../domain/seats';
import { triage } from '../domain/triage';
import { GATES, isFinal, isGateStatus, nextStatusAfter, routeTo } from '../domain/workflow';
import { logger } from '../logger';
import { metrics } from '../observability';
import { CRISIS_RESOURCES, type Intake, type IntakeResponse } from '../schemas/intake';
import {
  DecisionSchemas,
  MAX_FIRST_SESSION_RETRIES,
  type Decision,
  type Enrollment,
  type FirstSession,
  type Step,
  type WaitlistDecision,
} from '../schemas/decisions';
import type { Status } from '../schemas/views';
import { noticesFor } from './notices';
import { validate } from '../validate';
import { advance, commit, currentCohorts, load, loadIntake, retryOnConflict, route } from './change';
import { localDay } from '../domain/dates';

// the referral's application services for the intake and the staff's actions (decide, withdraw,
// resume); each is one read-decide-write (./change). What the workflow's tasks do is in
// ./workflow-tasks.

// ---- intake ---------------------------------------------------------------------------------

export interface IntakeOptions {
  channel: 'web' | 'phone';
  actor: Actor;
  idempotencyKey?: string;
}

/** canonical JSON (sorted keys) so key order does not change the hash */
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

const responseFor = (r: ReferralRecord): IntakeResponse => ({
  referralId: r.referralId,
  reference: r.reference,
  status: r.status,
  urgent: r.urgent,
  ...(r.urgent ? { crisisResources: CRISIS_RESOURCES } : {}),
});

/**
 * Stores a referral (META, INTAKE, reference, RECEIVED event, idempotency record: one transaction)
 * and starts its workflow. The same Idempotency-Key with the same body answers the same referral
 * (and starts its workflow if an earlier try could not); with another body it is a 409.
 */
export const submitIntake = async (
  deps: Deps,
  intake: Intake,
  opts: IntakeOptions,
): Promise<{ response: IntakeResponse; replayed: boolean }> => {
  const bodyHash = createHash('sha256')
    .update(canonical({ intake, channel: opts.channel }))
    .digest('hex');
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
    referralId: randomUUID(),
    reference: newReference(),
    status: 'RECEIVED',
    urgent,
    flags,
    channel: opts.channel,
    receivedAt: now,
    updatedAt: now,
    version: 1,
    displayName: displayName(intake.patient.firstName, intake.patient.lastName),
    searchName: intake.patient.lastName.toLowerCase(),
    language: intake.patient.preferredLanguage,
    breaches: 0,
    reached: { RECEIVED: now },
  };
  const event: NewEvent = {
    at: now,
    type: 'RECEIVED',
    actor: opts.actor,
    to: 'RECEIVED',
    detail: { channel: opts.channel, urgent, flags },
  };
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

// ---- staff actions --------------------------------------------------------------------------

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
    return noticesFor(next, intake, `missed-${missed.retry}`, {
      patient: 'missed',
      params: { cohortId: missed.cohortId, sessionAt: missed.sessionAt },
    });
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
export const decideStep = async (
  deps: Deps,
  referralId: string,
  step: Step,
  body: unknown,
  actor: Actor,
): Promise<{ referralId: string; status: Status; decided: Step }> =>
  retryOnConflict(async () => {
    const r = await load(deps, referralId);
    const open = r.pendingStep === step && !!r.taskToken;
    // opening: the referral is at this step's gate but its token is not stored yet — the gate is
    // opening for the first time (status is the gate's), or reopening after its timer fired
    // (not when this step was just decided and its gate has not reopened yet: a detox extension or
    // a first-session retry leaves the status as it was, and a second click is not a second decision)
    const opening =
      !open &&
      !r.unapplied?.some((u) => u.step === step) &&
      r.handover?.step !== step &&
      (r.pendingStep === step || (!r.pendingStep && isGateStatus(r.status) && GATES[r.status] === step));
    if (!open && !opening) {
      throw new ConflictError(
        r.pendingStep
          ? `This referral is waiting for ${r.pendingStep}, not ${step}`
          : 'This step is not waiting for a decision (it may have been decided already)',
        'NotPending',
      );
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
        throw new ConflictError(
          `${n === 1 ? 'A cohort' : `${n} cohorts`} of this track ${n === 1 ? 'has' : 'have'} seats left: enrol the person instead of waitlisting`,
          'SeatsAvailable',
        );
      }
      changes.waitlist = { since: now.toISOString(), track, reviews: 0 };
    } else if (step === 'first-session') {
      const f = decision as FirstSession;
      if (f.attended) {
        // not before the session the person was expected at (its local date: the ISO carries the group's offset)
        const earliest = r.firstSession?.at.slice(0, 10) ?? localDay(r.reached.ENROLLED ?? r.updatedAt, deps.config.PROGRAM_TIME_ZONE);
        if (f.on < earliest)
          throw new ValidationError('Some fields need attention', {
            on: [`The first session this person could attend was on ${earliest}: attendance cannot be recorded before it`],
          });
      } else if (f.next === 'retry') {
        const retries = r.firstSession?.retries ?? 0;
        if (retries >= MAX_FIRST_SESSION_RETRIES) {
          throw new ValidationError('Some fields need attention', {
            next: [`The first session was missed ${retries + 1} times: close the referral as a no-show (or withdraw it)`],
          });
        }
        const cohort = r.cohortId ? await deps.repo.getCohort(r.cohortId) : undefined;
        // the session after the one that was missed (and after now)
        const after = new Date(Math.max(now.getTime(), r.firstSession ? Date.parse(r.firstSession.at) : 0));
        const upcoming = cohort ? sessionAfter(cohort, after, deps.config.CLOSURE_DATES) : undefined;
        if (!cohort || !upcoming)
          throw new ConflictError('No session is left in this cohort: close the referral as a no-show, or withdraw it', 'CohortOver');
        changes.firstSession = { at: upcoming.startsAt, retries: retries + 1 };
        facts.missed = { cohortId: cohort.cohortId, sessionAt: upcoming.startsAt, retry: retries + 1 };
        // the case worker calls before the next session (what is in the way: transport, work, child care)
        extraEvents.push({
          type: 'CONTACT_REMINDER',
          actor: SYSTEM,
          step,
          detail: { reason: 'missed-first-session', retry: retries + 1, of: MAX_FIRST_SESSION_RETRIES, nextSessionAt: upcoming.startsAt },
        });
      } else if (holdsSeat(r)) {
        // a no-show gives the seat back in the same transaction, for the waitlist
        seat = { cohortId: r.cohortId!, release: true };
        changes.seatReleasedAt = now.toISOString();
        extraEvents.push({ type: 'SEAT_RELEASED', actor, detail: { cohortId: r.cohortId! } });
      }
    }
    const nextRoute = routeTo(target, deps.config, r.detoxSince, now, { ...r, ...changes, breaches: 0 });
    const { next, events } = advance(
      r,
      now,
      {
        status: target,
        pendingStep: undefined,
        taskToken: undefined,
        gateOpenedAt: undefined,
        gateDueAt: undefined,
        breaches: 0,
        decided: { ...r.decided, [step]: nextRoute },
        handover: open ? { token: r.taskToken!, route: nextRoute, step } : undefined,
        ...(opening ? { unapplied: [...(r.unapplied ?? []), { step, route: nextRoute }] } : {}),
        ...changes,
        ...(target === 'DETOX' ? { detoxSince: r.detoxSince ?? now.toISOString() } : {}),
      },
      actor,
    );
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
export const withdraw = async (
  deps: Deps,
  referralId: string,
  reason: string,
  actor: Actor,
): Promise<{ referralId: string; status: Status }> => {
  const intake = await loadIntake(deps, referralId);
  const done = await retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (isFinal(r.status)) throw new ConflictError(`This referral is already closed (${r.status})`, 'AlreadyClosed');
    // an enrolled person withdrawn before the start gives the seat back in the same transaction
    const seat: SeatReservation | undefined = holdsSeat(r) ? { cohortId: r.cohortId!, release: true } : undefined;
    const { next, events } = advance(
      r,
      deps.now(),
      {
        status: 'WITHDRAWN',
        pendingStep: undefined,
        taskToken: undefined,
        gateDueAt: undefined,
        unapplied: undefined,
        failure: undefined,
        handover: undefined,
        ...(seat ? { seatReleasedAt: deps.now().toISOString() } : {}),
      },
      actor,
    );
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
export const resume = async (
  deps: Deps,
  referralId: string,
  actor: Actor,
  note?: string,
): Promise<{ referralId: string; status: Status }> => {
  const { next, name, at } = await retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (r.status !== 'NEEDS_ATTENTION')
      throw new ConflictError(`Only a referral that needs attention can be resumed (this one is ${r.status})`, 'NotNeedsAttention');
    if (!r.failure)
      throw new ConflictError(`This referral is waiting for ${r.pendingStep ?? 'a decision'}: decide that step instead`, 'GateOpen');
    const resumes = (r.resumes ?? 0) + 1;
    const name = `${referralId}-r${resumes}`;
    const at = r.failure.resumeAt;
    const changed = advance(
      r,
      deps.now(),
      { status: at, failure: undefined, execution: name, resumes, pendingStep: undefined, taskToken: undefined, breaches: 0 },
      actor,
    );
    changed.events.unshift({
      at: changed.next.updatedAt,
      type: 'RESUMED',
      actor,
      detail: { error: r.failure.error, resumeAt: at, ...(note ? { note } : {}) },
    });
    await commit(deps, changed.next, changed.events);
    return { next: changed.next, name, at };
  });
  await deps.workflow.start(referralId, { name, route: route(deps, next, at) });
  logger.info('referral resumed', { referralId, resumeAt: at });
  return { referralId, status: next.status };
};
