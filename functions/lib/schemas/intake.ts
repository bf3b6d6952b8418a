import * as z from 'zod';
import { nowMs } from '../clock';
import { email, isCalendarDate, isValidNpi, pastDate, trimmed } from './common';
import { message } from './messages';

// the intake body (docs/ARCHITECTURE.md §3): serves the API handler, the web form and the OpenAPI document

export const SUBSTANCES = ['alcohol', 'opioids', 'benzodiazepines', 'stimulants', 'cannabis', 'other'] as const;
export const DETOX_STATUSES = ['not-needed', 'in-detox', 'completed', 'unknown'] as const;
export const INSURANCE_TYPES = ['commercial', 'medicaid', 'medicare', 'self-pay'] as const;
export const LANGUAGES = ['en', 'es'] as const;
export const SCHEDULE_PREFERENCES = ['morning', 'evening', 'any'] as const;

export const NOTES_MAX = 2000;

const PhoneSchema = z
  .string()
  .trim()
  .max(30)
  .refine(
    (s) => /^\+?[\d\s().-]+$/.test(s) && s.replace(/\D/g, '').length >= 10 && s.replace(/\D/g, '').length <= 15,
    message('phone.invalid'),
  );

const PatientSchema = z.object({
  firstName: trimmed(100),
  lastName: trimmed(100),
  dateOfBirth: pastDate().refine((s) => !isCalendarDate(s) || s >= '1900-01-01', message('dateOfBirth.range')),
  phone: PhoneSchema,
  email: email().optional(),
  preferredLanguage: z.enum(LANGUAGES),
  postalCode: z
    .string()
    .trim()
    .regex(/^\d{5}(-\d{4})?$/, message('zip.invalid'))
    .optional(),
});

const SubstanceSchema = z.object({
  substance: z.enum(SUBSTANCES),
  lastUse: pastDate().optional(),
});

const WithdrawalSchema = z
  .object({
    currentSymptoms: z.boolean(),
    detoxStatus: z.enum(DETOX_STATUSES),
    detoxCompletedOn: pastDate().optional(),
  })
  .refine((w) => w.detoxCompletedOn === undefined || w.detoxStatus === 'completed', {
    message: message('detox.dateNotCompleted'),
    path: ['detoxCompletedOn'],
  });

const ScreeningSchema = z.object({
  selfHarmThoughtsPastMonth: z.boolean(),
  suicideAttemptPastThreeMonths: z.boolean(),
});

/** a payer ID as the payer list and the clearinghouse spell it (the intake, the re-check, PAYER_LIST) */
export const PayerIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{2,20}$/, message('payerId.chars'));

/** an ID on the insurance card: the member ID (the intake and the re-check) and the group number */
export const MemberIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9-]{1,40}$/, message('id.chars'));

const InsuranceSchema = z
  .object({
    type: z.enum(INSURANCE_TYPES),
    payer: trimmed(100).optional(),
    /** the clearinghouse's payer ID (tradingPartnerServiceId), from the payer picker; without it a check goes to manual review */
    payerId: PayerIdSchema.optional(),
    memberId: MemberIdSchema.optional(),
    groupNumber: MemberIdSchema.optional(),
  })
  // private insurance cannot be checked without its company (Medicaid and Medicare name themselves)
  .superRefine((i, ctx) => {
    if (i.type === 'commercial' && i.payer === undefined)
      ctx.addIssue({ code: 'custom', path: ['payer'], message: message('insurance.payerMissing') });
  });

const PhysicianSchema = z.object({
  name: trimmed(120),
  // the length first: a short NPI is told it is short, not that its check digit is wrong
  npi: z
    .string()
    .trim()
    .superRefine((npi, ctx) => {
      if (!/^\d{10}$/.test(npi)) ctx.addIssue({ code: 'custom', message: message('npi.length') });
      else if (!isValidNpi(npi)) ctx.addIssue({ code: 'custom', message: message('npi.check') });
    }),
  email: email(),
  practice: trimmed(120).optional(),
});

const ConsentSchema = z.object({
  shareWithReferrer: z.boolean(),
  signature: trimmed(200),
  signedAt: z.iso
    .datetime({ offset: true, message: message('signedAt.invalid') })
    .refine((s) => Date.parse(s) <= nowMs() + 10 * 60_000, message('signedAt.future')),
});

export const IntakeSchema = z
  .object({
    patient: PatientSchema,
    substances: z.array(SubstanceSchema).min(1, message('substances.none')).max(SUBSTANCES.length),
    withdrawal: WithdrawalSchema,
    screening: ScreeningSchema,
    coOccurring: z.array(trimmed(100)).max(20).optional(),
    insurance: InsuranceSchema,
    referringPhysician: PhysicianSchema.optional(),
    consent: ConsentSchema,
    schedulePreference: z.enum(SCHEDULE_PREFERENCES),
    notes: z.string().max(NOTES_MAX, `At most ${NOTES_MAX} characters`).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.consent.shareWithReferrer && !b.referringPhysician) {
      ctx.addIssue({ code: 'custom', path: ['referringPhysician'], message: message('consent.shareWithoutPhysician') });
    }
    b.substances.forEach((s, i) => {
      if (s.lastUse && s.lastUse < b.patient.dateOfBirth) {
        ctx.addIssue({ code: 'custom', path: ['substances', i, 'lastUse'], message: message('lastUse.beforeBirth') });
      }
    });
  });

export type Intake = z.infer<typeof IntakeSchema>;

export const CRISIS_RESOURCES = {
  call: '988',
  text: '988',
  emergency: '911',
  message: 'If you are thinking about harming yourself, call or text 988 (Suicide & Crisis Lifeline) now. In an emergency call 911.',
} as const;

export interface IntakeResponse {
  referralId: string;
  reference: string;
  status: string;
  urgent: boolean;
  crisisResources?: typeof CRISIS_RESOURCES;
}
