import { describe, expect, test } from '@jest/globals';
import {
  detoxExpired,
  gateTimeoutSeconds,
  GATES,
  isFinal,
  isUrgentFirstContact,
  nextStatusAfter,
  routeTo,
  slaState,
} from '../../../../functions/lib/domain/workflow';
import type { Decision, Step } from '../../../../functions/lib/schemas/decisions';
import { STATUSES } from '../../../../functions/lib/schemas/views';

const DAY_S = 86_400;
const NOW = new Date('2026-11-20T12:00:00Z');
const daysBefore = (d: number) => new Date(NOW.getTime() - d * DAY_S * 1000).toISOString();

/** the configured defaults (functions/lib/config.ts) */
const cfg = {
  GATE_TIMEOUTS: { 'insurance-review': 24 * 3600, evaluation: 48 * 3600, 'detox-confirmation': 14 * DAY_S, enrollment: 72 * 3600 },
  DETOX_MAX_DAYS: 30,
};

const dims = { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 };

describe('nextStatusAfter', () => {
  test.each<[Step, Decision, string]>([
    ['insurance-review', { decision: 'covered' }, 'EVALUATION'],
    ['insurance-review', { decision: 'self-pay' }, 'EVALUATION'],
    ['insurance-review', { decision: 'not-covered' }, 'NOT_COVERED'],
    ['evaluation', { dimensions: dims, recommendedLevel: '2.1', detoxRequired: false, decision: 'accept' }, 'ENROLLMENT'],
    ['evaluation', { dimensions: dims, recommendedLevel: '2.1', detoxRequired: true, decision: 'accept' }, 'DETOX'],
    [
      'evaluation',
      { dimensions: dims, recommendedLevel: '3.7', detoxRequired: true, decision: 'refer-out', referOutTo: 'Inpatient' },
      'REFERRED_OUT',
    ],
    ['detox-confirmation', { completed: true, completedOn: '2026-11-01' }, 'ENROLLMENT'],
    ['detox-confirmation', { completed: false, decision: 'extend' }, 'DETOX'],
    ['detox-confirmation', { completed: false, decision: 'refer-out' }, 'REFERRED_OUT'],
    ['enrollment', { cohortId: 'c1' }, 'ENROLLED'],
    ['enrollment', { waitlist: true }, 'WAITLISTED'],
    ['waitlist', { cohortId: 'c1' }, 'ENROLLED'],
    ['first-session', { attended: true, on: '2026-11-20' }, 'STARTED'],
    ['first-session', { attended: false, next: 'retry' }, 'ENROLLED'],
    ['first-session', { attended: false, next: 'close', note: 'No answer to three calls' }, 'NO_SHOW'],
  ])('%s with %j leads to %s', (step, decision, status) => {
    expect(nextStatusAfter(step, decision)).toBe(status);
  });
});

describe('gates', () => {
  test('every step of the API is the step of exactly one gate status', () => {
    const steps: Step[] = ['insurance-review', 'evaluation', 'detox-confirmation', 'enrollment', 'waitlist', 'first-session'];
    expect(Object.keys(GATES)).toEqual(['INSURANCE_REVIEW', 'EVALUATION', 'DETOX', 'ENROLLMENT', 'WAITLISTED', 'ENROLLED']);
    expect(Object.values(GATES).sort()).toEqual([...steps].sort());
  });

  test('the final statuses are the six ends that close a referral; ENROLLED, WAITLISTED and NEEDS_ATTENTION are not', () => {
    expect(STATUSES.filter(isFinal)).toEqual(['STARTED', 'REFERRED_OUT', 'NOT_COVERED', 'WITHDRAWN', 'EXPIRED', 'NO_SHOW']);
    expect(['ENROLLED', 'WAITLISTED', 'NEEDS_ATTENTION'].filter((s) => isFinal(s as never))).toEqual([]);
  });
});

describe('gateTimeoutSeconds', () => {
  test.each([
    ['INSURANCE_REVIEW', 24 * 3600],
    ['EVALUATION', 48 * 3600],
    ['ENROLLMENT', 72 * 3600],
  ] as const)('%s waits the configured %i seconds', (status, seconds) => {
    expect(gateTimeoutSeconds(status, cfg, undefined, NOW)).toBe(seconds);
  });

  test('a non-detox gate ignores how long detox has lasted', () => {
    expect(gateTimeoutSeconds('EVALUATION', cfg, daysBefore(29), NOW)).toBe(48 * 3600);
  });

  test('a gate missing from GATE_TIMEOUTS falls back to one day', () => {
    expect(gateTimeoutSeconds('ENROLLMENT', { ...cfg, GATE_TIMEOUTS: {} }, undefined, NOW)).toBe(DAY_S);
  });

  test('detox that has just started waits the configured 14 days (less than the 30 left)', () => {
    expect(gateTimeoutSeconds('DETOX', cfg, NOW.toISOString(), NOW)).toBe(14 * DAY_S);
  });

  test('detox waiting for 20 days waits only the 10 days left of its 30', () => {
    expect(gateTimeoutSeconds('DETOX', cfg, daysBefore(20), NOW)).toBe(10 * DAY_S);
  });

  test('detox past its 30 days still gets a valid timer of 1 second', () => {
    expect(gateTimeoutSeconds('DETOX', cfg, daysBefore(31), NOW)).toBe(1);
  });

  test('detox with no start recorded waits the configured time', () => {
    expect(gateTimeoutSeconds('DETOX', cfg, undefined, NOW)).toBe(14 * DAY_S);
  });

  test('DETOX_MAX_DAYS shorter than the gate timer caps it', () => {
    expect(gateTimeoutSeconds('DETOX', { ...cfg, DETOX_MAX_DAYS: 7 }, daysBefore(2), NOW)).toBe(5 * DAY_S);
  });
});

describe('routeTo', () => {
  test('a gate status carries its timer', () => {
    expect(routeTo('EVALUATION', cfg, undefined, NOW)).toEqual({ next: 'EVALUATION', timeoutSeconds: 48 * 3600 });
  });

  test('entering detox for the first time counts the 30 days from now', () => {
    expect(routeTo('DETOX', cfg, undefined, NOW)).toEqual({ next: 'DETOX', timeoutSeconds: 14 * DAY_S });
  });

  test('a final status carries no timer', () => {
    expect(routeTo('REFERRED_OUT', cfg, undefined, NOW)).toEqual({ next: 'REFERRED_OUT' });
  });
});

describe('the urgent first-contact timer', () => {
  const received = { RECEIVED: daysBefore(0), INSURANCE_CHECK: daysBefore(0) };
  const urgent = { urgent: true, reached: received };
  const withShort = { ...cfg, URGENT_FIRST_CONTACT_HOURS: 4 };

  test('an urgent referral whose coverage was clear waits at most 4 h at evaluation, its first human gate', () => {
    expect(routeTo('EVALUATION', withShort, undefined, NOW, { ...urgent, reached: { ...received, EVALUATION: daysBefore(0) } })).toEqual({
      next: 'EVALUATION',
      timeoutSeconds: 4 * 3600,
    });
  });

  test('an urgent referral whose coverage is unclear waits at most 4 h at insurance review', () => {
    expect(gateTimeoutSeconds('INSURANCE_REVIEW', withShort, undefined, NOW, urgent)).toBe(4 * 3600);
  });

  test('after insurance review, evaluation is no longer the first contact: its routine 48 h', () => {
    expect(
      gateTimeoutSeconds('EVALUATION', withShort, undefined, NOW, {
        urgent: true,
        reached: { ...received, INSURANCE_REVIEW: daysBefore(1) },
      }),
    ).toBe(48 * 3600);
  });

  test('a first gate reopened after a breach keeps the short timer', () => {
    expect(
      gateTimeoutSeconds('EVALUATION', withShort, undefined, NOW, {
        urgent: true,
        reached: { ...received, EVALUATION: daysBefore(0), NEEDS_ATTENTION: daysBefore(0) },
      }),
    ).toBe(4 * 3600);
  });

  test('a routine referral keeps the routine timer', () => {
    expect(gateTimeoutSeconds('EVALUATION', withShort, undefined, NOW, { urgent: false, reached: received })).toBe(48 * 3600);
  });

  test('later gates of an urgent referral are not first contacts', () => {
    expect(isUrgentFirstContact('ENROLLMENT', { urgent: true, reached: received })).toBe(false);
    expect(isUrgentFirstContact('DETOX', { urgent: true, reached: received })).toBe(false);
  });

  test('URGENT_FIRST_CONTACT_HOURS is configurable, and never lengthens a shorter routine timer', () => {
    expect(gateTimeoutSeconds('EVALUATION', { ...cfg, URGENT_FIRST_CONTACT_HOURS: 1.5 }, undefined, NOW, urgent)).toBe(5400);
    expect(
      gateTimeoutSeconds(
        'EVALUATION',
        { ...cfg, GATE_TIMEOUTS: { evaluation: 600 }, URGENT_FIRST_CONTACT_HOURS: 4 },
        undefined,
        NOW,
        urgent,
      ),
    ).toBe(600);
  });

  test('without the setting the short timer is 4 h', () => {
    expect(gateTimeoutSeconds('INSURANCE_REVIEW', cfg, undefined, NOW, urgent)).toBe(4 * 3600);
  });
});

describe('the first-session and waitlist timers', () => {
  const at = (h: number) => ({ at: new Date(NOW.getTime() + h * 3600_000).toISOString() });

  test('the first-session gate waits until the session plus the default 24 h grace', () => {
    expect(routeTo('ENROLLED', cfg, undefined, NOW, { firstSession: at(50) })).toEqual({
      next: 'ENROLLED',
      timeoutSeconds: (50 + 24) * 3600,
    });
  });

  test('FIRST_SESSION_GRACE_HOURS is configurable', () => {
    expect(gateTimeoutSeconds('ENROLLED', { ...cfg, FIRST_SESSION_GRACE_HOURS: 2 }, undefined, NOW, { firstSession: at(10) })).toBe(
      12 * 3600,
    );
  });

  test('after a breach (or once the session and its grace have passed) it waits one grace period more', () => {
    expect(gateTimeoutSeconds('ENROLLED', cfg, undefined, NOW, { firstSession: at(50), breaches: 1 })).toBe(24 * 3600);
    expect(gateTimeoutSeconds('ENROLLED', cfg, undefined, NOW, { firstSession: at(-30) })).toBe(24 * 3600);
    expect(gateTimeoutSeconds('ENROLLED', cfg, undefined, NOW, { firstSession: at(-20) })).toBe(4 * 3600);
  });

  test('without a known session (an old record) it waits the grace period', () => {
    expect(gateTimeoutSeconds('ENROLLED', cfg, undefined, NOW)).toBe(24 * 3600);
  });

  test('the waitlist comes back for review every 7 days, or WAITLIST_REVIEW_DAYS', () => {
    expect(routeTo('WAITLISTED', cfg, undefined, NOW)).toEqual({ next: 'WAITLISTED', timeoutSeconds: 7 * DAY_S });
    expect(gateTimeoutSeconds('WAITLISTED', { ...cfg, WAITLIST_REVIEW_DAYS: 0.5 }, undefined, NOW)).toBe(DAY_S / 2);
  });

  test('final statuses of the first session carry no timer', () => {
    expect(routeTo('STARTED', cfg, undefined, NOW)).toEqual({ next: 'STARTED' });
    expect(routeTo('NO_SHOW', cfg, undefined, NOW)).toEqual({ next: 'NO_SHOW' });
  });
});

describe('detoxExpired', () => {
  test('is false before 30 days', () => {
    expect(detoxExpired(daysBefore(29), 30, NOW)).toBe(false);
  });

  test('is true at 30 days', () => {
    expect(detoxExpired(daysBefore(30), 30, NOW)).toBe(true);
  });

  test('is true within the last second before 30 days (a timer firing a little early still expires)', () => {
    expect(detoxExpired(new Date(NOW.getTime() - 30 * DAY_S * 1000 + 500).toISOString(), 30, NOW)).toBe(true);
  });

  test('is false without a detox start', () => {
    expect(detoxExpired(undefined, 30, NOW)).toBe(false);
  });
});

describe('slaState', () => {
  const opened = '2026-11-20T00:00:00Z';
  const due = '2026-11-21T00:00:00Z'; // 24 h gate: the last quarter starts at 18:00

  test.each([
    ['2026-11-20T06:00:00Z', 'on-time'],
    ['2026-11-20T17:59:59Z', 'on-time'],
    ['2026-11-20T18:00:00Z', 'due-soon'],
    ['2026-11-20T23:59:59Z', 'due-soon'],
    ['2026-11-21T00:00:00Z', 'overdue'],
    ['2026-11-23T00:00:00Z', 'overdue'],
  ])('at %s a 24 h gate is %s', (now, state) => {
    expect(slaState(opened, due, new Date(now))).toBe(state);
  });
});
