import { describe, expect, test } from '@jest/globals';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// the insurance re-check (issue 16 item 5) over HTTP against the local runtime with the payer
// simulator, and the payer list behind the picker: a member ID the payer cannot match lands in
// insurance review; corrected, it is checked again at once, stored, recorded; the gate goes on

const suite = runtimeSuite();

const recheck = (id: string, body: unknown, as = 'casey') =>
  suite.api.call('POST', `/api/staff/referrals/${id}/insurance/recheck`, { body, as });

describe('GET /api/payers', () => {
  test('anyone gets the payer list (the sample here), sorted by name, cacheable', async () => {
    const res = await suite.api.call('GET', '/api/payers');

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const items = res.json.items as Array<{ name: string; payerId: string }>;
    expect(items).toContainEqual({ name: 'Aetna', payerId: '60054' });
    expect(items.map((p) => p.name)).toEqual([...items.map((p) => p.name)].sort((a, b) => a.localeCompare(b, 'en')));
  });
});

describe('POST /api/staff/referrals/{id}/insurance/recheck', () => {
  test('unclear → corrected member ID → covered: intake and result stored, ELIGIBILITY_RECHECKED written, then the gate is decided as before', async () => {
    // Prepare: a member ID the simulator sends to manual review
    const created = await suite.api.intake(
      intakeBody({ lastName: 'Recheck', insurance: { type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: 'REVIEW1' } }),
    );
    expect(created.status).toBe(201);
    const { referralId } = created.json;
    const atReview = await suite.api.waitForGate(referralId, 'insurance-review');
    expect(atReview.eligibility?.outcome).toBe('unclear');

    // Act
    const res = await recheck(referralId, { memberId: 'ABC123' });

    // Assess: answered at once with the new result; the referral stays at its gate
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ referralId, status: 'INSURANCE_REVIEW', eligibility: { outcome: 'covered' }, changed: ['memberId'] });
    const after = await suite.api.referral(referralId);
    expect(after).toMatchObject({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review' });
    expect(after.eligibility?.outcome).toBe('covered');
    expect(after.intake.insurance).toEqual({ type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: 'ABC123' });
    const rechecked = after.events.filter((e) => e.type === 'ELIGIBILITY_RECHECKED');
    expect(rechecked).toHaveLength(1);
    expect(rechecked[0]).toMatchObject({
      actor: { kind: 'staff', username: 'casey' },
      detail: { outcome: 'covered', changed: ['memberId'] },
    });
    expect(JSON.stringify(after.events)).not.toContain('ABC123');

    // Act: the case worker decides the insurance review as today
    expect((await suite.api.decide(referralId, 'insurance-review', { decision: 'covered' })).status).toBe(200);

    // Assess: the workflow goes on to the evaluation; a re-check now is refused and changes nothing
    const atEval = await suite.api.waitForGate(referralId, 'evaluation');
    expect(atEval.status).toBe('EVALUATION');
    const late = await recheck(referralId, { memberId: 'XYZ789' });
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ error: 'NotInInsuranceReview' });
    expect((await suite.api.referral(referralId)).intake.insurance.memberId).toBe('ABC123');
  });

  test('a bad correction is a 400 naming the field without its value; the stored intake is unchanged', async () => {
    const created = await suite.api.intake(
      intakeBody({ lastName: 'Rebad', insurance: { type: 'commercial', payer: 'Acme', memberId: 'REVIEW2' } }),
    );
    const { referralId } = created.json;
    await suite.api.waitForGate(referralId, 'insurance-review');

    const res = await recheck(referralId, { memberId: 'has spaces!', payerId: 'x' });

    expect(res.status).toBe(400);
    expect(Object.keys(res.json.fields).sort()).toEqual(['memberId', 'payerId']);
    expect(res.text).not.toContain('has spaces');
    const after = await suite.api.referral(referralId);
    expect(after.intake.insurance.memberId).toBe('REVIEW2');
    expect(after.events.some((e) => e.type === 'ELIGIBILITY_RECHECKED')).toBe(false);
  });
});
