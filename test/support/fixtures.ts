import type { Intake } from '../../functions/lib/schemas/intake';

// a valid intake body (docs/ARCHITECTURE.md §3) with overrides per test; dates relative to today so they stay valid

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export const intakeBody = (o: DeepPartial<Intake> & { lastName?: string } = {}): Intake => {
  const { lastName, ...over } = o;
  const base: Intake = {
    patient: {
      firstName: 'Alex',
      lastName: lastName ?? 'Rivera',
      dateOfBirth: '1990-04-12',
      phone: '(555) 123-4567',
      email: 'alex@example.org',
      preferredLanguage: 'en',
      postalCode: '02139',
    },
    substances: [{ substance: 'alcohol', lastUse: daysAgo(2) }],
    withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
    screening: { selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false },
    coOccurring: ['anxiety'],
    insurance: { type: 'commercial', payer: 'Acme Health', memberId: 'M1234567' },
    referringPhysician: { name: 'Dr. Dana Lee', npi: '1234567893', email: 'dr.lee@clinic.example', practice: 'Main St Clinic' },
    consent: { shareWithReferrer: true, signature: 'Alex Rivera', signedAt: new Date(Date.now() - 60_000).toISOString() },
    schedulePreference: 'evening',
    notes: 'Prefers text messages.',
  };
  return {
    ...base,
    ...over,
    patient: { ...base.patient, ...over.patient },
    withdrawal: { ...base.withdrawal, ...over.withdrawal },
    screening: { ...base.screening, ...over.screening },
    insurance: over.insurance ? (over.insurance as Intake['insurance']) : base.insurance,
    consent: { ...base.consent, ...over.consent },
    referringPhysician: 'referringPhysician' in over ? (over.referringPhysician as Intake['referringPhysician']) : base.referringPhysician,
  } as Intake;
};

let cohortSerial = 0;

/**
 * a cohort starting next Monday: evening track, 3 × 3 h a week (ASAM 2.1), 8 weeks, in person;
 * each call gets its own name (names are unique per start date)
 */
export const cohortBody = (o: Record<string, unknown> = {}) => {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7 || 7));
  return {
    name: `Evening group ${process.pid}-${++cohortSerial}`,
    track: 'evening',
    startDate: d.toISOString().slice(0, 10),
    timeZone: 'America/New_York',
    capacity: 10,
    weeks: 8,
    sessions: [
      { weekday: 'MO', start: '18:00', minutes: 180 },
      { weekday: 'WE', start: '18:00', minutes: 180 },
      { weekday: 'TH', start: '18:00', minutes: 180 },
    ],
    location: { kind: 'in-person', address: '12 Harbor St, Suite 3, Boston, MA 02110' },
    ...o,
  };
};

/** six random letters and digits: keeps one test's people, names and mail apart from every other's */
export const tagged = () => Math.random().toString(36).slice(2, 8);

/** an evaluation that accepts at ASAM level 2.1, with detox first or not */
export const evalAccept = (detoxRequired: boolean) => ({
  dimensions: { d1: 2, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 },
  recommendedLevel: '2.1',
  detoxRequired,
  decision: 'accept',
});

/** an evaluation that accepts at ASAM level 2.1, no detox first */
export const EVAL_ACCEPT = evalAccept(false);

/** an evaluation that refers out (ASAM 3.5, residential) */
export const REFER_OUT = {
  dimensions: { d1: 3, d2: 2, d3: 3, d4: 1, d5: 3, d6: 2 },
  recommendedLevel: '3.5',
  decision: 'refer-out',
  referOutTo: 'Residential program',
};

/**
 * an intake with its own patient and physician addresses (pt.<tag>@…, dr.<tag>@…), so a test reads
 * only its own mail; `over` as for intakeBody (its patient fields go with the patient's own address)
 */
export const personOf = (tag: string, over: Parameters<typeof intakeBody>[0] = {}) => ({
  patient: `pt.${tag}@example.org`,
  doctor: `dr.${tag}@clinic.example`,
  body: intakeBody({
    ...over,
    patient: { email: `pt.${tag}@example.org`, ...over.patient } as never,
    referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: `dr.${tag}@clinic.example` },
  }),
});
