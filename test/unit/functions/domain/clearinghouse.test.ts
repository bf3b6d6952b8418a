import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeInquiry, eligibilityRequest, meaningOf, readEligibilityResponse } from '../../../../functions/lib/domain/clearinghouse';
import type { EligibilitySubject } from '../../../../functions/lib/domain/eligibility';

// the eligibility v3 inquiry we build and how a 271 answer reads (issue 16 item 3 and "Bad input"),
// against the recorded responses the fake clearinghouse serves (test/fixtures/clearinghouse/)

const AT = '2026-12-01T15:00:00.000Z';
const PAYER = '60054';
const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../../fixtures/clearinghouse/${name}`, import.meta.url)), 'utf8');
const read = (text: string) => readEligibilityResponse(text, AT, PAYER);
const resultOf = (text: string) => {
  const r = read(text);
  if (r.kind !== 'result') throw new Error(`expected a result, got ${r.kind}`);
  return r.result;
};
/** a fixture with its recorded subscriber replaced, as the clearinghouse echoes the one asked about */
const echoing = (name: string) => {
  const body = JSON.parse(fixture(name));
  if (body.subscriber)
    body.subscriber = { ...body.subscriber, memberId: 'W123456789', firstName: 'Rosa', lastName: 'Quintana', dateOfBirth: '19850214' };
  return JSON.stringify(body);
};
const PHI = ['W123456789', 'Rosa', 'Quintana', '19850214', '1985-02-14'];

const subject = (over: Partial<EligibilitySubject['insurance']> = {}, coOccurring?: string[]): EligibilitySubject => ({
  insurance: { type: 'commercial', payer: 'Aetna', payerId: PAYER, memberId: 'W123456789', ...over },
  patient: { firstName: 'Rosa', lastName: 'Quintana', dateOfBirth: '1985-02-14' },
  ...(coOccurring ? { coOccurring } : {}),
});
const PROVIDER = { organizationName: 'Example IOP', npi: '1234567893' };

describe('the inquiry (eligibility v3 request)', () => {
  test('carries the control number, payer ID, provider, subscriber (DOB as YYYYMMDD) and service type AI', () => {
    expect(eligibilityRequest(subject(), PROVIDER, '000123456')).toEqual({
      controlNumber: '000123456',
      tradingPartnerServiceId: PAYER,
      provider: { organizationName: 'Example IOP', npi: '1234567893' },
      subscriber: { memberId: 'W123456789', firstName: 'Rosa', lastName: 'Quintana', dateOfBirth: '19850214' },
      encounter: { serviceTypeCodes: ['AI'] },
    });
  });

  test('asks for MH too when co-occurring conditions are recorded (an empty list is none)', () => {
    expect(eligibilityRequest(subject({}, ['Depression']), PROVIDER, '123456789').encounter.serviceTypeCodes).toEqual(['AI', 'MH']);
    expect(eligibilityRequest(subject({}, []), PROVIDER, '123456789').encounter.serviceTypeCodes).toEqual(['AI']);
  });

  test('refuses a control number that is not 9 digits', () => {
    expect(() => eligibilityRequest(subject(), PROVIDER, '12345')).toThrow(/9 digits/);
  });
});

describe('before any inquiry', () => {
  test('self-pay needs none', () => {
    expect(beforeInquiry(subject({ type: 'self-pay', payerId: undefined, memberId: undefined }), AT)).toMatchObject({
      outcome: 'self-pay',
      checkedAt: AT,
    });
  });

  test('a payer given by name only goes to review: NO_PAYER_ID', () => {
    expect(beforeInquiry(subject({ payerId: undefined }), AT)).toEqual({
      outcome: 'unclear',
      checkedAt: AT,
      summary: expect.stringContaining('NO_PAYER_ID'),
      source: 'clearinghouse',
      reason: { code: 'NO_PAYER_ID', meaning: expect.stringMatching(/payer list/) },
    });
  });

  test('no member ID goes to review: NO_MEMBER_ID', () => {
    expect(beforeInquiry(subject({ memberId: undefined }), AT)).toMatchObject({
      outcome: 'unclear',
      payerId: PAYER,
      reason: { code: 'NO_MEMBER_ID', meaning: 'No member ID was given' },
    });
  });

  test('with a payer ID and a member ID the inquiry is sent', () => {
    expect(beforeInquiry(subject(), AT)).toBeUndefined();
  });
});

describe('reading the 271', () => {
  test('active for AI: covered, with the in-network copay, coinsurance (percent) and remaining deductible (individual first)', () => {
    expect(resultOf(echoing('active.json'))).toEqual({
      outcome: 'covered',
      checkedAt: AT,
      summary: '271 EB*1 (active coverage) for service type AI; in network: copay $25, coinsurance 20 %, deductible remaining $850.5',
      source: 'clearinghouse',
      payerId: PAYER,
      benefits: { copay: 25, coinsurancePercent: 20, deductibleRemaining: 850.5 },
    });
  });

  test('active for 30 only (the payer does not answer for AI): covered, from 30', () => {
    expect(resultOf(echoing('active-30-only.json'))).toMatchObject({
      outcome: 'covered',
      summary: expect.stringContaining('service type 30'),
      benefits: { copay: 30 },
    });
  });

  test('inactive (EB 6): not covered', () => {
    expect(resultOf(echoing('inactive.json'))).toEqual({
      outcome: 'not-covered',
      checkedAt: AT,
      summary: '271 EB*6 (inactive coverage) for service type AI',
      source: 'clearinghouse',
      payerId: PAYER,
    });
  });

  test('active but authorization required for AI: unclear AUTH_REQUIRED, benefits kept', () => {
    expect(resultOf(echoing('auth-required.json'))).toMatchObject({
      outcome: 'unclear',
      reason: { code: 'AUTH_REQUIRED', meaning: expect.stringMatching(/prior authorization/) },
      benefits: { copay: 40 },
    });
  });

  test('an authorization flag on another service type does not matter', () => {
    const body = JSON.parse(fixture('active.json'));
    body.benefitsInformation.push({ code: '1', serviceTypeCodes: ['MH'], authOrCertIndicator: 'Y' });
    expect(resultOf(JSON.stringify(body)).outcome).toBe('covered');
  });

  test.each([
    ['72', 'Invalid or missing member ID'],
    ['73', 'Invalid or missing subscriber name'],
    ['75', 'Subscriber not found'],
    ['76', expect.stringMatching(/^Duplicate member ID/)],
    ['79', expect.stringMatching(/^Invalid participant/)],
    ['58', 'Invalid or missing date of birth'],
    ['T4', 'Payer name or ID missing'],
    ['99', 'The payer rejected the inquiry (X12 reject reason 99)'],
  ])('AAA %s: unclear with the code and its plain meaning', (code, meaning) => {
    const body = JSON.parse(fixture('aaa-72.json'));
    body.errors = [{ field: 'AAA', code, description: 'recorded' }];
    delete body.subscriber.aaaErrors;
    expect(resultOf(JSON.stringify(body))).toEqual({
      outcome: 'unclear',
      checkedAt: AT,
      summary: `Unclear (AAA-${code}): ${typeof meaning === 'string' ? meaning : meaningOf(`AAA-${code}`)}`,
      source: 'clearinghouse',
      payerId: PAYER,
      reason: { code: `AAA-${code}`, meaning },
    });
  });

  test('AAA 72 as recorded (errors[] and the subscriber’s aaaErrors)', () => {
    expect(resultOf(echoing('aaa-72.json')).reason).toEqual({ code: 'AAA-72', meaning: 'Invalid or missing member ID' });
  });

  test('an AAA error only in the subscriber’s aaaErrors counts too', () => {
    const body = JSON.parse(fixture('aaa-72.json'));
    delete body.errors;
    expect(resultOf(JSON.stringify(body)).reason?.code).toBe('AAA-72');
  });

  test('AAA 42 (unable to respond now): busy, ask again', () => {
    expect(read(echoing('aaa-42.json'))).toEqual({ kind: 'busy', code: 'AAA-42' });
  });

  test.each([
    ['not JSON', fixture('http-500.txt')],
    ['empty', ''],
    ['a JSON string', '"active"'],
    ['a JSON array', '[{"code":"1"}]'],
    ['null', 'null'],
    ['JSON of another shape', '{"status":"ok","data":[1,2,3]}'],
    ['benefits not an array', '{"benefitsInformation":{"code":"1"}}'],
  ])('%s: unclear BAD_RESPONSE, never a throw', (_name, text) => {
    expect(resultOf(text)).toMatchObject({
      outcome: 'unclear',
      reason: { code: 'BAD_RESPONSE', meaning: expect.any(String) },
    });
  });

  test('a 271 that says nothing of AI or 30: unclear NO_STATUS', () => {
    expect(resultOf('{"planStatus":[{"statusCode":"1","serviceTypeCodes":["98"]}],"benefitsInformation":[]}').reason?.code).toBe(
      'NO_STATUS',
    );
  });

  test('no summary or reason ever quotes the member’s data, though the response echoes it', () => {
    for (const name of ['active.json', 'inactive.json', 'auth-required.json', 'aaa-72.json', 'active-30-only.json']) {
      const text = JSON.stringify(resultOf(echoing(name)));
      for (const phi of PHI) expect([name, text.includes(phi)]).toEqual([name, false]);
    }
  });

  test('property: any JSON value (and any text) reads without throwing, as a result or busy', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = read(JSON.stringify(value));
        expect(['result', 'busy']).toContain(r.kind);
        if (r.kind === 'result') expect(['covered', 'not-covered', 'unclear']).toContain(r.result.outcome);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => read(text)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  test('property: 271-shaped JSON with arbitrary entries never throws and keeps benefits finite and non-negative', () => {
    const entry = fc.record(
      {
        code: fc.oneof(fc.constantFrom('1', '6', '5', 'A', 'B', 'C', 'Y'), fc.jsonValue()),
        serviceTypeCodes: fc.oneof(fc.array(fc.constantFrom('AI', '30', 'MH', '98')), fc.jsonValue()),
        authOrCertIndicator: fc.oneof(fc.constantFrom('Y', 'N'), fc.jsonValue()),
        inPlanNetworkIndicatorCode: fc.oneof(fc.constantFrom('Y', 'N', 'W'), fc.jsonValue()),
        benefitAmount: fc.oneof(fc.constantFrom('25', '0', '1e3', '-5', '12.50'), fc.jsonValue()),
        benefitPercent: fc.oneof(fc.constantFrom('0.2', '20', '150', 'x'), fc.jsonValue()),
        timeQualifierCode: fc.oneof(fc.constantFrom('29', '23'), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            planStatus: fc.oneof(fc.array(entry), fc.jsonValue()),
            benefitsInformation: fc.oneof(fc.array(entry), fc.jsonValue()),
            errors: fc.oneof(fc.array(fc.record({ code: fc.oneof(fc.constantFrom('42', '72', '80'), fc.jsonValue()) })), fc.jsonValue()),
          },
          { requiredKeys: [] },
        ),
        (body) => {
          const r = read(JSON.stringify(body));
          if (r.kind === 'result') for (const v of Object.values(r.result.benefits ?? {})) expect(Number.isFinite(v) && v >= 0).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
