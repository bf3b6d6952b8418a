import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { answerDefaults, eventItems, mocks, noticeEvents, resetMocks, sentEmails, transactions } from '../support/aws';
import {
  apiEvent, bodyOf, CASE_WORKER, cohort, cohortItem, DAY, intakeItem, isoAgo, lambdaContext, metaItem, referral, REFERRAL_ID, setTestEnv, validIntake,
} from '../support/fixtures';
import { nowMs } from '../../../../functions/lib/clock';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { handler as Handler } from '../../../../functions/decide-step/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/decide-step/handler'));
});

const DETOX_GATE_SECONDS = 14 * 86_400;

const atGate = (over: Partial<ReferralRecord> = {}): ReferralRecord => referral({
  status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'task-token-evaluation', version: 4,
  gateOpenedAt: isoAgo(DAY), gateDueAt: new Date(nowMs() + DAY).toISOString(),
  eligibility: { outcome: 'covered', checkedAt: isoAgo(2 * DAY), summary: 'covered' },
  reached: { RECEIVED: isoAgo(3 * DAY), EVALUATION: isoAgo(DAY) },
  ...over,
});

const stored = (r: ReferralRecord) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
};

const evaluation = {
  dimensions: { d1: 3, d2: 1, d3: 2, d4: 2, d5: 3, d6: 2 }, recommendedLevel: '2.1', detoxRequired: true, decision: 'accept', note: 'alcohol withdrawal, needs detox first',
};

const decide = (step: string, body: unknown, claims: Record<string, unknown> = CASE_WORKER) =>
  handler(apiEvent('POST /api/staff/referrals/{id}/steps/{step}', { body, claims, pathParameters: { id: REFERRAL_ID, step } }), lambdaContext);

beforeEach(() => {
  answerDefaults(m);
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(REFERRAL_ID, validIntake()) });
  m.sfn.on(SendTaskSuccessCommand).resolves({});
});

afterEach(() => {
  resetMocks(m);
});

describe('POST /api/staff/referrals/{id}/steps/evaluation', () => {
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
    const [first] = transactions(m);
    const meta = first![0]!.Put!;
    expect(meta.ConditionExpression).toBe('version = :prev');
    expect(meta.ExpressionAttributeValues).toEqual({ ':prev': 4 });
    expect(meta.Item).toMatchObject({ pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META', version: 5, status: 'DETOX', gsi1pk: 'STATUS#DETOX', breaches: 0, detoxSince: expect.any(String) });
    expect(meta.Item!.pendingStep).toBeUndefined();
    expect(meta.Item!.taskToken).toBeUndefined();
    expect(eventItems(first!)).toEqual([
      expect.objectContaining({ type: 'STEP_DECIDED', step: 'evaluation', actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' }, detail: evaluation }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'DETOX' }),
    ]);
  });

  test('resumes the workflow with the stored token and {"next":"DETOX","timeoutSeconds":<14 days>}', async () => {
    // Prepare
    stored(atGate());

    // Act
    await decide('evaluation', evaluation);

    // Assess
    const resumed = m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
    expect(resumed).toEqual([{ taskToken: 'task-token-evaluation', output: JSON.stringify({ next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS }) }]);
  });

  test('a decision itself sends no email: the referrer hears of an acceptance when the next gate opens (a retried task)', async () => {
    // Prepare
    stored(atGate());

    // Act
    const res = await decide('evaluation', { ...evaluation, detoxRequired: false });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(await sentEmails(m)).toEqual([]);
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ lastDecision: { step: 'evaluation', route: { next: 'ENROLLMENT' } } });
  });

  test('an acceptance without consent to share sends no email', async () => {
    // Prepare
    stored(atGate());
    const intake = { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } };
    m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(REFERRAL_ID, intake) });

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(await sentEmails(m)).toEqual([]);
    expect(noticeEvents(m).map((e) => e.type)).not.toContain('DISCLOSURE');
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
    expect(m.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  test('a step that is not pending is a 409 NotPending and the workflow is not touched', async () => {
    // Prepare
    stored(atGate({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'task-token-insurance' }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
    expect(transactions(m)).toEqual([]);
    expect(m.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  test('a step already decided (no gate open) is a 409 NotPending', async () => {
    // Prepare
    stored(atGate({ status: 'DETOX', pendingStep: undefined, taskToken: undefined }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotPending' });
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

  test('a referral changed meanwhile (version condition failed) is a 409 Conflict and the workflow is not resumed', async () => {
    // Prepare
    stored(atGate());
    m.ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({
      message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
    }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'Conflict' });
    expect(m.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  test('a decision that lands after the gate timed out is still recorded (200); the reopened gate resumes it', async () => {
    // Prepare
    stored(atGate());
    m.sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));

    // Act
    const res = await decide('evaluation', evaluation);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ lastDecision: { step: 'evaluation', route: { next: 'DETOX', timeoutSeconds: DETOX_GATE_SECONDS } } });
  });
});

describe('POST /api/staff/referrals/{id}/steps/insurance-review and detox-confirmation', () => {
  test('not covered resumes with {"next":"NOT_COVERED"} and no timer', async () => {
    // Prepare
    stored(atGate({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'tt-ins' }));

    // Act
    const res = await decide('insurance-review', { decision: 'not-covered', note: 'plan excludes IOP' });

    // Assess
    expect(bodyOf(res)).toMatchObject({ status: 'NOT_COVERED' });
    expect(m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.output)).toEqual(['{"next":"NOT_COVERED"}']);
  });

  test('a detox extension after 20 days waits only the 10 days left of 30', async () => {
    // Prepare
    stored(atGate({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-detox', detoxSince: isoAgo(20 * DAY) }));

    // Act
    await decide('detox-confirmation', { completed: false, decision: 'extend' });

    // Assess
    const route = JSON.parse(m.sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!);
    expect(route.next).toBe('DETOX');
    expect(route.timeoutSeconds).toBeGreaterThan(10 * 86_400 - 5);
    expect(route.timeoutSeconds).toBeLessThanOrEqual(10 * 86_400);
  });
});

describe('POST /api/staff/referrals/{id}/steps/enrollment', () => {
  const enrolling = () => atGate({ status: 'ENROLLMENT', pendingStep: 'enrollment', taskToken: 'tt-enroll', version: 9 });

  test('reserves the seat in the same transaction as the decision, conditional on seats < capacity', async () => {
    // Prepare
    stored(enrolling());
    m.ddb.on(GetCommand, { Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' } }).resolves({ Item: cohortItem(cohort({ seats: 9 })) });

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(200);
    const [tx] = transactions(m);
    expect(tx![0]!.Put!.Item).toMatchObject({ status: 'ENROLLED', cohortId: 'cohort-morning-a', version: 10 });
    expect(tx![3]!.Update).toMatchObject({ Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' }, UpdateExpression: 'SET seats = seats + :one', ConditionExpression: 'attribute_exists(pk) AND seats < #capacity', ExpressionAttributeNames: { '#capacity': 'capacity' } });
    expect(tx![4]!.Put).toMatchObject({ Item: { pk: 'COHORT#cohort-morning-a', sk: `SEAT#${REFERRAL_ID}`, displayName: 'Jordan Q.' }, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.output)).toEqual(['{"next":"ENROLLED"}']);
  });

  test('a full cohort (the seat update failed its condition) is a 409 CohortFull and the step stays pending', async () => {
    // Prepare
    stored(enrolling());
    m.ddb.on(GetCommand, { Key: { pk: 'COHORT#cohort-morning-a', sk: 'META' } }).resolves({ Item: cohortItem(cohort({ seats: 10 })) });
    m.ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, None, ConditionalCheckFailed, None]',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
    }));

    // Act
    const res = await decide('enrollment', { cohortId: 'cohort-morning-a' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toEqual({ error: 'CohortFull', message: expect.any(String) });
    expect(m.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
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
