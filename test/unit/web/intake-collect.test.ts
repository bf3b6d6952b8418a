import { describe, expect, test } from '@jest/globals';
import { IntakeSchema } from '../../../functions/lib/schemas/intake';
import { collect, type IntakeAnswers } from '../../../web/src/intake/collect';

// the intake form's request body from the answers as typed (no DOM): what the form sends is what
// IntakeSchema, the API's own schema, accepts; empty boxes are left out, not sent as ''

const SIGNED_AT = '2026-11-30T15:00:00.000Z';

const answers = (over: Partial<IntakeAnswers> = {}): IntakeAnswers => ({
  lang: 'en',
  signedAt: SIGNED_AT,
  patient: { firstName: 'Jordan', lastName: 'Rivera', dateOfBirth: '1990-04-12', phone: '555-010-0199', email: '', postalCode: '' },
  substances: [{ substance: 'alcohol', lastUse: '2026-11-20' }],
  withdrawal: { currentSymptoms: 'no', detoxStatus: 'not-needed', detoxCompletedOn: '' },
  screening: { selfHarmThoughts: 'no', suicideAttempt: 'no' },
  coOccurring: [],
  insurance: { type: 'self-pay', payer: '', memberId: '', groupNumber: '' },
  physician: { name: '', npi: '', email: '', practice: '' },
  consent: { shareWithReferrer: false, signature: 'Jordan Rivera' },
  schedulePreference: 'evening',
  notes: '',
  ...over,
});

describe('collect', () => {
  test('a complete set of answers is a body the API schema accepts, with the form language as the preferred one', () => {
    // Prepare
    const typed = answers({ lang: 'es' });

    // Act
    const parsed = IntakeSchema.safeParse(collect(typed));

    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data?.patient.preferredLanguage).toBe('es');
    expect(parsed.data?.consent).toEqual({ shareWithReferrer: false, signature: 'Jordan Rivera', signedAt: SIGNED_AT });
  });

  test('empty and blank boxes are not sent; no physician at all when none of their boxes is filled', () => {
    const body = collect(answers({ patient: { ...answers().patient, email: '   ', postalCode: '' } })) as Record<string, any>;

    expect(body.patient.email).toBeUndefined();
    expect(body.patient.postalCode).toBeUndefined();
    expect(body.referringPhysician).toBeUndefined();
    expect(body.coOccurring).toBeUndefined();
    expect(body.notes).toBeUndefined();
  });

  test('one physician box filled sends the physician (the schema then asks for the rest)', () => {
    const body = collect(answers({ physician: { name: '', npi: '1234567893', email: '', practice: '' } })) as Record<string, any>;

    expect(body.referringPhysician).toEqual({ name: undefined, npi: '1234567893', email: undefined, practice: undefined });
    const parsed = IntakeSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain('referringPhysician.name');
  });

  test('payer and member id count only with an insurance that has them; the detox date only for a completed detox', () => {
    const selfPay = collect(answers({ insurance: { type: 'self-pay', payer: 'Acme', memberId: 'X1', groupNumber: '' } })) as Record<
      string,
      any
    >;
    const insured = collect(answers({ insurance: { type: 'commercial', payer: 'Acme', memberId: 'X1', groupNumber: '' } })) as Record<
      string,
      any
    >;
    const notDone = collect(
      answers({ withdrawal: { currentSymptoms: 'no', detoxStatus: 'not-needed', detoxCompletedOn: '2026-11-01' } }),
    ) as Record<string, any>;
    const done = collect(
      answers({ withdrawal: { currentSymptoms: 'yes', detoxStatus: 'completed', detoxCompletedOn: '2026-11-01' } }),
    ) as Record<string, any>;

    expect(selfPay.insurance).toEqual({ type: 'self-pay' });
    expect(insured.insurance).toEqual({ type: 'commercial', payer: 'Acme', memberId: 'X1', groupNumber: undefined });
    expect(notDone.withdrawal.detoxCompletedOn).toBeUndefined();
    expect(done.withdrawal).toEqual({ currentSymptoms: true, detoxStatus: 'completed', detoxCompletedOn: '2026-11-01' });
  });

  test('yes/no answers become booleans, unanswered ones stay missing (the schema names the question)', () => {
    const body = collect(answers({ screening: { selfHarmThoughts: 'yes' } })) as Record<string, any>;

    expect(body.screening).toEqual({ selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: undefined });
    const parsed = IntakeSchema.safeParse(body);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['screening.suicideAttemptPastThreeMonths']);
  });

  test('notes keep their spacing once there is any text; substances keep their order and empty last use is left out', () => {
    const body = collect(
      answers({
        notes: '  evenings only\n',
        substances: [
          { substance: 'opioids', lastUse: '' },
          { substance: 'alcohol', lastUse: '2026-11-20' },
        ],
      }),
    ) as Record<string, any>;

    expect(body.notes).toBe('  evenings only\n');
    expect(body.substances).toEqual([
      { substance: 'opioids', lastUse: undefined },
      { substance: 'alcohol', lastUse: '2026-11-20' },
    ]);
  });
});
