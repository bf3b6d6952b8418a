import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancelled, eventItems, noticeItems, readsThen, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { intakeItem, lambdaContext, metaItem, referral, REFERRAL_ID, validIntake } from '../support/fixtures';
import type { Intake } from '../../../../functions/lib/schemas/intake';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/check-insurance/handler'));
let PayerSimulator: typeof import('../../../../functions/lib/adapters/payer-simulator').PayerSimulator;

beforeAll(async () => {
  ({ PayerSimulator } = await import('../../../../functions/lib/adapters/payer-simulator'));
});

const stored = (r: ReferralRecord, intake: Intake) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(r.referralId, intake) });
};

const withInsurance = (insurance: Intake['insurance']): Intake => ({ ...validIntake(), insurance });

afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

describe('check-insurance task', () => {
  test('a RECEIVED referral with a REVIEW member id goes to INSURANCE_REVIEW with the 24 h gate timer', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1 }), withInsurance({ type: 'commercial', payer: 'Acme', memberId: 'REVIEW-5521' }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'INSURANCE_REVIEW', timeoutSeconds: 86_400 });
  });

  test('writes the new status with INSURANCE_CHECKED and STATUS_CHANGED events in one conditional transaction', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1 }), withInsurance({ type: 'commercial', payer: 'Acme', memberId: 'REVIEW-5521' }));

    // Act
    await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    const [save] = transactions(m);
    expect(save![0]!.Put).toMatchObject({
      ConditionExpression: 'version = :prev',
      ExpressionAttributeValues: { ':prev': 1 },
      Item: {
        status: 'INSURANCE_REVIEW',
        version: 2,
        gsi1pk: 'STATUS#INSURANCE_REVIEW',
        eligibility: { outcome: 'unclear' },
        reached: { INSURANCE_REVIEW: expect.any(String) },
      },
    });
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({
        type: 'INSURANCE_CHECKED',
        actor: { kind: 'system' },
        detail: { outcome: 'unclear', summary: expect.stringContaining('manual review') },
      }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'RECEIVED', to: 'INSURANCE_REVIEW' }),
    ]);
  });

  test('a covered member goes straight to EVALUATION with the 48 h timer', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1 }), withInsurance({ type: 'commercial', payer: 'Acme', memberId: 'ABC-1' }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
  });

  test('an urgent referral (positive crisis screen) gets the 4 h first-contact timer at evaluation, its first human gate', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1, urgent: true }), validIntake());

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 4 * 3600 });
  });

  test('an urgent referral whose coverage is unclear gets the 4 h first-contact timer at insurance review', async () => {
    // Prepare
    stored(
      referral({ status: 'RECEIVED', version: 1, urgent: true }),
      withInsurance({ type: 'commercial', payer: 'Acme', memberId: 'REVIEW-5521' }),
    );

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'INSURANCE_REVIEW', timeoutSeconds: 4 * 3600 });
  });

  test('an INACTIVE member goes to INSURANCE_REVIEW recorded as not-covered', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1 }), withInsurance({ type: 'medicaid', payer: 'State', memberId: 'INACTIVE-9' }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toMatchObject({ next: 'INSURANCE_REVIEW' });
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ eligibility: { outcome: 'not-covered' } });
  });

  test('tells nobody: the transaction holds no notice and nothing is sent (the intake already wrote "received")', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1, urgent: true, flags: ['suicide-risk'] }), validIntake());

    // Act
    await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    expect(noticeItems(txs[0]!)).toEqual([]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test.each(['WITHDRAWN', 'NOT_COVERED', 'STARTED', 'NO_SHOW'] as const)(
    'a referral already %s ends the task with ReferralClosed and writes nothing',
    async (status) => {
      // Prepare
      stored(referral({ status, version: 4 }), validIntake());
      const check = jest.spyOn(PayerSimulator.prototype, 'check');

      // Act
      const run = handler({ referralId: REFERRAL_ID }, lambdaContext);

      // Assess
      await expect(run).rejects.toMatchObject({ name: 'ReferralClosed' });
      expect(check).not.toHaveBeenCalled();
      expect(transactions(m)).toEqual([]);
      expect(m.ddb.commandCalls(PutCommand)).toEqual([]);
    },
  );

  test('a retry after the check was saved does not check or write the status again', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 2 }), validIntake());
    const check = jest.spyOn(PayerSimulator.prototype, 'check');

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
    expect(check).not.toHaveBeenCalled();
    expect(transactions(m)).toEqual([]);
    expect(m.ddb.commandCalls(PutCommand)).toEqual([]);
  });

  test('a lost write race writes the same answer again without asking the payer twice', async () => {
    // Prepare: the first save loses to a concurrent change (version moved on), the second wins
    const r = referral({ status: 'RECEIVED', version: 1 });
    stored(r, withInsurance({ type: 'commercial', payer: 'Acme', memberId: 'ABC-1' }));
    readsThen(m, r, { ...r, version: 2 });
    m.ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('ConditionalCheckFailed', 'None', 'None'))
      .resolves({});
    const check = jest.spyOn(PayerSimulator.prototype, 'check');

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toMatchObject({ next: 'EVALUATION' });
    expect(check).toHaveBeenCalledTimes(1);
    const txs = transactions(m);
    expect(txs).toHaveLength(2);
    expect(txs[1]![0]!.Put).toMatchObject({ ExpressionAttributeValues: { ':prev': 2 }, Item: { eligibility: { outcome: 'covered' } } });
  });

  test('an input without referralId is rejected before anything is read', async () => {
    // Act
    const run = handler({ referral: 'x' }, lambdaContext);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'TaskInputError', message: 'Invalid task input: referralId' });
    expect(m.ddb.calls()).toHaveLength(0);
  });

  test('a failing eligibility check never blocks: the referral lands in INSURANCE_REVIEW with outcome error', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 1 }), validIntake());
    const outage = new Error('socket hang up');
    outage.name = 'ClearinghouseUnavailable';
    jest.spyOn(PayerSimulator.prototype, 'check').mockRejectedValue(outage);

    // Act
    const route = await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'INSURANCE_REVIEW', timeoutSeconds: 86_400 });
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      eligibility: { outcome: 'error', summary: 'Eligibility check failed (ClearinghouseUnavailable)' },
    });
  });

  test('a check slower than 10 s never blocks: the referral lands in INSURANCE_REVIEW', async () => {
    // Prepare
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    stored(referral({ status: 'RECEIVED', version: 1 }), validIntake());
    jest.spyOn(PayerSimulator.prototype, 'check').mockReturnValue(new Promise(() => undefined));

    // Act
    const pending = handler({ referralId: REFERRAL_ID }, lambdaContext);
    await jest.advanceTimersByTimeAsync(10_001);
    const route = await pending;

    // Assess
    expect(route).toEqual({ next: 'INSURANCE_REVIEW', timeoutSeconds: 86_400 });
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      eligibility: { outcome: 'error', summary: 'Eligibility check failed (EligibilityTimeout)' },
    });
  });

  // was a bug (fixed): a plain Error from the eligibility adapter has its message copied into eligibility.summary,
  // which is stored on META and in the INSURANCE_CHECKED event; an adapter message can quote the
  // member's name or date of birth, and META/events must hold codes only (docs/ARCHITECTURE.md §5, ports.ts)
  test('an eligibility error message that quotes the person is not copied onto META or the event', async () => {
    // Prepare
    const intake = validIntake();
    stored(referral({ status: 'RECEIVED', version: 1 }), intake);
    jest
      .spyOn(PayerSimulator.prototype, 'check')
      .mockRejectedValue(new Error(`AAA*72 no subscriber QUINTANA/JORDAN DOB ${intake.patient.dateOfBirth}`));

    // Act
    await handler({ referralId: REFERRAL_ID }, lambdaContext);

    // Assess
    const [save] = transactions(m);
    const summaries = [
      (save![0]!.Put!.Item!.eligibility as { summary: string }).summary,
      ...eventItems(save!).map((e) => JSON.stringify(e.detail ?? {})),
    ];
    expect(summaries.join('\n')).not.toMatch(/QUINTANA|JORDAN|1988-04-12/i);
  });
});
