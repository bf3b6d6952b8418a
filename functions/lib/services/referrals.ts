import { createHash, randomUUID } from 'node:crypto';
import type { Deps } from '../adapters';
import type { Actor, NewEvent, ReferralRecord, SeatReservation } from '../adapters/ports';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { statusAfterCheck } from '../domain/eligibility';
import { displayName } from '../domain/messages';
import { newReference } from '../domain/reference';
import { buildInvite, sessionDates } from '../domain/schedule';
import { triage } from '../domain/triage';
import {
  BREACHES_BEFORE_ATTENTION, detoxExpired, GATES, type GateStatus, isFinal, nextStatusAfter, routeTo, type Route,
} from '../domain/workflow';
import { logger } from '../logger';
import { CRISIS_RESOURCES, type Intake, type IntakeResponse } from '../schemas/intake';
import { DecisionSchemas, type Decision, type Enrollment, type Step } from '../schemas/decisions';
import type { Status } from '../schemas/views';
import { alertProgram, notifyPeople, type NoticePlan } from './notices';
import { validate } from '../validate';

// the referral's application services: each loads what it needs, applies a pure domain rule and
// writes the change with its event in one conditional transaction

const SYSTEM: Actor = { kind: 'system' };

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

const load = async (deps: Deps, referralId: string): Promise<ReferralRecord> => {
  const r = await deps.repo.get(referralId);
  if (!r) throw new NotFoundError('No referral with that id');
  return r;
};

const loadIntake = async (deps: Deps, referralId: string): Promise<Intake> => {
  const intake = await deps.repo.getIntake(referralId);
  if (!intake) throw new NotFoundError('No intake stored for that referral');
  return intake;
};

const route = (deps: Deps, r: ReferralRecord, next: Status): Route => routeTo(next, deps.config, r.detoxSince, deps.now());

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
      await deps.repo.create(referral, intake, event, idem);
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
  await deps.workflow.start(referral.referralId);
  return { response: responseFor(referral), replayed: false };
};

// ---- workflow tasks -------------------------------------------------------------------------

/** a payer that has not answered by then is treated as unclear: a case worker reviews coverage */
const ELIGIBILITY_TIMEOUT_MS = 10_000;

const PATIENT_RECEIVED: NoticePlan = { patient: 'received', physician: 'received' };

/** task: eligibility check → EVALUATION or INSURANCE_REVIEW, plus the "received" notices */
export const checkInsurance = async (deps: Deps, referralId: string): Promise<Route> => {
  let r = await load(deps, referralId);
  const intake = await loadIntake(deps, referralId);
  if (r.status === 'RECEIVED') {
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
    const target = statusAfterCheck(result);
    const { next, events } = advance(r, deps.now(), { status: target, eligibility: result }, SYSTEM);
    events.unshift({ at: next.updatedAt, type: 'INSURANCE_CHECKED', actor: SYSTEM, detail: { outcome: result.outcome, summary: result.summary } });
    await deps.repo.save(next, events);
    r = next;
  }
  if (r.urgent) await alertProgram(deps, r, { kind: 'urgent' });
  await notifyPeople(deps, r, intake, PATIENT_RECEIVED, 'received');
  return route(deps, r, r.status);
};

export interface OpenGateInput {
  referralId: string;
  status: GateStatus;
  taskToken: string;
  timeoutSeconds?: number;
}

/**
 * task (callback): stores the gate's token on the referral. If the step's decision could not resume
 * the workflow because the gate's timer fired at that moment, it resumes at once with that decision.
 */
export const openGate = async (deps: Deps, input: OpenGateInput): Promise<void> => {
  const r = await load(deps, input.referralId);
  const step = GATES[input.status];
  if (!step) throw new ValidationError(`Not a gate: ${input.status}`);
  if (r.lastDecision?.unresumed && r.lastDecision.step === step && r.pendingStep !== step) {
    await deps.workflow.resume(input.taskToken, r.lastDecision.route);
    await deps.repo.save({ ...r, version: r.version + 1, updatedAt: deps.now().toISOString(), lastDecision: { ...r.lastDecision, unresumed: false } }, []);
    return;
  }
  // the referrer hears of an accepted evaluation as the next gate opens: a workflow task, retried
  // until it succeeds; sent before the save below clears lastDecision, and idempotent on a retry
  if (r.lastDecision?.step === 'evaluation' && (input.status === 'DETOX' || input.status === 'ENROLLMENT')) {
    await notifyPeople(deps, r, await loadIntake(deps, r.referralId), { physician: 'accepted' }, 'accepted');
  }
  const now = deps.now();
  const reopen = r.pendingStep === step;
  const { next, events } = advance(r, now, {
    status: r.status === 'NEEDS_ATTENTION' ? r.status : input.status,
    pendingStep: step,
    taskToken: input.taskToken,
    gateOpenedAt: reopen ? r.gateOpenedAt : now.toISOString(),
    gateDueAt: input.timeoutSeconds ? new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString() : undefined,
    breaches: reopen ? r.breaches : 0,
    detoxSince: input.status === 'DETOX' ? r.detoxSince ?? now.toISOString() : r.detoxSince,
    lastDecision: undefined,
  }, SYSTEM);
  // the first opening shows in the timeline as the STATUS_CHANGED that led here; a reopening is its own event
  if (reopen) events.push({ at: next.updatedAt, type: 'GATE_REOPENED', actor: SYSTEM, step });
  await deps.repo.save(next, events);
  logger.info('gate open', { referralId: r.referralId, step, reopen });
};

export type EscalateInput =
  | { referralId: string; kind: 'breach'; status: GateStatus }
  | { referralId: string; kind: 'failure'; error?: string };

/** task: a gate's timer ran out (escalate; reopen, needs attention or expire), or a task kept failing */
export const escalate = async (deps: Deps, input: EscalateInput): Promise<Route | { status: Status }> => {
  const r = await load(deps, input.referralId);
  const now = deps.now();
  if (input.kind === 'failure') {
    const errorCode = String(input.error ?? 'Unknown').replace(/[^\w.-]/g, '').slice(0, 80) || 'Unknown';
    // the execution ends here: no gate stays pending; staff can still withdraw the referral
    const { next, events } = advance(r, now, isFinal(r.status) ? {} : { status: 'NEEDS_ATTENTION', taskToken: undefined, pendingStep: undefined }, SYSTEM);
    events.unshift({ at: next.updatedAt, type: 'TASK_FAILED', actor: SYSTEM, detail: { error: errorCode } });
    await deps.repo.save(next, events);
    await alertProgram(deps, next, { kind: 'failure', errorCode });
    logger.warn('referral needs attention after task failure', { referralId: r.referralId, errorCode });
    return { status: next.status };
  }
  const gate = input.status;
  const step = GATES[gate];
  // decided while the timer fired: reopen briefly and let OpenGate resume with the decision
  if (r.pendingStep !== step) return { next: gate, timeoutSeconds: 60 };
  if (gate === 'DETOX' && detoxExpired(r.detoxSince, deps.config.DETOX_MAX_DAYS, now)) {
    const { next, events } = advance(r, now, { status: 'EXPIRED', pendingStep: undefined, taskToken: undefined }, SYSTEM);
    events.unshift({ at: next.updatedAt, type: 'SLA_BREACHED', actor: SYSTEM, step, detail: { expired: true, maxDays: deps.config.DETOX_MAX_DAYS } });
    await deps.repo.save(next, events);
    return { next: 'EXPIRED' };
  }
  const breaches = r.breaches + 1;
  const attention = breaches >= BREACHES_BEFORE_ATTENTION;
  const { next, events } = advance(r, now, { breaches, taskToken: undefined, ...(attention ? { status: 'NEEDS_ATTENTION' as const } : {}) }, SYSTEM);
  const ageHours = Math.round((now.getTime() - Date.parse(r.gateOpenedAt ?? r.updatedAt)) / 360_000) / 10;
  events.unshift({ at: next.updatedAt, type: 'SLA_BREACHED', actor: SYSTEM, step, detail: { breach: breaches, ageHours } });
  await deps.repo.save(next, events);
  await alertProgram(deps, next, { kind: 'sla', step, ageHours, breaches, gateOpenedAt: r.gateOpenedAt ?? '' });
  return route(deps, next, gate);
};

/** task: notices (and the schedule) of a final status reached by a decision or an expiry */
export const finishReferral = async (deps: Deps, referralId: string, outcome: Status): Promise<{ status: Status }> => {
  const r = await load(deps, referralId);
  if (r.status !== outcome) throw new ConflictError(`Referral is ${r.status}, not ${outcome}`, 'UnexpectedStatus');
  const intake = await loadIntake(deps, referralId);
  if (outcome === 'ENROLLED') {
    const cohort = r.cohortId ? await deps.repo.getCohort(r.cohortId) : undefined;
    if (!cohort) throw new NotFoundError('Enrolled referral without its cohort');
    const now = deps.now();
    // someone may join a cohort that has already started: the schedule starts at the next session
    const first = sessionDates(cohort).find((s) => Date.parse(s.startsAt) > now.getTime());
    if (!first) throw new ConflictError('The cohort has no session left', 'CohortOver');
    const weekly = cohort.sessions.map((s) => `${s.weekday} ${s.start} (${s.minutes} min)`).join(', ');
    await notifyPeople(deps, r, intake, {
      patient: 'schedule', physician: 'enrolled',
      schedule: {
        group: cohort.name, start: `${first.date} ${first.start} (${cohort.timeZone})`, sessions: weekly, startDate: first.date,
        // one invite per recipient, naming only that recipient: nobody learns another's address
        invite: (attendee) => buildInvite({
          cohortId: cohort.cohortId, cohort, referralId, summary: `${deps.config.PROGRAM_NAME} group session`,
          location: deps.config.PROGRAM_NAME, organizer: { name: deps.config.PROGRAM_NAME, email: deps.config.MAIL_FROM }, attendee, now,
        }),
      },
    }, 'enrolled');
  } else {
    await notifyPeople(deps, r, intake, { patient: 'closed', physician: 'closed' }, 'closed');
  }
  return { status: r.status };
};

// ---- staff actions --------------------------------------------------------------------------

/**
 * A case worker decides the pending step: validated per step, written with its event (and for
 * enrolment the seat) in one transaction conditional on the version read, then the workflow resumes.
 */
export const decideStep = async (deps: Deps, referralId: string, step: Step, body: unknown, actor: Actor): Promise<{ referralId: string; status: Status; decided: Step }> => {
  const r = await load(deps, referralId);
  if (r.pendingStep !== step || !r.taskToken) {
    throw new ConflictError(r.pendingStep ? `This referral is waiting for ${r.pendingStep}, not ${step}` : 'This step is not waiting for a decision (it may have been decided already)', 'NotPending');
  }
  const decision = validate(DecisionSchemas[step], body) as Decision;
  const target = nextStatusAfter(step, decision);
  let seat: SeatReservation | undefined;
  if (step === 'enrollment') {
    const { cohortId } = decision as Enrollment;
    // read first so an unknown cohort is a 400 on its field, not a "full" 409 from the seat condition
    if (!(await deps.repo.getCohort(cohortId))) throw new ValidationError('Some fields need attention', { cohortId: ['No cohort with that id'] });
    seat = { cohortId };
  }
  const now = deps.now();
  const nextRoute = routeTo(target, deps.config, r.detoxSince, now);
  const token = r.taskToken;
  const { next, events } = advance(r, now, {
    status: target, pendingStep: undefined, taskToken: undefined, gateOpenedAt: undefined, gateDueAt: undefined, breaches: 0,
    lastDecision: { step, route: nextRoute },
    ...(seat ? { cohortId: seat.cohortId } : {}),
    ...(target === 'DETOX' ? { detoxSince: r.detoxSince ?? now.toISOString() } : {}),
  }, actor);
  events.unshift({ at: next.updatedAt, type: 'STEP_DECIDED', actor, step, detail: decision as unknown as Record<string, unknown> });
  await deps.repo.save(next, events, seat);
  try {
    await deps.workflow.resume(token, nextRoute);
  } catch (err) {
    // the gate's timer fired meanwhile: the escalation reopens the gate, and OpenGate resumes it with this decision
    logger.warn('resume failed; the reopened gate will resume', { referralId, step, errorName: (err as Error).name });
    await deps.repo.save({ ...next, version: next.version + 1, lastDecision: { step, route: nextRoute, unresumed: true } }, []);
  }
  logger.info('step decided', { referralId, step, to: target });
  return { referralId, status: target, decided: step };
};

/** withdraw from any non-final status: status + event, stop the execution, notify */
export const withdraw = async (deps: Deps, referralId: string, reason: string, actor: Actor): Promise<{ referralId: string; status: Status }> => {
  const r = await load(deps, referralId);
  if (isFinal(r.status)) throw new ConflictError(`This referral is already closed (${r.status})`, 'AlreadyClosed');
  const { next, events } = advance(r, deps.now(), { status: 'WITHDRAWN', pendingStep: undefined, taskToken: undefined, gateDueAt: undefined }, actor);
  events.unshift({ at: next.updatedAt, type: 'WITHDRAWN', actor, detail: { reason } });
  // notices first: if sending fails the request fails before anything changed and can simply be
  // retried (notices already sent are not sent again)
  await notifyPeople(deps, next, await loadIntake(deps, referralId), { patient: 'closed', physician: 'closed' }, 'closed');
  await deps.repo.save(next, events);
  await deps.workflow.stop(referralId, 'withdrawn by staff').catch((err: Error) => {
    // already ended (e.g. needs attention after a failure): nothing to stop
    logger.info('stop skipped', { referralId, errorName: err.name });
  });
  return { referralId, status: next.status };
};
