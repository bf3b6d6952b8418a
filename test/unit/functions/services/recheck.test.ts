import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Deps } from '../../../../functions/lib/adapters';
import type { Actor, EligibilitySubject } from '../../../../functions/lib/adapters/ports';
import { nowMs } from '../../../../functions/lib/clock';
import type { EligibilityResult } from '../../../../functions/lib/schemas/views';
import type * as Recheck from '../../../../functions/lib/services/recheck';
import { referral, REFERRAL_ID, setTestEnv, TEST_NOW, validIntake } from '../support/fixtures';
import { MemoryRepository, raceOnce } from '../support/memory-repository';

// the insurance re-check against the repository port (in memory) and a recording eligibility
// checker: what is stored (intake, result, event) and what the checker was asked

const CASEY: Actor = { kind: 'staff', sub: 'sub-cw-1', username: 'casey' };

let repo: MemoryRepository;
let deps: Deps;
let asked: Array<{ subject: EligibilitySubject; options?: { retryWhenBusy?: boolean } }>;
let config: () => Deps['config'];
let recheckInsurance: typeof Recheck.recheckInsurance;

const UNCLEAR: EligibilityResult = {
  outcome: 'unclear',
  checkedAt: '2026-12-28T10:00:00.000Z',
  summary: 'AAA 72: invalid member ID',
  reason: { code: 'AAA-72', meaning: 'Invalid or missing member ID' },
};

beforeAll(async () => {
  setTestEnv();
  ({ config } = await import('../../../../functions/lib/config'));
  ({ recheckInsurance } = await import('../../../../functions/lib/services/recheck'));
});

/** a referral waiting at the insurance review with an unclear result, and a checker answering `answer` */
const given = async (
  answer: (s: EligibilitySubject) => Promise<EligibilityResult> = async () => ({
    outcome: 'covered',
    checkedAt: TEST_NOW,
    summary: '271 EB*1 (active coverage) for service type AI',
    payerId: '60054',
    benefits: { copay: 25, coinsurancePercent: 20, deductibleRemaining: 500 },
  }),
  status: 'INSURANCE_REVIEW' | 'EVALUATION' = 'INSURANCE_REVIEW',
) => {
  repo = new MemoryRepository(() => new Date(nowMs()));
  asked = [];
  deps = {
    config: config(),
    repo,
    now: () => new Date(nowMs()),
    eligibility: {
      check: async (subject: EligibilitySubject, options?: { retryWhenBusy?: boolean }) => {
        asked.push({ subject, options });
        return answer(subject);
      },
    },
  } as unknown as Deps;
  const intake = validIntake();
  intake.insurance = { type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: 'WRONG-1', groupNumber: 'G-77' };
  await repo.create(
    referral({
      status,
      pendingStep: status === 'INSURANCE_REVIEW' ? 'insurance-review' : 'evaluation',
      taskToken: 'tok',
      eligibility: UNCLEAR,
    }),
    intake,
    { type: 'RECEIVED', actor: { kind: 'patient' } },
    [],
  );
};

describe('recheckInsurance', () => {
  test('a corrected member ID is checked at once, stored with the new result and an ELIGIBILITY_RECHECKED event; the gate stays open', async () => {
    // Prepare
    await given();

    // Act
    const result = await recheckInsurance(deps, REFERRAL_ID, { memberId: 'ABC123' }, CASEY);

    // Assess
    expect(result).toMatchObject({ referralId: REFERRAL_ID, status: 'INSURANCE_REVIEW', changed: ['memberId'] });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.options).toEqual({ retryWhenBusy: false });
    expect(asked[0]!.subject.insurance).toMatchObject({ payerId: '60054', memberId: 'ABC123' });
    expect(asked[0]!.subject.patient).toMatchObject({ firstName: 'Jordan', lastName: 'Quintana', dateOfBirth: '1988-04-12' });
    const stored = (await repo.get(REFERRAL_ID))!;
    expect(stored).toMatchObject({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', taskToken: 'tok', version: 4 });
    expect(stored.eligibility).toMatchObject({ outcome: 'covered', payerId: '60054', benefits: { copay: 25 } });
    expect((await repo.getIntake(REFERRAL_ID))!.insurance).toEqual({
      type: 'commercial',
      payer: 'Aetna',
      payerId: '60054',
      memberId: 'ABC123',
      groupNumber: 'G-77',
    });
    const events = await repo.events(REFERRAL_ID);
    expect(events.map((e) => e.type)).toEqual(['RECEIVED', 'ELIGIBILITY_RECHECKED']);
    const event = events[1]!;
    expect(event).toMatchObject({ actor: CASEY, step: 'insurance-review' });
    expect(event.detail).toEqual({ outcome: 'covered', summary: '271 EB*1 (active coverage) for service type AI', changed: ['memberId'] });
    expect(JSON.stringify(events)).not.toContain('ABC123');
    expect(JSON.stringify(events)).not.toContain('WRONG-1');
  });

  test('the event keeps the reason code of an unclear answer', async () => {
    await given(async () => UNCLEAR);

    await recheckInsurance(deps, REFERRAL_ID, { memberId: 'STILL-WRONG' }, CASEY);

    const event = (await repo.events(REFERRAL_ID)).find((e) => e.type === 'ELIGIBILITY_RECHECKED')!;
    expect(event.detail).toMatchObject({ outcome: 'unclear', reason: 'AAA-72', changed: ['memberId'] });
    expect((await repo.get(REFERRAL_ID))!.eligibility?.reason?.code).toBe('AAA-72');
  });

  test('a payer named without an ID drops the stored payer ID (it was another payer’s); a picked payer sets both', async () => {
    await given();

    await recheckInsurance(deps, REFERRAL_ID, { payer: 'Small Local Plan' }, CASEY);
    const byName = (await repo.getIntake(REFERRAL_ID))!.insurance;
    await recheckInsurance(deps, REFERRAL_ID, { payer: 'Cigna', payerId: '62308' }, CASEY);
    const picked = (await repo.getIntake(REFERRAL_ID))!.insurance;

    expect(byName.payer).toBe('Small Local Plan');
    expect(byName.payerId).toBeUndefined();
    expect(picked).toMatchObject({ payer: 'Cigna', payerId: '62308', memberId: 'WRONG-1' });
    const changes = (await repo.events(REFERRAL_ID)).filter((e) => e.type === 'ELIGIBILITY_RECHECKED').map((e) => e.detail?.changed);
    expect(changes).toEqual([
      ['payer', 'payerId'],
      ['payer', 'payerId'],
    ]);
  });

  test('an empty correction checks again with the insurance as stored and leaves the intake as it was', async () => {
    await given();
    const before = await repo.getIntake(REFERRAL_ID);

    const result = await recheckInsurance(deps, REFERRAL_ID, {}, CASEY);

    expect(result.changed).toEqual([]);
    expect(asked[0]!.subject.insurance.memberId).toBe('WRONG-1');
    expect(await repo.getIntake(REFERRAL_ID)).toEqual(before);
    expect((await repo.get(REFERRAL_ID))!.eligibility?.outcome).toBe('covered');
  });

  test('outside the insurance review it is a 409 NotInInsuranceReview; nothing is asked or stored', async () => {
    await given(undefined, 'EVALUATION');
    const before = await repo.get(REFERRAL_ID);

    await expect(recheckInsurance(deps, REFERRAL_ID, { memberId: 'ABC123' }, CASEY)).rejects.toMatchObject({
      statusCode: 409,
      code: 'NotInInsuranceReview',
    });
    expect(asked).toEqual([]);
    expect(await repo.get(REFERRAL_ID)).toEqual(before);
    expect((await repo.getIntake(REFERRAL_ID))!.insurance.memberId).toBe('WRONG-1');
  });

  test('a checker that throws gives an error result named by the error only, stored like any other', async () => {
    await given(async () => {
      throw Object.assign(new Error('payer said: Jordan Quintana 1988-04-12 unknown'), { name: 'ClearinghouseDown' });
    });

    const result = await recheckInsurance(deps, REFERRAL_ID, { memberId: 'ABC123' }, CASEY);

    expect(result.eligibility).toEqual({ outcome: 'error', checkedAt: TEST_NOW, summary: 'Eligibility check failed (ClearinghouseDown)' });
    expect(JSON.stringify(await repo.events(REFERRAL_ID))).not.toContain('Quintana');
  });

  test('a write that lost a race is read and written again without asking the payer a second time', async () => {
    await given();
    raceOnce(repo, REFERRAL_ID);

    await recheckInsurance(deps, REFERRAL_ID, { memberId: 'ABC123' }, CASEY);

    expect(asked).toHaveLength(1);
    expect((await repo.get(REFERRAL_ID))!.version).toBe(5);
    expect((await repo.getIntake(REFERRAL_ID))!.insurance.memberId).toBe('ABC123');
    expect((await repo.events(REFERRAL_ID)).filter((e) => e.type === 'ELIGIBILITY_RECHECKED')).toHaveLength(1);
  });
});
