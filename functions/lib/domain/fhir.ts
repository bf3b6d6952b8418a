import { createHash } from 'node:crypto';
import type {
  Bundle, BundleEntry, CodeableConcept, Consent, Coverage, Organization, Patient, Practitioner, Provenance, QuestionnaireResponse,
  QuestionnaireResponseItem, Reference, Resource, ServiceRequest, Task,
} from '@medplum/fhirtypes';
import type { Intake } from '../schemas/intake';
import type { ReferralEvent } from '../schemas/views';

// a referral as a FHIR R4 Bundle (type collection) for the referrer's and the program's systems:
// Patient, the referring Practitioner (NPI), the program Organization, ServiceRequest (IOP, ASAM
// level 2.1), Task (fulfilment, status mapped from the referral's), Coverage, Consent (42 CFR Part 2),
// QuestionnaireResponse (the intake's screening answers) and a Provenance per disclosure. Pure: the
// same referral gives the same resource ids (UUID v5 of the referral id), so a receiver can upsert.
// `@medplum/fhirtypes` is types only (erased at build): nothing of it reaches a Lambda bundle.

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const HCPCS_SYSTEM = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';
const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const V3_CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const V3_PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
/** identifiers that are URIs (urn:uuid:…) */
const URI_IDENTIFIER = 'urn:ietf:rfc:3986';
const PART2_POLICY_URL = 'https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2';

/**
 * This program's own code systems. There is no national code system for ASAM levels of care (state
 * guides each define one), so the level and the program's statuses and answers are coded here.
 */
const LOCAL_SYSTEMS = {
  asamLevel: 'urn:iop-intake:fhir:CodeSystem:asam-level-of-care',
  referralStatus: 'urn:iop-intake:fhir:CodeSystem:referral-status',
  intakeAnswer: 'urn:iop-intake:fhir:CodeSystem:intake-answer',
  reference: 'urn:iop-intake:fhir:NamingSystem:referral-reference',
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

/** the gate status of each human step (NEEDS_ATTENTION at an open gate is at that step) */
const STATUS_OF_STEP: Readonly<Record<string, string>> = {
  'insurance-review': 'INSURANCE_REVIEW',
  evaluation: 'EVALUATION',
  'detox-confirmation': 'DETOX',
  enrollment: 'ENROLLMENT',
  waitlist: 'WAITLISTED',
  'first-session': 'ENROLLED',
};

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
export const fhirStatusOf = (r: Pick<FhirReferral, 'status' | 'pendingStep' | 'failure' | 'reached'>): { task: TaskStatus; request: RequestStatus; label: string } =>
  STATUS_MAP[effectiveStatus(r)] ?? { task: 'requested', request: 'active', label: r.status };

// ---- ids --------------------------------------------------------------------------------------

/** the namespace of this program's resource ids (UUID v5, RFC 9562) */
const ID_NAMESPACE = '0d6f2e3c-6f1b-5a54-9c3e-1f6a4b8e2d10';

/** a UUID v5 of `name` in this program's namespace: the same referral and part give the same id */
const stableId = (name: string): string => {
  const ns = Buffer.from(ID_NAMESPACE.replace(/-/g, ''), 'hex');
  const b = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

const urn = (id: string) => `urn:uuid:${id}`;
/** a reference to a resource of this bundle (by its fullUrl); typed so a field takes only the resource types it may */
const ref = <T extends Resource>(r: T, display?: string): Reference<T> => ({ reference: urn(r.id!), ...(display ? { display } : {}) });

// ---- texts ------------------------------------------------------------------------------------

const QUESTIONS = {
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

const SUBSTANCE_LABELS: Record<string, string> = {
  alcohol: 'Alcohol', opioids: 'Opioids', benzodiazepines: 'Benzodiazepines', stimulants: 'Stimulants', cannabis: 'Cannabis', other: 'Something else',
};
const DETOX_LABELS: Record<string, string> = {
  'not-needed': 'Does not think detox is needed', 'in-detox': 'In a detox program now', completed: 'Finished detox', unknown: 'Not sure',
};
const SCHEDULE_LABELS: Record<string, string> = { morning: 'Mornings', evening: 'Evenings', any: 'Either' };
const PAYER_NAMES: Record<string, string> = { medicaid: 'Medicaid', medicare: 'Medicare' };

const answerCoding = (group: string, code: string, display: string) => ({ valueCoding: { system: LOCAL_SYSTEMS.intakeAnswer, code: `${group}.${code}`, display } });

const lenientRevocation = (v: unknown): { at: string; receivedVia?: string } | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  return typeof o.at === 'string' ? { at: o.at, ...(typeof o.receivedVia === 'string' ? { receivedVia: o.receivedVia } : {}) } : undefined;
};

// ---- the bundle --------------------------------------------------------------------------------

/** the referral as a FHIR R4 Bundle of type collection */
export const referralBundle = (input: FhirExportInput): Bundle => {
  const { referral: r, intake: i, program, now } = input;
  const id = (part: string) => stableId(`${r.referralId}/${part}`);
  const status = fhirStatusOf(r);
  const referralIdentifier = { system: URI_IDENTIFIER, value: urn(r.referralId) };
  const referenceIdentifier = { system: LOCAL_SYSTEMS.reference, value: r.reference };

  const patient: Patient = {
    resourceType: 'Patient',
    id: id('Patient'),
    name: [{ use: 'official', family: i.patient.lastName, given: [i.patient.firstName] }],
    birthDate: i.patient.dateOfBirth,
    telecom: [
      { system: 'phone', value: i.patient.phone, use: 'mobile' },
      ...(i.patient.email ? [{ system: 'email' as const, value: i.patient.email }] : []),
    ],
    ...(i.patient.postalCode ? { address: [{ postalCode: i.patient.postalCode, country: 'US' }] } : {}),
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: i.patient.preferredLanguage, display: i.patient.preferredLanguage === 'es' ? 'Spanish' : 'English' }] }, preferred: true }],
  };

  const organization: Organization = {
    resourceType: 'Organization',
    id: id('Organization'),
    active: true,
    name: program.name,
    ...(program.npi ? { identifier: [{ system: NPI_SYSTEM, value: program.npi }] } : {}),
    ...(program.phone || program.email
      ? { telecom: [...(program.phone ? [{ system: 'phone' as const, value: program.phone }] : []), ...(program.email ? [{ system: 'email' as const, value: program.email }] : [])] }
      : {}),
  };

  const doc = i.referringPhysician;
  const practitioner: Practitioner | undefined = doc
    ? {
      resourceType: 'Practitioner',
      id: id('Practitioner'),
      identifier: [{ system: NPI_SYSTEM, value: doc.npi }],
      name: [{ text: doc.name }],
      telecom: [{ system: 'email', value: doc.email, use: 'work' }],
    }
    : undefined;
  const requester = practitioner ? ref(practitioner, doc!.name) : ref(patient);

  const ins = i.insurance;
  const payer: Organization | undefined = ins.type === 'self-pay' ? undefined : {
    resourceType: 'Organization',
    id: id('Organization/payer'),
    name: ins.payer ?? PAYER_NAMES[ins.type] ?? 'Insurance',
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
  };
  const coverage: Coverage = {
    resourceType: 'Coverage',
    id: id('Coverage'),
    status: 'active',
    type: ins.type === 'self-pay'
      ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-selfpay', code: 'pay', display: 'PAY' }], text: 'Self-pay' }
      : { text: ins.type === 'commercial' ? 'Commercial insurance' : PAYER_NAMES[ins.type] },
    beneficiary: ref(patient),
    ...(ins.memberId ? { subscriberId: ins.memberId } : {}),
    payor: [payer ? ref(payer, payer.name) : ref(patient)],
    ...(ins.groupNumber ? { class: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: ins.groupNumber }] } : {}),
  };

  const screening: QuestionnaireResponseItem[] = [
    { linkId: 'screening.selfHarmThoughtsPastMonth', text: QUESTIONS.selfHarmThoughtsPastMonth, answer: [{ valueBoolean: i.screening.selfHarmThoughtsPastMonth }] },
    { linkId: 'screening.suicideAttemptPastThreeMonths', text: QUESTIONS.suicideAttemptPastThreeMonths, answer: [{ valueBoolean: i.screening.suicideAttemptPastThreeMonths }] },
    {
      linkId: 'substances',
      text: QUESTIONS.substances,
      answer: i.substances.map((s) => ({
        ...answerCoding('substance', s.substance, SUBSTANCE_LABELS[s.substance] ?? s.substance),
        ...(s.lastUse ? { item: [{ linkId: 'substances.lastUse', text: QUESTIONS.lastUse, answer: [{ valueDate: s.lastUse }] }] } : {}),
      })),
    },
    { linkId: 'withdrawal.currentSymptoms', text: QUESTIONS.currentSymptoms, answer: [{ valueBoolean: i.withdrawal.currentSymptoms }] },
    { linkId: 'withdrawal.detoxStatus', text: QUESTIONS.detoxStatus, answer: [answerCoding('detox', i.withdrawal.detoxStatus, DETOX_LABELS[i.withdrawal.detoxStatus] ?? i.withdrawal.detoxStatus)] },
    ...(i.withdrawal.detoxCompletedOn ? [{ linkId: 'withdrawal.detoxCompletedOn', text: QUESTIONS.detoxCompletedOn, answer: [{ valueDate: i.withdrawal.detoxCompletedOn }] }] : []),
    ...(i.coOccurring?.length ? [{ linkId: 'coOccurring', text: QUESTIONS.coOccurring, answer: i.coOccurring.map((c) => ({ valueString: c })) }] : []),
    { linkId: 'schedulePreference', text: QUESTIONS.schedulePreference, answer: [answerCoding('schedule', i.schedulePreference, SCHEDULE_LABELS[i.schedulePreference] ?? i.schedulePreference)] },
  ];
  const questionnaireResponse: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: id('QuestionnaireResponse'),
    identifier: referenceIdentifier,
    status: 'completed',
    subject: ref(patient),
    authored: r.receivedAt,
    // the web form is filled in by the person; a phone intake is keyed in by staff from their answers
    ...(r.channel === 'web' ? { author: ref(patient) } : { author: ref(organization, `${program.name} staff (phone intake)`) }),
    source: ref(patient),
    item: screening,
  };

  const serviceRequest: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: id('ServiceRequest'),
    identifier: [referralIdentifier, referenceIdentifier],
    status: status.request,
    intent: 'order',
    category: [{ coding: [{ system: SNOMED, code: '3457005', display: 'Patient referral' }] }],
    priority: r.urgent ? 'urgent' : 'routine',
    code: {
      coding: [
        { system: LOCAL_SYSTEMS.asamLevel, code: '2.1', display: 'ASAM Level 2.1 - Intensive Outpatient Services' },
        { system: HCPCS_SYSTEM, code: 'H0015', display: 'Alcohol and/or drug services; intensive outpatient' },
      ],
      text: 'Intensive Outpatient Program (ASAM level 2.1)',
    },
    subject: ref(patient),
    authoredOn: r.receivedAt,
    requester,
    performer: [ref(organization, program.name)],
    insurance: [ref(coverage)],
    supportingInfo: [ref(questionnaireResponse)],
  };

  const task: Task = {
    resourceType: 'Task',
    id: id('Task'),
    identifier: [referralIdentifier],
    basedOn: [ref(serviceRequest)],
    status: status.task,
    businessStatus: { coding: [{ system: LOCAL_SYSTEMS.referralStatus, code: r.status, display: STATUS_MAP[r.status]?.label ?? (r.status === 'NEEDS_ATTENTION' ? 'Needs attention' : r.status) }] },
    intent: 'order',
    priority: r.urgent ? 'urgent' : 'routine',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill', display: 'Fulfill the focal request' }] },
    focus: ref(serviceRequest),
    for: ref(patient),
    authoredOn: r.receivedAt,
    lastModified: r.updatedAt,
    requester,
    owner: ref(organization, program.name),
    ...(['rejected', 'cancelled'].includes(status.task) ? { statusReason: { text: status.label } } : {}),
    ...(r.reached.ENROLLED ? { executionPeriod: { start: r.reached.ENROLLED, ...(r.reached.STARTED || ['rejected', 'cancelled'].includes(status.task) ? { end: r.reached.STARTED ?? r.updatedAt } : {}) } } : {}),
  };

  const revocation = lenientRevocation(r.consentRevoked);
  const shares = i.consent.shareWithReferrer && !!practitioner;
  const consent: Consent = {
    resourceType: 'Consent',
    id: id('Consent'),
    // a refusal to share is a consent too (provision deny); a revoked one is inactive from its revocation
    status: revocation ? 'inactive' : 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [
      { coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] },
      { coding: [{ system: V3_ACT_CODE, code: 'IDSCL', display: 'information disclosure' }] },
    ],
    patient: ref(patient),
    dateTime: i.consent.signedAt,
    performer: [ref(patient)],
    organization: [ref(organization, program.name)],
    policy: [{ authority: 'https://www.ecfr.gov', uri: PART2_POLICY_URL }],
    policyRule: { coding: [{ system: V3_ACT_CODE, code: '42CFRPart2', display: '42 CFR Part2' }] },
    provision: {
      type: shares ? 'permit' : 'deny',
      period: { start: i.consent.signedAt, ...(revocation ? { end: revocation.at } : {}) },
      ...(practitioner ? { actor: [{ role: { coding: [{ system: V3_PARTICIPATION, code: 'IRCP', display: 'information recipient' }] }, reference: ref(practitioner, doc!.name) }] } : {}),
      action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'disclose', display: 'Disclose' }] }],
      purpose: [{ system: V3_ACT_REASON, code: 'TREAT', display: 'treatment' }],
      // what the recipient may be told: the referral's status (the Task), nothing clinical
      class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Task' }],
    },
  };

  const disclosures = input.events.filter((e) => e.type === 'DISCLOSURE');
  const provenances: Provenance[] = disclosures.map((e, n) => {
    const d = (e.detail ?? {}) as Record<string, unknown>;
    const what = typeof d.milestone === 'string' ? `status update: ${d.milestone}` : 'status update';
    return {
      resourceType: 'Provenance',
      id: id(`Provenance/${e.at}/${typeof d.notice === 'string' ? d.notice : n}`),
      target: [ref(task, what)],
      recorded: e.at,
      policy: [PART2_POLICY_URL],
      reason: [{ coding: [{ system: V3_ACT_REASON, code: 'TREAT', display: 'treatment' }] }],
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' }], text: 'Disclosure to the referring physician (email)' },
      agent: [
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] }, who: ref(organization, program.name) },
        ...(practitioner ? [{ type: { coding: [{ system: V3_PARTICIPATION, code: 'IRCP', display: 'information recipient' }] } as CodeableConcept, who: ref(practitioner, doc!.name) }] : []),
      ],
      entity: [{ role: 'source', what: ref(consent, 'the patient’s written consent (42 CFR 2.31)') }],
    };
  });

  const resources: Resource[] = [
    patient, ...(practitioner ? [practitioner] : []), organization, ...(payer ? [payer] : []),
    serviceRequest, task, coverage, consent, questionnaireResponse, ...provenances,
  ];
  return {
    resourceType: 'Bundle',
    id: stableId(`${r.referralId}/Bundle/${now.toISOString()}`),
    // 42 CFR Part 2 data: restricted, and no redisclosure without the patient's consent (§2.32)
    meta: {
      lastUpdated: now.toISOString(),
      security: [
        { system: V3_CONFIDENTIALITY, code: 'R', display: 'restricted' },
        { system: V3_ACT_CODE, code: '42CFRPart2', display: '42 CFR Part2' },
        { system: V3_ACT_CODE, code: 'NORDSCLCD', display: 'no redisclosure without consent directive' },
      ],
    },
    identifier: referralIdentifier,
    type: 'collection',
    timestamp: now.toISOString(),
    entry: resources.map((res): BundleEntry => ({ fullUrl: urn((res as { id: string }).id), resource: res })),
  };
};

/** counts of resources by type (for the audit event: what was exported, no content) */
export const resourceCounts = (b: Bundle): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const e of b.entry ?? []) if (e.resource) out[e.resource.resourceType] = (out[e.resource.resourceType] ?? 0) + 1;
  return out;
};
