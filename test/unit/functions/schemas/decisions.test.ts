import { describe, expect, test } from '@jest/globals';
import {
  DecisionSchemas,
  DetoxConfirmationSchema,
  EnrollmentSchema,
  EvaluationSchema,
  FirstSessionSchema,
  InsuranceReviewSchema,
  WaitlistDecisionSchema,
  WithdrawSchema,
} from '../../../../functions/lib/schemas/decisions';
import { fieldErrors } from '../../../../functions/lib/schemas/common';
import { dayFromToday } from '../support/fixtures';
import type { z } from 'zod';

const failingPaths = (schema: z.ZodType, body: unknown): string[] => {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : Object.keys(fieldErrors(parsed.error));
};

const evaluation = (over: Record<string, unknown> = {}) => ({
  dimensions: { d1: 2, d2: 0, d3: 3, d4: 1, d5: 4, d6: 2 },
  recommendedLevel: '2.1',
  detoxRequired: false,
  decision: 'accept',
  ...over,
});

describe('InsuranceReviewSchema', () => {
  test.each(['covered', 'self-pay', 'not-covered'])('decision %s passes', (decision) => {
    expect(InsuranceReviewSchema.safeParse({ decision, note: 'called the payer' }).success).toBe(true);
  });

  test('an unknown decision fails on decision', () => {
    expect(failingPaths(InsuranceReviewSchema, { decision: 'maybe' })).toEqual(['decision']);
  });
});

describe('EvaluationSchema', () => {
  test('an acceptance with all six dimensions passes', () => {
    expect(EvaluationSchema.safeParse(evaluation()).success).toBe(true);
  });

  test('a refer-out that says where passes', () => {
    expect(EvaluationSchema.safeParse(evaluation({ decision: 'refer-out', referOutTo: 'Residential program (3.5)' })).success).toBe(true);
  });

  test('a refer-out without referOutTo fails on referOutTo', () => {
    expect(failingPaths(EvaluationSchema, evaluation({ decision: 'refer-out' }))).toEqual(['referOutTo']);
  });

  test('a refer-out is not asked whether detox is needed before IOP', () => {
    const { detoxRequired: _d, ...body } = evaluation({ decision: 'refer-out', referOutTo: 'Residential program (3.5)' });
    expect(EvaluationSchema.safeParse(body).success).toBe(true);
  });

  test('an acceptance must say whether detox comes first', () => {
    const { detoxRequired: _d, ...body } = evaluation();
    expect(fieldErrors(EvaluationSchema.safeParse(body).error!)).toEqual({ detoxRequired: ['Required'] });
  });

  test.each([
    ['5 (above the 0–4 scale)', 5],
    ['-1 (below the 0–4 scale)', -1],
    ['2.5 (not a whole number)', 2.5],
  ])('a dimension of %s fails on that dimension', (_what, value) => {
    expect(failingPaths(EvaluationSchema, evaluation({ dimensions: { d1: 0, d2: 0, d3: 0, d4: value, d5: 0, d6: 0 } }))).toEqual([
      'dimensions.d4',
    ]);
  });

  test.each([0, 4])('dimension values at the bounds (%i) pass', (v) => {
    expect(EvaluationSchema.safeParse(evaluation({ dimensions: { d1: v, d2: v, d3: v, d4: v, d5: v, d6: v } })).success).toBe(true);
  });

  test('a missing dimension fails on that dimension', () => {
    expect(failingPaths(EvaluationSchema, evaluation({ dimensions: { d1: 0, d2: 0, d3: 0, d4: 0, d5: 0 } }))).toEqual(['dimensions.d6']);
  });

  test('a level outside the ASAM list fails on recommendedLevel', () => {
    expect(failingPaths(EvaluationSchema, evaluation({ recommendedLevel: '2.0' }))).toEqual(['recommendedLevel']);
  });
});

describe('DetoxConfirmationSchema', () => {
  test('the completed shape passes with a past completion date and a COWS score', () => {
    const body = {
      completed: true,
      completedOn: '2026-01-05',
      facility: 'County detox',
      withdrawalScore: { instrument: 'COWS', score: 48 },
    };
    expect(DetoxConfirmationSchema.safeParse(body)).toMatchObject({ success: true, data: body });
  });

  test('the not-completed shape passes with extend or refer-out', () => {
    expect(DetoxConfirmationSchema.safeParse({ completed: false, decision: 'extend' }).success).toBe(true);
    expect(DetoxConfirmationSchema.safeParse({ completed: false, decision: 'refer-out', note: 'needs residential' }).success).toBe(true);
  });

  test('completed without a completion date fails on completedOn', () => {
    expect(failingPaths(DetoxConfirmationSchema, { completed: true })).toEqual(['completedOn']);
  });

  test('a completion date in the future fails on completedOn', () => {
    expect(failingPaths(DetoxConfirmationSchema, { completed: true, completedOn: dayFromToday(3) })).toEqual(['completedOn']);
  });

  test('not completed without a decision fails on decision', () => {
    expect(failingPaths(DetoxConfirmationSchema, { completed: false })).toEqual(['decision']);
  });

  test('a COWS score above 48 fails on withdrawalScore.score', () => {
    expect(
      failingPaths(DetoxConfirmationSchema, {
        completed: true,
        completedOn: '2026-01-05',
        withdrawalScore: { instrument: 'COWS', score: 49 },
      }),
    ).toEqual(['withdrawalScore.score']);
  });

  test('a CIWA-Ar score of 67 passes and 68 fails', () => {
    const body = (score: number) => ({ completed: true, completedOn: '2026-01-05', withdrawalScore: { instrument: 'CIWA-Ar', score } });
    expect(DetoxConfirmationSchema.safeParse(body(67)).success).toBe(true);
    expect(failingPaths(DetoxConfirmationSchema, body(68))).toEqual(['withdrawalScore.score']);
  });

  test('a body that is neither shape fails on completed', () => {
    expect(failingPaths(DetoxConfirmationSchema, { completed: 'yes' })).toEqual(['completed']);
  });
});

describe('EnrollmentSchema', () => {
  test('a cohort id passes', () => {
    expect(EnrollmentSchema.safeParse({ cohortId: 'cohort-1' }).success).toBe(true);
  });

  test('a blank cohort id fails on cohortId', () => {
    expect(failingPaths(EnrollmentSchema, { cohortId: '   ' })).toEqual(['cohortId']);
  });

  test('the waitlist passes, with or without a note', () => {
    expect(EnrollmentSchema.safeParse({ waitlist: true }).success).toBe(true);
    expect(EnrollmentSchema.safeParse({ waitlist: true, note: 'Evening groups full until January' }).success).toBe(true);
  });

  test('neither a cohort nor the waitlist fails on cohortId as a missing answer', () => {
    const parsed = EnrollmentSchema.safeParse({ note: 'x' });
    expect(parsed.success ? {} : fieldErrors(parsed.error)).toEqual({ cohortId: ['Required'] });
  });

  test('a cohort and the waitlist at once fails on waitlist; waitlist false is not an answer', () => {
    expect(failingPaths(EnrollmentSchema, { cohortId: 'cohort-1', waitlist: true })).toEqual(['waitlist']);
    expect(failingPaths(EnrollmentSchema, { waitlist: false })).toEqual(['waitlist']);
  });
});

describe('WaitlistDecisionSchema', () => {
  test('a cohort id passes', () => {
    expect(WaitlistDecisionSchema.safeParse({ cohortId: 'cohort-1', note: 'Seat freed by a no-show' }).success).toBe(true);
  });

  test('no cohort fails on cohortId (withdraw is its own endpoint)', () => {
    expect(failingPaths(WaitlistDecisionSchema, { waitlist: true })).toEqual(['cohortId']);
  });
});

describe('FirstSessionSchema', () => {
  test('attended on a day passes', () => {
    expect(FirstSessionSchema.safeParse({ attended: true, on: dayFromToday(0) }).success).toBe(true);
  });

  test('attended without a day, or on a day still ahead, fails on on', () => {
    expect(failingPaths(FirstSessionSchema, { attended: true })).toEqual(['on']);
    expect(failingPaths(FirstSessionSchema, { attended: true, on: dayFromToday(3) })).toEqual(['on']);
  });

  test('missed: retry or close (with an optional note) pass; anything else fails on next', () => {
    expect(FirstSessionSchema.safeParse({ attended: false, next: 'retry' }).success).toBe(true);
    expect(FirstSessionSchema.safeParse({ attended: false, next: 'close', note: 'No answer to three calls' }).success).toBe(true);
    expect(failingPaths(FirstSessionSchema, { attended: false })).toEqual(['next']);
    expect(failingPaths(FirstSessionSchema, { attended: false, next: 'extend' })).toEqual(['next']);
  });

  test('no answer to attended fails on attended', () => {
    expect(failingPaths(FirstSessionSchema, {})).toEqual(['attended']);
  });
});

describe('WithdrawSchema', () => {
  test('a reason passes', () => {
    expect(WithdrawSchema.safeParse({ reason: 'Moved out of state' }).success).toBe(true);
  });

  test('an empty reason fails on reason', () => {
    expect(failingPaths(WithdrawSchema, { reason: ' ' })).toEqual(['reason']);
  });
});

describe('DecisionSchemas', () => {
  test('has one schema per step of the API', () => {
    expect(Object.keys(DecisionSchemas).sort()).toEqual([
      'detox-confirmation',
      'enrollment',
      'evaluation',
      'first-session',
      'insurance-review',
      'waitlist',
    ]);
  });
});
