import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancelled, eventItems, plainPuts, readsThen, storeIntake, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import {
  apiEvent,
  bodyOf,
  CASE_WORKER,
  HOUR,
  isoAgo,
  lambdaContext,
  metaItem,
  notice,
  noticeItem,
  referral,
  REFERRAL_ID,
  SUPERVISOR,
  TEST_NOW,
  validIntake,
} from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

// the caseload routes: assignment, "My referrals", the contact log, consent revocation. Each change
// is one conditional write (the referral's version) with its timeline event; none moves the workflow.

const { m, handler } = handlerUnderTest(() => import('../../../../functions/manage-caseload/handler'));

const route = (path: string, body: unknown, claims: Record<string, unknown> = CASE_WORKER) =>
  handler(apiEvent(`POST /api/staff/referrals/{id}/${path}`, { body, claims, pathParameters: { id: REFERRAL_ID } }), lambdaContext);

const stored = (r: ReferralRecord) => storeReferral(m, r);

/** the outbox of the referral as repo.notices() reads it */
const outbox = (...notices: ReturnType<typeof notice>[]) => {
  m.ddb.on(QueryCommand, { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)' }).resolves({ Items: notices.map(noticeItem) });
};

const metaPut = (tx: NonNullable<ReturnType<typeof transactions>[number]>) => tx[0]!.Put!;

const CASEY = { kind: 'staff', sub: CASE_WORKER.sub, username: 'casey' };
const assignedTo = (username: string) => ({ username, since: isoAgo(HOUR) });

beforeEach(() => {
  storeIntake(m, REFERRAL_ID, validIntake());
});

describe('POST /api/staff/referrals/{id}/assignment', () => {
  test('assigning to oneself writes the owner on the referral (indexed for My referrals) with an ASSIGNED event, conditional on the version', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 6, urgent: true }));

    // Act
    const res = await route('assignment', { assignee: 'casey', expected: null });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, assignedTo: { username: 'casey', sub: CASE_WORKER.sub, since: TEST_NOW } });
    const [tx] = transactions(m);
    expect(metaPut(tx!)).toMatchObject({
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: { ':prev': 6 },
      Item: {
        version: 7,
        status: 'EVALUATION',
        assignedTo: { username: 'casey' },
        gsi3pk: 'OWNER#casey',
        gsi3sk: expect.stringMatching(/^0#/),
      },
    });
    expect(eventItems(tx!)).toEqual([expect.objectContaining({ type: 'ASSIGNED', actor: CASEY, detail: { to: 'casey', from: null } })]);
  });

  test('a case worker may assign an unassigned referral to a colleague', async () => {
    // Prepare
    stored(referral({ status: 'INSURANCE_REVIEW' }));

    // Act
    const res = await route('assignment', { assignee: 'sam' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(metaPut(transactions(m)[0]!).Item).toMatchObject({ assignedTo: { username: 'sam' }, gsi3pk: 'OWNER#sam' });
    expect(metaPut(transactions(m)[0]!).Item!.assignedTo).not.toHaveProperty('sub');
  });

  test("taking over a colleague's referral without naming them is a 409 AlreadyAssigned, and nothing is written", async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', assignedTo: assignedTo('sam') }));

    // Act
    const res = await route('assignment', { assignee: 'casey' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AlreadyAssigned', message: expect.stringContaining('sam') });
    expect(transactions(m)).toEqual([]);
  });

  test('a takeover naming the owner it saw is recorded with both owners', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', assignedTo: assignedTo('sam') }));

    // Act
    const res = await route('assignment', { assignee: 'casey', expected: 'sam' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(eventItems(transactions(m)[0]!)).toEqual([expect.objectContaining({ type: 'ASSIGNED', detail: { to: 'casey', from: 'sam' } })]);
  });

  test('an owner changed meanwhile (expected is stale) is a 409 AssignmentChanged naming the new owner', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', assignedTo: assignedTo('dana') }));

    // Act
    const res = await route('assignment', { assignee: 'casey', expected: 'sam' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AssignmentChanged', message: expect.stringContaining('dana') });
    expect(transactions(m)).toEqual([]);
  });

  test('the owner may hand a referral over or release it; a released referral leaves the caseload index', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', assignedTo: assignedTo('casey') }));

    // Act
    const res = await route('assignment', { assignee: null });

    // Assess
    expect(res.statusCode).toBe(200);
    const item = metaPut(transactions(m)[0]!).Item!;
    expect(item).not.toHaveProperty('gsi3pk');
    expect(item.assignedTo).toBeUndefined();
    expect(eventItems(transactions(m)[0]!)).toEqual([expect.objectContaining({ detail: { to: null, from: 'casey' } })]);
  });

  test('assigning the current owner again changes nothing', async () => {
    stored(referral({ status: 'EVALUATION', assignedTo: assignedTo('casey') }));
    expect((await route('assignment', { assignee: 'casey' })).statusCode).toBe(200);
    expect(transactions(m)).toEqual([]);
  });

  test('a closed referral cannot be assigned (409 AlreadyClosed)', async () => {
    stored(referral({ status: 'WITHDRAWN' }));
    const res = await route('assignment', { assignee: 'casey' });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AlreadyClosed' });
  });

  test('a lost race (a gate opened meanwhile) is read again and written on the new version', async () => {
    // Prepare
    readsThen(
      m,
      referral({ status: 'EVALUATION', version: 4 }),
      referral({ status: 'EVALUATION', version: 5, pendingStep: 'evaluation', taskToken: 'tt' }),
    );
    m.ddb.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).resolves({});

    // Act
    const res = await route('assignment', { assignee: 'casey' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [, second] = transactions(m);
    expect(metaPut(second!)).toMatchObject({
      ExpressionAttributeValues: { ':prev': 5 },
      Item: { version: 6, taskToken: 'tt', assignedTo: { username: 'casey' } },
    });
  });

  test.each([
    ['an assignee that is not a username', { assignee: 'casey; drop' }, 'assignee'],
    ['no assignee at all', {}, 'assignee'],
  ])('%s is a 400 naming %s', async (_what, body, path) => {
    stored(referral({ status: 'EVALUATION' }));
    const res = await route('assignment', body);
    expect(res.statusCode).toBe(400);
    expect(Object.keys(bodyOf(res).fields as object)).toEqual([path]);
  });

  test('a user with no staff group is a 403', async () => {
    const res = await route('assignment', { assignee: 'pat' }, { ...CASE_WORKER, username: 'pat', 'cognito:groups': [] });
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /api/staff/caseload', () => {
  test('"My referrals" reads the caller\'s owner index, urgent first (the index order), as queue summaries', async () => {
    // Prepare
    m.ddb
      .on(QueryCommand, { IndexName: 'gsi3' })
      .resolves({ Items: [metaItem(referral({ status: 'EVALUATION', urgent: true, assignedTo: assignedTo('casey') }))] });

    // Act
    const res = await handler(apiEvent('GET /api/staff/caseload', { claims: CASE_WORKER }), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({
      items: [expect.objectContaining({ referralId: REFERRAL_ID, urgent: true, assignedTo: 'casey', status: 'EVALUATION' })],
    });
    const [q] = m.ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(q).toMatchObject({
      IndexName: 'gsi3',
      KeyConditionExpression: 'gsi3pk = :pk',
      ExpressionAttributeValues: { ':pk': 'OWNER#casey' },
      ScanIndexForward: true,
    });
  });

  // was a bug: the owner index's keys (gsi3pk/gsi3sk) were not among the cursor's key attributes,
  // so the next-page cursor of a full first page came back as a 400 InvalidCursor
  test('the next page continues from where the first stopped, with the cursor the first page gave', async () => {
    // Prepare
    const lastKey = {
      pk: `REFERRAL#${REFERRAL_ID}`,
      sk: 'META',
      gsi3pk: 'OWNER#casey',
      gsi3sk: `1#2026-12-20T15:00:00.000Z#${REFERRAL_ID}`,
    };
    m.ddb
      .on(QueryCommand, { IndexName: 'gsi3' })
      .resolves({ Items: [metaItem(referral({ status: 'EVALUATION', assignedTo: assignedTo('casey') }))], LastEvaluatedKey: lastKey });
    const first = bodyOf(await handler(apiEvent('GET /api/staff/caseload', { claims: CASE_WORKER }), lambdaContext)) as {
      nextCursor: string;
    };

    // Act
    const res = await handler(
      apiEvent('GET /api/staff/caseload', { claims: CASE_WORKER, queryStringParameters: { cursor: first.nextCursor } }),
      lambdaContext,
    );

    // Assess
    expect(res.statusCode).toBe(200);
    expect(m.ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);
  });

  test("a colleague's caseload with ?assignee=", async () => {
    await handler(apiEvent('GET /api/staff/caseload', { claims: SUPERVISOR, queryStringParameters: { assignee: 'casey' } }), lambdaContext);
    expect(m.ddb.commandCalls(QueryCommand)[0]!.args[0].input.ExpressionAttributeValues).toEqual({ ':pk': 'OWNER#casey' });
  });
});

describe('POST /api/staff/referrals/{id}/contacts', () => {
  test('logs the attempt with a CONTACT_LOGGED event and keeps it as the last contact', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 8 }));

    // Act
    const res = await route('contacts', { channel: 'phone', outcome: 'left-message', note: 'Voicemail, will try again after 5 pm' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [tx] = transactions(m);
    expect(metaPut(tx!)).toMatchObject({
      ExpressionAttributeValues: { ':prev': 8 },
      Item: { version: 9, status: 'EVALUATION', lastContact: { at: TEST_NOW, channel: 'phone', outcome: 'left-message', by: CASEY } },
    });
    expect(eventItems(tx!)).toEqual([
      expect.objectContaining({
        type: 'CONTACT_LOGGED',
        actor: CASEY,
        detail: { channel: 'phone', outcome: 'left-message', attemptedAt: TEST_NOW, note: 'Voicemail, will try again after 5 pm' },
      }),
    ]);
  });

  test('an earlier attempt logged late goes on the timeline but does not replace a later last contact', async () => {
    // Prepare
    const later = {
      at: isoAgo(HOUR),
      channel: 'text' as const,
      outcome: 'reached' as const,
      by: { kind: 'staff' as const, username: 'sam' },
    };
    stored(referral({ status: 'EVALUATION', lastContact: later }));

    // Act
    await route('contacts', { channel: 'email', outcome: 'no-answer', at: isoAgo(3 * HOUR) });

    // Assess
    const [tx] = transactions(m);
    expect(metaPut(tx!).Item!.lastContact).toEqual(later);
    expect(eventItems(tx!)[0]).toMatchObject({ detail: { attemptedAt: isoAgo(3 * HOUR) } });
  });

  test.each([
    ['a channel that is not phone, text or email', { channel: 'fax', outcome: 'reached' }, 'channel'],
    ['an unknown outcome', { channel: 'phone', outcome: 'maybe' }, 'outcome'],
    [
      'an attempt in the future',
      { channel: 'phone', outcome: 'reached', at: new Date(Date.parse(TEST_NOW) + 2 * HOUR).toISOString() },
      'at',
    ],
  ])('%s is a 400 naming %s', async (_what, body, path) => {
    stored(referral({ status: 'EVALUATION' }));
    const res = await route('contacts', body);
    expect(res.statusCode).toBe(400);
    expect(Object.keys(bodyOf(res).fields as object)).toEqual([path]);
    expect(transactions(m)).toEqual([]);
  });
});

describe('POST /api/staff/referrals/{id}/consent-revocation', () => {
  const physicianNotice = notice({ key: 'accepted:physician', audience: 'physician', notice: 'accepted', milestone: 'accepted' });
  const patientNotice = notice({ key: 'received:patient' });

  test('records when and how it was received and by whom, and cancels the pending physician notices in the same transaction', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT', version: 10 }));
    outbox(physicianNotice, patientNotice, notice({ key: 'received:physician', audience: 'physician', state: 'sent' }));

    // Act
    const res = await route('consent-revocation', { receivedVia: 'phone', receivedAt: isoAgo(2 * HOUR), note: 'Called the front desk' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({
      referralId: REFERRAL_ID,
      consentRevoked: { at: isoAgo(2 * HOUR), receivedVia: 'phone', by: CASEY },
      cancelledNotices: 1,
    });
    const [tx] = transactions(m);
    expect(metaPut(tx!)).toMatchObject({
      ExpressionAttributeValues: { ':prev': 10 },
      Item: { status: 'ENROLLMENT', consentRevoked: { at: isoAgo(2 * HOUR), receivedVia: 'phone' } },
    });
    expect(eventItems(tx!).map((e) => [e.type, e.detail])).toEqual([
      ['CONSENT_REVOKED', { receivedVia: 'phone', receivedAt: isoAgo(2 * HOUR), note: 'Called the front desk', cancelledNotices: 1 }],
      ['NOTICE_CANCELLED', { audience: 'physician', notice: 'accepted', milestone: 'accepted', reason: 'consent revoked' }],
    ]);
    const cancels = tx!.filter((i) => i.Update);
    expect(cancels).toEqual([
      {
        Update: expect.objectContaining({
          Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#accepted:physician' },
          UpdateExpression: 'SET #state = :cancelled REMOVE gsi1pk, gsi1sk',
          ConditionExpression: '#state = :pending',
        }),
      },
    ]);
  });

  test('without a time given, the revocation counts from now', async () => {
    stored(referral({ status: 'EVALUATION' }));
    const res = await route('consent-revocation', { receivedVia: 'letter' });
    expect(bodyOf(res)).toMatchObject({ consentRevoked: { at: TEST_NOW, receivedVia: 'letter' }, cancelledNotices: 0 });
  });

  test('a notice a sender claimed meanwhile is a lost race: read again, and only what is still pending is cancelled', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT', version: 10 }));
    m.ddb
      .on(QueryCommand, { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)' })
      .resolvesOnce({ Items: [noticeItem(physicianNotice)] })
      .resolves({ Items: [noticeItem({ ...physicianNotice, state: 'sending' })] });
    m.ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'None', 'None', 'ConditionalCheckFailed'))
      .resolves({});

    // Act
    const res = await route('consent-revocation', { receivedVia: 'email' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ cancelledNotices: 0 });
    expect(transactions(m)).toHaveLength(2);
    expect(transactions(m)[1]!.filter((i) => i.Update)).toEqual([]);
  });

  test('a second revocation is a 409 AlreadyRevoked', async () => {
    stored(referral({ status: 'EVALUATION', consentRevoked: { at: isoAgo(HOUR), receivedVia: 'phone', by: CASEY as never } }));
    const res = await route('consent-revocation', { receivedVia: 'phone' });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AlreadyRevoked' });
    expect(transactions(m)).toEqual([]);
  });

  test('a person who never consented has nothing to revoke (409 NoConsent)', async () => {
    stored(referral({ status: 'EVALUATION' }));
    storeIntake(m, REFERRAL_ID, { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });
    const res = await route('consent-revocation', { receivedVia: 'phone' });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NoConsent' });
  });

  test.each([
    ['an unknown way of receiving it', { receivedVia: 'fax' }, 'receivedVia'],
    ['a time in the future', { receivedVia: 'phone', receivedAt: new Date(Date.parse(TEST_NOW) + 86_400_000).toISOString() }, 'receivedAt'],
    ['a time that is not ISO 8601', { receivedVia: 'phone', receivedAt: 'yesterday' }, 'receivedAt'],
  ])('%s is a 400 naming %s', async (_what, body, path) => {
    stored(referral({ status: 'EVALUATION' }));
    const res = await route('consent-revocation', body);
    expect(res.statusCode).toBe(400);
    expect(Object.keys(bodyOf(res).fields as object)).toEqual([path]);
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m)).toEqual([]);
  });

  test('an unknown referral is a 404', async () => {
    m.ddb.on(GetCommand).resolves({});
    const res = await route('consent-revocation', { receivedVia: 'phone' });
    expect(res.statusCode).toBe(404);
    expect(m.ddb.commandCalls(PutCommand)).toEqual([]);
  });
});
