import * as z from 'zod';
import { pastDate, trimmed } from './common';
import { message } from './messages';

// bodies of POST /api/staff/referrals/{id}/steps/{step} (docs/ARCHITECTURE.md §2), one schema per step

export const STEPS = ['insurance-review', 'evaluation', 'detox-confirmation', 'enrollment', 'waitlist', 'first-session'] as const;
export type Step = (typeof STEPS)[number];

export const ASAM_LEVELS = ['1.0', '2.1', '2.5', '3.1', '3.5', '3.7', '4.0'] as const;

/** the six ASAM criteria dimensions, d1..d6 */
export const ASAM_DIMENSIONS = {
  d1: 'Acute intoxication and/or withdrawal potential',
  d2: 'Biomedical conditions and complications',
  d3: 'Emotional, behavioral or cognitive conditions',
  d4: 'Readiness to change',
  d5: 'Relapse, continued use or continued problem potential',
  d6: 'Recovery/living environment',
} as const;

const note = trimmed(1000).optional();
const risk = z.number().int('Whole number 0–4').min(0, 'Whole number 0–4').max(4, 'Whole number 0–4');

export const InsuranceReviewSchema = z.object({
  decision: z.enum(['covered', 'self-pay', 'not-covered']),
  note,
});

export const EvaluationSchema = z
  .object({
    dimensions: z.object({ d1: risk, d2: risk, d3: risk, d4: risk, d5: risk, d6: risk }),
    recommendedLevel: z.enum(ASAM_LEVELS),
    /** asked only of an acceptance: IOP starts after detox when detox is needed */
    detoxRequired: z.boolean().optional(),
    decision: z.enum(['accept', 'refer-out']),
    referOutTo: trimmed(200).optional(),
    note,
  })
  .refine((e) => e.decision !== 'refer-out' || e.referOutTo, { message: 'Say where the person is referred', path: ['referOutTo'] })
  .refine((e) => e.decision !== 'accept' || e.detoxRequired !== undefined, { message: message('required'), path: ['detoxRequired'] });

export const DetoxConfirmationSchema = z.discriminatedUnion('completed', [
  z.object({
    completed: z.literal(true),
    completedOn: pastDate(),
    facility: trimmed(200).optional(),
    withdrawalScore: z
      .object({ instrument: z.enum(['CIWA-Ar', 'COWS']), score: z.number().int().min(0).max(67) })
      .refine((w) => (w.instrument === 'COWS' ? w.score <= 48 : w.score <= 67), {
        message: 'Score is out of range for the instrument',
        path: ['score'],
      })
      .optional(),
    note,
  }),
  z.object({ completed: z.literal(false), decision: z.enum(['extend', 'refer-out']), note }),
]);

const cohortId = z.string().trim().min(1).max(64);

/**
 * enrollment: a seat in a cohort (`{ cohortId }`, reserved atomically), or the waitlist
 * (`{ waitlist: true }`) when every cohort of the person's track with sessions left is full
 */
export const EnrollmentSchema = z
  .object({ cohortId: cohortId.optional(), waitlist: z.literal(true).optional(), note })
  .superRefine((e, ctx) => {
    if (e.cohortId && e.waitlist)
      ctx.addIssue({ code: 'custom', path: ['waitlist'], message: 'Choose a cohort or the waitlist, not both' });
    // no answer at all reads as a missing cohort (the console words "Required" with the field's label)
    else if (!e.cohortId && !e.waitlist) ctx.addIssue({ code: 'custom', path: ['cohortId'], message: message('required') });
  });

/** waitlist: a seat has appeared; the person is enrolled in that cohort (withdraw is its own endpoint) */
export const WaitlistDecisionSchema = z.object({ cohortId, note });

/**
 * first-session: attended (on that day) → STARTED; missed → wait for the next session (at most two
 * retries) or close as a no-show, which frees the seat
 */
export const FirstSessionSchema = z.discriminatedUnion('attended', [
  z.object({ attended: z.literal(true), on: pastDate(), note }),
  z.object({ attended: z.literal(false), next: z.enum(['retry', 'close']), note }),
]);

/** how many times a missed first session may be retried; the next miss must close as NO_SHOW */
export const MAX_FIRST_SESSION_RETRIES = 2;

export const DecisionSchemas = {
  'insurance-review': InsuranceReviewSchema,
  evaluation: EvaluationSchema,
  'detox-confirmation': DetoxConfirmationSchema,
  enrollment: EnrollmentSchema,
  waitlist: WaitlistDecisionSchema,
  'first-session': FirstSessionSchema,
} as const;

export type InsuranceReview = z.infer<typeof InsuranceReviewSchema>;
export type Evaluation = z.infer<typeof EvaluationSchema>;
export type DetoxConfirmation = z.infer<typeof DetoxConfirmationSchema>;
export type Enrollment = z.infer<typeof EnrollmentSchema>;
export type WaitlistDecision = z.infer<typeof WaitlistDecisionSchema>;
export type FirstSession = z.infer<typeof FirstSessionSchema>;
export type Decision = InsuranceReview | Evaluation | DetoxConfirmation | Enrollment | WaitlistDecision | FirstSession;

export const WithdrawSchema = z.object({ reason: trimmed(500) });

/** resume a referral that needs attention; the note (optional) says what was fixed */
export const ResumeSchema = z.object({ note: trimmed(500).optional() });
