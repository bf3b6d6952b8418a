import type { Decision, DetoxConfirmation, Enrollment, Evaluation, FirstSession, InsuranceReview, Step } from '../schemas/decisions';
import { FINAL_STATUSES, type SlaState, type Status } from '../schemas/views';

// the referral's state rules: which gate a status is, where each decision leads, gate timers

/** a human gate: its status, its step name in the API */
export const GATES = {
  INSURANCE_REVIEW: 'insurance-review',
  EVALUATION: 'evaluation',
  DETOX: 'detox-confirmation',
  ENROLLMENT: 'enrollment',
  /** no seat in the person's track: waits for one, reviewed weekly (no escalation) */
  WAITLISTED: 'waitlist',
  /** enrolled: waits for the first session (plus a grace period) to be recorded as attended or missed */
  ENROLLED: 'first-session',
} as const satisfies Partial<Record<Status, Step>>;

export type GateStatus = keyof typeof GATES;

/** the other way round: the status a step's gate is (the console, decisions by step name) */
export const GATE_OF_STEP = Object.fromEntries(Object.entries(GATES).map(([status, step]) => [step, status])) as Record<Step, GateStatus>;

export const isGateStatus = (s: string): s is GateStatus => s in GATES;
export const isFinal = (s: Status): boolean => FINAL_STATUSES.includes(s);

/** what a workflow task hands back to the ASL: the next status and, for a gate, its timer */
export interface Route {
  next: Status;
  timeoutSeconds?: number;
}

/** the status a decision leads to (the ASL's Choice states accept exactly these) */
export const nextStatusAfter = (step: Step, decision: Decision): Status => {
  switch (step) {
    case 'insurance-review':
      return (decision as InsuranceReview).decision === 'not-covered' ? 'NOT_COVERED' : 'EVALUATION';
    case 'evaluation': {
      const e = decision as Evaluation;
      if (e.decision === 'refer-out') return 'REFERRED_OUT';
      return e.detoxRequired ? 'DETOX' : 'ENROLLMENT';
    }
    case 'detox-confirmation': {
      const d = decision as DetoxConfirmation;
      if (d.completed) return 'ENROLLMENT';
      return d.decision === 'extend' ? 'DETOX' : 'REFERRED_OUT';
    }
    case 'enrollment':
      return (decision as Enrollment).waitlist ? 'WAITLISTED' : 'ENROLLED';
    case 'waitlist':
      return 'ENROLLED';
    case 'first-session': {
      const f = decision as FirstSession;
      if (f.attended) return 'STARTED';
      // a retry waits at the same gate for the next session
      return f.next === 'retry' ? 'ENROLLED' : 'NO_SHOW';
    }
  }
};

/** the gates where a person first hears from a case worker: the first of these a referral reaches is its first contact */
const FIRST_CONTACT_GATES: readonly GateStatus[] = ['INSURANCE_REVIEW', 'EVALUATION'];

/** what the timer of a gate needs to know about the referral entering it */
export interface TimerContext {
  urgent?: boolean;
  /** first time each status was reached */
  reached?: Partial<Record<Status, string>>;
  /** ENROLLED: the session the person is expected at (ISO) */
  firstSession?: { at: string };
  /** breaches of the gate now open: after one, the first-session gate waits the grace period again */
  breaches?: number;
}

/**
 * true when `status` is the first human gate of an urgent referral (insurance review, or evaluation
 * when coverage was clear): a positive crisis screen asks for contact today, not in two days. A
 * reopened first gate (after a breach) is still the first contact; a later gate is not.
 */
export const isUrgentFirstContact = (status: Status, r: TimerContext | undefined): boolean =>
  !!r?.urgent &&
  FIRST_CONTACT_GATES.includes(status as GateStatus) &&
  !(Object.keys(GATES) as GateStatus[]).some((g) => g !== status && r.reached?.[g]);

/** the settings the gate timers read (functions/lib/config.ts holds them; the domain names only what it needs, so the browser can import it) */
interface TimerConfig {
  GATE_TIMEOUTS: Record<string, number>;
  DETOX_MAX_DAYS: number;
  URGENT_FIRST_CONTACT_HOURS?: number;
  FIRST_SESSION_GRACE_HOURS?: number;
  WAITLIST_REVIEW_DAYS?: number;
}

/**
 * The first-session gate waits until the expected session has started plus the grace period
 * (FIRST_SESSION_GRACE_HOURS, default 24): attendance is recorded by then. Once that has passed
 * (a breach reopened the gate, or a resume after a failure), it waits one grace period more.
 */
const firstSessionTimeoutSeconds = (cfg: TimerConfig, r: TimerContext | undefined, now: Date): number => {
  const grace = Math.round((cfg.FIRST_SESSION_GRACE_HOURS ?? 24) * 3600);
  const at = r?.firstSession ? Date.parse(r.firstSession.at) : Number.NaN;
  if (Number.isNaN(at) || (r?.breaches ?? 0) > 0) return grace;
  const left = Math.floor((at - now.getTime()) / 1000) + grace;
  return left > 0 ? left : grace;
};

/** a waitlisted referral comes back for review every WAITLIST_REVIEW_DAYS (default 7) */
const waitlistReviewSeconds = (cfg: TimerConfig): number => Math.max(1, Math.round((cfg.WAITLIST_REVIEW_DAYS ?? 7) * 86_400));

/**
 * Seconds a gate waits before its SLA breach (the waitlist: before its weekly review). The
 * first-session gate waits for the session plus its grace period. The first human gate of an urgent referral waits at
 * most URGENT_FIRST_CONTACT_HOURS (default 4). Detox never waits past its overall limit
 * (DETOX_MAX_DAYS from the first time the referral entered DETOX); at least one second so the
 * state machine always gets a valid timer.
 */
export const gateTimeoutSeconds = (
  status: GateStatus,
  cfg: TimerConfig,
  detoxSince: string | undefined,
  now: Date,
  referral?: TimerContext,
): number => {
  if (status === 'ENROLLED') return firstSessionTimeoutSeconds(cfg, referral, now);
  if (status === 'WAITLISTED') return waitlistReviewSeconds(cfg);
  const routine = cfg.GATE_TIMEOUTS[GATES[status]] ?? 86_400;
  const configured = isUrgentFirstContact(status, referral)
    ? Math.min(routine, Math.round((cfg.URGENT_FIRST_CONTACT_HOURS ?? 4) * 3600))
    : routine;
  if (status !== 'DETOX' || !detoxSince) return configured;
  const left = Math.floor((Date.parse(detoxSince) + cfg.DETOX_MAX_DAYS * 86_400_000 - now.getTime()) / 1000);
  return Math.max(1, Math.min(configured, left));
};

/** true when a referral waiting for detox has used up its overall limit */
export const detoxExpired = (detoxSince: string | undefined, maxDays: number, now: Date): boolean =>
  !!detoxSince && now.getTime() >= Date.parse(detoxSince) + maxDays * 86_400_000 - 1000;

/** the route into a status: gates carry their timer (short for an urgent referral's first contact) */
export const routeTo = (next: Status, cfg: TimerConfig, detoxSince: string | undefined, now: Date, referral?: TimerContext): Route =>
  isGateStatus(next)
    ? {
        next,
        timeoutSeconds: gateTimeoutSeconds(next, cfg, next === 'DETOX' ? (detoxSince ?? now.toISOString()) : detoxSince, now, referral),
      }
    : { next };

/** second and later breaches of the same referral mark it NEEDS_ATTENTION */
export const BREACHES_BEFORE_ATTENTION = 2;

/** due soon = in the last quarter of the gate's time */
export const slaState = (openedAt: string, dueAt: string, now: Date): SlaState => {
  const open = Date.parse(openedAt);
  const due = Date.parse(dueAt);
  if (now.getTime() >= due) return 'overdue';
  return now.getTime() >= due - (due - open) / 4 ? 'due-soon' : 'on-time';
};
