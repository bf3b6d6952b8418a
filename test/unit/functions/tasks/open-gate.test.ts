import { beforeEach, describe, expect, test } from '@jest/globals';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { eventItems, plainPuts, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { DAY, isoAgo, lambdaContext, referral, REFERRAL_ID, TEST_NOW } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

const { m, handler } = handlerUnderTest(() => import('../../../../functions/open-gate/handler'));

const stored = (r: ReferralRecord) => storeReferral(m, r);

const open = (status: string, taskToken: string, timeoutSeconds?: number) =>
  handler({ referralId: REFERRAL_ID, status, taskToken, ...(timeoutSeconds ? { timeoutSeconds } : {}) }, lambdaContext);

const resumed = () => m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);

const DETOX_ROUTE = { next: 'DETOX' as const, timeoutSeconds: 1_209_600 };

beforeEach(() => {
  m.sfn.on(SendTaskSuccessCommand).resolves({});
});

describe('open-gate task', () => {
  test('stores the task token, the step and gateDueAt = opened + timeoutSeconds in one conditional put (no status change, no event)', async () => {
    // Prepare
    stored(referral({ status: 'EVALUATION', version: 2 }));

    // Act
    await open('EVALUATION', 'AQCEAAAAKgAAAAMAAAAAAAAAA-token', 172_800);

    // Assess
    expect(transactions(m)).toEqual([]);
    const put = m.ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('version = :prev');
    expect(put.ExpressionAttributeValues).toEqual({ ':prev': 2 });
    expect(put.Item).toMatchObject({
      status: 'EVALUATION',
      pendingStep: 'evaluation',
      taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAA-token',
      breaches: 0,
      version: 3,
      gateOpenedAt: TEST_NOW,
      gateDueAt: new Date(Date.parse(TEST_NOW) + 172_800_000).toISOString(),
    });
    expect(resumed()).toEqual([]);
  });

  test('entering detox records when detox started', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 4 }));

    // Act
    await open('DETOX', 'tt', 1_209_600);

    // Assess
    expect(plainPuts(m)[0]).toMatchObject({ pendingStep: 'detox-confirmation', detoxSince: TEST_NOW });
  });

  test('a detox gate reopened keeps the day detox started', async () => {
    // Prepare
    const since = isoAgo(10 * DAY);
    stored(referral({ status: 'DETOX', version: 4, detoxSince: since }));

    // Act
    await open('DETOX', 'tt', 600);

    // Assess
    expect(plainPuts(m)[0]).toMatchObject({ detoxSince: since });
  });

  test('a gate reopened after a breach keeps its opening time and breach count, takes the new token and due time, with GATE_REOPENED', async () => {
    // Prepare
    const openedAt = isoAgo(2 * DAY);
    stored(referral({ status: 'EVALUATION', pendingStep: 'evaluation', version: 7, breaches: 1, gateOpenedAt: openedAt }));

    // Act
    await open('EVALUATION', 'tt-2', 172_800);

    // Assess
    const [save, ...more] = transactions(m);
    expect(more).toEqual([]);
    expect(save![0]!.Put!.Item).toMatchObject({ taskToken: 'tt-2', breaches: 1, gateOpenedAt: openedAt, version: 8 });
    expect(eventItems(save!)).toEqual([expect.objectContaining({ type: 'GATE_REOPENED', step: 'evaluation', actor: { kind: 'system' } })]);
  });

  test('a referral in NEEDS_ATTENTION stays there while its gate reopens', async () => {
    // Prepare
    stored(referral({ status: 'NEEDS_ATTENTION', pendingStep: 'evaluation', version: 7, breaches: 2, gateOpenedAt: isoAgo(4 * DAY) }));

    // Act
    await open('EVALUATION', 'tt-3', 172_800);

    // Assess
    expect(transactions(m)[0]![0]!.Put!.Item).toMatchObject({ status: 'NEEDS_ATTENTION', taskToken: 'tt-3', pendingStep: 'evaluation' });
  });

  test('a decision made while this gate was opening is applied at once: the fresh token resumes with its route and is not stored', async () => {
    // Prepare: the evaluation was decided (→ DETOX) before its gate's token was stored
    stored(
      referral({
        status: 'DETOX',
        version: 9,
        decided: { evaluation: DETOX_ROUTE },
        unapplied: [{ step: 'evaluation', route: DETOX_ROUTE }],
      }),
    );

    // Act
    await open('EVALUATION', 'tt-late', 172_800);

    // Assess
    expect(resumed()).toEqual([{ taskToken: 'tt-late', output: JSON.stringify(DETOX_ROUTE) }]);
    expect(transactions(m)).toEqual([]);
    const puts = m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': 9 } });
    const item = puts[0]!.Item!;
    expect(item).toMatchObject({ status: 'DETOX', version: 10, unapplied: [] });
    expect(item.taskToken).toBeUndefined();
    expect(item.pendingStep).toBeUndefined();
  });

  test('a queued decision whose resume fails fails the task (the workflow records it; the status already shows the decision)', async () => {
    // Prepare
    stored(referral({ status: 'DETOX', version: 9, unapplied: [{ step: 'evaluation', route: DETOX_ROUTE }] }));
    m.sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const run = open('EVALUATION', 'tt-late', 60);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(plainPuts(m)).toEqual([expect.objectContaining({ status: 'DETOX', unapplied: [] })]);
  });

  test('a decision queued for another step is left alone: this gate opens normally and keeps the other entry', async () => {
    // Prepare
    const other = { step: 'enrollment' as const, route: { next: 'ENROLLED' as const } };
    stored(referral({ status: 'DETOX', version: 9, unapplied: [other] }));

    // Act
    await open('DETOX', 'tt-detox', 600);

    // Assess
    expect(resumed()).toEqual([]);
    expect(plainPuts(m)[0]).toMatchObject({ pendingStep: 'detox-confirmation', taskToken: 'tt-detox', unapplied: [other] });
  });

  test('after an ordinary decision (e.g. detox extended) the next gate opens normally', async () => {
    // Prepare
    stored(
      referral({
        status: 'DETOX',
        pendingStep: undefined,
        version: 9,
        decided: { 'detox-confirmation': { next: 'DETOX', timeoutSeconds: 600 } },
      }),
    );

    // Act
    await open('DETOX', 'tt-new', 600);

    // Assess
    expect(resumed()).toEqual([]);
    expect(plainPuts(m)[0]).toMatchObject({ pendingStep: 'detox-confirmation', taskToken: 'tt-new' });
  });

  test('opening a gate tells nobody: no notice is written and nothing is sent', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT', version: 5, decided: { evaluation: { next: 'ENROLLMENT', timeoutSeconds: 259_200 } } }));

    // Act
    await open('ENROLLMENT', 'tt-enrol', 259_200);

    // Assess
    expect(transactions(m)).toEqual([]);
    expect(plainPuts(m).filter((i) => String(i.sk).startsWith('NOTICE#'))).toEqual([]);
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('a referral closed meanwhile ends the task with ReferralClosed; the token is not stored', async () => {
    // Prepare
    stored(referral({ status: 'WITHDRAWN', version: 6 }));

    // Act
    const run = open('EVALUATION', 'tt', 600);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ReferralClosed' });
    expect(plainPuts(m)).toEqual([]);
    expect(transactions(m)).toEqual([]);
  });

  test('a status that is not a gate is rejected as invalid task input', async () => {
    await expect(open('STARTED', 'tt')).rejects.toMatchObject({ name: 'TaskInputError', message: expect.stringContaining('status') });
  });
});
