import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ClearinghouseEligibility, type ClearinghouseSettings } from '../../../../functions/lib/adapters/clearinghouse';
import type { EligibilitySubject } from '../../../../functions/lib/adapters/ports';
import { type FakeClearinghouse, startFakeClearinghouse } from '../../../support/fake-clearinghouse';
import { setTestEnv, TEST_NOW } from '../support/fixtures';

// the clearinghouse adapter over HTTP against the fake clearinghouse (test/support/fake-clearinghouse.ts):
// the request it sends, the key header, one retry after the delay on a busy or failing answer (none
// with retryWhenBusy: false), and only codes in its logs

const KEY = 'test-key-3f9a1c';
const RETRY_SECONDS = 0.2;
let fake: FakeClearinghouse;

beforeAll(async () => {
  setTestEnv();
  fake = await startFakeClearinghouse();
});
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const checker = (over: Partial<ClearinghouseSettings> = {}) =>
  new ClearinghouseEligibility({
    url: fake.url,
    apiKey: { value: KEY },
    provider: { organizationName: 'Example IOP', npi: '1234567893' },
    retrySeconds: RETRY_SECONDS,
    requestTimeoutMs: 500,
    ...over,
  });

let n = 0;
/** a member ID of the given kind, new for each test (the fake keys its "first request" by member ID) */
const member = (kind: string) => `${kind}${String(++n).padStart(4, '0')}X`;
const subject = (memberId: string, coOccurring?: string[]): EligibilitySubject => ({
  insurance: { type: 'commercial', payer: 'Aetna', payerId: '60054', memberId },
  patient: { firstName: 'Rosa', lastName: 'Quintana', dateOfBirth: '1985-02-14' },
  ...(coOccurring ? { coOccurring } : {}),
});

/** what the adapter wrote to stdout/stderr while `run` ran (Powertools writes there) */
const logsOf = async <T>(run: () => Promise<T>): Promise<{ result: T; logs: string }> => {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
  jest.spyOn(console, 'log').mockImplementation((...a) => lines.push(a.join(' ')));
  jest.spyOn(console, 'info').mockImplementation((...a) => lines.push(a.join(' ')));
  jest.spyOn(console, 'warn').mockImplementation((...a) => lines.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a) => lines.push(a.join(' ')));
  try {
    return { result: await run(), logs: lines.join('\n') };
  } finally {
    jest.restoreAllMocks();
  }
};

describe('the request', () => {
  test('POSTs the eligibility v3 JSON with the key in Authorization; MH is asked with co-occurring conditions', async () => {
    const id = member('ACTIVE');
    const result = await checker().check(subject(id, ['Anxiety']));

    expect(result).toMatchObject({ outcome: 'covered', source: 'clearinghouse', payerId: '60054', checkedAt: TEST_NOW });
    const [req] = fake.requestsFor(id);
    expect(req!.headers).toMatchObject({ authorization: KEY, 'content-type': 'application/json' });
    expect(req!.body).toEqual({
      controlNumber: expect.stringMatching(/^\d{9}$/),
      tradingPartnerServiceId: '60054',
      provider: { organizationName: 'Example IOP', npi: '1234567893' },
      subscriber: { memberId: id, firstName: 'Rosa', lastName: 'Quintana', dateOfBirth: '19850214' },
      encounter: { serviceTypeCodes: ['AI', 'MH'] },
    });
  });

  test('no payer ID, no member ID, self-pay: nothing is sent', async () => {
    const before = fake.requests.length;
    const c = checker();
    expect(
      (await c.check({ ...subject('X'), insurance: { type: 'commercial', payer: 'Some Plan', memberId: 'ACTIVE1' } })).reason?.code,
    ).toBe('NO_PAYER_ID');
    expect((await c.check({ ...subject('X'), insurance: { type: 'medicaid', payerId: '60054' } })).reason?.code).toBe('NO_MEMBER_ID');
    expect((await c.check({ ...subject('X'), insurance: { type: 'self-pay' } })).outcome).toBe('self-pay');
    expect(fake.requests.length).toBe(before);
  });
});

describe('answers', () => {
  test.each([
    ['ACTIVE', { outcome: 'covered', benefits: { copay: 25, coinsurancePercent: 20, deductibleRemaining: 850.5 } }],
    ['INACTIVE', { outcome: 'not-covered' }],
    ['AUTH', { outcome: 'unclear', reason: { code: 'AUTH_REQUIRED' } }],
    ['BADID', { outcome: 'unclear', reason: { code: 'AAA-72', meaning: 'Invalid or missing member ID' } }],
    ['NOTJSON', { outcome: 'unclear', reason: { code: 'BAD_RESPONSE' } }],
    ['OTHER', { outcome: 'unclear', reason: { code: 'BAD_RESPONSE' } }],
    ['NOBODY', { outcome: 'unclear', reason: { code: 'AAA-75', meaning: 'Subscriber not found' } }],
    ['DENIED', { outcome: 'unclear', reason: { code: 'HTTP_401', meaning: expect.stringMatching(/API key/) } }],
  ])('%s → %j, asked once', async (kind, expected) => {
    const id = member(kind);
    expect(await checker().check(subject(id))).toMatchObject(expected);
    expect(fake.requestsFor(id)).toHaveLength(1);
  });
});

describe('busy, failing or silent: one retry after ELIGIBILITY_RETRY_SECONDS', () => {
  test('AAA 42 then active: asked again after the delay, covered', async () => {
    const id = member('BUSY');
    const result = await checker().check(subject(id));

    expect(result.outcome).toBe('covered');
    const [first, second] = fake.requestsFor(id);
    expect(fake.requestsFor(id)).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(RETRY_SECONDS * 1000 - 20);
    // each request its own control number
    expect(second!.body.controlNumber).not.toBe(first!.body.controlNumber);
  });

  test('the delay is ELIGIBILITY_RETRY_SECONDS (the sleep is asked for it)', async () => {
    const waits: number[] = [];
    const c = new ClearinghouseEligibility(
      { url: fake.url, apiKey: { value: KEY }, provider: { organizationName: 'Example IOP', npi: '1234567893' }, retrySeconds: 30 },
      async (ms) => {
        waits.push(ms);
      },
    );
    expect((await c.check(subject(member('BUSY')))).outcome).toBe('covered');
    expect(waits).toEqual([30_000]);
  });

  test.each([
    ['BUSYALL', 'BUSY', /AAA-42/],
    ['ERR500', 'HTTP_500', /HTTP 500/],
    ['HANG', 'TIMEOUT', /in time/],
    ['RATE', 'HTTP_429', /too many/],
  ])('%s twice → unclear %s', async (kind, code, meaning) => {
    const id = member(kind);
    const result = await checker().check(subject(id));

    expect(result).toMatchObject({ outcome: 'unclear', source: 'clearinghouse', payerId: '60054', reason: { code } });
    expect(`${result.reason!.meaning} ${result.summary}`).toMatch(meaning);
    expect(fake.requestsFor(id)).toHaveLength(2);
    expect(result.summary).toMatch(/asked twice\)$/);
  });

  test('retryWhenBusy: false answers at once, asked once', async () => {
    const id = member('BUSY');
    const result = await checker({ retrySeconds: 30 }).check(subject(id), { retryWhenBusy: false });

    expect(result).toMatchObject({
      outcome: 'unclear',
      reason: { code: 'BUSY' },
      summary: expect.stringMatching(/\(AAA-42, asked once\)$/),
    });
    expect(fake.requestsFor(id)).toHaveLength(1);
  });

  test('a clearinghouse that cannot be reached: unclear UNREACHABLE after the retry', async () => {
    const result = await checker({ url: 'http://127.0.0.1:1/eligibility/v3' }).check(subject(member('ACTIVE')));
    expect(result).toMatchObject({ outcome: 'unclear', reason: { code: 'UNREACHABLE' } });
  });
});

test('logs hold codes only: never the member ID, name, date of birth or key, though the response echoes them', async () => {
  const ids = ['ACTIVE', 'BADID', 'ERR500', 'BUSY', 'NOTJSON'].map(member);
  const { logs } = await logsOf(async () => {
    for (const id of ids) await checker().check(subject(id));
  });

  expect(logs).toMatch(/eligibility/);
  for (const secret of [...ids, 'Rosa', 'Quintana', '19850214', '1985-02-14', KEY])
    expect([secret, logs.includes(secret)]).toEqual([secret, false]);
});

describe('the key from Secrets Manager (on AWS)', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterAll(() => secrets.restore());

  test('read once per container from ELIGIBILITY_API_KEY_SECRET_ARN and sent as Authorization', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iop/clearinghouse-key-AbC123';
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: ' sm-key-77\n' });
    const c = checker({ apiKey: { secretArn: arn } });
    const ids = [member('ACTIVE'), member('INACTIVE')];

    for (const id of ids) await c.check(subject(id));

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    for (const id of ids) expect(fake.requestsFor(id)[0]!.headers.authorization).toBe('sm-key-77');
  });

  test('a key that cannot be read: unclear KEY_UNAVAILABLE, nothing sent, read again next time', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iop/missing-XyZ789';
    secrets.on(GetSecretValueCommand, { SecretId: arn }).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const c = checker({ apiKey: { secretArn: arn } });
    const id = member('ACTIVE');

    const result = await c.check(subject(id));

    expect(result).toMatchObject({ outcome: 'unclear', reason: { code: 'KEY_UNAVAILABLE' } });
    expect(fake.requestsFor(id)).toHaveLength(0);
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: 'later-key' });
    expect((await c.check(subject(id))).outcome).toBe('covered');
  });
});
