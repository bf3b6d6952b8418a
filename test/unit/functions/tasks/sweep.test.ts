import { beforeEach, describe, expect, test } from '@jest/globals';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { eventItems, putItems, sentEmails, storeIntake, storeNotice, storeReferral, transactions } from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import { HOUR, isoAgo, metaItem, notice, referral, REFERRAL_ID, TEST_ENV, TEST_NOW, validIntake, lambdaContext } from '../support/fixtures';
import type { ReferralRecord } from '../../../../functions/lib/adapters/ports';

// the schedule's sweep: retries notices that are due (failed sends, dead senders) and restarts
// workflows that were lost (an intake whose execution never started, a gate status with no gate)

const { m, handler } = handlerUnderTest(() => import('../../../../functions/sweep/handler'));

const OTHER_ID = '0b7e1f4a-2c3d-4e5f-8a9b-1c2d3e4f5a6b';
const THIRD_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';

/** the due index answers these notices */
const dueIndexHolds = (...due: Array<{ referralId: string; key: string }>) => {
  m.ddb.on(QueryCommand, { IndexName: 'gsi1', ExpressionAttributeValues: { ':pk': 'NOTICES#DUE' } }).resolves({ Items: due });
};

/** the work queue of `status` answers these referrals */
const queueHolds = (status: string, ...items: ReferralRecord[]) => {
  m.ddb
    .on(QueryCommand, { IndexName: 'gsi1', ExpressionAttributeValues: { ':pk': `STATUS#${status}` } })
    .resolves({ Items: items.map(metaItem) });
};

const starts = () => m.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

beforeEach(() => {
  m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
});

describe('sweep: notices due', () => {
  test('reads the due index up to now and delivers each notice it finds', async () => {
    // Prepare
    storeReferral(m, referral({ status: 'EVALUATION' }));
    storeIntake(m, REFERRAL_ID, validIntake());
    storeNotice(m, notice({ attempts: 1, dueAt: isoAgo(1000) }));
    storeNotice(m, notice({ key: 'received:physician', audience: 'physician', attempts: 2, dueAt: isoAgo(5000) }));
    dueIndexHolds({ referralId: REFERRAL_ID, key: 'received:physician' }, { referralId: REFERRAL_ID, key: 'received:patient' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    const [dueQuery] = m.ddb
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input)
      .filter((q) => q.ExpressionAttributeValues?.[':pk'] === 'NOTICES#DUE');
    expect(dueQuery).toMatchObject({
      TableName: TEST_ENV.TABLE_NAME,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :now',
      ExpressionAttributeValues: { ':now': `${TEST_NOW}~` },
      Limit: 100,
    });
    expect(out.notices).toMatchObject({ sent: 2, retrying: 0, 'given-up': 0, cancelled: 0, 'not-due': 0 });
    expect((await sentEmails(m)).map((x) => x.to[0])).toEqual(['alopez@clinic.example.com', 'jordan.quintana@example.com']);
    expect(transactions(m).map((t) => t[1]!.Put!.Item!.type)).toEqual(['DISCLOSURE', 'NOTICE_SENT']);
  });

  test('a notice another sender took meanwhile is counted not-due and not sent', async () => {
    // Prepare
    storeNotice(m, notice({ state: 'sent' }));
    dueIndexHolds({ referralId: REFERRAL_ID, key: 'received:patient' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.notices).toMatchObject({ sent: 0, 'not-due': 1 });
    expect(m.ses.calls()).toHaveLength(0);
  });

  test('a notice whose delivery hits a table error is counted as retrying and the others go on', async () => {
    // Prepare
    storeReferral(m, referral({ status: 'EVALUATION' }));
    storeIntake(m, REFERRAL_ID, validIntake());
    storeNotice(m, notice());
    m.ddb
      .on(UpdateCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#received:physician' } })
      .rejects(Object.assign(new Error('x'), { name: 'InternalServerError' }));
    dueIndexHolds({ referralId: REFERRAL_ID, key: 'received:physician' }, { referralId: REFERRAL_ID, key: 'received:patient' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.notices).toMatchObject({ sent: 1, retrying: 1 });
    expect(await sentEmails(m)).toHaveLength(1);
  });
});

describe('sweep: stranded workflows', () => {
  test('a decision whose hand-over never happened (the decider died) is handed over with the kept token, and nothing is started', async () => {
    // Prepare
    const route = { next: 'ENROLLMENT', timeoutSeconds: 259_200 };
    queueHolds(
      'ENROLLMENT',
      referral({ status: 'ENROLLMENT', version: 6, updatedAt: isoAgo(HOUR), handover: { token: 'tt-evaluation', route: route as never } }),
    );
    m.sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    expect(m.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tt-evaluation', output: JSON.stringify(route) },
    ]);
    expect(starts()).toEqual([]);
  });

  test('a kept token that was already used (the workflow moved on) leads to a start by name, which finds the execution and counts nothing', async () => {
    // Prepare
    queueHolds(
      'ENROLLMENT',
      referral({
        status: 'ENROLLMENT',
        version: 6,
        updatedAt: isoAgo(HOUR),
        handover: { token: 'tt-used', route: { next: 'ENROLLMENT' } as never },
      }),
    );
    m.sfn.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'no', $metadata: {} }));
    m.sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    m.sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(0);
    expect(starts().map((x) => x.name)).toEqual([REFERRAL_ID]);
  });

  test('an intake stored minutes ago whose execution never started is started as a new referral would be', async () => {
    // Prepare
    queueHolds('RECEIVED', referral({ status: 'RECEIVED', version: 1, updatedAt: isoAgo(10 * 60_000) }));

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    expect(starts()).toEqual([
      { stateMachineArn: TEST_ENV.STATE_MACHINE_ARN, name: REFERRAL_ID, input: JSON.stringify({ referralId: REFERRAL_ID }) },
    ]);
  });

  test('a referral at a gate status with no gate open for minutes is restarted into that gate, under its execution name', async () => {
    // Prepare
    queueHolds(
      'ENROLLMENT',
      referral({ status: 'ENROLLMENT', version: 6, updatedAt: isoAgo(HOUR), execution: `${REFERRAL_ID}-r1`, resumes: 1 }),
    );

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    expect(starts()).toEqual([
      {
        stateMachineArn: TEST_ENV.STATE_MACHINE_ARN,
        name: `${REFERRAL_ID}-r1`,
        input: JSON.stringify({ referralId: REFERRAL_ID, route: { next: 'ENROLLMENT', timeoutSeconds: 259_200 } }),
      },
    ]);
  });

  test('open gates and referrals that changed in the last two minutes are left alone', async () => {
    // Prepare
    queueHolds(
      'EVALUATION',
      referral({ referralId: REFERRAL_ID, status: 'EVALUATION', pendingStep: 'evaluation', taskToken: 'tt', updatedAt: isoAgo(HOUR) }),
      referral({ referralId: OTHER_ID, status: 'EVALUATION', updatedAt: isoAgo(60_000) }),
    );
    queueHolds('RECEIVED', referral({ referralId: THIRD_ID, status: 'RECEIVED', updatedAt: isoAgo(30_000) }));

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(0);
    expect(starts()).toEqual([]);
  });

  test('a start that fails for one referral is logged and the others are still restarted', async () => {
    // Prepare
    queueHolds(
      'RECEIVED',
      referral({ referralId: REFERRAL_ID, status: 'RECEIVED', updatedAt: isoAgo(HOUR) }),
      referral({ referralId: OTHER_ID, status: 'RECEIVED', updatedAt: isoAgo(HOUR) }),
    );
    m.sfn.on(StartExecutionCommand, { name: REFERRAL_ID }).rejects(Object.assign(new Error('x'), { name: 'ThrottlingException' }));

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    expect(starts().map((s) => s.name)).toEqual([REFERRAL_ID, OTHER_ID]);
  });

  // was a bug (fixed): a referral whose execution still exists was counted as restarted on every sweep
  test('an execution that already exists is not counted as restarted', async () => {
    // Prepare
    queueHolds('DETOX', referral({ status: 'DETOX', updatedAt: isoAgo(HOUR) }));
    m.sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    m.sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(0);
    expect(transactions(m)).toEqual([]);
  });

  // was a gap (issue 12's fault run): a gate's task and then its RecordFailure failed every try, so the
  // execution ended FAILED with the referral at its gate status; its name could not be started again
  test('a referral whose execution ended short of its end needs attention, with the step to resume at, and the program is told', async () => {
    // Prepare
    const stranded = referral({ status: 'EVALUATION', version: 4, updatedAt: isoAgo(HOUR) });
    queueHolds('EVALUATION', stranded);
    storeReferral(m, stranded);
    storeIntake(m, REFERRAL_ID, validIntake());
    m.sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    m.sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    const written = transactions(m)[0] ?? [];
    expect(putItems(written).find((i) => i.sk === 'META')).toMatchObject({
      status: 'NEEDS_ATTENTION',
      failure: { error: 'WorkflowEnded', resumeAt: 'EVALUATION' },
    });
    expect(eventItems(written).map((e) => e.type)).toContain('TASK_FAILED');
    expect(
      putItems(written)
        .filter((i) => String(i.sk).startsWith('NOTICE#'))
        .map((i) => i.sk),
    ).toEqual(['NOTICE#failure:5:program']);
  });

  // was a bug (fixed): each queue was read once with limit 100, so a stranded referral further down was never found
  test('a stranded referral beyond the first 100 of its queue is restarted too', async () => {
    // Prepare
    const open = Array.from({ length: 100 }, (_, i) =>
      referral({
        referralId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        status: 'EVALUATION',
        pendingStep: 'evaluation',
        taskToken: `tt-${i}`,
        updatedAt: isoAgo(HOUR),
      }),
    );
    const pageTwo = { pk: 'REFERRAL#x', sk: 'META', gsi1pk: 'STATUS#EVALUATION', gsi1sk: '1#x' };
    m.ddb
      .on(QueryCommand, { IndexName: 'gsi1', ExpressionAttributeValues: { ':pk': 'STATUS#EVALUATION' } })
      .resolvesOnce({ Items: open.map(metaItem), LastEvaluatedKey: pageTwo })
      .resolves({ Items: [metaItem(referral({ status: 'EVALUATION', updatedAt: isoAgo(HOUR) }))] });

    // Act
    const out = await handler(undefined, lambdaContext);

    // Assess
    expect(out.restarted).toBe(1);
    expect(starts().map((s) => s.name)).toEqual([REFERRAL_ID]);
  });
});
