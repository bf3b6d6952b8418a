import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type FakeClearinghouse, startFakeClearinghouse } from '../support/fake-clearinghouse';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// the insurance re-check (issue 16 item 5) against a clearinghouse (the fake, recorded eligibility v3
// answers): a payer given by name only and a rejected member ID land in insurance review with their
// reasons; corrected, the check goes out at once with the corrected payer ID and member ID, a busy
// answer is not asked twice (the case worker is waiting), and the new result carries the benefits

let fake: FakeClearinghouse;

beforeAll(async () => {
  // before the runtime: its env names the fake's URL
  fake = await startFakeClearinghouse();
});
const suite = runtimeSuite(() => ({
  timeScale: 100,
  env: {
    ELIGIBILITY_PROVIDER: 'clearinghouse',
    ELIGIBILITY_URL: fake.url,
    ELIGIBILITY_API_KEY: 'recheck-test-key',
    PROVIDER_NPI: '1234567893',
    PROVIDER_NAME: 'Example IOP',
  },
}));

afterAll(async () => {
  await fake?.stop();
});

const run = Date.now().toString(36).toUpperCase();
const recheck = (id: string, body: unknown) =>
  suite.api.call('POST', `/api/staff/referrals/${id}/insurance/recheck`, { body, as: 'casey' });

const atReview = async (insurance: Record<string, unknown>) => {
  const res = await suite.api.intake(intakeBody({ lastName: 'Recheckova', insurance: insurance as never }));
  expect(res.status).toBe(201);
  const id = res.json.referralId as string;
  return { id, detail: await suite.api.waitForGate(id, 'insurance-review') };
};

describe('re-check through the clearinghouse', () => {
  test('AAA 72 → corrected member ID → covered with benefits; the inquiry carried the corrected ID', async () => {
    const bad = `BADID${run}`;
    const good = `ACTIVE${run}`;
    const { id, detail } = await atReview({ type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: bad });
    expect(detail.eligibility).toMatchObject({ outcome: 'unclear', reason: { code: 'AAA-72' } });

    const res = await recheck(id, { memberId: good });

    expect(res.status).toBe(200);
    expect(res.json.eligibility).toMatchObject({
      outcome: 'covered',
      source: 'clearinghouse',
      payerId: '60054',
      benefits: { copay: 25, coinsurancePercent: 20, deductibleRemaining: 850.5 },
    });
    expect(fake.requestsFor(good)).toHaveLength(1);
    expect(fake.requestsFor(good)[0]!.body).toMatchObject({ tradingPartnerServiceId: '60054', subscriber: { memberId: good } });
    const after = await suite.api.referral(id);
    expect(after).toMatchObject({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review' });
    expect(after.events.find((e) => e.type === 'ELIGIBILITY_RECHECKED')?.detail).toEqual({
      outcome: 'covered',
      summary: res.json.eligibility.summary,
      changed: ['memberId'],
    });
  });

  test('a payer given by name only (no request) → picked from the list → checked with its payer ID', async () => {
    const member = `ACTIVE${run}N`;
    const { id, detail } = await atReview({ type: 'commercial', payer: 'Some Plan', memberId: member });
    expect(detail.eligibility?.reason?.code).toBe('NO_PAYER_ID');
    expect(fake.requestsFor(member)).toHaveLength(0);

    const res = await recheck(id, { payer: 'Cigna', payerId: '62308' });

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ eligibility: { outcome: 'covered', payerId: '62308' }, changed: ['payer', 'payerId'] });
    expect(fake.requestsFor(member).map((r) => r.body.tradingPartnerServiceId)).toEqual(['62308']);
    expect((await suite.api.referral(id)).intake.insurance).toMatchObject({ payer: 'Cigna', payerId: '62308', memberId: member });
  });

  test('a busy payer is asked once on a re-check (no delayed retry): unclear BUSY at once, and the gate stays', async () => {
    const busy = `BUSYALL${run}`;
    const { id } = await atReview({ type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: `BADID${run}B` });

    const res = await recheck(id, { memberId: busy });

    expect(res.status).toBe(200);
    expect(res.json.eligibility).toMatchObject({ outcome: 'unclear', reason: { code: 'BUSY' } });
    expect(fake.requestsFor(busy)).toHaveLength(1);
    expect((await suite.api.referral(id)).pendingStep).toBe('insurance-review');
  });
});
