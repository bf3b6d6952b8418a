import { expect, test } from '@jest/globals';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// SLA timers with TIME_SCALE: the 48 h evaluation gate lasts ~1.7 s here

const suite = runtimeSuite({ timeScale: 100_000 });

test('breach → escalation email → reopened gate → second breach → NEEDS_ATTENTION, still decidable', async () => {
  // Prepare
  const { referralId, reference } = (await suite.api.intake(intakeBody({ insurance: { type: 'self-pay' } }))).json;
  await suite.api.waitForGate(referralId, 'evaluation');

  // Act: let the timer run out once
  const first = await suite.api.waitFor(referralId, (r) => r.events.some((e) => e.type === 'GATE_REOPENED'));

  // Assess: escalated without PHI, gate reopened, still EVALUATION
  expect(first.events.filter((e) => e.type === 'SLA_BREACHED')).toHaveLength(1);
  expect(first.status).toBe('EVALUATION');
  const alerts = await suite.api.waitForEmails('intake-team@iop.example', 1, (e) => e.subject === `Overdue step: ${reference}`);
  expect(alerts[0]!.body.text).toContain('evaluation');
  expect(alerts[0]!.body.text).not.toMatch(/Alex|Rivera|alcohol|123-4567/);

  // Act: the second breach
  const second = await suite.api
    .waitFor(referralId, (r) => r.status === 'NEEDS_ATTENTION' && r.events.filter((e) => e.type === 'GATE_REOPENED').length >= 2)
    .catch(async (err) => {
      console.error(
        JSON.stringify(
          (await suite.api.referral(referralId)).events.map((e) => [e.type, e.from, e.to, e.step, e.detail]),
          null,
          0,
        ),
      );
      throw err;
    });
  expect(second.pendingStep).toBe('evaluation');
  expect(second.breaches).toBeGreaterThanOrEqual(2);

  // Assess: still decidable by staff, and the workflow moves on
  const res = await suite.api.decide(referralId, 'evaluation', {
    dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
    recommendedLevel: '2.1',
    detoxRequired: false,
    decision: 'accept',
  });
  expect(res.status).toBe(200);
  const moved = await suite.api.waitForGate(referralId, 'enrollment');
  expect(moved.status).toBe('ENROLLMENT');
  expect(moved.events.find((e) => e.type === 'STATUS_CHANGED' && e.to === 'ENROLLMENT')?.from).toBe('NEEDS_ATTENTION');
});
