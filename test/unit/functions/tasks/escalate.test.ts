import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  answerDefaults,
  cancelled,
  eventItems,
  noticeItems,
  noticeKeys,
  plainPuts,
  resetMocks,
  storeIntake,
  storeReferral,
  transactions,
} from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import {
  cohort,
  cohortItem,
  DAY,
  HOUR,
  isoAgo,
  lambdaContext,
  referral,
  REFERRAL_ID,
  TEST_ENV,
  TEST_NOW,
  validIntake,
} from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/escalate/handler'));

const stored = (r: ReferralRecord) => storeReferral(m, r);

/** a referral whose evaluation gate has been open for `hours` */
const evaluationOpenFor = (hours: number, breaches: number): ReferralRecord =>
  referral({
    status: 'EVALUATION',
    pendingStep: 'evaluation',
    taskToken: 'tt-eval',
    version: 6,
    breaches,
    gateOpenedAt: isoAgo(hours * HOUR),
    gateDueAt: isoAgo(0),
  });

const breach = (status: string) => handler({ referralId: REFERRAL_ID, kind: 'breach', status }, lambdaContext);
const failure = (error?: string) =>
  handler({ referralId: REFERRAL_ID, kind: 'failure', ...(error === undefined ? {} : { error }) }, lambdaContext);

beforeEach(() => {
  storeIntake(m, REFERRAL_ID, validIntake());
});

describe('escalate task: a gate passed its timer', () => {
  test('the first breach records SLA_BREACHED, keeps the status and reopens the same gate with its full timer', async () => {
    // Prepare
    stored(evaluationOpenFor(48, 0));

    // Act
    const route = await breach('EVALUATION');

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
    const [save] = transactions(m);
    expect(save![0]!.Put).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 6 } });
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'EVALUATION', breaches: 1, version: 7, pendingStep: 'evaluation' });
    expect(save![0]!.Put!.Item!.taskToken).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', step: 'evaluation', detail: { breach: 1, ageHours: 48 } }),
    ]);
  });

  test('the program alert is an outbox notice in the same transaction (reference, step, age; no PHI) and nothing is sent', async () => {
    // Prepare
    const r = evaluationOpenFor(48, 0);
    stored(r);

    // Act
    await breach('EVALUATION');

    // Assess
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    const key = `sla:evaluation:${r.gateOpenedAt}:1:program`;
    expect(noticeKeys(txs[0]!)).toEqual([key]);
    const [alert] = txs[0]!.filter((i) => String(i.Put?.Item?.sk).startsWith('NOTICE#'));
    expect(alert!.Put).toEqual({
      TableName: TEST_ENV.TABLE_NAME,
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `REFERRAL#${REFERRAL_ID}`,
        sk: `NOTICE#${key}`,
        gsi1pk: 'NOTICES#DUE',
        gsi1sk: `${TEST_NOW}#${REFERRAL_ID}#${key}`,
        entity: 'notice',
        referralId: REFERRAL_ID,
        key,
        audience: 'program',
        notice: 'sla',
        milestone: 'sla',
        status: 'EVALUATION',
        params: { step: 'evaluation', ageHours: 48, breaches: 1, gateOpenedAt: r.gateOpenedAt },
        state: 'pending',
        attempts: 0,
        createdAt: TEST_NOW,
        dueAt: TEST_NOW,
      },
    });
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('the second breach sets NEEDS_ATTENTION (still decidable: the gate reopens), with its own alert', async () => {
    // Prepare
    const r = evaluationOpenFor(96, 1);
    stored(r);

    // Act
    const route = await breach('EVALUATION');

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 172_800 });
    const [save] = transactions(m);
    expect(save![0]!.Put!.Item).toMatchObject({
      status: 'NEEDS_ATTENTION',
      gsi1pk: 'STATUS#NEEDS_ATTENTION',
      breaches: 2,
      pendingStep: 'evaluation',
    });
    expect(save![0]!.Put!.Item!.failure).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', detail: { breach: 2, ageHours: 96 } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'NEEDS_ATTENTION' }),
    ]);
    expect(noticeKeys(save!)).toEqual([`sla:evaluation:${r.gateOpenedAt}:2:program`]);
  });

  test('a breach that loses a race re-reads: a decision committed meanwhile is queued for the reopened gate, with no alert', async () => {
    // Prepare: the first read sees the gate open; the save fails its version condition because
    // a decision (evaluation → DETOX) committed meanwhile
    const decidedMeanwhile = referral({
      status: 'DETOX',
      version: 7,
      decided: { evaluation: { next: 'DETOX', timeoutSeconds: 1_209_600 } },
    });
    m.ddb
      .on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META' } })
      .resolvesOnce({ Item: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META', ...evaluationOpenFor(48, 0) } })
      .resolves({ Item: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META', ...decidedMeanwhile } });
    m.ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

    // Act
    const route = await breach('EVALUATION');

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 60 });
    expect(transactions(m)).toHaveLength(1);
    expect(plainPuts(m)).toEqual([
      expect.objectContaining({
        status: 'DETOX',
        version: 8,
        unapplied: [{ step: 'evaluation', route: { next: 'DETOX', timeoutSeconds: 1_209_600 } }],
      }),
    ]);
  });

  test('a step decided while its timer fired: its decision is queued (unapplied) and the gate reopens for 60 s, with no event and no alert', async () => {
    // Prepare
    stored(
      referral({
        status: 'DETOX',
        pendingStep: undefined,
        version: 8,
        decided: { evaluation: { next: 'DETOX', timeoutSeconds: 1_209_600 } },
      }),
    );

    // Act
    const route = await breach('EVALUATION');

    // Assess
    expect(route).toEqual({ next: 'EVALUATION', timeoutSeconds: 60 });
    expect(transactions(m)).toEqual([]);
    const puts = m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 8 } });
    expect(puts[0]!.Item).toMatchObject({
      status: 'DETOX',
      version: 9,
      unapplied: [{ step: 'evaluation', route: { next: 'DETOX', timeoutSeconds: 1_209_600 } }],
    });
  });

  test('a decision already queued (unapplied) is not queued twice: the gate reopens, nothing is written', async () => {
    // Prepare
    const route = { next: 'DETOX' as const, timeoutSeconds: 1_209_600 };
    stored(referral({ status: 'DETOX', version: 8, decided: { evaluation: route }, unapplied: [{ step: 'evaluation', route }] }));

    // Act
    const out = await breach('EVALUATION');

    // Assess
    expect(out).toEqual({ next: 'EVALUATION', timeoutSeconds: 60 });
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m)).toEqual([]);
  });

  test('detox waiting 30 days expires instead of reopening, and the closing notices go into that transaction', async () => {
    // Prepare
    stored(
      referral({
        status: 'DETOX',
        pendingStep: 'detox-confirmation',
        taskToken: 'tt-d',
        version: 12,
        breaches: 2,
        detoxSince: isoAgo(30 * DAY),
        gateOpenedAt: isoAgo(16 * DAY),
      }),
    );

    // Act
    const route = await breach('DETOX');

    // Assess
    expect(route).toEqual({ next: 'EXPIRED' });
    const [save, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(save![0]!.Put!.Item).toMatchObject({ status: 'EXPIRED' });
    expect(save![0]!.Put!.Item!.pendingStep).toBeUndefined();
    expect(save![0]!.Put!.Item!.taskToken).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', step: 'detox-confirmation', detail: { expired: true, maxDays: 30 } }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'DETOX', to: 'EXPIRED' }),
    ]);
    expect(noticeKeys(save!)).toEqual(['closed:patient', 'closed:physician']);
    expect(noticeItems(save!)).toEqual([
      expect.objectContaining({ audience: 'patient', notice: 'closed', status: 'EXPIRED', state: 'pending' }),
      expect.objectContaining({ audience: 'physician', notice: 'closed', status: 'EXPIRED', state: 'pending' }),
    ]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('an expiry without consent to share closes with the patient notice only', async () => {
    // Prepare
    storeIntake(m, REFERRAL_ID, { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });
    stored(referral({ status: 'DETOX', pendingStep: 'detox-confirmation', taskToken: 'tt-d', version: 12, detoxSince: isoAgo(31 * DAY) }));

    // Act
    await breach('DETOX');

    // Assess
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['closed:patient']);
  });

  test('a detox breach before 30 days reopens with only the time left', async () => {
    // Prepare
    stored(
      referral({
        status: 'DETOX',
        pendingStep: 'detox-confirmation',
        taskToken: 'tt-d',
        version: 5,
        breaches: 0,
        detoxSince: isoAgo(25 * DAY),
        gateOpenedAt: isoAgo(14 * DAY),
      }),
    );

    // Act
    const route = await breach('DETOX');

    // Assess
    expect(route).toEqual({ next: 'DETOX', timeoutSeconds: 5 * 86_400 });
  });

  test('a breach on a referral closed meanwhile ends with ReferralClosed and writes nothing', async () => {
    // Prepare
    stored(referral({ status: 'WITHDRAWN', version: 9 }));

    // Act
    const run = breach('EVALUATION');

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ReferralClosed' });
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m)).toEqual([]);
  });
});

describe("escalate task: the waitlist's weekly review and the first-session timer", () => {
  const waitlisted = (reviews: number): ReferralRecord =>
    referral({
      status: 'WAITLISTED',
      pendingStep: 'waitlist',
      taskToken: 'tt-wait',
      version: 8,
      breaches: 0,
      gateOpenedAt: isoAgo(15 * DAY),
      gateDueAt: isoAgo(0),
      waitlist: { since: isoAgo(15 * DAY), track: 'morning', reviews },
    });

  test("the waitlist's timer is a review: WAITLIST_REVIEW_DUE and a program notice (no PHI), the gate reopens for another week, no breach counted", async () => {
    // Prepare: one morning cohort with 2 seats free, one full
    stored(waitlisted(1));
    m.ddb
      .on(QueryCommand, { IndexName: 'gsi2' })
      .resolves({ Items: [cohortItem(cohort({ seats: 8 })), cohortItem(cohort({ cohortId: 'full', seats: 10 }))] });

    // Act
    const route = await breach('WAITLISTED');

    // Assess
    expect(route).toEqual({ next: 'WAITLISTED', timeoutSeconds: (7 * DAY) / 1000 });
    const [save, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(save![0]!.Put!.Item).toMatchObject({
      status: 'WAITLISTED',
      breaches: 0,
      pendingStep: 'waitlist',
      waitlist: { since: isoAgo(15 * DAY), track: 'morning', reviews: 2 },
    });
    expect(save![0]!.Put!.Item!.taskToken).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({ type: 'WAITLIST_REVIEW_DUE', step: 'waitlist', detail: { review: 2, waitingDays: 15, seatsFree: 2 } }),
    ]);
    expect(noticeItems(save!)).toEqual([
      expect.objectContaining({
        key: 'waitlist-review:2:program',
        audience: 'program',
        notice: 'waitlist-review',
        params: { review: 2, waitingDays: 15, seatsFree: 2 },
      }),
    ]);
    expect(JSON.stringify(noticeItems(save!))).not.toMatch(/Jordan|Quintana|555/);
  });

  test('however many weeks it waits, the waitlist never escalates to NEEDS_ATTENTION', async () => {
    // Prepare
    stored(waitlisted(12));

    // Act
    await breach('WAITLISTED');

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ status: 'WAITLISTED', breaches: 0 });
    expect(noticeKeys(transactions(m)[0]!)).toEqual(['waitlist-review:13:program']);
  });

  test('the first-session gate breaches like any gate, then waits one grace period (24 h) more; the second breach needs attention', async () => {
    // Prepare
    const enrolled = (breaches: number) =>
      referral({
        status: 'ENROLLED',
        pendingStep: 'first-session',
        taskToken: 'tt-first',
        version: 12,
        breaches,
        cohortId: 'cohort-morning-a',
        gateOpenedAt: isoAgo(8 * DAY),
        gateDueAt: isoAgo(0),
        firstSession: { at: isoAgo(DAY), retries: 0 },
      });
    stored(enrolled(0));

    // Act
    const first = await breach('ENROLLED');

    // Assess
    expect(first).toEqual({ next: 'ENROLLED', timeoutSeconds: 24 * 3600 });
    expect(eventItems(transactions(m)[0]!)).toEqual([
      expect.objectContaining({ type: 'SLA_BREACHED', step: 'first-session', detail: { breach: 1, ageHours: 192 } }),
    ]);
    expect(noticeItems(transactions(m)[0]!)).toEqual([
      expect.objectContaining({ audience: 'program', notice: 'sla', params: expect.objectContaining({ step: 'first-session' }) }),
    ]);

    // Act: the second breach
    resetMocks(m);
    answerDefaults(m);
    storeIntake(m, REFERRAL_ID, validIntake());
    stored(enrolled(1));
    const second = await breach('ENROLLED');

    // Assess
    expect(second).toEqual({ next: 'ENROLLED', timeoutSeconds: 24 * 3600 });
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      status: 'NEEDS_ATTENTION',
      pendingStep: 'first-session',
      cohortId: 'cohort-morning-a',
    });
  });

  test('a task failure at the first session resumes there later', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLED', version: 12, cohortId: 'cohort-morning-a', firstSession: { at: isoAgo(-DAY), retries: 0 } }));

    // Act
    await failure('Lambda.ServiceException');

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failure: { error: 'Lambda.ServiceException', resumeAt: 'ENROLLED' },
    });
  });
});

describe('escalate task: a task kept failing', () => {
  test('records TASK_FAILED, sets NEEDS_ATTENTION with the failure and where to resume, and drops the gate', async () => {
    // Prepare
    stored(
      referral({
        status: 'EVALUATION',
        version: 2,
        pendingStep: 'evaluation',
        taskToken: 'tt',
        gateDueAt: isoAgo(-DAY),
        unapplied: [{ step: 'evaluation', route: { next: 'DETOX' } }],
      }),
    );

    // Act
    const out = await failure('Lambda.Unknown');

    // Assess
    expect(out).toEqual({ status: 'NEEDS_ATTENTION' });
    const [save] = transactions(m);
    const meta = save![0]!.Put!.Item!;
    expect(meta).toMatchObject({
      status: 'NEEDS_ATTENTION',
      version: 3,
      failure: { error: 'Lambda.Unknown', at: TEST_NOW, resumeAt: 'EVALUATION' },
    });
    for (const gone of ['taskToken', 'pendingStep', 'gateDueAt', 'unapplied']) expect(meta[gone]).toBeUndefined();
    expect(eventItems(save!)).toEqual([
      expect.objectContaining({
        type: 'TASK_FAILED',
        actor: { kind: 'system' },
        detail: { error: 'Lambda.Unknown', resumeAt: 'EVALUATION' },
      }),
      expect.objectContaining({ type: 'STATUS_CHANGED', from: 'EVALUATION', to: 'NEEDS_ATTENTION' }),
    ]);
  });

  test('the program alert is the notice failure:<version>:program in the same transaction; nothing is sent', async () => {
    // Prepare
    stored(referral({ status: 'RECEIVED', version: 2 }));

    // Act
    await failure('States.Timeout');

    // Assess
    const txs = transactions(m);
    expect(txs).toHaveLength(1);
    expect(noticeItems(txs[0]!)).toEqual([
      expect.objectContaining({
        key: 'failure:3:program',
        audience: 'program',
        notice: 'failure',
        params: { errorCode: 'States.Timeout' },
        status: 'NEEDS_ATTENTION',
        gsi1pk: 'NOTICES#DUE',
      }),
    ]);
    expect(txs[0]![0]!.Put!.Item).toMatchObject({ failure: { resumeAt: 'RECEIVED' } });
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('a failure while NEEDS_ATTENTION after breaches resumes at the gate that was open', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', version: 10, breaches: 2, pendingStep: 'enrollment' }));

    // Act
    await failure('Lambda.ServiceException');

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ status: 'NEEDS_ATTENTION', failure: { resumeAt: 'ENROLLMENT' } });
  });

  test('a second failure keeps the first place to resume', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', version: 10, failure: { error: 'Lambda.Unknown', at: isoAgo(HOUR), resumeAt: 'DETOX' } }));

    // Act
    await failure('States.TaskFailed');

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ failure: { error: 'States.TaskFailed', at: TEST_NOW, resumeAt: 'DETOX' } });
  });

  test('an error code is reduced to safe characters before it is stored or put in the alert', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 2 }));

    // Act
    await failure('Bad<script>alert(1)</script> Jordan Quintana');

    // Assess
    const [save] = transactions(m);
    expect(eventItems(save!).find((e) => e.type === 'TASK_FAILED')).toMatchObject({
      detail: { error: 'Badscriptalert1scriptJordanQuintana' },
    });
    expect(noticeItems(save!)[0]).toMatchObject({ params: { errorCode: 'Badscriptalert1scriptJordanQuintana' } });
    expect(JSON.stringify(save)).not.toMatch(/<script| Jordan/);
  });

  test('a failure without an error name is recorded as Unknown', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT', version: 2 }));

    // Act
    await failure();

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ failure: { error: 'Unknown', resumeAt: 'ENROLLMENT' } });
  });

  test('a failure after a final status keeps the status and writes nothing (the execution just ends)', async () => {
    // Prepare
    stored(referral({ status: 'STARTED', version: 20 }));

    // Act
    const out = await failure('States.TaskFailed');

    // Assess
    expect(out).toEqual({ status: 'STARTED' });
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m)).toEqual([]);
  });
});

describe('escalate task: input', () => {
  test('an unknown kind is rejected as invalid task input', async () => {
    await expect(handler({ referralId: REFERRAL_ID, kind: 'panic' }, lambdaContext)).rejects.toMatchObject({ name: 'TaskInputError' });
  });

  test('a breach without the gate status is rejected as invalid task input', async () => {
    // Prepare
    stored(evaluationOpenFor(48, 0));

    // Act
    const run = handler({ referralId: REFERRAL_ID, kind: 'breach' }, lambdaContext);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'TaskInputError' });
    expect(m.ddb.calls()).toHaveLength(0);
  });
});
