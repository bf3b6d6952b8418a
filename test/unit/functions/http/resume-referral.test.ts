import { beforeEach, describe, expect, test } from '@jest/globals';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cancelled, eventItems, noticeItems, plainPuts, readsThen, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { apiEvent, bodyOf, CASE_WORKER, HOUR, isoAgo, lambdaContext, referral, REFERRAL_ID, TEST_ENV } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/resume-referral/handler'));

const stored = (r: ReferralRecord) => storeReferral(m, r);

const failed = (resumeAt: ReferralRecord['status'], over: Partial<ReferralRecord> = {}): ReferralRecord =>
  referral({
    status: 'NEEDS_ATTENTION',
    version: 7,
    failure: { error: 'Lambda.Unknown', at: isoAgo(HOUR), resumeAt },
    ...over,
  });

const resume = (claims: Record<string, unknown> | null = CASE_WORKER, body: unknown = {}) =>
  handler(
    apiEvent('POST /api/staff/referrals/{id}/resume', { body, ...(claims ? { claims } : {}), pathParameters: { id: REFERRAL_ID } }),
    lambdaContext,
  );

const starts = () => m.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

beforeEach(() => {
  m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
});

describe('POST /api/staff/referrals/{id}/resume', () => {
  test('a referral that needs attention after a failure goes back to where it stopped: 200 with that status', async () => {
    // Prepare
    stored(failed('EVALUATION'));

    // Act
    const res = await resume();

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'EVALUATION' });
  });

  test('writes the status back with a RESUMED event naming the user, conditional on the version read, the failure cleared', async () => {
    // Prepare
    stored(failed('EVALUATION', { breaches: 1 }));

    // Act
    await resume();

    // Assess
    const [tx, ...more] = transactions(m);
    expect(more).toEqual([]);
    const meta = tx![0]!.Put!;
    expect(meta).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 7 } });
    expect(meta.Item).toMatchObject({
      status: 'EVALUATION',
      gsi1pk: 'STATUS#EVALUATION',
      version: 8,
      execution: `${REFERRAL_ID}-r1`,
      resumes: 1,
      breaches: 0,
    });
    for (const gone of ['failure', 'pendingStep', 'taskToken']) expect(meta.Item![gone]).toBeUndefined();
    expect(eventItems(tx!)).toEqual([
      expect.objectContaining({
        type: 'RESUMED',
        actor: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' },
        detail: { error: 'Lambda.Unknown', resumeAt: 'EVALUATION' },
      }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'NEEDS_ATTENTION', to: 'EVALUATION' }),
    ]);
    expect(noticeItems(tx!)).toEqual([]);
  });

  test('the note saying what was fixed is recorded on the RESUMED event', async () => {
    // Prepare
    stored(failed('DETOX'));

    // Act
    const res = await resume(CASE_WORKER, { note: 'payer API key rotated' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(eventItems(transactions(m)[0]!)[0]).toMatchObject({
      type: 'RESUMED',
      detail: { error: 'Lambda.Unknown', resumeAt: 'DETOX', note: 'payer API key rotated' },
    });
  });

  test('a note over 500 characters is a 400 naming note, and nothing is written or started', async () => {
    // Prepare
    stored(failed('DETOX'));

    // Act
    const res = await resume(CASE_WORKER, { note: 'x'.repeat(501) });

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { note: [expect.any(String)] } });
    expect(transactions(m)).toEqual([]);
    expect(m.sfn.calls()).toHaveLength(0);
  });

  test('starts a new execution named <id>-r1 that enters the state machine at that gate, after the save', async () => {
    // Prepare
    stored(failed('EVALUATION'));

    // Act
    await resume();

    // Assess
    expect(starts()).toEqual([
      {
        stateMachineArn: TEST_ENV.STATE_MACHINE_ARN,
        name: `${REFERRAL_ID}-r1`,
        input: JSON.stringify({ referralId: REFERRAL_ID, route: { next: 'EVALUATION', timeoutSeconds: 172_800 } }),
      },
    ]);
    const [save] = m.ddb.commandCalls(TransactWriteCommand);
    const [start] = m.sfn.commandCalls(StartExecutionCommand);
    expect(save!.calledBefore(start!)).toBe(true);
  });

  test('a referral resumed before gets the next execution name (<id>-r3)', async () => {
    // Prepare
    stored(failed('ENROLLMENT', { resumes: 2, execution: `${REFERRAL_ID}-r2` }));

    // Act
    await resume();

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ execution: `${REFERRAL_ID}-r3`, resumes: 3 });
    expect(starts().map((s) => [s.name, JSON.parse(s.input!)])).toEqual([
      [`${REFERRAL_ID}-r3`, { referralId: REFERRAL_ID, route: { next: 'ENROLLMENT', timeoutSeconds: 259_200 } }],
    ]);
  });

  test('a failed insurance check resumes at RECEIVED: the new execution re-runs the check', async () => {
    // Prepare
    stored(failed('RECEIVED'));

    // Act
    const res = await resume();

    // Assess
    expect(bodyOf(res)).toMatchObject({ status: 'RECEIVED' });
    expect(starts().map((s) => JSON.parse(s.input!))).toEqual([{ referralId: REFERRAL_ID, route: { next: 'RECEIVED' } }]);
  });

  test.each(['EVALUATION', 'ENROLLED', 'WITHDRAWN'] as const)(
    'a referral at %s is a 409 NotNeedsAttention: nothing written, nothing started',
    async (status) => {
      // Prepare
      stored(referral({ status, version: 4 }));

      // Act
      const res = await resume();

      // Assess
      expect(res.statusCode).toBe(409);
      expect(bodyOf(res)).toMatchObject({ error: 'NotNeedsAttention' });
      expect(transactions(m)).toEqual([]);
      expect(plainPuts(m)).toEqual([]);
      expect(m.sfn.calls()).toHaveLength(0);
    },
  );

  test('NEEDS_ATTENTION from SLA breaches (a gate is open, no failure) is a 409 GateOpen: decide the step instead', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', version: 9, breaches: 2, pendingStep: 'evaluation', taskToken: 'tt' }));

    // Act
    const res = await resume();

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'GateOpen' });
    expect(transactions(m)).toEqual([]);
    expect(m.sfn.calls()).toHaveLength(0);
  });

  test('two resumes at once: the one that loses the save re-reads, finds it resumed and is a 409 that starts nothing', async () => {
    // Prepare
    readsThen(m, failed('DETOX'), referral({ status: 'DETOX', version: 8, execution: `${REFERRAL_ID}-r1`, resumes: 1 }));
    m.ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

    // Act
    const res = await resume();

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'NotNeedsAttention' });
    expect(m.sfn.calls()).toHaveLength(0);
  });

  test('an unknown referral is a 404', async () => {
    const res = await resume();
    expect(res.statusCode).toBe(404);
  });

  test('without sign-in it is a 401 and nothing is read', async () => {
    // Act
    const res = await resume(null);

    // Assess
    expect(res.statusCode).toBe(401);
    expect(m.ddb.calls()).toHaveLength(0);
  });

  test('a signed-in user without a staff group is a 403', async () => {
    const res = await resume({ sub: 'sub-x', token_use: 'access', 'cognito:groups': ['patients'] });
    expect(res.statusCode).toBe(403);
  });
});
