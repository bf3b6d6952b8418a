import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { answerDefaults, eventItems, mocks, resetMocks, sentEmails, transactions } from '../support/aws';
import { DAY, HOUR, isoAgo, lambdaContext, metaItem, referral, REFERRAL_ID, setTestEnv, TEST_ENV } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { handler as Handler } from '../../../../functions/escalate/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/escalate/handler'));
});

const stored = (r: ReferralRecord) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
};

/** a referral whose evaluation gate has been open for `hours` */
const evaluationOpenFor = (hours: number, breaches: number): ReferralRecord => referral({
  status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'tt-eval', version: 6, breaches,
  gateOpenedAt: isoAgo(hours * HOUR), gateDueAt: isoAgo(0),
});

beforeEach(() => {
  answerDefaults(m);
});

afterEach(() => {
  resetMocks(m);
});

describe('escalate task: a gate passed its timer', () => {
  test('the first breach records SLA_BREACHED, keeps the status and reopens the same gate with its full timer', async () => {
    // Prepare
    stored(evaluationOpenFor(48, 0));

    // Act
    const route = await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'EVALUATION' }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'EVALUATION', breaches: 1, version: 7, pendingStep: 'evaluation' });
    expect(save![0]!.Put!.Item!.taskToken).toBeUndefined();
    expect(eventItems(save!)).toEqual([expect.objectContaining({ type: 'SLA_BREACHED', step: 'evaluation', detail: { breach: 1, ageHours: 48 } })]);
  });

  test('the second breach sets NEEDS_ATTENTION (still decidable: the gate reopens)', async () => {
    // Prepare
    stored(evaluationOpenFor(96, 1));

    // Act
    const route = await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'EVALUATION' }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'NEEDS_ATTENTION', gsi1pk: 'STATUS#NEEDS_ATTENTION', breaches: 2, pendingStep: 'evaluation' });
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', detail: { breach: 2, ageHours: 96 } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'NEEDS_ATTENTION' }),
    ]);
  });

  test('the escalation email goes to the program address with reference, step and age only', async () => {
    // Prepare
    stored(evaluationOpenFor(96, 1));

    // Act
    await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'EVALUATION' }, lambdaContext);

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([TEST_ENV.PROGRAM_EMAIL]);
    expect(mail!.parsed.subject).toBe('Overdue step: IOP-7KQ4-M3TD');
    expect(mail!.parsed.text).toContain('The evaluation step of referral IOP-7KQ4-M3TD has waited 96 hours');
    expect(mail!.parsed.text).toContain('NEEDS_ATTENTION');
    expect(mail!.mime).not.toMatch(/Jordan|quintana/i);
  });

  test('a step decided while its timer fired reopens briefly (60 s) so the recorded decision resumes, writing nothing', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', pendingStep: undefined, version: 8, lastDecision: { step: 'evaluation', route: { next: 'DETOX', timeoutSeconds: 1_209_600 } } }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'EVALUATION' }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 60 });
    expect(transactions(m)).toEqual([]);
  });

  test('detox waiting 30 days expires instead of reopening', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-d', version: 12, breaches: 2, detoxSince: isoAgo(30 * DAY), gateOpenedAt: isoAgo(16 * DAY) }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'DETOX' }, lambdaContext);

    // Assess
    expect(route).toEqual({ next: 'EXPIRED' });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'EXPIRED' });
    expect(save![0]!.Put!.Item!.pendingStep).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', step: 'detox-confirmation', detail: { expired: true, maxDays: 30 } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'DETOX', to: 'EXPIRED' }),
    ]);
  });

  test('a detox breach before 30 days reopens with only the time left', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-d', version: 5, breaches: 0, detoxSince: isoAgo(25 * DAY), gateOpenedAt: isoAgo(14 * DAY) }));

    // Act
    const route = await handler({ referralId: REFERRAL_ID, kind: 'breach', status: 'DETOX' }, lambdaContext) as { next: string; timeoutSeconds: number };

    // Assess
    expect(route.next).toBe('DETOX');
    expect(Math.abs(route.timeoutSeconds - 5 * 86_400)).toBeLessThanOrEqual(2);
  });
});

describe('escalate task: a task kept failing', () => {
  test('records TASK_FAILED with the error code and sets NEEDS_ATTENTION', async () => {
    // Prepare
    stored(referral({ status: 'INSURANCE_CHECK', version: 2 }));

    // Act
    const out = await handler({ referralId: REFERRAL_ID, kind: 'failure', error: 'Lambda.Unknown' }, lambdaContext);

    // Assess
    expect(out).toEqual({ status: 'NEEDS_ATTENTION' });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'NEEDS_ATTENTION', version: 3 });
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'TASK_FAILED', actor: { kind: 'system' }, detail: { error: 'Lambda.Unknown' } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'INSURANCE_CHECK', to: 'NEEDS_ATTENTION' }),
    ]);
  });

  test('an error code is reduced to safe characters before it is stored or emailed', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 2 }));

    // Act
    await handler({ referralId: REFERRAL_ID, kind: 'failure', error: 'Bad<script>alert(1)</script> Jordan Quintana' }, lambdaContext);

    // Assess
    const failed = transactions(m).flatMap(eventItems).find((e) => e.type === 'TASK_FAILED');
    expect(failed).toMatchObject({ detail: { error: 'Badscriptalert1scriptJordanQuintana' } });
    const [mail] = await sentEmails(m);
    expect(mail!.parsed.subject).toBe('Referral needs attention: IOP-7KQ4-M3TD');
    expect(mail!.parsed.html).not.toContain('<script');
  });

  test('a failure after a final status records the error but keeps the status', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLED', version: 20 }));

    // Act
    const out = await handler({ referralId: REFERRAL_ID, kind: 'failure', error: 'States.TaskFailed' }, lambdaContext);

    // Assess
    expect(out).toEqual({ status: 'ENROLLED' });
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ status: 'ENROLLED', version: 21 });
  });
});

describe('escalate task: input', () => {
  test('an unknown kind is rejected as invalid task input', async () => {
    await expect(handler({ referralId: REFERRAL_ID, kind: 'panic' }, lambdaContext)).rejects.toMatchObject({ name: 'TaskInputError' });
  });

  // was a bug (fixed): the input schema makes status optional for every kind, so a breach without its gate passes
  // validation and answers { next: undefined, timeoutSeconds: 60 }, which the ASL can only route to
  // RecordFailureUnroutable; task inputs are meant to be rejected at the edge (lib/task.ts)
  test('a breach without the gate status is rejected as invalid task input', async () => {
    // Prepare
    stored(evaluationOpenFor(48, 0));

    // Act
    const run = handler({ referralId: REFERRAL_ID, kind: 'breach' }, lambdaContext);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'TaskInputError' });
  });
});
