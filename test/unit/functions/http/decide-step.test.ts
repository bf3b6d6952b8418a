import { beforeEach, describe, expect, test } from '@jest/globals';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import {
  cancelled,
  eventItems,
  noticeItems,
  noticeKeys,
  plainPuts,
  readsThen,
  storeCohort,
  storeIntake,
  storeReferral,
  transactions,
} from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import {
  apiEvent,
  bodyOf,
  CASE_WORKER,
  cohort,
  cohortItem,
  dayFromToday,
  DAY,
  isoAgo,
  lambdaContext,
  referral,
  REFERRAL_ID,
  TEST_ENV,
  TEST_NOW,
  validIntake,
} from '../support/fixtures';
import { nowMs } from '../../../../functions/lib/clock';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/decide-step/handler'));

const DETOX_GATE_SECONDS = 14 * 86_400;
const ENROLLMENT_GATE_SECONDS = 72 * 3600;

const atGate = (over: Partial<ReferralRecord> = {}): ReferralRecord =>
  referral({
    status: 'EVALUATION',
    pendingStep: 'evaluation',
    taskToken: 'task-token-evaluation',
    version: 4,
    gateOpenedAt: isoAgo(DAY),
    gateDueAt: new Date(nowMs() + DAY).toISOString(),
    eligibility: { outcome: 'covered', checkedAt: isoAgo(2 * DAY), summary: 'covered' },
    reached: { RECEIVED: isoAgo(3 * DAY), EVALUATION: isoAgo(DAY) },
    ...over,
  });

/** the referral's status already reads the gate's, but its task token is not stored yet */
const opening = (status: ReferralRecord['status'], over: Partial<ReferralRecord> = {}): ReferralRecord =>
  atGate({ status, pendingStep: undefined, taskToken: undefined, gateOpenedAt: undefined, gateDueAt: undefined, ...over });

const stored = (r: ReferralRecord) => storeReferral(m, r);

const evaluation = {
  dimensions: { d1: 3, d2: 1, d3: 2, d4: 2, d5: 3, d6: 2 },
  recommendedLevel: '2.1',
  detoxRequired: true,
  decision: 'accept',
  note: 'alcohol withdrawal, needs detox first',
};

const decide = (step: string, body: unknown, claims: Record<string, unknown> = CASE_WORKER) =>
  handler(
    apiEvent('POST /api/staff/referrals/{id}/steps/{step}', { body, claims, pathParameters: { id: REFERRAL_ID, step } }),
    lambdaContext,
  );

const resumed = () => m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);

const versionConflict = () => cancelled('ConditionalCheckFailed', 'None', 'None');

const withoutConsent = () => ({ ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });

beforeEach(() => {
  storeIntake(m, REFERRAL_ID, validIntake());
  m.sfn.on(SendTaskSuccessCommand).resolves({});
});

describe('POST /api/staff/referrals/{id}/steps/evaluation at an open gate', () => {
  test('a valid evaluation answers 200 with the new status', async () => {
    // Prepare
    stored(atGate());

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'DETOX', decided: 'evaluation' });
  });

  test('writes the referral conditional on the version read, with STEP_DECIDED and STATUS_CHANGED events', async () => {
    // Prepare
    stored(atGate({ version: 4 }));

    // Act
    await decide('evaluation', evaluation);

    // Assess
    const [first, ...more] = transactions(m);
    expect(more).toEqual([]);
    const meta = first![0]!.Put!;
    expect(meta.ConditionExpression).toBe('version = :prev');
    expect(meta.ExpressionAttributeValues).toEqual({ ':prev': 4 });
    expect(meta.Item).toMatchObject({
      pk: `REFERRAL#${REFERRAL_ID}`,
      sk: 'META',
      version: 5,
      status: 'DETOX',
      gsi1pk: 'STATUS#DETOX',
      breaches: 0,
      detoxSince: TEST_NOW,
      decided: { evaluation: { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS } },
      // the token it resumes is kept until the next gate opens: sweep hands over a decision whose resume never happened
      handover: { token: 'task-token-evaluation', route: { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS } },
    });
    for (const gone of ['pendingStep', 'taskToken', 'gateOpenedAt', 'gateDueAt', 'unapplied']) expect(meta.Item![gone]).toBeUndefined();
    expect(eventItems(first!)).toEqual([
      expect.objectContaining({
        type: 'STEP_DECIDED',
        step: 'evaluation',
        actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' },
        detail: evaluation,
      }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'DETOX' }),
    ]);
  });

  test('resumes the workflow with the stored token and {"next":"DETOX","timeoutSeconds":<14 days>} after the save', async () => {
    // Prepare
    stored(atGate());

    // Act
    await decide('evaluation', evaluation);

    // Assess
    expect(resumed()).toEqual([
      { taskToken: 'task-token-evaluation', output: JSON.stringify({ next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS }) },
    ]);
    const [save] = m.ddb.commandCalls(TransactWriteCommand);
    const [resume] = m.sfn.commandCalls(SendTaskSuccessCommand);
    expect(save!.calledBefore(resume!)).toBe(true);
  });

  test("an acceptance writes the consenting physician's accepted:physician notice in the same transaction, and sends nothing", async () => {
    // Prepare
    stored(atGate());

    // Act
    const res = await decide('evaluation', { ...evaluation, detoxRequired: false });

    // Assess
    expect(res.statusCode).toBe(200);
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    expect(txs[0]![0]!.Put!.Item).toMatchObject({ status: 'ENROLLMENT' });
    const notice = txs[0]!.find((i) => i.Put?.Item?.sk === 'NOTICE#accepted:physician');
    expect(notice!.Put).toEqual({
      TableName: TEST_ENV.TABLE_NAME,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `REFERRAL#${REFERRAL_ID}`,
        sk: 'NOTICE#accepted:physician',
        gsi1pk: 'NOTICES#DUE',
        gsi1sk: `${TEST_NOW}#${REFERRAL_ID}#accepted:physician`,
        entity: 'notice',
        referralId: REFERRAL_ID,
        key: 'accepted:physician',
        audience: 'physician',
        notice: 'accepted',
        milestone: 'accepted',
        status: 'ENROLLMENT',
        state: 'pending',
        attempts: 0,
        createdAt: TEST_NOW,
        dueAt: TEST_NOW,
      },
    });
    expect(noticeKeys(txs[0]!)).toEqual(['accepted:physician']);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('an acceptance without consent to share writes no notice', async () => {
    // Prepare
    stored(atGate());
    storeIntake(m, REFERRAL_ID, withoutConsent());

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(noticeItems(transactions(m)[0]!)).toEqual([]);
  });

  test('a refer-out closes: closed:patient and closed:physician in the same transaction, nothing else', async () => {
    // Prepare
    stored(atGate());

    // Act
    const res = await decide('evaluation', { ...evaluation, decision: 'refer-out', referOutTo: 'Residential program' });

    // Assess
    expect(bodyOf(res)).toMatchObject({ status: 'REFERRED_OUT' });
    const [tx] = transactions(m);
    expect(noticeKeys(tx!)).toEqual(['closed:patient', 'closed:physician']);
    expect(noticeItems(tx!)).toEqual([
      expect.objectContaining({ audience: 'patient', notice: 'closed', status: 'REFERRED_OUT' }),
      expect.objectContaining({ audience: 'physician', notice: 'closed', status: 'REFERRED_OUT' }),
    ]);
    expect(resumed().map((r) => r.output)).toEqual(['{"next":"REFERRED_OUT"}']);
  });

  test('a refer-out without where is a 400 naming referOutTo and changes nothing', async () => {
    // Prepare
    stored(atGate());

    // Act
    const res = await decide('evaluation', { ...evaluation, decision: 'refer-out' });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { referOutTo: [expect.any(String)] } });
    expect(transactions(m)).toEqual([]);
    expect(resumed()).toEqual([]);
  });

  test('a step that is not the one waiting is a 409 NotPending and the workflow is not touched', async () => {
    // Prepare
    stored(atGate({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'task-token-insurance' }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
    expect(resumed()).toEqual([]);
  });

  test('a step already decided (the referral moved to the next status) is a 409 NotPending', async () => {
    // Prepare
    stored(opening('DETOX', { decided: { evaluation: { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS } } }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
  });

  test('an unknown step name is a 400 naming step', async () => {
    // Act
    const res = await decide('approve-everything', evaluation);

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ error: 'ValidationError', fields: { step: [expect.any(String)] } });
  });

  test('an unknown referral is a 404', async () => {
    const res = await decide('evaluation', evaluation);
    expect(res.statusCode).toBe(404);
  });

  test('a decision that lands after the gate timed out is still recorded (200) and the failed resume is only logged', async () => {
    // Prepare
    stored(atGate());
    m.sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(resumed()).toHaveLength(1);
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'DETOX',
      decided: { evaluation: { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS } },
    });
    // the escalation reopens the gate from `decided`; nothing is queued here
    expect(tx![0]!.Put!.Item!.unapplied).toBeUndefined();
  });
});

describe('a decision racing another writer (the version condition failed)', () => {
  test('re-reads and decides again on what is there now: the second try commits on the new version and resumes the new token', async () => {
    // Prepare: the first read sees the gate at version 4; meanwhile it reopened with a new token (version 5)
    readsThen(m, atGate({ version: 4 }), atGate({ version: 5, taskToken: 'task-token-reopened' }));
    m.ddb.on(TransactWriteCommand).rejectsOnce(versionConflict()).resolves({});

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    const txs = transactions(m);
    expect(txs.map((t) => t[0]!.Put!.ExpressionAttributeValues)).toEqual([{ ':prev': 4 }, { ':prev': 5 }]);
    expect(txs.map(noticeKeys)).toEqual([['accepted:physician'], ['accepted:physician']]);
    expect(resumed()).toEqual([
      { taskToken: 'task-token-reopened', output: JSON.stringify({ next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS }) },
    ]);
  });

  test('a re-read that finds the step decided by someone else is a 409 NotPending, with nothing committed and nothing resumed', async () => {
    // Prepare
    readsThen(
      m,
      atGate({ version: 4 }),
      opening('ENROLLMENT', { version: 5, decided: { evaluation: { next: 'ENROLLMENT', timeoutSeconds: ENROLLMENT_GATE_SECONDS } } }),
    );
    m.ddb.on(TransactWriteCommand).rejects(versionConflict());

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toHaveLength(1);
    expect(resumed()).toEqual([]);
  });

  test('keeps failing its condition: a bounded number of tries (6), then a 409 Conflict and the workflow is not resumed', async () => {
    // Prepare
    stored(atGate());
    m.ddb.on(TransactWriteCommand).rejects(versionConflict());

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'Conflict' });
    expect(transactions(m)).toHaveLength(6);
    expect(resumed()).toEqual([]);
  });
});

describe("a decision while the gate is opening (status is the gate's, its token not stored yet)", () => {
  test('an evaluation is accepted: 200, saved with an unapplied entry, its notice written, and no workflow call', async () => {
    // Prepare
    stored(opening('EVALUATION', { version: 3 }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'DETOX', decided: 'evaluation' });
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx![0]!.Put).toMatchObject({ ExpressionAttributeValues: { ':prev': 3 } });
    const route = { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS };
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'DETOX',
      version: 4,
      decided: { evaluation: route },
      unapplied: [{ step: 'evaluation', route }],
    });
    expect(eventItems(tx!).map((e) => e.type)).toEqual(['STEP_DECIDED', 'STATUS_CHANGED']);
    expect(noticeKeys(tx!)).toEqual(['accepted:physician']);
    expect(resumed()).toEqual([]);
    expect(m.sfn.calls()).toHaveLength(0);
  });

  test('an enrollment is accepted with its seat and its notices in one transaction, queued for the gate', async () => {
    // Prepare
    stored(opening('ENROLLMENT', { version: 9 }));
    storeCohort(m, cohort({ seats: 3 }));

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [tx] = transactions(m);
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'ENROLLED',
      cohortId: 'cohort-morning-a',
      unapplied: [{ step: 'enrollment', route: { next: 'ENROLLED' } }],
    });
    expect(tx![3]!.Update).toMatchObject({ Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' } });
    expect(noticeKeys(tx!)).toEqual(['enrolled:patient', 'enrolled:physician']);
    expect(resumed()).toEqual([]);
  });

  test('other decisions already waiting for their gates are kept', async () => {
    // Prepare
    const earlier = { step: 'insurance-review' as const, route: { next: 'EVALUATION' as const, timeoutSeconds: 172_800 } };
    stored(opening('EVALUATION', { unapplied: [earlier] }));

    // Act
    await decide('evaluation', { ...evaluation, detoxRequired: false });

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      unapplied: [earlier, { step: 'evaluation', route: { next: 'ENROLLMENT', timeoutSeconds: ENROLLMENT_GATE_SECONDS } }],
    });
  });

  test('a second decision for a step already waiting in unapplied is a 409 NotPending and writes nothing', async () => {
    // Prepare: a detox extension decided while the detox gate was opening leaves the status at DETOX,
    // so only its queued entry tells that this gate's decision was already made
    const waiting = { step: 'detox-confirmation' as const, route: { next: 'DETOX' as const, timeoutSeconds: 600 } };
    stored(opening('DETOX', { unapplied: [waiting], decided: { 'detox-confirmation': waiting.route } }));

    // Act
    const res = await decide('detox-confirmation', { completed: false, decision: 'extend' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m)).toEqual([]);
    expect(resumed()).toEqual([]);
  });

  test('a decision for another gate than the one opening is a 409 NotPending', async () => {
    // Prepare
    stored(opening('EVALUATION'));

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
  });

  test('a referral that is not at a gate status (NEEDS_ATTENTION after a failure) is a 409 NotPending', async () => {
    // Prepare
    stored(opening('NEEDS_ATTENTION', { failure: { error: 'Lambda.Unknown', at: isoAgo(DAY), resumeAt: 'EVALUATION' } }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(transactions(m)).toEqual([]);
  });

  // was a bug (fixed): after an SLA breach the escalation clears the token but keeps pendingStep while
  // the same gate reopens; a decision in that window got 409 although the referral is at that gate
  test('a decision while the gate reopens after a breach (pendingStep kept, token cleared) is accepted', async () => {
    // Prepare
    stored(atGate({ taskToken: undefined, breaches: 1 }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
  });
});

describe('POST /api/staff/referrals/{id}/steps/insurance-review and detox-confirmation', () => {
  test('not covered resumes with {"next":"NOT_COVERED"} and writes closed:patient and closed:physician', async () => {
    // Prepare
    stored(atGate({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'tt-ins' }));

    // Act
    const res = await decide('insurance-review', { decision: 'not-covered', note: 'plan excludes IOP' });

    // Assess
    expect(bodyOf(res)).toMatchObject({ status: 'NOT_COVERED' });
    expect(resumed().map((c) => c.output)).toEqual(['{"next":"NOT_COVERED"}']);
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['closed:patient', 'closed:physician']);
  });

  test('covered goes on to evaluation and tells nobody', async () => {
    // Prepare
    stored(atGate({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'tt-ins' }));

    // Act
    await decide('insurance-review', { decision: 'covered' });

    // Assess
    expect(noticeItems(transactions(m)[0]!)).toEqual([]);
  });

  test('an urgent referral covered at insurance review goes on to evaluation with the routine 48 h timer (its first contact was the review)', async () => {
    // Prepare
    stored(
      atGate({
        status: 'INSURANCE_REVIEW',
        pendingStep: 'insurance-review',
        taskToken: 'tt-ins',
        urgent: true,
        reached: { RECEIVED: isoAgo(DAY), INSURANCE_REVIEW: isoAgo(DAY) },
      }),
    );

    // Act
    await decide('insurance-review', { decision: 'covered' });

    // Assess
    expect(resumed()).toEqual([
      expect.objectContaining({ taskToken: 'tt-ins', output: JSON.stringify({ next: 'EVALUATION', timeoutSeconds: 48 * 3600 }) }),
    ]);
  });

  test('detox completed goes on to enrollment and tells nobody', async () => {
    // Prepare
    stored(atGate({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-detox', detoxSince: isoAgo(5 * DAY) }));

    // Act
    const res = await decide('detox-confirmation', { completed: true, completedOn: dayFromToday(-1) });

    // Assess
    expect(bodyOf(res)).toMatchObject({ status: 'ENROLLMENT' });
    expect(noticeItems(transactions(m)[0]!)).toEqual([]);
  });

  test('a detox extension after 20 days waits only the 10 days left of 30', async () => {
    // Prepare
    stored(atGate({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-detox', detoxSince: isoAgo(20 * DAY) }));

    // Act
    await decide('detox-confirmation', { completed: false, decision: 'extend' });

    // Assess
    expect(resumed().map((c) => JSON.parse(c.output!))).toEqual([{ next: 'DETOX', timeoutSeconds: 10 * 86_400 }]);
  });
});

/** the fixture cohort's first session after TEST_NOW (Wed 2026-12-30 15:00Z): Wed 2027-01-06 09:00 New York */
const FIRST_SESSION = '2027-01-06T09:00:00-05:00';
/** from TEST_NOW to that session (6 d 23 h), plus the 24 h grace */
const FIRST_SESSION_WAIT = (6 * 24 + 23) * 3600 + 24 * 3600;

describe('POST /api/staff/referrals/{id}/steps/enrollment', () => {
  const enrolling = () => atGate({ status: 'ENROLLMENT', pendingStep: 'enrollment', taskToken: 'tt-enroll', version: 9 });

  test('reserves the seat in the same transaction as the decision, conditional on seats < capacity', async () => {
    // Prepare
    stored(enrolling());
    storeCohort(m, cohort({ seats: 9 }));

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [tx] = transactions(m);
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'ENROLLED',
      cohortId: 'cohort-morning-a',
      version: 10,
      firstSession: { at: FIRST_SESSION, retries: 0 },
    });
    expect(tx![3]!.Update).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' },
      UpdateExpression: 'SET seats = seats + :one',
      ConditionExpression: 'attribute_exists(pk) AND seats < #capacity',
      ExpressionAttributeNames: { '#capacity': 'capacity' },
    });
    expect(tx![4]!.Put).toMatchObject({
      Item: { pk: 'COHORT#cohort-morning-a', sk: `SEAT#${REFERRAL_ID}`, displayName: 'Jordan Q.' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    // enrolled is a gate: it waits for the first session (Wednesday 09:00 New York, 6 d 23 h ahead) plus 24 h
    expect(resumed().map((c) => c.output)).toEqual([JSON.stringify({ next: 'ENROLLED', timeoutSeconds: FIRST_SESSION_WAIT })]);
  });

  test('writes enrolled:patient (the schedule) and enrolled:physician (status and start date only) in that transaction', async () => {
    // Prepare
    stored(enrolling());
    storeCohort(m, cohort());

    // Act
    await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(noticeKeys(tx!)).toEqual(['enrolled:patient', 'enrolled:physician']);
    const params = { cohortId: 'cohort-morning-a', startDate: dayFromToday(7) };
    expect(noticeItems(tx!)).toEqual([
      expect.objectContaining({
        key: 'enrolled:patient',
        audience: 'patient',
        notice: 'schedule',
        milestone: 'enrolled',
        status: 'ENROLLED',
        params,
      }),
      expect.objectContaining({
        key: 'enrolled:physician',
        audience: 'physician',
        notice: 'enrolled',
        milestone: 'enrolled',
        status: 'ENROLLED',
        params,
      }),
    ]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test("an enrollment without consent to share writes the patient's schedule notice only", async () => {
    // Prepare
    stored(enrolling());
    storeCohort(m, cohort());
    storeIntake(m, REFERRAL_ID, withoutConsent());

    // Act
    await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['enrolled:patient']);
  });

  test('a full cohort (the seat update failed its condition) is a 409 CohortFull, not retried, and the step stays pending', async () => {
    // Prepare
    stored(enrolling());
    storeCohort(m, cohort({ seats: 10 }));
    m.ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message:
          'Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, None, ConditionalCheckFailed, None, None, None]',
        $metadata: {},
        CancellationReasons: [
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed' },
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'None' },
        ],
      }),
    );

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toEqual({ error: 'CohortFull', message: expect.any(String) });
    expect(transactions(m)).toHaveLength(1);
    expect(resumed()).toEqual([]);
  });

  test('a cohort whose last session is over is a 409 CohortOver and writes nothing', async () => {
    // Prepare
    stored(enrolling());
    storeCohort(m, cohort({ startDate: dayFromToday(-70), weeks: 8 }));

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'CohortOver' });
    expect(transactions(m)).toEqual([]);
  });

  test('an unknown cohort is a 400 naming cohortId', async () => {
    // Prepare
    stored(enrolling());

    // Act
    const res = await decide('enrollment', { cohortId: 'no-such-cohort' });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { cohortId: [expect.any(String)] } });
    expect(transactions(m)).toEqual([]);
  });
});

describe('POST /api/staff/referrals/{id}/steps/enrollment: the waitlist', () => {
  const enrolling = () => atGate({ status: 'ENROLLMENT', pendingStep: 'enrollment', taskToken: 'tt-enroll', version: 9 });
  /** the cohorts that may still meet (the repository's cohortsStartingFrom, gsi2) */
  const current = (...cohorts: Array<Parameters<typeof cohort>[0]>) =>
    m.ddb.on(QueryCommand, { IndexName: 'gsi2' }).resolves({ Items: cohorts.map((c) => cohortItem(cohort(c))) });

  test("is refused while a cohort of the person's track has a seat and a session left: 409 SeatsAvailable, nothing written", async () => {
    // Prepare: a morning person, a morning cohort with 6 seats left
    stored(enrolling());
    current({ seats: 4 });

    // Act
    const res = await decide('enrollment', { waitlist: true });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'SeatsAvailable' });
    expect(transactions(m)).toEqual([]);
    expect(resumed()).toEqual([]);
  });

  test('every morning cohort full (an evening one has seats): WAITLISTED with its weekly review timer, the queue ordered by waiting time, both told', async () => {
    // Prepare
    stored(enrolling());
    current(
      { cohortId: 'morning-full', seats: 10 },
      { cohortId: 'morning-over', startDate: dayFromToday(-70), seats: 2 },
      { cohortId: 'evening', track: 'evening', seats: 0, sessions: [{ weekday: 'MO', start: '18:00', minutes: 540 }] },
    );

    // Act
    const res = await decide('enrollment', { waitlist: true, note: 'Morning groups full' });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'WAITLISTED', decided: 'enrollment' });
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'WAITLISTED',
      waitlist: { since: TEST_NOW, track: 'morning', reviews: 0 },
      // longest waiting first, whatever the urgency: the queue key is the time waitlisted
      gsi1pk: 'STATUS#WAITLISTED',
      gsi1sk: `1#${TEST_NOW}#${REFERRAL_ID}`,
    });
    expect(tx!.some((i) => String(i.Update?.Key?.pk ?? '').startsWith('COHORT#'))).toBe(false);
    expect(noticeKeys(tx!)).toEqual(['waitlisted:patient', 'waitlisted:physician']);
    expect(resumed()).toEqual([
      { taskToken: 'tt-enroll', output: JSON.stringify({ next: 'WAITLISTED', timeoutSeconds: (7 * DAY) / 1000 }) },
    ]);
  });

  test('an urgent person waitlisted is queued by waiting time too', async () => {
    // Prepare
    stored(atGate({ status: 'ENROLLMENT', pendingStep: 'enrollment', taskToken: 'tt-enroll', version: 9, urgent: true }));
    current();

    // Act
    await decide('enrollment', { waitlist: true });

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ gsi1sk: `1#${TEST_NOW}#${REFERRAL_ID}` });
  });
});

describe('POST /api/staff/referrals/{id}/steps/waitlist', () => {
  const waiting = () =>
    atGate({
      status: 'WAITLISTED',
      pendingStep: 'waitlist',
      taskToken: 'tt-wait',
      version: 14,
      waitlist: { since: isoAgo(20 * DAY), track: 'morning', reviews: 2 },
      reached: { RECEIVED: isoAgo(30 * DAY), WAITLISTED: isoAgo(20 * DAY) },
    });

  test('a seat found: ENROLLED with the seat reserved in the same transaction, the schedule and the referrer told, the first-session timer', async () => {
    // Prepare
    stored(waiting());
    storeCohort(m, cohort({ seats: 9 }));

    // Act
    const res = await decide('waitlist', { cohortId: 'cohort-morning-a', note: 'Seat freed by a no-show' });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'ENROLLED', decided: 'waitlist' });
    const [tx] = transactions(m);
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'ENROLLED',
      cohortId: 'cohort-morning-a',
      firstSession: { at: FIRST_SESSION, retries: 0 },
      gsi1pk: 'STATUS#ENROLLED',
    });
    expect(tx!.find((i) => i.Update)?.Update).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' },
      UpdateExpression: 'SET seats = seats + :one',
    });
    expect(noticeKeys(tx!)).toEqual(['enrolled:patient', 'enrolled:physician']);
    expect(resumed()).toEqual([{ taskToken: 'tt-wait', output: JSON.stringify({ next: 'ENROLLED', timeoutSeconds: FIRST_SESSION_WAIT }) }]);
  });

  test('without a cohort it is a 400 naming cohortId (withdraw is its own endpoint)', async () => {
    // Prepare
    stored(waiting());

    // Act
    const res = await decide('waitlist', { note: 'still waiting' });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { cohortId: [expect.any(String)] } });
    expect(transactions(m)).toEqual([]);
  });
});

describe('POST /api/staff/referrals/{id}/steps/first-session', () => {
  const starting = (over: Partial<ReferralRecord> = {}) =>
    atGate({
      status: 'ENROLLED',
      pendingStep: 'first-session',
      taskToken: 'tt-first',
      version: 12,
      cohortId: 'cohort-morning-a',
      firstSession: { at: FIRST_SESSION, retries: 0 },
      reached: { RECEIVED: isoAgo(10 * DAY), ENROLLED: isoAgo(DAY) },
      ...over,
    });

  /** the session was on Monday; today is Wednesday */
  const MONDAY = '2026-12-28T09:00:00-05:00';

  test('attended: STARTED (final), the consenting physician told "started treatment", the seat kept, the workflow closes', async () => {
    // Prepare
    stored(starting({ firstSession: { at: MONDAY, retries: 0 } }));

    // Act
    const res = await decide('first-session', { attended: true, on: dayFromToday(0) });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'STARTED', decided: 'first-session' });
    const [tx] = transactions(m);
    expect(tx![0]!.Put!.Item).toMatchObject({ status: 'STARTED', cohortId: 'cohort-morning-a' });
    expect(tx![0]!.Put!.Item!.seatReleasedAt).toBeUndefined();
    expect(tx!.some((i) => i.Update || i.Delete)).toBe(false);
    expect(noticeItems(tx!)).toEqual([
      expect.objectContaining({ key: 'started:physician', audience: 'physician', notice: 'started', status: 'STARTED' }),
    ]);
    expect(resumed()).toEqual([{ taskToken: 'tt-first', output: JSON.stringify({ next: 'STARTED' }) }]);
  });

  test.each([
    ['before the session the person was expected at', MONDAY, dayFromToday(-5)],
    ['while that session is still ahead', FIRST_SESSION, dayFromToday(0)],
  ])('attended on a day %s is a 400 naming on, and nothing is written', async (_case, at, on) => {
    // Prepare
    stored(starting({ firstSession: { at, retries: 0 } }));

    // Act
    const res = await decide('first-session', { attended: true, on });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { on: [expect.stringContaining(`was on ${at.slice(0, 10)}`)] } });
    expect(transactions(m)).toEqual([]);
  });

  test('missed, retry: waits at the same gate for the session after the missed one, with a contact reminder and the person told when', async () => {
    // Prepare
    stored(starting());
    storeCohort(m, cohort());

    // Act
    const res = await decide('first-session', { attended: false, next: 'retry' });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'ENROLLED', decided: 'first-session' });
    const [tx] = transactions(m);
    const next = '2027-01-08T09:00:00-05:00'; // Friday's session, after Wednesday's that was missed
    expect(tx![0]!.Put!.Item).toMatchObject({
      status: 'ENROLLED',
      firstSession: { at: next, retries: 1 },
      handover: { token: 'tt-first', step: 'first-session' },
    });
    expect(eventItems(tx!).map((e) => e.type)).toEqual(['STEP_DECIDED', 'CONTACT_REMINDER']);
    expect(eventItems(tx!)[1]).toMatchObject({
      step: 'first-session',
      detail: { reason: 'missed-first-session', retry: 1, of: 2, nextSessionAt: next },
    });
    expect(noticeItems(tx!)).toEqual([
      expect.objectContaining({
        key: 'missed-1:patient',
        audience: 'patient',
        notice: 'missed',
        params: { cohortId: 'cohort-morning-a', sessionAt: next },
      }),
    ]);
    expect(resumed()).toEqual([
      { taskToken: 'tt-first', output: JSON.stringify({ next: 'ENROLLED', timeoutSeconds: (8 * 24 + 23) * 3600 + 24 * 3600 }) },
    ]);
  });

  test('a second click on retry before the gate reopens is a 409 NotPending, not a second retry', async () => {
    // Prepare: the first retry committed and resumed the workflow; the gate has not reopened yet
    stored(
      starting({
        pendingStep: undefined,
        taskToken: undefined,
        firstSession: { at: FIRST_SESSION, retries: 1 },
        handover: { token: 'tt-first', route: { next: 'ENROLLED', timeoutSeconds: 60 }, step: 'first-session' },
      }),
    );

    // Act
    const res = await decide('first-session', { attended: false, next: 'retry' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
  });

  test('a first-session decision while that gate is still opening after the enrolment is accepted for it', async () => {
    // Prepare
    stored(
      starting({
        pendingStep: undefined,
        taskToken: undefined,
        firstSession: { at: MONDAY, retries: 0 },
        handover: { token: 'tt-enroll', route: { next: 'ENROLLED', timeoutSeconds: 60 }, step: 'enrollment' },
      }),
    );

    // Act
    const res = await decide('first-session', { attended: true, on: dayFromToday(0) });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      status: 'STARTED',
      unapplied: [{ step: 'first-session', route: { next: 'STARTED' } }],
    });
    expect(resumed()).toEqual([]);
  });

  test('a third miss cannot be retried: 400 naming next (close as a no-show instead), nothing written', async () => {
    // Prepare
    stored(starting({ firstSession: { at: FIRST_SESSION, retries: 2 } }));
    storeCohort(m, cohort());

    // Act
    const res = await decide('first-session', { attended: false, next: 'retry' });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { next: [expect.stringContaining('no-show')] } });
    expect(transactions(m)).toEqual([]);
  });

  test('a retry when the cohort has no session left is a 409 CohortOver', async () => {
    // Prepare
    stored(starting({ firstSession: { at: isoAgo(DAY), retries: 0 } }));
    storeCohort(m, cohort({ startDate: dayFromToday(-14), weeks: 2 }));

    // Act
    const res = await decide('first-session', { attended: false, next: 'retry' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'CohortOver' });
    expect(transactions(m)).toEqual([]);
  });

  test('missed, close: NO_SHOW (final) with the seat given back in the same transaction, both told', async () => {
    // Prepare
    stored(starting({ firstSession: { at: FIRST_SESSION, retries: 2 } }));

    // Act
    const res = await decide('first-session', { attended: false, next: 'close', note: 'No answer to three calls' });

    // Assess
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'NO_SHOW', decided: 'first-session' });
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(tx![0]!.Put!.Item).toMatchObject({ status: 'NO_SHOW', seatReleasedAt: TEST_NOW, cohortId: 'cohort-morning-a' });
    expect(tx!.find((i) => i.Update)?.Update).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' },
      UpdateExpression: 'SET seats = seats - :one',
      ConditionExpression: 'attribute_exists(pk) AND seats > :zero',
    });
    expect(tx!.find((i) => i.Delete)?.Delete).toMatchObject({
      Key: { pk: 'COHORT#cohort-morning-a', sk: `SEAT#${REFERRAL_ID}` },
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(eventItems(tx!).map((e) => e.type)).toEqual(['STEP_DECIDED', 'STATUS_CHANGED', 'SEAT_RELEASED']);
    expect(noticeKeys(tx!)).toEqual(['closed:patient', 'closed:physician']);
    expect(noticeItems(tx!).every((n) => n.status === 'NO_SHOW')).toBe(true);
    expect(resumed()).toEqual([{ taskToken: 'tt-first', output: JSON.stringify({ next: 'NO_SHOW' }) }]);
  });
});
