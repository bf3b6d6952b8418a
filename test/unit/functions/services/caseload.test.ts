import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Deps } from '../../../../functions/lib/adapters';
import type { Actor, NoticeRecord } from '../../../../functions/lib/adapters/ports';
import { nowMs } from '../../../../functions/lib/clock';
import type * as Caseload from '../../../../functions/lib/services/caseload';
import { notice, referral, REFERRAL_ID, setTestEnv, TEST_NOW, validIntake } from '../support/fixtures';
import { MemoryRepository, raceOnce } from '../support/memory-repository';

// the caseload service against the repository port (in memory): what is stored after each call,
// including a lost race — no SDK call shapes here (those are the DynamoDB adapter's own tests)

const CASEY: Actor = { kind: 'staff', sub: 'sub-cw-1', username: 'casey' };
const SAM: Actor = { kind: 'staff', sub: 'sub-sup-1', username: 'sam' };

let repo: MemoryRepository;
let deps: Deps;
let config: () => Deps['config'];
let assign: typeof Caseload.assign;
let caseload: typeof Caseload.caseload;
let revokeConsent: typeof Caseload.revokeConsent;

beforeAll(async () => {
  // the environment first: the logger and the config read it when their modules load
  setTestEnv();
  ({ config } = await import('../../../../functions/lib/config'));
  ({ assign, caseload, revokeConsent } = await import('../../../../functions/lib/services/caseload'));
});

/** a referral at evaluation with consent to share, stored with its intake and outbox */
const given = async (notices: NoticeRecord[] = []) => {
  repo = new MemoryRepository(() => new Date(nowMs()));
  deps = { config: config(), repo, now: () => new Date(nowMs()) } as unknown as Deps;
  const intake = { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: true } };
  await repo.create(
    referral({ status: 'EVALUATION', pendingStep: 'evaluation' }),
    intake,
    { type: 'RECEIVED', actor: { kind: 'patient' } },
    notices,
  );
};

describe('assignment', () => {
  test('assigning to oneself stores the owner and an ASSIGNED event; "My referrals" lists it', async () => {
    // Prepare
    await given();

    // Act
    const result = await assign(deps, REFERRAL_ID, { assignee: 'casey' }, CASEY);
    const mine = await caseload(deps, { username: 'casey', limit: 10 });

    // Assess
    expect(result.assignedTo).toEqual({ username: 'casey', sub: 'sub-cw-1', since: TEST_NOW });
    expect((await repo.get(REFERRAL_ID))?.assignedTo?.username).toBe('casey');
    expect((await repo.events(REFERRAL_ID)).map((e) => e.type)).toEqual(['RECEIVED', 'ASSIGNED']);
    expect(mine.items.map((r) => r.referralId)).toEqual([REFERRAL_ID]);
  });

  test('taking over needs the owner one saw: without it a 409 AlreadyAssigned, with a stale one AssignmentChanged, and nothing changes', async () => {
    await given();
    await assign(deps, REFERRAL_ID, { assignee: 'casey' }, CASEY);

    await expect(assign(deps, REFERRAL_ID, { assignee: 'sam' }, SAM)).rejects.toMatchObject({ code: 'AlreadyAssigned', statusCode: 409 });
    await expect(assign(deps, REFERRAL_ID, { assignee: 'sam', expected: 'pat' }, SAM)).rejects.toMatchObject({ code: 'AssignmentChanged' });
    expect((await repo.get(REFERRAL_ID))?.assignedTo?.username).toBe('casey');

    await assign(deps, REFERRAL_ID, { assignee: 'sam', expected: 'casey' }, SAM);
    expect((await repo.get(REFERRAL_ID))?.assignedTo?.username).toBe('sam');
  });

  test('a write that lost a race is read and decided again on what is there now', async () => {
    // Prepare: another writer commits between this call's read and its write
    await given();
    raceOnce(repo, REFERRAL_ID, { lastContact: undefined });

    // Act
    await assign(deps, REFERRAL_ID, { assignee: 'casey' }, CASEY);

    // Assess: one ASSIGNED event, on top of the other writer's version
    const stored = (await repo.get(REFERRAL_ID))!;
    expect([stored.version, stored.assignedTo?.username]).toEqual([referral().version + 2, 'casey']);
    expect((await repo.events(REFERRAL_ID)).filter((e) => e.type === 'ASSIGNED')).toHaveLength(1);
  });
});

describe('consent revocation', () => {
  test("cancels the physician notices still pending in the same change, leaves the patient's, and records who and how", async () => {
    // Prepare
    const physician = notice({ key: 'accepted:physician', audience: 'physician', notice: 'accepted', milestone: 'accepted' });
    const patient = notice({ key: 'received:patient' });
    await given([physician, patient]);

    // Act
    const result = await revokeConsent(deps, REFERRAL_ID, { receivedVia: 'phone' }, CASEY);

    // Assess
    expect(result.cancelledNotices).toBe(1);
    const states = Object.fromEntries((await repo.notices(REFERRAL_ID)).map((n) => [n.key, n.state]));
    expect(states).toEqual({ 'accepted:physician': 'cancelled', 'received:patient': 'pending' });
    expect((await repo.get(REFERRAL_ID))?.consentRevoked).toMatchObject({ receivedVia: 'phone', by: CASEY });
    expect((await repo.events(REFERRAL_ID)).map((e) => e.type)).toEqual(['RECEIVED', 'CONSENT_REVOKED', 'NOTICE_CANCELLED']);
  });

  test('a second revocation is a 409 AlreadyRevoked and writes nothing', async () => {
    await given();
    await revokeConsent(deps, REFERRAL_ID, { receivedVia: 'letter' }, CASEY);
    const before = await repo.events(REFERRAL_ID);

    await expect(revokeConsent(deps, REFERRAL_ID, { receivedVia: 'phone' }, SAM)).rejects.toMatchObject({ code: 'AlreadyRevoked' });
    expect(await repo.events(REFERRAL_ID)).toEqual(before);
  });
});
