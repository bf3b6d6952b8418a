import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancelled, mocks } from '../support/aws';
import {
  apiEvent,
  bodyOf,
  CASE_WORKER,
  cohort,
  cohortItem,
  HOUR,
  intakeItem,
  isoAgo,
  lambdaContext,
  metaItem,
  referral,
  REFERRAL_ID,
  setTestEnv,
  SUPERVISOR,
  validIntake,
} from '../support/fixtures';
import { nowMs } from '../../../../functions/lib/clock';
import type { handler as CohortsHandler } from '../../../../functions/manage-cohorts/handler';
import type { handler as ReadHandler } from '../../../../functions/read-referrals/handler';
import type { parseGroups as ParseGroups } from '../../../../functions/lib/http';

let cohorts: typeof CohortsHandler;
let read: typeof ReadHandler;
let parseGroups: typeof ParseGroups;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler: cohorts } = await import('../../../../functions/manage-cohorts/handler'));
  ({ handler: read } = await import('../../../../functions/read-referrals/handler'));
  ({ parseGroups } = await import('../../../../functions/lib/http'));
});

beforeEach(() => {
  m.ddb.on(PutCommand).resolves({});
  m.ddb.on(TransactWriteCommand).resolves({});
  m.ddb.on(GetCommand).resolves({});
  m.ddb.on(QueryCommand).resolves({ Items: [] });
});

afterEach(() => {
  m.ddb.reset();
});

const newCohort = {
  name: 'Evening B',
  track: 'evening',
  startDate: '2027-01-04',
  capacity: 8,
  weeks: 10,
  sessions: [
    { weekday: 'MO', start: '18:00', minutes: 180 },
    { weekday: 'TU', start: '18:00', minutes: 180 },
    { weekday: 'TH', start: '18:00', minutes: 180 },
  ],
  location: { kind: 'telehealth', url: 'https://meet.example.org/iop-evening-b' },
};

describe('parseGroups', () => {
  test.each([
    [
      ['case-workers', 'supervisors'],
      ['case-workers', 'supervisors'],
    ],
    ['[case-workers]', ['case-workers']],
    ['[case-workers supervisors]', ['case-workers', 'supervisors']],
    ['[case-workers, supervisors]', ['case-workers', 'supervisors']],
    ['case-workers', ['case-workers']],
    ['[]', []],
    ['', []],
    [undefined, []],
    [42, []],
  ])('the claim %j gives %j', (claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });
});

describe('POST /api/staff/cohorts (supervisors only)', () => {
  test('a case worker without the supervisors group is a 403 and nothing is stored', async () => {
    // Act
    const res = await cohorts(apiEvent('POST /api/staff/cohorts', { body: newCohort, claims: CASE_WORKER }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(403);
    expect(bodyOf(res)).toMatchObject({ error: 'Forbidden' });
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  test('a supervisor creates the cohort: 201 with the program time zone and the stored COHORT item', async () => {
    // Act
    const res = await cohorts(apiEvent('POST /api/staff/cohorts', { body: newCohort, claims: SUPERVISOR }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(201);
    const view = bodyOf(res);
    expect(view).toMatchObject({ ...newCohort, timeZone: 'America/New_York', population: 'adult', seats: 0, seatsLeft: 8, roster: [] });
    expect(view.nextSessions).toEqual(['2027-01-04T18:00:00-05:00', '2027-01-05T18:00:00-05:00', '2027-01-07T18:00:00-05:00']);
    expect(view).toMatchObject({ sessionsLeft: 30, sessionsTotal: 30 });
    const [tx] = m.ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(tx![0]!.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `COHORT#${view.cohortId}`,
        sk: 'META',
        gsi2pk: 'COHORTS',
        gsi2sk: `2027-01-04#${view.cohortId}`,
        seats: 0,
        capacity: 8,
        createdBy: { kind: 'staff', sub: 'sub-sup-1' },
      },
    });
    // the name is claimed for its start date in the same transaction (no read first)
    expect(tx![1]!.Put).toEqual({
      TableName: 'iop-test-table',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: 'COHORTNAME#2027-01-04#evening b', sk: 'META', entity: 'cohort-name', cohortId: view.cohortId },
    });
    expect(m.ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  test('a name already taken on that start date (any case or spacing) is a 409 CohortNameTaken', async () => {
    // Prepare: the name item exists, so its put's condition fails
    m.ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));

    // Act
    const res = await cohorts(
      apiEvent('POST /api/staff/cohorts', { body: { ...newCohort, name: '  EVENING   b ' }, claims: SUPERVISOR }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'CohortNameTaken' });
    expect(m.ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![1]!.Put!.Item).toMatchObject({
      pk: 'COHORTNAME#2027-01-04#evening b',
    });
  });

  test.each([
    ['an evening cohort with 09:00 sessions', { sessions: newCohort.sessions.map((s) => ({ ...s, start: '09:00' })) }, 'track'],
    ['a start date two months past', { startDate: '2026-10-26' }, 'startDate'],
  ])('%s is a 400 naming %s, and nothing is written', async (_what, change, path) => {
    // Act
    const res = await cohorts(
      apiEvent('POST /api/staff/cohorts', { body: { ...newCohort, ...change }, claims: SUPERVISOR }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(400);
    expect(Object.keys(bodyOf(res).fields as object)).toEqual([path]);
    expect(m.ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  test('a supervisor sending 6 h a week for adults gets a 400 naming sessions', async () => {
    // Act
    const res = await cohorts(
      apiEvent('POST /api/staff/cohorts', { body: { ...newCohort, sessions: newCohort.sessions.slice(0, 2) }, claims: SUPERVISOR }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { sessions: [expect.stringContaining('9 hours')] } });
  });

  test('a case worker may list cohorts, with seats left', async () => {
    // Prepare
    m.ddb.on(QueryCommand, { IndexName: 'gsi2' }).resolves({ Items: [cohortItem(cohort({ seats: 7 }))] });

    // Act
    const res = await cohorts(
      apiEvent('GET /api/staff/cohorts', { claims: { ...CASE_WORKER, 'cognito:groups': '[case-workers]' } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ items: [{ cohortId: 'cohort-morning-a', seats: 7, seatsLeft: 3 }] });
  });
});

describe('GET /api/staff/referrals', () => {
  test('without claims is a 401', async () => {
    const res = await read(apiEvent('GET /api/staff/referrals'), lambdaContext);
    expect(res.statusCode).toBe(401);
  });

  test('an ID token of the app client (token_use id) is a 401: staff routes take access tokens only', async () => {
    const res = await read(
      apiEvent('GET /api/staff/referrals', { claims: { ...CASE_WORKER, token_use: 'id', aud: 'app-client' } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(401);
  });

  test('a body with a lone surrogate (valid JSON, not valid text) is a 400, never stored', async () => {
    const { handler: submit } = await import('../../../../functions/submit-intake/handler');
    const raw = JSON.stringify(validIntake()).replace('Prefers a call after 5 pm.', 'x\\ud800y');
    const res = await submit(apiEvent('POST /api/referrals', { rawBody: raw }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).message).toContain('not valid Unicode');
  });

  test('an unknown status filter is a 400', async () => {
    const res = await read(
      apiEvent('GET /api/staff/referrals', { claims: CASE_WORKER, queryStringParameters: { status: 'LOST' } }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { status: [expect.any(String)] } });
  });

  test('a referral detail shows the timeline and intake to staff but never the task token', async () => {
    // Prepare
    const r = referral({
      status: 'EVALUATION',
      pendingStep: 'evaluation',
      taskToken: 'SECRET-TASK-TOKEN',
      gateOpenedAt: isoAgo(HOUR),
      gateDueAt: new Date(nowMs() + 47 * HOUR).toISOString(),
    });
    m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
    m.ddb
      .on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'INTAKE' } })
      .resolves({ Item: intakeItem(REFERRAL_ID, validIntake()) });
    m.ddb.on(QueryCommand, { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)' }).resolves({
      Items: [
        {
          pk: `REFERRAL#${REFERRAL_ID}`,
          sk: 'EVENT#2026-11-20T10:00:00.000Z#1.0',
          entity: 'event',
          at: '2026-11-20T10:00:00.000Z',
          type: 'RECEIVED',
          actor: { kind: 'patient' },
        },
      ],
    });

    // Act
    const res = await read(
      apiEvent('GET /api/staff/referrals/{id}', { claims: CASE_WORKER, pathParameters: { id: REFERRAL_ID } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({
      referralId: REFERRAL_ID,
      pendingStep: 'evaluation',
      sla: 'on-time',
      intake: { patient: { lastName: 'Quintana' } },
      events: [{ type: 'RECEIVED', at: '2026-11-20T10:00:00.000Z' }],
    });
    expect(res.body).not.toContain('SECRET-TASK-TOKEN');
    expect(res.body).not.toMatch(/"pk"|"gsi1pk"/);
  });

  test('a work queue lists summaries without PHI beyond the display name, and without the token', async () => {
    // Prepare
    const r = referral({ status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'SECRET-TASK-TOKEN' });
    m.ddb.on(QueryCommand, { IndexName: 'gsi1' }).resolves({ Items: [metaItem(r)] });

    // Act
    const res = await read(
      apiEvent('GET /api/staff/referrals', { claims: CASE_WORKER, queryStringParameters: { status: 'EVALUATION' } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({
      items: [expect.objectContaining({ referralId: REFERRAL_ID, displayName: 'Jordan Q.', status: 'EVALUATION' })],
    });
    expect(res.body).not.toMatch(/SECRET-TASK-TOKEN|quintana|searchName/);
  });

  // was a bug (fixed): a malformed page cursor is bad input, so docs/ARCHITECTURE.md §3 wants a 400 (409 is for wrong state,
  // duplicate decision, full cohort, idempotency reuse); the repository raises a ConflictError (409)
  test('a malformed page cursor is a 400 (bad input), not a 409', async () => {
    // Act
    const res = await read(
      apiEvent('GET /api/staff/referrals', { claims: CASE_WORKER, queryStringParameters: { cursor: 'not-a-cursor' } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(400);
  });
});
