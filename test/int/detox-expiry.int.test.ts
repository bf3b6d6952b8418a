import { expect, test } from '@jest/globals';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// detox waits at most DETOX_MAX_DAYS in all: here ~2.6 s (0.00003 days), so the detox gate's timer
// is cut to what is left and the referral expires with the person and the referrer told

const suite = runtimeSuite({ env: { DETOX_MAX_DAYS: '0.00003' } });

test('a referral waiting for detox past the limit → EXPIRED, patient and consenting referrer told', async () => {
  // Prepare
  const tag = `x${Date.now().toString(36)}`;
  const { referralId } = (
    await suite.api.intake(
      intakeBody({
        insurance: { type: 'self-pay' },
        patient: { email: `pt.${tag}@example.org` } as never,
        referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: `dr.${tag}@clinic.example` },
      }),
    )
  ).json;
  await suite.api.waitForGate(referralId, 'evaluation');

  // Act
  await suite.api.decide(referralId, 'evaluation', {
    dimensions: { d1: 3, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
    recommendedLevel: '2.1',
    detoxRequired: true,
    decision: 'accept',
  });
  const atDetox = await suite.api.waitForGate(referralId, 'detox-confirmation');

  // Assess: the gate's due time is the overall limit, not the 14-day SLA
  expect(Date.parse(atDetox.gateDueAt!) - Date.parse(atDetox.gateOpenedAt!)).toBeLessThan(5_000);
  const expired = await suite.api.waitFor(referralId, (r) => r.status === 'EXPIRED', 20_000);
  expect(expired.pendingStep).toBeUndefined();
  expect(expired.events.find((e) => e.type === 'SLA_BREACHED')?.detail).toMatchObject({ expired: true });
  const toPatient = await suite.api.waitForEmails(`pt.${tag}@example.org`, 2, () => true);
  expect(toPatient.some((e) => /could not confirm that detox was completed in time/.test(e.body.text ?? ''))).toBe(true);
  const toDoc = await suite.api.waitForEmails(`dr.${tag}@clinic.example`, 1, (e) => /expired while waiting/.test(e.body.text ?? ''));
  expect(toDoc).toHaveLength(1);
});
