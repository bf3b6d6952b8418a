// the intake request body from the answers as typed: pure (no DOM), so it is unit-tested on its own.
// it only shapes the body; IntakeSchema (the same schema the API runs) decides what is valid.
import type { Lang } from '../shared/i18n';

type YesNo = 'yes' | 'no';

/** what the form's fields hold: text as typed ('' when empty), choices as their codes */
export interface IntakeAnswers {
  lang: Lang;
  /** when consent was signed: kept from the first send, so a retry sends the same body */
  signedAt: string;
  patient: { firstName: string; lastName: string; dateOfBirth: string; phone: string; email: string; postalCode: string };
  /** the ticked substances in the order offered, each with its last-use box */
  substances: ReadonlyArray<{ substance: string; lastUse: string }>;
  withdrawal: { currentSymptoms?: YesNo; detoxStatus?: string; detoxCompletedOn: string };
  screening: { selfHarmThoughts?: YesNo; suicideAttempt?: YesNo };
  coOccurring: readonly string[];
  /** payerId: the picked payer's, when the payer typed is a listed name */
  insurance: { type?: string; payer: string; payerId?: string; memberId: string; groupNumber: string };
  physician: { name: string; npi: string; email: string; practice: string };
  consent: { shareWithReferrer: boolean; signature: string };
  schedulePreference?: string;
  notes: string;
}

/** empty answers become "not given"; what is left is checked by the schema */
const given = (v: string): string | undefined => (v.trim() === '' ? undefined : v);

const bool = (v: YesNo | undefined): boolean | undefined => (v === undefined ? undefined : v === 'yes');

/** payer, member id and group number count only with an insurance that has them */
export const isInsured = (type: string | undefined): boolean => type !== undefined && type !== 'self-pay';

/** the body as typed: a physician only when one of their boxes is filled, the detox date only for a completed detox */
export const collect = (a: IntakeAnswers): unknown => {
  const p = a.physician;
  const physician = [p.name, p.npi, p.email, p.practice].some((v) => v.trim() !== '')
    ? { name: given(p.name), npi: given(p.npi), email: given(p.email), practice: given(p.practice) }
    : undefined;
  const { detoxStatus } = a.withdrawal;
  const ins = a.insurance;
  return {
    patient: {
      firstName: given(a.patient.firstName),
      lastName: given(a.patient.lastName),
      dateOfBirth: given(a.patient.dateOfBirth),
      phone: given(a.patient.phone),
      email: given(a.patient.email),
      preferredLanguage: a.lang,
      postalCode: given(a.patient.postalCode),
    },
    substances: a.substances.map((s) => ({ substance: s.substance, lastUse: given(s.lastUse) })),
    withdrawal: {
      currentSymptoms: bool(a.withdrawal.currentSymptoms),
      detoxStatus,
      detoxCompletedOn: detoxStatus === 'completed' ? given(a.withdrawal.detoxCompletedOn) : undefined,
    },
    screening: {
      selfHarmThoughtsPastMonth: bool(a.screening.selfHarmThoughts),
      suicideAttemptPastThreeMonths: bool(a.screening.suicideAttempt),
    },
    coOccurring: a.coOccurring.length ? [...a.coOccurring] : undefined,
    insurance: isInsured(ins.type)
      ? {
          type: ins.type,
          payer: given(ins.payer),
          payerId: ins.payerId,
          memberId: given(ins.memberId),
          groupNumber: given(ins.groupNumber),
        }
      : { type: ins.type },
    referringPhysician: physician,
    consent: { shareWithReferrer: a.consent.shareWithReferrer, signature: given(a.consent.signature), signedAt: a.signedAt },
    schedulePreference: a.schedulePreference,
    // notes are kept as typed (spacing included) once there is any text
    notes: given(a.notes) === undefined ? undefined : a.notes,
  };
};
