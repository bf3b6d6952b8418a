import type { Intake } from '../schemas/intake';

// crisis-first triage: a positive suicide-risk screen makes the referral urgent at once

export interface Triage {
  urgent: boolean;
  /** codes only (never free text): why it is urgent or needs medical attention */
  flags: Array<'suicide-risk' | 'withdrawal-risk'>;
}

/** alcohol and benzodiazepine withdrawal can be dangerous; opioid withdrawal needs medical support */
const RISKY_WITHDRAWAL = new Set(['alcohol', 'benzodiazepines', 'opioids']);

export const triage = (intake: Pick<Intake, 'screening' | 'substances' | 'withdrawal'>): Triage => {
  const flags: Triage['flags'] = [];
  if (intake.screening.selfHarmThoughtsPastMonth || intake.screening.suicideAttemptPastThreeMonths) flags.push('suicide-risk');
  if (intake.withdrawal.currentSymptoms && intake.substances.some((s) => RISKY_WITHDRAWAL.has(s.substance))) flags.push('withdrawal-risk');
  return { urgent: flags.includes('suicide-risk'), flags };
};
