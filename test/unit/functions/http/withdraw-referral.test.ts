import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { answerDefaults, eventItems, mocks, resetMocks, sentEmails, transactions } from '../support/aws';
import {
  apiEvent, bodyOf, CASE_WORKER, intakeItem, lambdaContext, metaItem, referral, REFERRAL_ID, setTestEnv, TEST_ENV, validIntake,
} from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { handler as Handler } from '../../../../functions/withdraw-referral/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/withdraw-referral/handler'));
});

const stored = (r: ReferralRecord) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
};

const withdraw = (body: unknown) =>
  handler(apiEvent('POST /api/staff/referrals/{id}/withdraw', { body, claims: CASE_WORKER, pathParameters: { id: REFERRAL_ID } }), lambdaContext);

beforeEach(() => {
  answerDefaults(m);
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(REFERRAL_ID, validIntake()) });
  m.sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
});

afterEach(() => {
  resetMocks(m);
});

describe('POST /api/staff/referrals/{id}/withdraw', () => {
  test('a waiting referral is WITHDRAWN with the reason, its token dropped and its execution stopped', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'tt', version: 5 }));

    // Act
    const res = await withdraw({ reason: 'Moved out of state' });

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ referralId: REFERRAL_ID, status: 'WITHDRAWN' });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'WITHDRAWN', version: 6 });
    expect(save![0]!.Put!.Item!.taskToken).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'WITHDRAWN', actor: expect.objectContaining({ kind: 'staff', sub: 'sub-cw-1' }), detail: { reason: 'Moved out of state' } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'WITHDRAWN' }),
    ]);
    expect(m.sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([{
      executionArn: TEST_ENV.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:') + `:${REFERRAL_ID}`,
      error: 'Referral.Withdrawn',
      cause: 'withdrawn by staff',
    }]);
  });

  test('tells the patient and the consenting physician that the request was closed', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 5 }));

    // Act
    await withdraw({ reason: 'Chose another program' });

    // Assess
    const mails = await sentEmails(m);
    expect(mails.map((x) => [x.to[0], x.parsed.subject])).toEqual([
      ['jordan.quintana@example.com', 'An update on your request (IOP-7KQ4-M3TD)'],
      ['alopez@clinic.example.com', 'Referral update (IOP-7KQ4-M3TD)'],
    ]);
    expect(mails[1]!.mime).not.toContain('Chose another program');
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
  });

  test('a closed referral is a 409 AlreadyClosed and nothing changes', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLED' }));

    // Act
    const res = await withdraw({ reason: 'duplicate' });

    // Assess
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toMatchObject({ error: 'AlreadyClosed' });
    expect(transactions(m)).toEqual([]);
  });

  test('a missing reason is a 400 naming reason', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION' }));

    // Act
    const res = await withdraw({});

    // Assess
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res)).toMatchObject({ fields: { reason: [expect.any(String)] } });
  });
});
