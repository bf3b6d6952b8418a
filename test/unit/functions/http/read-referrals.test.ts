import { describe, expect, test } from '@jest/globals';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handlerUnderTest } from '../support/handler';
import { apiEvent, bodyOf, CASE_WORKER, lambdaContext, metaItem, referral, REFERRAL_ID } from '../support/fixtures';

// page cursors are signed and bound to the query that gave them out (status, search text)

const { m, handler } = handlerUnderTest(() => import('../../../../functions/read-referrals/handler'));

const LAST_KEY = {
  pk: `REFERRAL#${REFERRAL_ID}`,
  sk: 'META',
  gsi1pk: 'STATUS#EVALUATION',
  gsi1sk: `1#2026-12-01T10:00:00.000Z#${REFERRAL_ID}`,
};

const list = (query: Record<string, string>) =>
  handler(apiEvent('GET /api/staff/referrals', { claims: CASE_WORKER, queryStringParameters: query }), lambdaContext);

/** the table has more than one page: every query answers one referral and a key to go on from */
const moreToCome = () => {
  m.ddb.on(QueryCommand).resolves({ Items: [metaItem(referral({ status: 'EVALUATION' }))], LastEvaluatedKey: LAST_KEY });
};

/** a cursor the API gave out for `query` */
const cursorFor = async (query: Record<string, string>): Promise<string> => {
  moreToCome();
  const res = await list(query);
  const cursor = bodyOf(res).nextCursor as string;
  m.ddb.resetHistory();
  return cursor;
};

const queries = () => m.ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);

const expectInvalidCursor = (res: { statusCode?: number; body?: string }) => {
  expect(res.statusCode).toBe(400);
  expect(bodyOf(res)).toMatchObject({ error: 'InvalidCursor', fields: { cursor: [expect.any(String)] } });
};

describe('GET /api/staff/referrals: page cursors', () => {
  test('a page with more after it hands out an opaque signed cursor, not the table key', async () => {
    // Prepare
    moreToCome();

    // Act
    const res = await list({ status: 'EVALUATION', limit: '1' });

    // Assess
    expect(res.statusCode).toBe(200);
    const { nextCursor } = bodyOf(res) as { nextCursor: string };
    expect(nextCursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(nextCursor).not.toContain('STATUS#');
    expect(nextCursor).not.toBe(Buffer.from(JSON.stringify(LAST_KEY)).toString('base64'));
  });

  test('the last page has no cursor', async () => {
    // Prepare
    m.ddb.on(QueryCommand).resolves({ Items: [metaItem(referral({ status: 'EVALUATION' }))] });

    // Act
    const res = await list({ status: 'EVALUATION' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).not.toHaveProperty('nextCursor');
  });

  test('the cursor of a queue continues that queue where it stopped', async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION', limit: '1' });

    // Act
    const res = await list({ status: 'EVALUATION', limit: '1', cursor });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(queries()).toEqual([expect.objectContaining({ IndexName: 'gsi1', ExclusiveStartKey: LAST_KEY })]);
  });

  test('a cursor of another queue is a 400 InvalidCursor and nothing is queried', async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION' });

    // Act
    const res = await list({ status: 'ENROLLED', cursor });

    // Assess
    expectInvalidCursor(res);
    expect(queries()).toEqual([]);
  });

  test("a queue's cursor used on the list of all referrals is a 400 InvalidCursor", async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION' });

    // Act
    const res = await list({ cursor });

    // Assess
    expectInvalidCursor(res);
    expect(queries()).toEqual([]);
  });

  test("a search's cursor is bound to its search text: another text is a 400, the same text in other case and spacing goes on", async () => {
    // Prepare
    const cursor = await cursorFor({ q: 'quin' });

    // Act
    const other = await list({ q: 'smith', cursor });
    const same = await list({ q: ' QUIN ', cursor });

    // Assess
    expectInvalidCursor(other);
    expect(same.statusCode).toBe(200);
    // a search reads on while its filter leaves the page short: the first read starts at the cursor
    expect(queries()[0]).toEqual(
      expect.objectContaining({
        IndexName: 'gsi2',
        ExclusiveStartKey: LAST_KEY,
        ExpressionAttributeValues: expect.objectContaining({ ':q': 'quin' }),
      }),
    );
  });

  test('a cursor whose key was changed (signature kept) is a 400 InvalidCursor', async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION' });
    const [payload, mac] = cursor.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k: Record<string, string>; q: string };
    decoded.k.gsi1sk = '0#2020-01-01T00:00:00.000Z#someone-else';
    const tampered = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${mac}`;

    // Act
    const res = await list({ status: 'EVALUATION', cursor: tampered });

    // Assess
    expectInvalidCursor(res);
    expect(queries()).toEqual([]);
  });

  test('a cursor whose query binding was changed to fit another queue (signature kept) is a 400 InvalidCursor', async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION' });
    const [payload, mac] = cursor.split('.') as [string, string];
    const rebound = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace('status=EVALUATION', 'status=ENROLLED'),
    ).toString('base64url');

    // Act
    const res = await list({ status: 'ENROLLED', cursor: `${rebound}.${mac}` });

    // Assess
    expectInvalidCursor(res);
  });

  test('a cursor with a forged signature is a 400 InvalidCursor', async () => {
    // Prepare
    const cursor = await cursorFor({ status: 'EVALUATION' });
    const [payload] = cursor.split('.') as [string];

    // Act
    const res = await list({ status: 'EVALUATION', cursor: `${payload}.${Buffer.alloc(32, 7).toString('base64url')}` });

    // Assess
    expectInvalidCursor(res);
  });

  test.each([
    ['a plain base64 table key (the old format)', Buffer.from(JSON.stringify(LAST_KEY)).toString('base64')],
    ['text that is no cursor', 'not-a-cursor'],
    ['three parts', 'a.b.c'],
    ['an empty signature', 'eyJrIjp7fX0.'],
  ])('%s is a 400 InvalidCursor and nothing is queried', async (_what, cursor) => {
    // Act
    const res = await list({ status: 'EVALUATION', cursor });

    // Assess
    expectInvalidCursor(res);
    expect(queries()).toEqual([]);
  });
});

describe('GET /api/staff/referrals: the waitlist and the first session in the summaries', () => {
  test('a waitlisted row says since when and for which track; an enrolled row which session it waits for; no other detail', async () => {
    // Prepare
    const since = '2026-12-01T10:00:00.000Z';
    m.ddb.on(QueryCommand).resolves({
      Items: [
        metaItem(
          referral({
            status: 'WAITLISTED',
            pendingStep: 'waitlist',
            gateOpenedAt: since,
            gateDueAt: '2026-12-29T10:00:00.000Z',
            waitlist: { since, track: 'evening', reviews: 3 },
          }),
        ),
        metaItem(
          referral({
            referralId: 'r2',
            status: 'ENROLLED',
            pendingStep: 'first-session',
            cohortId: 'c1',
            firstSession: { at: '2027-01-06T18:00:00-05:00', retries: 1 },
          }),
        ),
        metaItem(
          referral({ referralId: 'r3', status: 'STARTED', cohortId: 'c1', firstSession: { at: '2027-01-06T18:00:00-05:00', retries: 0 } }),
        ),
      ],
    });

    // Act
    const res = await list({});

    // Assess
    const items = bodyOf(res).items as Array<Record<string, unknown>>;
    expect(items[0]).toMatchObject({ status: 'WAITLISTED', waitlist: { since, track: 'evening' } });
    expect(items[0]!.waitlist).not.toHaveProperty('reviews');
    // its timer is the weekly review: never "overdue" like an SLA
    expect(items[0]).toMatchObject({ gateDueAt: '2026-12-29T10:00:00.000Z' });
    expect(items[0]).not.toHaveProperty('sla');
    expect(items[1]).toMatchObject({ status: 'ENROLLED', firstSession: { at: '2027-01-06T18:00:00-05:00', retries: 1 } });
    expect(items[2]).not.toHaveProperty('firstSession');
    expect(JSON.stringify(items)).not.toMatch(/cohortId|taskToken/);
  });
});
