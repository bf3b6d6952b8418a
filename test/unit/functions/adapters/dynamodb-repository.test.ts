import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { answerDefaults, cancelled, mocks, plainPuts, putItems, resetMocks, transactions } from '../support/aws';
import { notice, referral, REFERRAL_ID, setTestEnv, TEST_NOW } from '../support/fixtures';
import { DynamoDbReferralRepository } from '../../../../functions/lib/adapters/dynamodb-repository';
import type { NewEvent } from '../../../../functions/lib/adapters/ports';

// the outbox's table side: what a change writes with its notices, how a claimed notice settles

const m = mocks();
let repo: DynamoDbReferralRepository;

beforeAll(() => {
  setTestEnv();
  repo = new DynamoDbReferralRepository(new DynamoDBClient({ region: 'us-east-1' }), 'iop-test-table');
});

beforeEach(() => {
  answerDefaults(m);
});

afterEach(() => {
  resetMocks(m);
});

const changed: NewEvent = { at: TEST_NOW, type: 'STATUS_CHANGED', actor: { kind: 'system' }, from: 'DETOX', to: 'WITHDRAWN' };

describe('save: a change and its notices', () => {
  test('one transaction: the META put on the version read, its events, then its notices, each notice once (attribute_not_exists)', async () => {
    // Act
    await repo.save(referral({ status: 'WITHDRAWN', version: 6 }), [changed], {
      notices: [notice({ key: 'closed:patient', status: 'WITHDRAWN' })],
    });

    // Assess
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx!.map((i) => [String(i.Put?.Item?.sk).replace(/#.*/, '#'), i.Put?.ConditionExpression])).toEqual([
      ['META', 'version = :prev'],
      ['EVENT#', 'attribute_not_exists(pk)'],
      ['NOTICE#', 'attribute_not_exists(pk)'],
    ]);
    expect(putItems(tx!)[2]).toMatchObject({
      pk: `REFERRAL#${REFERRAL_ID}`,
      sk: 'NOTICE#closed:patient',
      entity: 'notice',
      gsi1pk: 'NOTICES#DUE',
    });
  });

  test('notices alone (no event) still make it a transaction, not a plain put', async () => {
    // Act
    await repo.save(referral({ version: 6 }), [], { notices: [notice()] });

    // Assess
    expect(transactions(m)).toHaveLength(1);
    expect(plainPuts(m)).toEqual([]);
  });

  test('the version condition failing is a ConflictError (Conflict), which the services re-read on', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

    // Act
    const run = repo.save(referral({ version: 6 }), [changed], { notices: [notice()] });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ConflictError', code: 'Conflict' });
  });

  test('a transaction conflict with another writer is a ConflictError (Conflict) too', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict', 'None'));

    // Act
    const run = repo.save(referral({ version: 6 }), [changed]);

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'Conflict' });
  });

  test('a change without events, seat or notices is one conditional put; its condition failing is a Conflict', async () => {
    // Prepare
    m.ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    // Act
    const run = repo.save(referral({ version: 6 }), []);

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'Conflict' });
    expect(transactions(m)).toEqual([]);
  });
});

describe('save: seats', () => {
  const noShow: NewEvent = { at: TEST_NOW, type: 'STATUS_CHANGED', actor: { kind: 'system' }, from: 'ENROLLED', to: 'NO_SHOW' };

  test("a release is the counter down (never below zero) and the SEAT item removed, in the change's own transaction", async () => {
    // Act
    await repo.save(referral({ status: 'NO_SHOW', version: 9, cohortId: 'c1', seatReleasedAt: TEST_NOW }), [noShow], {
      seat: { cohortId: 'c1', release: true },
      notices: [notice({ key: 'closed:patient' })],
    });

    // Assess
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx!.map((i) => Object.keys(i)[0])).toEqual(['Put', 'Put', 'Update', 'Delete', 'Put']);
    expect(tx![2]!.Update).toMatchObject({
      Key: { pk: 'COHORT#c1', sk: 'META' },
      UpdateExpression: 'SET seats = seats - :one',
      ConditionExpression: 'attribute_exists(pk) AND seats > :zero',
    });
    expect(tx![3]!.Delete).toMatchObject({
      Key: { pk: 'COHORT#c1', sk: `SEAT#${REFERRAL_ID}` },
      ConditionExpression: 'attribute_exists(pk)',
    });
  });

  test('a release the cohort does not agree with (no SEAT item, or the counter at zero) writes nothing and fails SeatNotHeld, not CohortFull', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'None', 'ConditionalCheckFailed'));

    // Act
    const run = repo.save(referral({ status: 'NO_SHOW', version: 9, cohortId: 'c1' }), [noShow], {
      seat: { cohortId: 'c1', release: true },
    });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'SeatNotHeld' });
  });

  test('the waitlist queues by the time waitlisted alone; other queues urgent first, then by intake', async () => {
    // Act
    await repo.save(
      referral({
        status: 'WAITLISTED',
        urgent: true,
        version: 9,
        waitlist: { since: '2026-12-20T10:00:00.000Z', track: 'evening', reviews: 0 },
      }),
      [changed],
    );
    await repo.save(referral({ status: 'ENROLLED', urgent: true, version: 10 }), [changed]);

    // Assess
    const [waitlisted, enrolled] = transactions(m).map((tx) => tx[0]!.Put!.Item!);
    expect(waitlisted).toMatchObject({ gsi1pk: 'STATUS#WAITLISTED', gsi1sk: `1#2026-12-20T10:00:00.000Z#${REFERRAL_ID}` });
    expect(enrolled).toMatchObject({ gsi1pk: 'STATUS#ENROLLED', gsi1sk: `0#${referral().receivedAt}#${REFERRAL_ID}` });
  });
});

describe('the outbox: claims and settling', () => {
  test('a claim whose condition fails is no claim (undefined); any other table error is thrown', async () => {
    // Prepare
    m.ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }))
      .rejects(Object.assign(new Error('x'), { name: 'InternalServerError' }));

    // Act
    const first = await repo.claimNotice(REFERRAL_ID, 'received:patient', TEST_NOW, TEST_NOW);
    const second = repo.claimNotice(REFERRAL_ID, 'received:patient', TEST_NOW, TEST_NOW);

    // Assess
    expect(first).toBeUndefined();
    await expect(second).rejects.toMatchObject({ name: 'InternalServerError' });
  });

  test('settling after the lease was taken over is a ConflictError NoticeClaimLost', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

    // Act
    const run = repo.noticeSent(notice({ state: 'sending' }), 'msg-1', { type: 'NOTICE_SENT', actor: { kind: 'system' } });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ConflictError', code: 'NoticeClaimLost' });
  });

  test('each failed try has its own NOTICE_FAILED event (keyed by attempt), so the timeline shows every try', async () => {
    // Act
    await repo.noticeFailed(notice({ state: 'sending', attempts: 2 }), 'Throttling', TEST_NOW, {
      at: TEST_NOW,
      type: 'NOTICE_FAILED',
      actor: { kind: 'system' },
    });
    await repo.noticeFailed(notice({ state: 'sending', attempts: 3 }), 'Throttling', TEST_NOW, {
      at: TEST_NOW,
      type: 'NOTICE_FAILED',
      actor: { kind: 'system' },
    });

    // Assess
    expect(transactions(m).map((t) => t[1]!.Put!.Item!.sk)).toEqual([
      `EVENT#${TEST_NOW}#notice.received:patient.2`,
      `EVENT#${TEST_NOW}#notice.received:patient.3`,
    ]);
  });

  test('enqueue leaves a notice that exists as it is and throws on any other error', async () => {
    // Prepare
    m.ddb
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
      .rejects(Object.assign(new Error('x'), { name: 'InternalServerError' }));

    // Act
    const first = await repo.enqueue([notice({ key: 'notice-failed:received:patient:program', audience: 'program' })]);
    const second = repo.enqueue([notice({ key: 'notice-failed:closed:patient:program', audience: 'program' })]);

    // Assess
    expect(first).toBeUndefined();
    await expect(second).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(plainPuts(m).map((i) => i.sk)).toEqual([
      'NOTICE#notice-failed:received:patient:program',
      'NOTICE#notice-failed:closed:patient:program',
    ]);
  });

  test('due notices are read from the sparse due index up to now and handed back as (referral, key)', async () => {
    // Prepare
    m.ddb.on(QueryCommand).resolves({ Items: [{ referralId: REFERRAL_ID, key: 'closed:patient' }] });

    // Act
    const due = await repo.dueNotices(TEST_NOW, 25);

    // Assess
    expect(due).toEqual([{ referralId: REFERRAL_ID, key: 'closed:patient' }]);
    expect(m.ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :now',
      ExpressionAttributeValues: { ':pk': 'NOTICES#DUE', ':now': `${TEST_NOW}~` },
      Limit: 25,
    });
  });

  test('the timeline is ordered by time, notice events (fixed keys EVENT#notice#...) among the others', async () => {
    // Prepare
    m.ddb.on(QueryCommand).resolves({
      Items: [
        { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'EVENT#2026-12-01T10:00:00.000Z#1.0', type: 'RECEIVED', at: '2026-12-01T10:00:00.000Z' },
        { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'EVENT#2026-12-03T09:00:00.000Z#2.0', type: 'STATUS_CHANGED', at: '2026-12-03T09:00:00.000Z' },
        { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'EVENT#notice#received:patient', type: 'NOTICE_SENT', at: '2026-12-01T10:00:05.000Z' },
      ],
    });

    // Act
    const events = await repo.events(REFERRAL_ID);

    // Assess
    expect(events.map((e) => e.type)).toEqual(['RECEIVED', 'NOTICE_SENT', 'STATUS_CHANGED']);
    expect(events[1]).not.toHaveProperty('sk');
  });
});
