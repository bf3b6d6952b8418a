import { beforeAll, describe, expect, test } from '@jest/globals';
import { referral, setTestEnv, TEST_NOW, validIntake } from '../support/fixtures';
import type { Config } from '../../../../functions/lib/config';
import type * as Notices from '../../../../functions/lib/services/notices';

// the outbox's pure parts: which notices a change causes, and how long a failed send waits

let noticesFor: typeof Notices.noticesFor;
let retryDelayMs: typeof Notices.retryDelayMs;

beforeAll(async () => {
  setTestEnv();
  ({ noticesFor, retryDelayMs } = await import('../../../../functions/lib/services/notices'));
});

const cfg = { NOTICE_RETRY_BASE_SECONDS: 60, NOTICE_RETRY_MAX_SECONDS: 3600 } as Config;

describe('retryDelayMs: exponential backoff with full jitter', () => {
  test.each([
    [1, 60_000],
    [2, 120_000],
    [3, 240_000],
    [6, 1_920_000],
    [7, 3_600_000],
    [40, 3_600_000],
  ])('attempt %i waits between half and all of %i ms', (attempts, ceiling) => {
    // Act
    const shortest = retryDelayMs(attempts, cfg, () => 0);
    const longest = retryDelayMs(attempts, cfg, () => 0.999_999_9);

    // Assess
    expect(shortest).toBe(ceiling / 2);
    expect(longest).toBe(ceiling);
  });

  test('never less than a second, whatever the configuration', () => {
    expect(retryDelayMs(1, { ...cfg, NOTICE_RETRY_BASE_SECONDS: 0.1 }, () => 0)).toBe(1000);
  });
});

describe('noticesFor: the outbox records of one change', () => {
  test('a patient without an email and a physician without consent get no record; the program always does', () => {
    // Prepare
    const intake = validIntake();
    const { email: _email, ...patient } = intake.patient;
    const quiet = { ...intake, patient, consent: { ...intake.consent, shareWithReferrer: false } };

    // Act
    const out = noticesFor(referral({ status: 'EXPIRED', updatedAt: TEST_NOW }), quiet, 'closed', {
      patient: 'closed',
      physician: 'closed',
      program: { kind: 'urgent' },
    });

    // Assess
    expect(out.map((n) => n.key)).toEqual(['urgent:program']);
  });

  test('after staff recorded a consent revocation, a change writes no physician record (the patient still gets theirs)', () => {
    // Prepare
    const revoked = referral({
      status: 'ENROLLED',
      updatedAt: TEST_NOW,
      consentRevoked: { at: TEST_NOW, receivedVia: 'letter', by: { kind: 'staff', sub: 's', username: 'casey' } },
    });

    // Act
    const out = noticesFor(revoked, validIntake(), 'enrolled', {
      patient: 'schedule',
      physician: 'enrolled',
      params: { cohortId: 'c1', startDate: '2027-01-06' },
    });

    // Assess
    expect(out.map((n) => n.key)).toEqual(['enrolled:patient']);
  });

  test("each record is pending, due at the change's time, and carries the status the change left", () => {
    // Act
    const [n] = noticesFor(referral({ status: 'ENROLLED', updatedAt: TEST_NOW }), validIntake(), 'enrolled', {
      physician: 'enrolled',
      params: { startDate: '2027-01-06' },
    });

    // Assess
    expect(n).toEqual({
      referralId: referral().referralId,
      key: 'enrolled:physician',
      audience: 'physician',
      notice: 'enrolled',
      milestone: 'enrolled',
      status: 'ENROLLED',
      state: 'pending',
      attempts: 0,
      createdAt: TEST_NOW,
      dueAt: TEST_NOW,
      params: { startDate: '2027-01-06' },
    });
  });

  test('program alerts are keyed so each occurrence is its own notice (sla by gate opening and breach, failure by version)', () => {
    // Prepare
    const r = referral({ version: 12, updatedAt: TEST_NOW });

    // Act
    const keys = [
      ...noticesFor(r, undefined, 'sla', {
        program: { kind: 'sla', step: 'evaluation', ageHours: 48, breaches: 1, gateOpenedAt: '2026-12-28T15:00:00.000Z' },
      }),
      ...noticesFor(r, undefined, 'sla', {
        program: { kind: 'sla', step: 'evaluation', ageHours: 96, breaches: 2, gateOpenedAt: '2026-12-28T15:00:00.000Z' },
      }),
      ...noticesFor(r, undefined, 'failure', { program: { kind: 'failure', errorCode: 'Lambda.Unknown' } }),
    ].map((n) => n.key);

    // Assess
    expect(keys).toEqual([
      'sla:evaluation:2026-12-28T15:00:00.000Z:1:program',
      'sla:evaluation:2026-12-28T15:00:00.000Z:2:program',
      'failure:12:program',
    ]);
  });
});
