import { describe, expect, test } from '@jest/globals';
import { triage } from '../../../../functions/lib/domain/triage';
import { validIntake } from '../support/fixtures';
import type { Intake } from '../../../../functions/lib/schemas/intake';

const screened = (selfHarmThoughtsPastMonth: boolean, suicideAttemptPastThreeMonths: boolean) => ({
  ...validIntake(),
  screening: { selfHarmThoughtsPastMonth, suicideAttemptPastThreeMonths },
});

describe('triage', () => {
  test('a negative crisis screen is not urgent and has no flags', () => {
    expect(triage(screened(false, false))).toEqual({ urgent: false, flags: [] });
  });

  test.each([
    ['self-harm thoughts in the past month', true, false],
    ['a suicide attempt in the past three months', false, true],
    ['both screen items', true, true],
  ])('%s makes the referral urgent with the suicide-risk flag', (_what, thoughts, attempt) => {
    expect(triage(screened(thoughts, attempt))).toEqual({ urgent: true, flags: ['suicide-risk'] });
  });

  test.each<Intake['substances'][number]['substance']>(['alcohol', 'benzodiazepines', 'opioids'])(
    'current withdrawal symptoms with %s flag withdrawal-risk but are not by themselves urgent',
    (substance) => {
      // Prepare
      const intake: Intake = {
        ...validIntake(),
        substances: [{ substance }],
        withdrawal: { currentSymptoms: true, detoxStatus: 'unknown' },
      };

      // Act
      const t = triage(intake);

      // Assess
      expect(t).toEqual({ urgent: false, flags: ['withdrawal-risk'] });
    },
  );

  test('withdrawal symptoms from cannabis or stimulants alone raise no withdrawal flag', () => {
    const intake: Intake = {
      ...validIntake(),
      substances: [{ substance: 'cannabis' }, { substance: 'stimulants' }],
      withdrawal: { currentSymptoms: true, detoxStatus: 'unknown' },
    };
    expect(triage(intake).flags).toEqual([]);
  });

  test('a risky substance without current symptoms raises no withdrawal flag', () => {
    const intake: Intake = {
      ...validIntake(),
      substances: [{ substance: 'alcohol' }],
      withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
    };
    expect(triage(intake).flags).toEqual([]);
  });

  test('a positive screen with withdrawal symptoms carries both flags and is urgent', () => {
    const intake: Intake = {
      ...screened(true, false),
      substances: [{ substance: 'opioids' }],
      withdrawal: { currentSymptoms: true, detoxStatus: 'in-detox' },
    };
    expect(triage(intake)).toEqual({ urgent: true, flags: ['suicide-risk', 'withdrawal-risk'] });
  });
});
