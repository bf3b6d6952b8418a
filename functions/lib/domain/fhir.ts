import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Consent,
  Coverage,
  Organization,
  Patient,
  Practitioner,
  Provenance,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  DETOX_LABELS,
  type FhirExportInput,
  HCPCS_SYSTEM,
  LOCAL_SYSTEMS,
  LOINC,
  NPI_SYSTEM,
  PART2_POLICY_URL,
  PAYER_NAMES,
  QUESTIONS,
  SCHEDULE_LABELS,
  SNOMED,
  STATUS_MAP,
  SUBSTANCE_LABELS,
  URI_IDENTIFIER,
  V3_ACT_CODE,
  V3_ACT_REASON,
  V3_CONFIDENTIALITY,
  V3_PARTICIPATION,
  answerCoding,
  fhirStatusOf,
  lenientRevocation,
  ref,
  stableId,
  urn,
} from './fhir-codes';

// a referral as a FHIR R4 Bundle (type collection) for the referrer's and the program's systems:
// Patient, the referring Practitioner (NPI), the program Organization, ServiceRequest (IOP, ASAM
// level 2.1), Task (fulfilment, status mapped from the referral's), Coverage, Consent (42 CFR Part 2),
// QuestionnaireResponse (the intake's screening answers) and a Provenance per disclosure. Pure: the
// same referral gives the same resource ids (UUID v5 of the referral id), so a receiver can upsert.
// `@medplum/fhirtypes` is types only (erased at build): nothing of it reaches a Lambda bundle.

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
    communication: [
      {
        language: {
          coding: [
            {
              system: 'urn:ietf:bcp:47',
              code: i.patient.preferredLanguage,
              display: i.patient.preferredLanguage === 'es' ? 'Spanish' : 'English',
            },
          ],
        },
        preferred: true,
      },
    ],
  };

  const organization: Organization = {
    resourceType: 'Organization',
    id: id('Organization'),
    active: true,
    name: program.name,
    ...(program.npi ? { identifier: [{ system: NPI_SYSTEM, value: program.npi }] } : {}),
    ...(program.phone || program.email
      ? {
          telecom: [
            ...(program.phone ? [{ system: 'phone' as const, value: program.phone }] : []),
            ...(program.email ? [{ system: 'email' as const, value: program.email }] : []),
          ],
        }
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
  const payer: Organization | undefined =
    ins.type === 'self-pay'
      ? undefined
      : {
          resourceType: 'Organization',
          id: id('Organization/payer'),
          name: ins.payer ?? PAYER_NAMES[ins.type] ?? 'Insurance',
          ...(ins.payerId ? { identifier: [{ system: LOCAL_SYSTEMS.payerId, value: ins.payerId }] } : {}),
          type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
        };
  const coverage: Coverage = {
    resourceType: 'Coverage',
    id: id('Coverage'),
    status: 'active',
    type:
      ins.type === 'self-pay'
        ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-selfpay', code: 'pay', display: 'PAY' }], text: 'Self-pay' }
        : { text: ins.type === 'commercial' ? 'Commercial insurance' : PAYER_NAMES[ins.type] },
    beneficiary: ref(patient),
    ...(ins.memberId ? { subscriberId: ins.memberId } : {}),
    payor: [payer ? ref(payer, payer.name) : ref(patient)],
    ...(ins.groupNumber
      ? {
          class: [
            {
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] },
              value: ins.groupNumber,
            },
          ],
        }
      : {}),
  };

  const screening: QuestionnaireResponseItem[] = [
    {
      linkId: 'screening.selfHarmThoughtsPastMonth',
      text: QUESTIONS.selfHarmThoughtsPastMonth,
      answer: [{ valueBoolean: i.screening.selfHarmThoughtsPastMonth }],
    },
    {
      linkId: 'screening.suicideAttemptPastThreeMonths',
      text: QUESTIONS.suicideAttemptPastThreeMonths,
      answer: [{ valueBoolean: i.screening.suicideAttemptPastThreeMonths }],
    },
    {
      linkId: 'substances',
      text: QUESTIONS.substances,
      answer: i.substances.map((s) => ({
        ...answerCoding('substance', s.substance, SUBSTANCE_LABELS[s.substance] ?? s.substance),
        ...(s.lastUse ? { item: [{ linkId: 'substances.lastUse', text: QUESTIONS.lastUse, answer: [{ valueDate: s.lastUse }] }] } : {}),
      })),
    },
    { linkId: 'withdrawal.currentSymptoms', text: QUESTIONS.currentSymptoms, answer: [{ valueBoolean: i.withdrawal.currentSymptoms }] },
    {
      linkId: 'withdrawal.detoxStatus',
      text: QUESTIONS.detoxStatus,
      answer: [answerCoding('detox', i.withdrawal.detoxStatus, DETOX_LABELS[i.withdrawal.detoxStatus] ?? i.withdrawal.detoxStatus)],
    },
    ...(i.withdrawal.detoxCompletedOn
      ? [
          {
            linkId: 'withdrawal.detoxCompletedOn',
            text: QUESTIONS.detoxCompletedOn,
            answer: [{ valueDate: i.withdrawal.detoxCompletedOn }],
          },
        ]
      : []),
    ...(i.coOccurring?.length
      ? [{ linkId: 'coOccurring', text: QUESTIONS.coOccurring, answer: i.coOccurring.map((c) => ({ valueString: c })) }]
      : []),
    {
      linkId: 'schedulePreference',
      text: QUESTIONS.schedulePreference,
      answer: [answerCoding('schedule', i.schedulePreference, SCHEDULE_LABELS[i.schedulePreference] ?? i.schedulePreference)],
    },
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
    businessStatus: {
      coding: [
        {
          system: LOCAL_SYSTEMS.referralStatus,
          code: r.status,
          display: STATUS_MAP[r.status]?.label ?? (r.status === 'NEEDS_ATTENTION' ? 'Needs attention' : r.status),
        },
      ],
    },
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
    ...(r.reached.ENROLLED
      ? {
          executionPeriod: {
            start: r.reached.ENROLLED,
            ...(r.reached.STARTED || ['rejected', 'cancelled'].includes(status.task) ? { end: r.reached.STARTED ?? r.updatedAt } : {}),
          },
        }
      : {}),
  };

  const revocation = lenientRevocation(r.consentRevoked);
  const shares = i.consent.shareWithReferrer && !!practitioner;
  const consent: Consent = {
    resourceType: 'Consent',
    id: id('Consent'),
    // a refusal to share is a consent too (provision deny); a revoked one is inactive from its revocation
    status: revocation ? 'inactive' : 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }],
    },
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
      ...(practitioner
        ? {
            actor: [
              {
                role: { coding: [{ system: V3_PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
                reference: ref(practitioner, doc!.name),
              },
            ],
          }
        : {}),
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
      activity: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle',
            code: 'disclose',
            display: 'Disclose Record Lifecycle Event',
          },
        ],
        text: 'Disclosure to the referring physician (email)',
      },
      agent: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }],
          },
          who: ref(organization, program.name),
        },
        ...(practitioner
          ? [
              {
                type: { coding: [{ system: V3_PARTICIPATION, code: 'IRCP', display: 'information recipient' }] } as CodeableConcept,
                who: ref(practitioner, doc!.name),
              },
            ]
          : []),
      ],
      entity: [{ role: 'source', what: ref(consent, 'the patient’s written consent (42 CFR 2.31)') }],
    };
  });

  const resources: Resource[] = [
    patient,
    ...(practitioner ? [practitioner] : []),
    organization,
    ...(payer ? [payer] : []),
    serviceRequest,
    task,
    coverage,
    consent,
    questionnaireResponse,
    ...provenances,
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
