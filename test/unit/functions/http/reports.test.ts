import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { answerDefaults, mocks, putItems, resetMocks, storeIntake, storeReferral, transactions } from '../support/aws';
import {
  apiEvent,
  bodyOf,
  CASE_WORKER,
  cohort,
  cohortItem,
  dayFromToday,
  lambdaContext,
  metaItem,
  referral,
  REFERRAL_ID,
  setTestEnv,
  TEST_NOW,
  validIntake,
} from '../support/fixtures';
import { functions } from '../../../../functions/catalog';
import type { handler as Handler } from '../../../../functions/read-availability/handler';

// the three issue-14 read routes at the HTTP edge: open seats (public, cached a minute — the one
// exception to no-store), the funnel (staff, zod-validated query) and the FHIR export (staff,
// application/fhir+json, audited before the Bundle leaves)

let availability: typeof Handler;
let funnel: typeof Handler;
let fhir: typeof Handler;
let cacheable: ReadonlyMap<string, string>;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler: availability } = await import('../../../../functions/read-availability/handler'));
  ({ handler: funnel } = await import('../../../../functions/read-funnel/handler'));
  ({ handler: fhir } = await import('../../../../functions/export-fhir/handler'));
  ({ CACHEABLE_ROUTES: cacheable } = await import('../../../../functions/lib/http'));
});

beforeEach(() => {
  answerDefaults(m);
});

afterEach(() => {
  resetMocks(m);
});

const queries = () => m.ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);

describe('GET /api/availability', () => {
  test('200 with open seats per track, cacheable for a minute by anyone (public, max-age=60)', async () => {
    // Prepare
    m.ddb
      .on(QueryCommand, { IndexName: 'gsi2' })
      .resolves({ Items: [cohortItem(cohort({ seats: 8, location: { kind: 'in-person', address: '12 Harbor St' } }))] });

    // Act
    const res = await availability(apiEvent('GET /api/availability'), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'cache-control': 'public, max-age=60', 'content-type': 'application/json; charset=utf-8' });
    const body = bodyOf(res) as { tracks: Record<string, Array<Record<string, unknown>>> };
    expect(body.tracks.evening).toEqual([]);
    expect(body.tracks.morning).toEqual([expect.objectContaining({ seatsLeft: 2, startDate: dayFromToday(7), locationType: 'in-person' })]);
    // no address, cohort id or name: the kind of place only
    expect(res.body).not.toMatch(/Harbor St|cohort-morning-a|Morning A/);
    // cohorts from the longest cohort's length back, so one still running is read
    expect(queries()).toEqual([
      expect.objectContaining({
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :from',
        ExpressionAttributeValues: { ':pk': 'COHORTS', ':from': dayFromToday(-113) },
      }),
    ]);
  });

  test('an error answer is not cached (no-store), like every other answer', async () => {
    // Prepare
    m.ddb.on(QueryCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));

    // Act
    const res = await availability(apiEvent('GET /api/availability'), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(500);
    expect(res.headers?.['cache-control']).toBe('no-store');
  });

  test('it and the payer list are the only cacheable routes, and a staff route or a POST could not be made one', () => {
    expect([...cacheable.entries()]).toEqual([
      ['GET /api/availability', 'public, max-age=60'],
      ['GET /api/payers', 'public, max-age=300'],
    ]);
    const marked = functions.flatMap((f) => (f.routes ?? []).filter((r) => r.publicCacheSeconds !== undefined));
    expect(marked.every((r) => r.access === 'public' && r.method === 'GET')).toBe(true);
  });
});

describe('GET /api/staff/dashboard/funnel', () => {
  const get = (query?: Record<string, string>) =>
    funnel(
      apiEvent('GET /api/staff/dashboard/funnel', { claims: CASE_WORKER, ...(query ? { queryStringParameters: query } : {}) }),
      lambdaContext,
    );

  test('counts by step for the range and channel asked for, read by receivedAt from the all-referrals index, no-store', async () => {
    // Prepare
    const enrolled = referral({
      receivedAt: '2026-12-02T15:00:00.000Z',
      status: 'ENROLLED',
      reached: { RECEIVED: '2026-12-02T15:00:00.000Z', ENROLLMENT: '2026-12-04T15:00:00.000Z', ENROLLED: '2026-12-06T15:00:00.000Z' },
      decided: { evaluation: { next: 'ENROLLMENT' } },
    });
    const phone = referral({
      referralId: 'b1c2f7e0-3a5b-4c1d-9e8f-0a1b2c3d4e5f',
      channel: 'phone',
      receivedAt: '2026-12-03T15:00:00.000Z',
    });
    m.ddb.on(QueryCommand).resolves({ Items: [metaItem(enrolled), metaItem(phone)] });

    // Act
    const res = await get({ from: '2026-12-01', to: '2026-12-31', channel: 'web' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect(bodyOf(res)).toMatchObject({
      from: '2026-12-01',
      to: '2026-12-31',
      channel: 'web',
      steps: [
        { step: 'received', count: 1 },
        { step: 'evaluated', count: 1 },
        { step: 'enrolled', count: 1, medianDaysFromPrevious: 2 },
        { step: 'started', count: 0 },
      ],
    });
    expect(queries()).toEqual([
      expect.objectContaining({
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': 'REFERRALS', ':from': '2026-11-30T00:00:00.000Z', ':to': '2027-01-01T23:59:59.999Z~' },
      }),
    ]);
    // counts only
    expect(res.body).not.toMatch(/Jordan|IOP-7KQ4|6f1c2f7e/);
  });

  test('without dates: the last 90 days up to today in the program time zone', async () => {
    const res = await get();
    expect(bodyOf(res)).toMatchObject({ from: '2026-10-02', to: '2026-12-30', channel: 'all' });
  });

  test.each([
    [{ channel: 'fax' }, 'channel'],
    [{ from: '2026-12-31', to: '2026-12-01' }, 'from'],
    [{ to: '2026-13-01' }, 'to'],
  ])('a bad query (%j) is a 400 naming the parameter, and reads nothing', async (query, field) => {
    const res = await get(query as Record<string, string>);
    expect(res.statusCode).toBe(400);
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { [field]: [expect.any(String)] } });
    expect(queries()).toEqual([]);
  });

  test('reads on page after page, and says when the range held more than one report reads', async () => {
    // Prepare: every page has a key to go on from
    m.ddb.on(QueryCommand).resolves({
      Items: Array.from({ length: 1000 }, () => metaItem(referral({ receivedAt: '2026-12-02T15:00:00.000Z' }))),
      LastEvaluatedKey: { pk: 'x', sk: 'y' },
    });

    // Act
    const res = await get({ from: '2026-12-01', to: '2026-12-31' });

    // Assess
    expect(queries()).toHaveLength(20);
    expect(bodyOf(res)).toMatchObject({ truncated: true, steps: [{ step: 'received', count: 20_000 }, {}, {}, {}] });
  });
});

describe('GET /api/staff/referrals/{id}/fhir', () => {
  const get = (id = REFERRAL_ID) =>
    fhir(apiEvent('GET /api/staff/referrals/{id}/fhir', { claims: CASE_WORKER, pathParameters: { id } }), lambdaContext);

  test('an application/fhir+json Bundle, and the export recorded on the timeline by whom, before it is sent', async () => {
    // Prepare
    storeReferral(m, referral({ status: 'EVALUATION' }));
    storeIntake(m, REFERRAL_ID, validIntake());

    // Act
    const res = await get();

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'application/fhir+json; charset=utf-8', 'cache-control': 'no-store' });
    expect(bodyOf(res)).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: TEST_NOW });
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    // the referral is checked, not changed; the event is written once
    expect(tx!.map((i) => Object.keys(i)[0])).toEqual(['ConditionCheck', 'Put']);
    expect(tx![0]!.ConditionCheck).toMatchObject({
      Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META' },
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(putItems(tx!)[0]).toMatchObject({
      pk: `REFERRAL#${REFERRAL_ID}`,
      sk: expect.stringMatching(new RegExp(`^EVENT#${TEST_NOW}#export\\.`)),
      entity: 'event',
      type: 'RECORD_EXPORTED',
      at: TEST_NOW,
      actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' },
      detail: { format: 'FHIR R4 Bundle (collection)', resources: expect.objectContaining({ Patient: 1, Task: 1 }) },
    });
    // the audit record says what was exported, never what it held
    expect(JSON.stringify(putItems(tx!)[0])).not.toMatch(/Quintana|1988-04-12|201-3344/);
  });

  test('no audit record, no export: a failed write is a 500 without the Bundle', async () => {
    // Prepare
    storeReferral(m, referral());
    storeIntake(m, REFERRAL_ID, validIntake());
    m.ddb.on(TransactWriteCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const res = await get();

    // Assess
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/Quintana|Bundle/);
  });

  test('an unknown referral is a 404 and records nothing', async () => {
    const res = await get('0f1c2f7e-3a5b-4c1d-9e8f-0a1b2c3d4e5f');
    expect(res.statusCode).toBe(404);
    expect(transactions(m)).toEqual([]);
  });

  test('staff only: no token is a 401, a signed-in user without a staff group a 403', async () => {
    const anonymous = await fhir(apiEvent('GET /api/staff/referrals/{id}/fhir', { pathParameters: { id: REFERRAL_ID } }), lambdaContext);
    const noGroup = await fhir(
      apiEvent('GET /api/staff/referrals/{id}/fhir', {
        claims: { ...CASE_WORKER, 'cognito:groups': [] },
        pathParameters: { id: REFERRAL_ID },
      }),
      lambdaContext,
    );
    expect([anonymous.statusCode, noGroup.statusCode]).toEqual([401, 403]);
    expect(transactions(m)).toEqual([]);
  });
});
