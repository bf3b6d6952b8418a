import { expect, test } from '@jest/globals';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// a workflow task that keeps failing: retried with backoff, then caught — the referral lands in
// NEEDS_ATTENTION with the error recorded and the program told; the execution never fails silently

let attempts = 0;
/** the payer gateway is down until a test brings it back */
let payerDown = true;

const suite = runtimeSuite({
  timeScale: 1000,
  handlers: {
    'check-insurance': async (event: unknown, context: unknown) => {
      attempts++;
      if (payerDown) throw Object.assign(new Error('payer gateway unreachable'), { name: 'PayerGateway.Down' });
      const real = await import('../../functions/check-insurance/handler');
      return real.handler(event, context as never);
    },
  },
});

test('retries exhausted → NEEDS_ATTENTION with TASK_FAILED, program alerted, execution SUCCEEDED', async () => {
  // Prepare / Act
  payerDown = true;
  const { referralId, reference } = (await suite.api.intake(intakeBody())).json;

  // Assess
  const r = await suite.api.waitFor(referralId, (x) => x.status === 'NEEDS_ATTENTION');
  expect(attempts).toBe(5); // the first try and the ASL's four retries (backoff + full jitter)
  expect(r.events.find((e) => e.type === 'TASK_FAILED')?.detail).toEqual({ error: 'PayerGateway.Down', resumeAt: 'RECEIVED' });
  expect(r.failure).toMatchObject({ error: 'PayerGateway.Down', resumeAt: 'RECEIVED' });
  const alert = await suite.api.waitForEmails('intake-team@iop.example', 1, (e) => e.subject === `Referral needs attention: ${reference}`);
  expect(alert).toHaveLength(1);
  expect(alert[0]!.body.text).not.toMatch(/Alex|Rivera|123-4567/);
  const sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: suite.rt.sfnUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const arn = `${suite.rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${referralId}`;
    let status: string | undefined;
    for (let i = 0; i < 100 && status !== 'SUCCEEDED'; i++) {
      status = (await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status;
      if (status !== 'SUCCEEDED') await new Promise((res) => setTimeout(res, 50));
    }
    expect(status).toBe('SUCCEEDED');
  } finally {
    sfn.destroy();
  }
  // staff can still close it
  expect(
    (await suite.api.call('POST', `/api/staff/referrals/${referralId}/withdraw`, { body: { reason: 'Duplicate' }, as: 'casey' })).status,
  ).toBe(200);
});

test('Resume restarts a referral that needs attention at the step that failed, and it goes on to its gate', async () => {
  // Prepare
  payerDown = true;
  const { referralId } = (await suite.api.intake(intakeBody())).json;
  await suite.api.waitFor(referralId, (x) => x.status === 'NEEDS_ATTENTION');
  const early = await suite.api.call('POST', `/api/staff/referrals/${referralId}/resume`, { body: {}, as: 'pat' });

  // Act: the cause is fixed, a case worker resumes
  payerDown = false;
  const resumed = await suite.api.call('POST', `/api/staff/referrals/${referralId}/resume`, {
    body: { note: 'payer gateway back' },
    as: 'casey',
  });
  const again = await suite.api.call('POST', `/api/staff/referrals/${referralId}/resume`, { body: {}, as: 'casey' });

  // Assess
  expect(early.status).toBe(403);
  expect(resumed.status).toBe(200);
  const r = await suite.api.waitForGate(referralId, 'evaluation');
  expect(r.status).toBe('EVALUATION');
  expect(r.failure).toBeUndefined();
  expect(r.events.find((e) => e.type === 'RESUMED')).toMatchObject({
    actor: { kind: 'staff', username: 'casey' },
    detail: { error: 'PayerGateway.Down', resumeAt: 'RECEIVED', note: 'payer gateway back' },
  });
  expect(again.status).toBe(409);
  // the resumed workflow is a working one: a decision moves it on
  expect(
    (
      await suite.api.decide(referralId, 'evaluation', {
        dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
        recommendedLevel: '2.1',
        detoxRequired: false,
        decision: 'accept',
      })
    ).status,
  ).toBe(200);
  await suite.api.waitForGate(referralId, 'enrollment');
});
