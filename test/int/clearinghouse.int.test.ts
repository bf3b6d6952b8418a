import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ReferralDetail } from '../../functions/lib/schemas/views';
import { type FakeClearinghouse, startFakeClearinghouse } from '../support/fake-clearinghouse';
import { intakeBody } from '../support/fixtures';
import { type CapturedOutput, captureOutput } from '../support/output';
import { runtimeSuite } from '../support/runtime-suite';

// issue 16 "Done when": with ELIGIBILITY_PROVIDER=clearinghouse pointed at a clearinghouse (the fake,
// serving recorded eligibility v3 responses), every case lands where item 3 says — through the whole
// workflow over HTTP — and the case worker sees why (the stored reason and benefits); the fake saw
// the inquiry we mean to send; the logs hold no member ID, name or date of birth

const KEY = 'int-test-key-51c0';
const TIME_SCALE = 100; // the 30 s retry delay takes 0.3 s

let fake: FakeClearinghouse;
let output: CapturedOutput;

const clearinghouseEnv = () => ({
  ELIGIBILITY_PROVIDER: 'clearinghouse',
  ELIGIBILITY_URL: fake.url,
  ELIGIBILITY_API_KEY: KEY,
  PROVIDER_NPI: '1234567893',
  PROVIDER_NAME: 'Example IOP',
  // the case that never answers is given up after 2 s (25 s by default)
  ELIGIBILITY_TIMEOUT_SECONDS: '2',
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
});

beforeAll(async () => {
  // before the runtime: its logs are captured, its env names the fake's URL
  output = captureOutput();
  fake = await startFakeClearinghouse();
});
const suite = runtimeSuite(() => ({ quiet: false, timeScale: TIME_SCALE, env: clearinghouseEnv() }));

afterAll(async () => {
  await fake?.stop();
  output?.stop();
});

/** one referral per case; member IDs unique to this run, so the logs can be searched for them */
const run = Date.now().toString(36).toUpperCase();
const memberOf = (kind: string) => `${kind}${run}`;

const submit = async (insurance: Record<string, unknown>, over: Record<string, unknown> = {}) => {
  const res = await suite.api.intake(intakeBody({ lastName: 'Quintanilla', insurance: insurance as never, ...over }));
  expect(res.status).toBe(201);
  return res.json.referralId as string;
};
const settled = (id: string, timeoutMs = 15_000): Promise<ReferralDetail> =>
  suite.api.waitFor(id, (r) => r.status !== 'RECEIVED', timeoutMs);
const withPayer = (kind: string) => ({ type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: memberOf(kind) });

describe('ELIGIBILITY_PROVIDER=clearinghouse, through the workflow', () => {
  test('each recorded answer lands where issue 16 says, with its reason and benefits for the case worker', async () => {
    // Prepare / Act: all cases at once (the silent one takes two 8 s request timeouts)
    const cases = {
      active: submit(withPayer('ACTIVE')),
      inactive: submit(withPayer('INACTIVE')),
      auth: submit(withPayer('AUTH')),
      aaa72: submit(withPayer('BADID')),
      busyThenActive: submit(withPayer('BUSY')),
      http500: submit(withPayer('ERR500')),
      silent: submit(withPayer('HANG')),
      notJson: submit(withPayer('NOTJSON')),
      nameOnly: submit({ type: 'commercial', payer: 'Some Local Plan', memberId: memberOf('NAMEONLY') }),
      selfPay: submit({ type: 'self-pay' }),
    };
    const ids = Object.fromEntries(await Promise.all(Object.entries(cases).map(async ([k, p]) => [k, await p] as const)));
    const got = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await settled(id, k === 'silent' ? 40_000 : 15_000)] as const)),
    );

    // Assess: statuses and what the case worker sees
    const view = (r: ReferralDetail) => ({ status: r.status, ...r.eligibility });
    expect(view(got.active!)).toMatchObject({
      status: 'EVALUATION',
      outcome: 'covered',
      source: 'clearinghouse',
      payerId: '60054',
      benefits: { copay: 25, coinsurancePercent: 20, deductibleRemaining: 850.5 },
    });
    expect(view(got.inactive!)).toMatchObject({ status: 'INSURANCE_REVIEW', outcome: 'not-covered' });
    expect(view(got.auth!)).toMatchObject({
      status: 'INSURANCE_REVIEW',
      outcome: 'unclear',
      reason: { code: 'AUTH_REQUIRED', meaning: expect.stringMatching(/prior authorization/) },
      benefits: { copay: 40 },
    });
    expect(view(got.aaa72!)).toMatchObject({
      status: 'INSURANCE_REVIEW',
      outcome: 'unclear',
      reason: { code: 'AAA-72', meaning: 'Invalid or missing member ID' },
    });
    expect(view(got.busyThenActive!)).toMatchObject({ status: 'EVALUATION', outcome: 'covered' });
    expect(view(got.http500!)).toMatchObject({ status: 'INSURANCE_REVIEW', outcome: 'unclear', reason: { code: 'HTTP_500' } });
    expect(view(got.silent!)).toMatchObject({ status: 'INSURANCE_REVIEW', outcome: 'unclear', reason: { code: 'TIMEOUT' } });
    expect(view(got.notJson!)).toMatchObject({ status: 'INSURANCE_REVIEW', outcome: 'unclear', reason: { code: 'BAD_RESPONSE' } });
    expect(view(got.nameOnly!)).toMatchObject({ status: 'INSURANCE_REVIEW', outcome: 'unclear', reason: { code: 'NO_PAYER_ID' } });
    expect(view(got.selfPay!)).toMatchObject({ status: 'EVALUATION', outcome: 'self-pay' });
    // the timeline says why, by code
    expect(got.aaa72!.events.find((e) => e.type === 'INSURANCE_CHECKED')?.detail).toMatchObject({ outcome: 'unclear', reason: 'AAA-72' });

    // what the fake received: one request each, two for busy / failing / silent (after the delay), none without a payer ID
    const asked = (kind: string) => fake.requestsFor(memberOf(kind)).length;
    expect(
      Object.fromEntries(
        ['ACTIVE', 'INACTIVE', 'AUTH', 'BADID', 'BUSY', 'ERR500', 'HANG', 'NOTJSON', 'NAMEONLY'].map((k) => [k, asked(k)]),
      ),
    ).toEqual({
      ACTIVE: 1,
      INACTIVE: 1,
      AUTH: 1,
      BADID: 1,
      BUSY: 2,
      ERR500: 2,
      HANG: 2,
      NOTJSON: 1,
      NAMEONLY: 0,
    });
    const [first, second] = fake.requestsFor(memberOf('BUSY'));
    expect(second!.at - first!.at).toBeGreaterThanOrEqual((30 * 1000) / TIME_SCALE - 20);
    const [active] = fake.requestsFor(memberOf('ACTIVE'));
    expect(active!.headers.authorization).toBe(KEY);
    expect(active!.body).toEqual({
      controlNumber: expect.stringMatching(/^\d{9}$/),
      tradingPartnerServiceId: '60054',
      provider: { organizationName: 'Example IOP', npi: '1234567893' },
      subscriber: { memberId: memberOf('ACTIVE'), firstName: 'Alex', lastName: 'Quintanilla', dateOfBirth: '19900412' },
      // the intake records a co-occurring condition (anxiety): mental health is asked too
      encounter: { serviceTypeCodes: ['AI', 'MH'] },
    });
  }, 90_000);

  test('without co-occurring conditions only AI is asked', async () => {
    const id = await submit(withPayer('ACTIVEAIONLY'), { coOccurring: [] });
    await settled(id);
    expect(fake.requestsFor(memberOf('ACTIVEAIONLY'))[0]!.body.encounter).toEqual({ serviceTypeCodes: ['AI'] });
  });

  test('the logs hold no member ID, name, date of birth or key (the responses echoed them)', () => {
    const logs = output.text();
    expect(logs).toMatch(/eligibility answered/);
    for (const secret of [run, 'Quintanilla', '19900412', '1990-04-12', KEY])
      expect([secret, logs.includes(secret)]).toEqual([secret, false]);
  });
});
