import { beforeEach, describe, expect, test } from '@jest/globals';
import { eventItems, putItems, storeIntake, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { apiEvent, bodyOf, CASE_WORKER, lambdaContext, referral, REFERRAL_ID, validIntake } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

// POST /api/staff/referrals/{id}/insurance/recheck through its handler with the SDK mocked (the
// payer simulator answers): the one transaction it writes, and the refusals

const { m, handler } = handlerUnderTest(() => import('../../../../functions/recheck-insurance/handler'));

const inReview = (over: Partial<ReferralRecord> = {}) =>
  referral({
    status: 'INSURANCE_REVIEW',
    pendingStep: 'insurance-review',
    taskToken: 'token-1',
    version: 5,
    eligibility: { outcome: 'unclear', checkedAt: '2026-12-28T10:00:00.000Z', summary: 'manual review' },
    ...over,
  });

const recheck = (body: unknown, claims: Record<string, unknown> | null = CASE_WORKER, id = REFERRAL_ID) =>
  handler(
    apiEvent('POST /api/staff/referrals/{id}/insurance/recheck', { body, ...(claims ? { claims } : {}), pathParameters: { id } }),
    lambdaContext,
  );

beforeEach(() => {
  const intake = validIntake();
  intake.insurance = { type: 'commercial', payer: 'Acme Health', memberId: 'REVIEW1', groupNumber: 'G-77' };
  storeIntake(m, REFERRAL_ID, intake);
});

describe('POST /api/staff/referrals/{id}/insurance/recheck', () => {
  test('a corrected member ID: 200 with the new result; META (version-guarded), the event and the corrected intake in one transaction', async () => {
    // Prepare
    storeReferral(m, inReview());

    // Act
    const res = await recheck({ memberId: 'ABC123' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      referralId: REFERRAL_ID,
      status: 'INSURANCE_REVIEW',
      eligibility: { outcome: 'covered' },
      changed: ['memberId'],
    });
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx![0]!.Put).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 5 } });
    expect(tx![0]!.Put!.Item).toMatchObject({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', version: 6 });
    expect(tx![0]!.Put!.Item!.eligibility).toMatchObject({ outcome: 'covered' });
    expect(eventItems(tx!)).toEqual([
      expect.objectContaining({
        type: 'ELIGIBILITY_RECHECKED',
        actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' },
        detail: expect.objectContaining({ outcome: 'covered', changed: ['memberId'] }),
      }),
    ]);
    const intakePut = putItems(tx!).find((i) => i.sk === 'INTAKE');
    expect(intakePut).toMatchObject({ pk: `REFERRAL#${REFERRAL_ID}`, entity: 'intake', intake: { insurance: { memberId: 'ABC123' } } });
    expect(JSON.stringify(eventItems(tx!))).not.toContain('ABC123');
  });

  test('a member ID with other characters is a 400 naming memberId without echoing it; nothing is written', async () => {
    storeReferral(m, inReview());

    const res = await recheck({ memberId: 'ABC 123<script>' });

    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { memberId: [expect.any(String)] } });
    expect(res.body).not.toContain('ABC 123');
    expect(transactions(m)).toEqual([]);
  });

  test.each([
    ['a payer ID of the wrong shape', { payerId: '60-054' }, 'payerId'],
    ['an empty payer name', { payer: '   ' }, 'payer'],
    ['a member ID that is a number', { memberId: 12345 }, 'memberId'],
  ])('%s is a 400 naming its field', async (_, body, field) => {
    storeReferral(m, inReview());

    const res = await recheck(body);

    expect(res.statusCode).toBe(400);
    expect(Object.keys((bodyOf(res).fields ?? {}) as object)).toEqual([field]);
  });

  test('a body that is not an object is a 400, never a 5xx', async () => {
    storeReferral(m, inReview());

    for (const body of [null, [], 'x', 7]) expect((await recheck(body)).statusCode).toBe(400);
    expect(transactions(m)).toEqual([]);
  });

  test('past the insurance review it is a 409 NotInInsuranceReview naming the status; nothing is written', async () => {
    storeReferral(m, inReview({ status: 'EVALUATION', pendingStep: 'evaluation' }));

    const res = await recheck({ memberId: 'ABC123' });

    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotInInsuranceReview', message: expect.stringContaining('EVALUATION') });
    expect(transactions(m)).toEqual([]);
  });

  test('staff only (401 without a token), and an unknown or malformed id is a 404', async () => {
    expect((await recheck({}, null)).statusCode).toBe(401);
    expect((await recheck({})).statusCode).toBe(404);
    expect((await recheck({}, CASE_WORKER, 'not-an-id')).statusCode).toBe(404);
  });
});
