import { CHECK_INSURANCE_TIMEOUT_SECONDS } from '../../catalog';
import type { Deps } from '../adapters';
import { type ReferralRecord, SYSTEM_ACTOR as SYSTEM } from '../adapters/ports';
import { statusAfterCheck } from '../domain/eligibility';
import { openCohorts } from '../domain/seats';
import { BREACHES_BEFORE_ATTENTION, detoxExpired, GATE_OF_STEP, GATES, type GateStatus, isFinal, type Route } from '../domain/workflow';
import { ValidationError } from '../errors';
import { logger } from '../logger';
import { metrics } from '../observability';
import type { EligibilityResult, Status } from '../schemas/views';
import { advance, bump, closedAlready, commit, currentCohorts, load, loadIntake, retryOnConflict, route } from './change';
import { askEligibility } from './eligibility';
import { noticesFor } from './notices';

// what the workflow's tasks do (check-insurance, open-gate, escalate) and how sweep restarts a
// workflow that was lost; each is one read-decide-write (./change)

/**
 * a payer that has not answered by then is treated as unclear: a case worker reviews coverage. The
 * clearinghouse may take a request, the retry delay and a second request (within the Lambda's timeout,
 * functions/catalog.ts); the simulator answers at once
 */
const eligibilityTimeoutMs = (config: Deps['config']): number =>
  config.ELIGIBILITY_PROVIDER === 'clearinghouse'
    ? Math.min(
        (2 * config.ELIGIBILITY_TIMEOUT_SECONDS + config.ELIGIBILITY_RETRY_SECONDS + 5) * 1000,
        (CHECK_INSURANCE_TIMEOUT_SECONDS - 5) * 1000,
      )
    : 10_000;

/** task: eligibility check → EVALUATION or INSURANCE_REVIEW (re-run after a restart: the status already moved on) */
export const checkInsurance = async (deps: Deps, referralId: string): Promise<Route> => {
  const intake = await loadIntake(deps, referralId);
  // asked once per run: a lost write race (a case worker's concurrent change) writes the same answer
  // again instead of sending another inquiry (and waiting out another retry delay)
  let answer: EligibilityResult | undefined;
  return retryOnConflict(async () => {
    const r = await load(deps, referralId);
    if (isFinal(r.status)) throw closedAlready(r);
    if (r.status !== 'RECEIVED') return route(deps, r, r.status);
    const result = (answer ??= await askEligibility(deps, intake, { withinMs: eligibilityTimeoutMs(deps.config), retryWhenBusy: true }));
    const { next, events } = advance(r, deps.now(), { status: statusAfterCheck(result), eligibility: result }, SYSTEM);
    events.unshift({
      at: next.updatedAt,
      type: 'INSURANCE_CHECKED',
      actor: SYSTEM,
      // codes and plain words only (never the member's data): the reason's code lets the timeline say why
      detail: { outcome: result.outcome, summary: result.summary, ...(result.reason ? { reason: result.reason.code } : {}) },
    });
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
      await commit(deps, bump(r, now, { unapplied: r.unapplied!.filter((u) => u !== waiting) }), []);
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
    const { next, events } = advance(
      r,
      now,
      {
        status: r.status === 'NEEDS_ATTENTION' ? r.status : input.status,
        pendingStep: step,
        taskToken: input.taskToken,
        gateOpenedAt: reopen ? r.gateOpenedAt : now.toISOString(),
        gateDueAt: input.timeoutSeconds ? new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString() : undefined,
        breaches: reopen ? r.breaches : 0,
        detoxSince: input.status === 'DETOX' ? (r.detoxSince ?? now.toISOString()) : r.detoxSince,
        handover: undefined,
      },
      SYSTEM,
    );
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
    const errorCode =
      String(input.error ?? 'Unknown')
        .replace(/[^\w.-]/g, '')
        .slice(0, 80) || 'Unknown';
    return retryOnConflict(async () => {
      const r = await load(deps, input.referralId);
      if (isFinal(r.status)) return { status: r.status };
      const now = deps.now();
      // the execution ends here: no gate stays pending; staff resume it at the step that failed (or withdraw)
      const resumeAt =
        r.status === 'NEEDS_ATTENTION' ? (r.failure?.resumeAt ?? (r.pendingStep ? GATE_OF_STEP[r.pendingStep] : 'RECEIVED')) : r.status;
      const { next, events } = advance(
        r,
        now,
        {
          status: 'NEEDS_ATTENTION',
          taskToken: undefined,
          pendingStep: undefined,
          gateDueAt: undefined,
          unapplied: undefined,
          failure: { error: errorCode, at: now.toISOString(), resumeAt },
        },
        SYSTEM,
      );
      events.unshift({ at: next.updatedAt, type: 'TASK_FAILED', actor: SYSTEM, detail: { error: errorCode, resumeAt } });
      // the program is told once per stop: a RecordFailure retried after it committed (its invocation
      // failed afterwards) finds the failure recorded already and adds no second alert
      const told = r.status === 'NEEDS_ATTENTION' && !!r.failure;
      await commit(
        deps,
        next,
        events,
        told ? {} : { notices: noticesFor(next, undefined, 'failure', { program: { kind: 'failure', errorCode } }) },
      );
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
        await commit(deps, bump(r, now, { unapplied: [...(r.unapplied ?? []), { step, route: decided }] }), []);
      }
      return { next: gate, timeoutSeconds: 60 };
    }
    if (gate === 'WAITLISTED') return reviewWaitlist(deps, r, now);
    if (gate === 'DETOX' && detoxExpired(r.detoxSince, deps.config.DETOX_MAX_DAYS, now)) {
      const { next, events } = advance(
        r,
        now,
        { status: 'EXPIRED', pendingStep: undefined, taskToken: undefined, gateDueAt: undefined },
        SYSTEM,
      );
      events.unshift({
        at: next.updatedAt,
        type: 'SLA_BREACHED',
        actor: SYSTEM,
        step,
        detail: { expired: true, maxDays: deps.config.DETOX_MAX_DAYS },
      });
      await commit(deps, next, events, {
        notices: noticesFor(next, await loadIntake(deps, r.referralId), 'closed', { patient: 'closed', physician: 'closed' }),
      });
      return { next: 'EXPIRED' };
    }
    const breaches = r.breaches + 1;
    const attention = breaches >= BREACHES_BEFORE_ATTENTION;
    const { next, events } = advance(
      r,
      now,
      { breaches, taskToken: undefined, ...(attention ? { status: 'NEEDS_ATTENTION' as const } : {}) },
      SYSTEM,
    );
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
  const seatsFree = openCohorts(await currentCohorts(deps, now), track, now, deps.config.CLOSURE_DATES).reduce(
    (n, c) => n + c.capacity - c.seats,
    0,
  );
  const { next, events } = advance(r, now, { taskToken: undefined, waitlist: { since, track, reviews } }, SYSTEM);
  events.unshift({
    at: next.updatedAt,
    type: 'WAITLIST_REVIEW_DUE',
    actor: SYSTEM,
    step: 'waitlist',
    detail: { review: reviews, waitingDays, seatsFree },
  });
  const alert = { kind: 'waitlist-review' as const, review: reviews, waitingDays, seatsFree };
  await commit(deps, next, events, { notices: noticesFor(next, undefined, 'waitlist-review', { program: alert }) });
  logger.info('waitlist review due', { referralId: r.referralId, review: reviews, seatsFree });
  return route(deps, next, 'WAITLISTED');
};

// ---- sweep ----------------------------------------------------------------------------------

/**
 * Restarts workflows that were lost, for referrals idle for STRANDED_AFTER_SECONDS with no gate
 * open: a decision whose hand-over never happened (the decider died before SendTaskSuccess, or Step
 * Functions did not answer) is handed over with its kept token; an intake whose execution never
 * started, or a referral whose execution is gone, gets one (starting is idempotent by name, so a
 * workflow that is merely slow is left alone); one whose execution ended short of the referral's
 * end needs attention. Answers how many were moved on.
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
    const started = first
      ? await deps.workflow.start(r.referralId)
      : await deps.workflow.start(r.referralId, resumed ?? { name: r.referralId, route: route(deps, r, status) });
    if (started === 'started') return true;
    // an execution of that name exists: merely slow, or it ended with the referral short of its end
    // (a task and then its RecordFailure failed every try). Its name cannot be reused, so a person
    // takes over: needs attention, the program told, Resume starts a new execution at this step
    if (await deps.workflow.running(resumed?.name ?? r.referralId)) return false;
    await escalate(deps, { referralId: r.referralId, kind: 'failure', error: 'WorkflowEnded' });
    logger.warn('workflow ended short of the referral’s end: needs attention', { referralId: r.referralId, status });
    return true;
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
