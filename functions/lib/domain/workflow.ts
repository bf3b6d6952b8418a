import type { Config } from '../config';
import type { Decision, DetoxConfirmation, Evaluation, InsuranceReview, Step } from '../schemas/decisions';
import { FINAL_STATUSES, type SlaState, type Status } from '../schemas/views';

// the referral's state rules: which gate a status is, where each decision leads, gate timers

/** a human gate: its status, its step name in the API */
export const GATES = {
  INSURANCE_REVIEW: 'insurance-review',
  EVALUATION: 'evaluation',
  DETOX: 'detox-confirmation',
  ENROLLMENT: 'enrollment',
} as const satisfies Partial<Record<Status, Step>>;

export type GateStatus = keyof typeof GATES;

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
      return 'ENROLLED';
  }
};

/**
 * Seconds a gate waits before its SLA breach. Detox never waits past its overall limit
 * (DETOX_MAX_DAYS from the first time the referral entered DETOX); at least one second so the
 * state machine always gets a valid timer.
 */
export const gateTimeoutSeconds = (
  status: GateStatus,
  cfg: Pick<Config, 'GATE_TIMEOUTS' | 'DETOX_MAX_DAYS'>,
  detoxSince: string | undefined,
  now: Date,
): number => {
  const configured = cfg.GATE_TIMEOUTS[GATES[status]] ?? 86_400;
  if (status !== 'DETOX' || !detoxSince) return configured;
  const left = Math.floor((Date.parse(detoxSince) + cfg.DETOX_MAX_DAYS * 86_400_000 - now.getTime()) / 1000);
  return Math.max(1, Math.min(configured, left));
};

/** true when a referral waiting for detox has used up its overall limit */
export const detoxExpired = (detoxSince: string | undefined, maxDays: number, now: Date): boolean =>
  !!detoxSince && now.getTime() >= Date.parse(detoxSince) + maxDays * 86_400_000 - 1000;

/** the route into a status: gates carry their timer */
export const routeTo = (
  next: Status,
  cfg: Pick<Config, 'GATE_TIMEOUTS' | 'DETOX_MAX_DAYS'>,
  detoxSince: string | undefined,
  now: Date,
): Route => (isGateStatus(next) ? { next, timeoutSeconds: gateTimeoutSeconds(next, cfg, next === 'DETOX' ? detoxSince ?? now.toISOString() : detoxSince, now) } : { next });

/** second and later breaches of the same referral mark it NEEDS_ATTENTION */
export const BREACHES_BEFORE_ATTENTION = 2;

/** due soon = in the last quarter of the gate's time */
export const slaState = (openedAt: string, dueAt: string, now: Date): SlaState => {
  const open = Date.parse(openedAt);
  const due = Date.parse(dueAt);
  if (now.getTime() >= due) return 'overdue';
  return now.getTime() >= due - (due - open) / 4 ? 'due-soon' : 'on-time';
};
