import { describe, expect, test } from '@jest/globals';
import { simulateEligibility, statusAfterCheck } from '../../../../functions/lib/domain/eligibility';
import type { EligibilityResult } from '../../../../functions/lib/schemas/views';

const NOW = new Date('2026-11-02T15:00:00Z');

describe('simulateEligibility (payer simulator)', () => {
  test('self-pay sends no inquiry and answers self-pay', () => {
    expect(simulateEligibility({ type: 'self-pay' }, NOW)).toEqual({
      outcome: 'self-pay',
      checkedAt: '2026-11-02T15:00:00.000Z',
      summary: expect.stringContaining('Self-pay'),
    });
  });

  test('a member id starting with INACTIVE is not covered', () => {
    expect(simulateEligibility({ type: 'commercial', payer: 'Acme', memberId: 'INACTIVE-001' }, NOW).outcome).toBe('not-covered');
  });

  test('a member id starting with REVIEW is unclear', () => {
    expect(simulateEligibility({ type: 'medicaid', payer: 'State Medicaid', memberId: 'review-42' }, NOW).outcome).toBe('unclear');
  });

  test('a missing member id is unclear', () => {
    expect(simulateEligibility({ type: 'commercial', payer: 'Acme' }, NOW).outcome).toBe('unclear');
  });

  test('a missing payer is unclear', () => {
    expect(simulateEligibility({ type: 'commercial', memberId: 'ABC-1' }, NOW).outcome).toBe('unclear');
  });

  test('a payer and an ordinary member id are covered for service type AI at place of service 57', () => {
    const r = simulateEligibility({ type: 'commercial', payer: 'Acme', memberId: 'ABC-12345' }, NOW);
    expect(r).toEqual({
      outcome: 'covered',
      checkedAt: NOW.toISOString(),
      summary: expect.stringMatching(/service type AI.*place of service 57/),
    });
  });
});

describe('statusAfterCheck', () => {
  test.each<[EligibilityResult['outcome'], string]>([
    ['covered', 'EVALUATION'],
    ['self-pay', 'EVALUATION'],
    ['not-covered', 'INSURANCE_REVIEW'],
    ['unclear', 'INSURANCE_REVIEW'],
    ['error', 'INSURANCE_REVIEW'],
  ])('%s leads to %s', (outcome, status) => {
    expect(statusAfterCheck({ outcome, checkedAt: NOW.toISOString(), summary: '' })).toBe(status);
  });
});
