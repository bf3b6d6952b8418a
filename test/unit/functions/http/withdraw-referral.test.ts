import { beforeEach, describe, expect, test } from '@jest/globals';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { cancelled, eventItems, noticeItems, noticeKeys, readsThen, storeIntake, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { apiEvent, bodyOf, CASE_WORKER, lambdaContext, referral, REFERRAL_ID, TEST_ENV, TEST_NOW, validIntake } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/withdraw-referral/handler'));

const stored = (r: ReferralRecord) => storeReferral(m, r);

const versionConflict = () => cancelled('ConditionalCheckFailed', 'None', 'None', 'None', 'None');

const withdraw = (body: unknown) =>
  handler(
    apiEvent('POST /api/staff/referrals/{id}/withdraw', { body, claims: CASE_WORKER, pathParameters: { id: REFERRAL_ID } }),
    lambdaContext,
  );

beforeEach(() => {
  storeIntake(m, REFERRAL_ID, validIntake());
  m.sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
});

describe('POST /api/staff/referrals/{id}/withdraw', () => {
  test('a waiting referral is WITHDRAWN with the reason, its gate dropped and its execution stopped', async () => {
    // Prepare
    stored(
      referral({
        status: 'EVALUATION',
        pendingStep: 'evaluation',
        taskToken: 'tt',
        version: 5,
        unapplied: [{ step: 'insurance-review', route: { next: 'EVALUATION' } }],
      }),
    );

    // Act
    const res = await withdraw({ reason: 'Moved out of state' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'WITHDRAWN' });
    const [save] = transactions(m);
    expect(save![0]!.Put).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 5 } });
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'WITHDRAWN', version: 6 });
    for (const gone of ['taskToken', 'pendingStep', 'unapplied']) expect(save![0]!.Put!.Item![gone]).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({
        type: 'WITHDRAWN',
        actor: expect.objectContaining({ kind: 'staff', sub: 'sub-cw-1' }),
        detail: { reason: 'Moved out of state' },
      }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'WITHDRAWN' }),
    ]);
    expect(m.sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        executionArn: `${TEST_ENV.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${REFERRAL_ID}`,
        error: 'Referral.Withdrawn',
        cause: 'withdrawn by staff',
      },
    ]);
  });

  test('writes closed:patient and closed:physician into its own transaction and sends nothing itself', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 5 }));

    // Act
    await withdraw({ reason: 'Chose another program' });

    // Assess
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    expect(noticeKeys(txs[0]!)).toEqual(['closed:patient', 'closed:physician']);
    expect(noticeItems(txs[0]!)).toEqual([
      expect.objectContaining({
        audience: 'patient',
        notice: 'closed',
        milestone: 'closed',
        status: 'WITHDRAWN',
        state: 'pending',
        dueAt: TEST_NOW,
        gsi1pk: 'NOTICES#DUE',
      }),
      expect.objectContaining({
        audience: 'physician',
        notice: 'closed',
        milestone: 'closed',
        status: 'WITHDRAWN',
        state: 'pending',
        dueAt: TEST_NOW,
        gsi1pk: 'NOTICES#DUE',
      }),
    ]);
    // the reason is the program's note, not something the notices carry
    expect(JSON.stringify(noticeItems(txs[0]!))).not.toContain('Chose another program');
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('without consent to share, only the patient is to be told', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 5 }));
    storeIntake(m, REFERRAL_ID, { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });

    // Act
    await withdraw({ reason: 'Chose another program' });

    // Assess
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['closed:patient']);
  });

  test('a resumed referral stops its own execution (named <id>-r<n>)', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 8, execution: `${REFERRAL_ID}-r2`, resumes: 2 }));

    // Act
    await withdraw({ reason: 'Unreachable' });

    // Assess
    expect(m.sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      `${TEST_ENV.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${REFERRAL_ID}-r2`,
    ]);
  });

  test('a referral in NEEDS_ATTENTION whose execution already ended is still withdrawn', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', version: 5 }));
    m.sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

    // Act
    const res = await withdraw({ reason: 'Unreachable' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toMatchObject({ status: 'WITHDRAWN' });
    expect(transactions(m)).toHaveLength(1);
  });

  test.each(['STARTED', 'NO_SHOW', 'REFERRED_OUT'] as const)(
    'a closed referral (%s) is a 409 AlreadyClosed and nothing changes',
    async (status) => {
      // Prepare
      stored(referral({ status, cohortId: 'cohort-morning-a' }));

      // Act
      const res = await withdraw({ reason: 'duplicate' });

      // Assess
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res)).toMatchObject({ error: 'AlreadyClosed' });
      expect(transactions(m)).toEqual([]);
      expect(m.sfn.calls()).toHaveLength(0);
    },
  );

  test('an enrolled person withdrawn before the first session gives the seat back in the same transaction', async () => {
    // Prepare
    stored(
      referral({
        status: 'ENROLLED',
        pendingStep: 'first-session',
        taskToken: 'tt-first',
        version: 11,
        cohortId: 'cohort-morning-a',
        firstSession: { at: '2027-01-06T09:00:00-05:00', retries: 0 },
      }),
    );

    // Act
    const res = await withdraw({ reason: 'Chose a program closer to home' });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'WITHDRAWN' });
    const [save, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'WITHDRAWN', seatReleasedAt: TEST_NOW, cohortId: 'cohort-morning-a' });
    expect(save!.find((i) => i.Update)?.Update).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' },
      UpdateExpression: 'SET seats = seats - :one',
    });
    expect(save!.find((i) => i.Delete)?.Delete).toMatchObject({ Key: { pk: 'COHORT#cohort-morning-a', sk: `SEAT#${REFERRAL_ID}` } });
    expect(eventItems(save!).map((e) => e.type)).toEqual(['WITHDRAWN', 'STATUS_CHANGED', 'SEAT_RELEASED']);
    expect(noticeKeys(save!)).toEqual(['closed:patient', 'closed:physician']);
  });

  test('a waitlisted person holds no seat: withdrawn without touching a cohort', async () => {
    // Prepare
    stored(
      referral({
        status: 'WAITLISTED',
        pendingStep: 'waitlist',
        taskToken: 'tt-wait',
        waitlist: { since: TEST_NOW, track: 'morning', reviews: 0 },
      }),
    );

    // Act
    const res = await withdraw({ reason: 'Found a program elsewhere' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [save] = transactions(m);
    expect(save!.some((i) => i.Update || i.Delete)).toBe(false);
    expect(save![0]!.Put!.Item!.seatReleasedAt).toBeUndefined();
  });

  test('a referral that needs attention at its first session still holds its seat, and gives it back when withdrawn', async () => {
    // Prepare
    stored(
      referral({
        status: 'NEEDS_ATTENTION',
        pendingStep: 'first-session',
        taskToken: 'tt-first',
        breaches: 2,
        cohortId: 'cohort-morning-a',
      }),
    );

    // Act
    await withdraw({ reason: 'Moved away' });

    // Assess
    expect(transactions(m)[0]!.find((i) => i.Delete)?.Delete).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: `SEAT#${REFERRAL_ID}` },
    });
  });

  test('a missing reason is a 400 naming reason', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION' }));

    // Act
    const res = await withdraw({});

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { reason: [expect.any(String)] } });
    expect(transactions(m)).toEqual([]);
  });
});

describe('POST /api/staff/referrals/{id}/withdraw racing another writer', () => {
  test('a withdraw that loses to another withdraw commits nothing, tells nobody and stops nothing: 409 AlreadyClosed', async () => {
    // Prepare: read at DETOX; the other withdraw commits first, so this save fails its version condition
    readsThen(m, referral({ status: 'DETOX', version: 5 }), referral({ status: 'WITHDRAWN', version: 6 }));
    m.ddb.on(TransactWriteCommand).rejects(versionConflict());

    // Act
    const res = await withdraw({ reason: 'duplicate click' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AlreadyClosed' });
    expect(transactions(m)).toHaveLength(1); // the one that was cancelled: its notices were never written
    expect(m.ses.calls()).toHaveLength(0);
    expect(m.sfn.calls()).toHaveLength(0);
  });

  test('a withdraw that loses to a decision re-reads and withdraws from the new status, its notices written once, in the commit', async () => {
    // Prepare: an evaluation accept (EVALUATION → DETOX) committed between the read and the save
    readsThen(
      m,
      referral({ status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'tt', version: 5 }),
      referral({ status: 'DETOX', version: 6, decided: { evaluation: { next: 'DETOX', timeoutSeconds: 1_209_600 } } }),
    );
    m.ddb.on(TransactWriteCommand).rejectsOnce(versionConflict()).resolves({});

    // Act
    const res = await withdraw({ reason: 'Chose another program' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [lost, won, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(lost![0]!.Put!.ExpressionAttributeValues).toEqual({ ':prev': 5 });
    expect(won![0]!.Put!.ExpressionAttributeValues).toEqual({ ':prev': 6 });
    expect(won![0]!.Put!.Item).toMatchObject({ status: 'WITHDRAWN', version: 7 });
    expect(eventItems(won!)).toContainEqual(expect.objectContaining({ type: 'STATUS_CHANGED', from: 'DETOX', to: 'WITHDRAWN' }));
    expect(noticeKeys(won!)).toEqual(['closed:patient', 'closed:physician']);
    expect(m.ses.calls()).toHaveLength(0);
  });
});
