import { expect, test } from '@jest/globals';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// A gap fault injection found (issue 12, item 3), closed since: when a gate's task fails and
// RecordFailure (escalate) then fails on all its tries too, the execution ends FAILED with the
// referral still at its gate status, no gate open and no failure recorded — Resume refused it and
// sweep could not restart it (the execution's name is taken by the failed one; StartExecution
// answers ExecutionAlreadyExists). At 20 % failures a RecordFailure fails all five tries once in
// ~3,000; in an outage of the function, every time. Now sweep asks whether that execution still runs
// (workflow:describe): one that ended leaves the referral NEEDS_ATTENTION, the program told, and
// Resume starts a new execution at the step.

const suite = runtimeSuite({
  timeScale: 100,
  // open-gate and escalate fail every invocation, before they run
  faults: { lambda: { functions: ['open-gate', 'escalate'], errorPercent: 100 } },
  env: { STRANDED_AFTER_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
});

test('a referral whose RecordFailure failed every try needs attention after the next sweep, and Resume opens its gate again', async () => {
  // Prepare: the evaluation gate cannot open, and its failure cannot be recorded
  const { referralId } = (await suite.api.intake(intakeBody())).json as { referralId: string };
  const executionArn = `${suite.rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${referralId}`;
  let status: string | undefined;
  for (let i = 0; i < 200 && status !== 'FAILED'; i++) {
    status = (await suite.rt.sfn.describeExecution({ executionArn })).status;
    if (status !== 'FAILED') await new Promise((r) => setTimeout(r, 50));
  }
  expect(status).toBe('FAILED');

  // Act: the faults stop; the referral has been idle past STRANDED_AFTER_SECONDS; sweep runs
  suite.rt.faults!.set(undefined);
  await new Promise((r) => setTimeout(r, 1500));
  await suite.rt.runScheduled('sweep');

  // Assess: a person is told and can act on it
  const r = await suite.api.waitFor(referralId, (x) => x.status === 'NEEDS_ATTENTION', 5000);
  expect(r.failure).toMatchObject({ error: 'WorkflowEnded', resumeAt: 'EVALUATION' });
  const alerts = await suite.api.waitForEmails('intake-team@iop.example', 1, (e) => e.subject.includes(r.reference));
  expect(alerts).toHaveLength(1);
  const resumed = await suite.api.call('POST', `/api/staff/referrals/${referralId}/resume`, { body: { note: 'faults over' }, as: 'casey' });
  expect(resumed.status).toBe(200);
  const open = await suite.api.waitFor(referralId, (x) => x.pendingStep === 'evaluation', 10_000);
  expect(open.status).toBe('EVALUATION');
}, 30_000);
