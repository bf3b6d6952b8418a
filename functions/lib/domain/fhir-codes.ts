import { createHash } from 'node:crypto';
import type { Reference, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Intake } from '../schemas/intake';
import type { ReferralEvent } from '../schemas/views';
import { GATE_OF_STEP } from './workflow';

// what ./fhir.ts builds its Bundle from: code systems, the referral's status in FHIR terms, the
// input's shape, stable resource ids, and the intake's questions and answers in words

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
export const HCPCS_SYSTEM = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const V3_PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
/** identifiers that are URIs (urn:uuid:…) */
export const URI_IDENTIFIER = 'urn:ietf:rfc:3986';
export const PART2_POLICY_URL = 'https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2';

/**
 * This program's own code systems. There is no national code system for ASAM levels of care (state
 * guides each define one), so the level and the program's statuses and answers are coded here.
 */
export const LOCAL_SYSTEMS = {
  asamLevel: 'urn:iop-intake:fhir:CodeSystem:asam-level-of-care',
  referralStatus: 'urn:iop-intake:fhir:CodeSystem:referral-status',
  intakeAnswer: 'urn:iop-intake:fhir:CodeSystem:intake-answer',
  reference: 'urn:iop-intake:fhir:NamingSystem:referral-reference',
  /** the payer's ID at the clearinghouse (its trading partner ID, the intake's insurance.payerId) */
  payerId: 'urn:iop-intake:fhir:NamingSystem:clearinghouse-payer-id',
} as const;

export type TaskStatus = NonNullable<Task['status']>;
export type RequestStatus = NonNullable<ServiceRequest['status']>;

/**
 * The one table from a referral status to FHIR: Task.status as issue 14 lists it (requested while
 * insurance is checked, received at evaluation, accepted at detox/enrollment/waitlist, in-progress
 * at ENROLLED, completed at STARTED, rejected at REFERRED_OUT/NOT_COVERED, cancelled at
 * WITHDRAWN/NO_SHOW/EXPIRED) and the ServiceRequest's status beside it. NEEDS_ATTENTION is not a
 * place in the flow: it is mapped as the step where the referral stopped (see `effectiveStatus`).
 */
export const STATUS_MAP: Readonly<Record<string, { task: TaskStatus; request: RequestStatus; label: string }>> = {
  RECEIVED: { task: 'requested', request: 'active', label: 'Received' },
  INSURANCE_CHECK: { task: 'requested', request: 'active', label: 'Insurance check' },
  INSURANCE_REVIEW: { task: 'requested', request: 'active', label: 'Insurance review' },
  EVALUATION: { task: 'received', request: 'active', label: 'Evaluation' },
  DETOX: { task: 'accepted', request: 'active', label: 'Detox' },
  ENROLLMENT: { task: 'accepted', request: 'active', label: 'Enrollment' },
  WAITLISTED: { task: 'accepted', request: 'active', label: 'Waitlisted' },
  ENROLLED: { task: 'in-progress', request: 'active', label: 'Enrolled' },
  STARTED: { task: 'completed', request: 'completed', label: 'Started treatment' },
  REFERRED_OUT: { task: 'rejected', request: 'revoked', label: 'Referred out' },
  NOT_COVERED: { task: 'rejected', request: 'revoked', label: 'Not covered' },
  WITHDRAWN: { task: 'cancelled', request: 'revoked', label: 'Withdrawn' },
  NO_SHOW: { task: 'cancelled', request: 'revoked', label: 'Did not start (no-show)' },
  EXPIRED: { task: 'cancelled', request: 'revoked', label: 'Expired' },
};

/** the gate status of each human step (NEEDS_ATTENTION at an open gate is at that step); steps read as strings here */
const STATUS_OF_STEP: Readonly<Record<string, string>> = GATE_OF_STEP;

/** what the export reads of the referral's META item (string statuses: later statuses need no change here) */
export interface FhirReferral {
  referralId: string;
  reference: string;
  status: string;
  urgent: boolean;
  channel: 'web' | 'phone';
  receivedAt: string;
  updatedAt: string;
  reached: Partial<Record<string, string>>;
  pendingStep?: string;
  failure?: { resumeAt: string };
  /** recorded by staff when the patient revoked consent (42 CFR 2.31); read leniently */
  consentRevoked?: { at?: string; receivedVia?: string } | unknown;
}

interface FhirProgram {
  name: string;
  phone?: string;
  email?: string;
  /** the program's organizational NPI, when configured */
  npi?: string;
}

export interface FhirExportInput {
  referral: FhirReferral;
  intake: Intake;
  events: readonly ReferralEvent[];
  program: FhirProgram;
  now: Date;
}

/** the status the referral's flow is at: NEEDS_ATTENTION resolves to the step where it stopped */
export const effectiveStatus = (r: Pick<FhirReferral, 'status' | 'pendingStep' | 'failure' | 'reached'>): string => {
  if (r.status !== 'NEEDS_ATTENTION') return r.status;
  if (r.failure?.resumeAt && STATUS_MAP[r.failure.resumeAt]) return r.failure.resumeAt;
  if (r.pendingStep && STATUS_OF_STEP[r.pendingStep]) return STATUS_OF_STEP[r.pendingStep]!;
  // the status reached last before attention was needed
  const last = Object.entries(r.reached)
    .filter(([s, at]) => !!at && STATUS_MAP[s])
    .sort(([, a], [, b]) => (a! < b! ? 1 : -1))[0];
  return last?.[0] ?? 'RECEIVED';
};

/** FHIR statuses of a referral status (through `effectiveStatus`) */
export const fhirStatusOf = (
  r: Pick<FhirReferral, 'status' | 'pendingStep' | 'failure' | 'reached'>,
): { task: TaskStatus; request: RequestStatus; label: string } =>
  STATUS_MAP[effectiveStatus(r)] ?? { task: 'requested', request: 'active', label: r.status };

// ---- ids --------------------------------------------------------------------------------------

/** the namespace of this program's resource ids (UUID v5, RFC 9562) */
const ID_NAMESPACE = '0d6f2e3c-6f1b-5a54-9c3e-1f6a4b8e2d10';

/** a UUID v5 of `name` in this program's namespace: the same referral and part give the same id */
export const stableId = (name: string): string => {
  const ns = Buffer.from(ID_NAMESPACE.replace(/-/g, ''), 'hex');
  const b = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(name, 'utf8')]))
    .digest()
    .subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const urn = (id: string) => `urn:uuid:${id}`;
/** a reference to a resource of this bundle (by its fullUrl); typed so a field takes only the resource types it may */
export const ref = <T extends Resource>(r: T, display?: string): Reference<T> => ({
  reference: urn(r.id!),
  ...(display ? { display } : {}),
});

// ---- texts ------------------------------------------------------------------------------------

export const QUESTIONS = {
  selfHarmThoughtsPastMonth: 'In the past month, have you had thoughts of hurting yourself or ending your life?',
  suicideAttemptPastThreeMonths: 'In the past 3 months, have you tried to end your life?',
  substances: 'What would you like help with?',
  lastUse: 'When did you last use it?',
  currentSymptoms: 'Do you have withdrawal symptoms right now?',
  detoxStatus: 'Detox (medical help to stop safely): which fits you best?',
  detoxCompletedOn: 'When did you finish detox?',
  coOccurring: 'Other conditions (such as depression or anxiety)',
  schedulePreference: 'Which group times work for you?',
} as const;

export const SUBSTANCE_LABELS: Record<string, string> = {
  alcohol: 'Alcohol',
  opioids: 'Opioids',
  benzodiazepines: 'Benzodiazepines',
  stimulants: 'Stimulants',
  cannabis: 'Cannabis',
  other: 'Something else',
};
export const DETOX_LABELS: Record<string, string> = {
  'not-needed': 'Does not think detox is needed',
  'in-detox': 'In a detox program now',
  completed: 'Finished detox',
  unknown: 'Not sure',
};
export const SCHEDULE_LABELS: Record<string, string> = { morning: 'Mornings', evening: 'Evenings', any: 'Either' };
export const PAYER_NAMES: Record<string, string> = { medicaid: 'Medicaid', medicare: 'Medicare' };

export const answerCoding = (group: string, code: string, display: string) => ({
  valueCoding: { system: LOCAL_SYSTEMS.intakeAnswer, code: `${group}.${code}`, display },
});

export const lenientRevocation = (v: unknown): { at: string; receivedVia?: string } | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  return typeof o.at === 'string' ? { at: o.at, ...(typeof o.receivedVia === 'string' ? { receivedVia: o.receivedVia } : {}) } : undefined;
};
