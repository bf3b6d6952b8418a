import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { pinClock, resetClock } from '../../functions/lib/clock';
import type { ReferralDetail } from '../../functions/lib/schemas/views';
import { type intakeBody, personOf, tagged } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// Issue 14 items 1 and 2 over HTTP against the local runtime (DynamoDB Local, the real ASL, the SES
// emulator): the first session (attended → STARTED, missed → retried at most twice → NO_SHOW with
// the seat given back), its timer, a withdrawal before the start, and the waitlist (only when the
// track is full, its weekly review, longest waiting first, a seat that appears offered and taken).
// The application's clock is pinned (every date below follows from MONDAY); the workflow's timers
// run TIME_SCALE times faster, so a 2 h grace period passes in under a second.

/** Monday 7 January 2030, 10:00 in New York */
const MONDAY = '2030-01-07T15:00:00.000Z';
const TIME_SCALE = 10_000;
const GRACE_HOURS = 2;
const PROGRAM = 'intake-team@iop.example';

let sfn: SFNClient;

beforeAll(() => {
  // before the runtime starts, as before each test
  pinClock(MONDAY);
});
const suite = runtimeSuite({
  timeScale: TIME_SCALE,
  env: {
    FIRST_SESSION_GRACE_HOURS: String(GRACE_HOURS),
    // a review every half day: ~4 s here
    WAITLIST_REVIEW_DAYS: '0.5',
    // the steps before the ones under test wait 10 days (~90 s here), so they never breach meanwhile
    GATE_TIMEOUTS: JSON.stringify({
      'insurance-review': 864_000,
      evaluation: 864_000,
      'detox-confirmation': 864_000,
      enrollment: 864_000,
    }),
    URGENT_FIRST_CONTACT_HOURS: '240',
  },
});
beforeAll(() => {
  sfn = new SFNClient({ region: 'us-east-1', endpoint: suite.rt.sfnUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
beforeEach(() => {
  pinClock(MONDAY);
});
afterAll(() => {
  sfn?.destroy();
  resetClock();
});

const patientEmail = (tag: string) => `pt.${tag}@example.org`;
const physicianEmail = (tag: string) => `dr.${tag}@clinic.example`;

/** an intake with its own patient and physician addresses */
const referralOf = (tag: string, over: Parameters<typeof intakeBody>[0] = {}) => personOf(tag, over).body;

const enrol = async (referralId: string, cohortId: string): Promise<ReferralDetail> => {
  const res = await suite.api.decide(referralId, 'enrollment', { cohortId });
  expect([res.status, res.json?.status]).toEqual([200, 'ENROLLED']);
  return suite.api.waitFor(referralId, (r) => r.status === 'ENROLLED' && r.pendingStep === 'first-session');
};

const executionArn = (referralId: string) => `${suite.rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${referralId}`;

const executionEnds = async (referralId: string): Promise<string> => {
  for (let i = 0; i < 200; i++) {
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(referralId) }));
    if (status !== 'RUNNING') return status ?? '';
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'RUNNING';
};

const eventsOf = (r: ReferralDetail, type: string) => r.events.filter((e) => e.type === type);

describe('the first session', () => {
  test('enrolled waits for the first session plus the grace period; attended → STARTED, the physician told, within 10 states', async () => {
    // Prepare
    const tag = tagged();
    const { cohortId } = await suite.api.newCohort({ startDate: '2030-01-14' });
    const { referralId, reference } = await suite.api.atEnrollment(referralOf(tag));

    // Act: enrol
    const enrolled = await enrol(referralId, cohortId);

    // Assess: a gate now, due at the first session (Monday 14 January, 18:00 New York) plus the grace period
    expect(enrolled.firstSession).toEqual({ at: '2030-01-14T18:00:00-05:00', retries: 0 });
    expect(Math.abs(Date.parse(enrolled.gateDueAt!) - (Date.parse('2030-01-14T23:00:00Z') + GRACE_HOURS * 3_600_000))).toBeLessThan(5_000);
    expect(enrolled.sla).toBe('on-time');

    // Act: attendance cannot be recorded before the session
    const early = await suite.api.decide(referralId, 'first-session', { attended: true, on: '2030-01-07' });
    expect([early.status, Object.keys(early.json.fields ?? {})]).toEqual([400, ['on']]);

    // Act: the evening of the session
    pinClock('2030-01-14T23:45:00Z');
    const res = await suite.api.decide(referralId, 'first-session', { attended: true, on: '2030-01-14' });

    // Assess: STARTED, the seat kept, the physician told with a disclosure, the workflow ended
    expect([res.status, res.json.status]).toEqual([200, 'STARTED']);
    const started = await suite.api.waitFor(
      referralId,
      (r) => r.status === 'STARTED' && eventsOf(r, 'DISCLOSURE').some((e) => e.detail?.notice === 'started'),
    );
    expect(started.pendingStep).toBeUndefined();
    const toDoc = await suite.api.waitForEmails(physicianEmail(tag), 1, (e) => /started treatment/.test(e.body.text ?? ''));
    expect(toDoc[0]!.subject).toBe(`Referral update (${reference})`);
    expect(toDoc[0]!.body.text).toContain('42 CFR part 2');
    const c = await suite.api.cohort(cohortId);
    expect([c.seatsLeft, c.roster?.map((s) => s.referralId)]).toEqual([9, [referralId]]);
    expect(await executionEnds(referralId)).toBe('SUCCEEDED');
    // cost: 10 states without detox (Start, the check and its route, evaluation and its route, the
    // enrollment gate, its route, the first-session gate, its route, Close)
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: executionArn(referralId), maxResults: 1000 }));
    const entered = (history.events ?? [])
      .filter((e) => e.type === 'TaskStateEntered' || e.type === 'ChoiceStateEntered' || e.type === 'SucceedStateEntered')
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual([
      'Start',
      'CheckInsurance',
      'AfterInsuranceCheck',
      'Evaluation',
      'AfterEvaluation',
      'Enrollment',
      'AfterEnrollment',
      'FirstSession',
      'AfterFirstSession',
      'Close',
    ]);
    const dash = (await suite.api.call('GET', '/api/staff/dashboard', { as: 'casey' })).json;
    expect(dash.byStatus.STARTED).toBeGreaterThanOrEqual(1);
  });

  test('missed: retried twice (a contact reminder each, the person told the next session in Spanish), a third miss must close: NO_SHOW gives the seat back', async () => {
    // Prepare
    const tag = tagged();
    const { cohortId } = await suite.api.newCohort({ startDate: '2030-01-14' });
    const { referralId, reference } = await suite.api.atEnrollment(referralOf(tag, { patient: { preferredLanguage: 'es' } as never }));
    await enrol(referralId, cohortId);
    expect((await suite.api.cohort(cohortId)).seatsLeft).toBe(9);

    // Act: Monday's session missed
    pinClock('2030-01-15T15:00:00Z');
    const first = await suite.api.decide(referralId, 'first-session', { attended: false, next: 'retry' });

    // Assess: the same gate waits for Wednesday's session, a reminder for the case worker, the person told when
    expect([first.status, first.json.status]).toEqual([200, 'ENROLLED']);
    const once = await suite.api.waitFor(referralId, (r) => r.pendingStep === 'first-session' && r.firstSession?.retries === 1);
    expect(once.firstSession!.at).toBe('2030-01-16T18:00:00-05:00');
    expect(eventsOf(once, 'CONTACT_REMINDER').map((e) => e.detail)).toEqual([
      { reason: 'missed-first-session', retry: 1, of: 2, nextSessionAt: '2030-01-16T18:00:00-05:00' },
    ]);
    const reminder = await suite.api.waitForEmails(patientEmail(tag), 1, (e) => e.subject === `Su próxima sesión de grupo (${reference})`);
    expect(reminder[0]!.body.text).toContain('la próxima sesión es el miércoles 16 de enero, 18:00.');

    // Act: Wednesday's missed too, then Thursday's
    pinClock('2030-01-17T15:00:00Z');
    expect((await suite.api.decide(referralId, 'first-session', { attended: false, next: 'retry' })).status).toBe(200);
    const twice = await suite.api.waitFor(referralId, (r) => r.pendingStep === 'first-session' && r.firstSession?.retries === 2);
    expect(twice.firstSession!.at).toBe('2030-01-17T18:00:00-05:00');
    pinClock('2030-01-18T15:00:00Z');
    const third = await suite.api.decide(referralId, 'first-session', { attended: false, next: 'retry' });

    // Assess: no third retry
    expect([third.status, Object.keys(third.json.fields ?? {})]).toEqual([400, ['next']]);
    expect((await suite.api.referral(referralId)).pendingStep).toBe('first-session');

    // Act: close as a no-show
    const closed = await suite.api.decide(referralId, 'first-session', {
      attended: false,
      next: 'close',
      note: 'No answer to three calls',
    });

    // Assess: NO_SHOW, the seat back in the cohort, both told, the workflow ended
    expect([closed.status, closed.json.status]).toEqual([200, 'NO_SHOW']);
    const r = await suite.api.waitFor(referralId, (x) => x.status === 'NO_SHOW');
    expect(eventsOf(r, 'SEAT_RELEASED').map((e) => e.detail)).toEqual([{ cohortId }]);
    const c = await suite.api.cohort(cohortId);
    expect([c.seatsLeft, c.roster?.map((s) => s.referralId)]).toEqual([10, []]);
    const toDoc = await suite.api.waitForEmails(physicianEmail(tag), 1, (e) => /did not attend the first session/.test(e.body.text ?? ''));
    expect(toDoc).toHaveLength(1);
    const toPatient = await suite.api.waitForEmails(patientEmail(tag), 1, (e) => /le dimos su lugar en el grupo/.test(e.body.text ?? ''));
    expect(toPatient[0]!.subject).toBe(`Novedades sobre su solicitud (${reference})`);
    expect(await executionEnds(referralId)).toBe('SUCCEEDED');
    expect((await suite.api.call('GET', '/api/staff/dashboard', { as: 'casey' })).json.byStatus.NO_SHOW).toBeGreaterThanOrEqual(1);
  });

  test('nothing recorded by the session plus the grace period: the usual escalation, then NEEDS_ATTENTION, still decidable', async () => {
    // Prepare: a group that meets tonight at 18:00 (8 h from now); the gate waits 8 h + 2 h (~4 s here)
    const { cohortId } = await suite.api.newCohort({ startDate: '2030-01-07' });
    const { referralId, reference } = await suite.api.atEnrollment(referralOf(tagged()));
    const enrolled = await enrol(referralId, cohortId);
    expect(enrolled.firstSession!.at).toBe('2030-01-07T18:00:00-05:00');

    // Act: let the timer run out once, then again (the reopened gate waits the grace period)
    const alert = await suite.api.waitForEmails(PROGRAM, 1, (e) => e.subject === `Overdue step: ${reference}`, 30_000);
    const attention = await suite.api.waitFor(referralId, (r) => r.status === 'NEEDS_ATTENTION', 30_000);

    // Assess
    expect(alert[0]!.body.text).toContain('The first-session step of referral');
    expect(alert[0]!.body.text).not.toMatch(/Alex|Rivera|123-4567/);
    expect(attention.pendingStep).toBe('first-session');
    expect(eventsOf(attention, 'SLA_BREACHED').map((e) => e.step)).toEqual(['first-session', 'first-session']);

    // Act: the case worker records it that evening
    pinClock('2030-01-08T01:00:00Z');
    const res = await suite.api.decide(referralId, 'first-session', { attended: true, on: '2030-01-07' });

    // Assess
    expect(res.status).toBe(200);
    const started = await suite.api.waitFor(referralId, (r) => r.status === 'STARTED');
    expect(started.events.find((e) => e.type === 'STATUS_CHANGED' && e.to === 'STARTED')?.from).toBe('NEEDS_ATTENTION');
    expect(await executionEnds(referralId)).toBe('SUCCEEDED');
  });

  test('an enrolled person withdrawn before the start gives the seat back in the same change; both told', async () => {
    // Prepare
    const tag = tagged();
    const { cohortId } = await suite.api.newCohort({ startDate: '2030-01-14', capacity: 2 });
    const { referralId } = await suite.api.atEnrollment(referralOf(tag));
    await enrol(referralId, cohortId);
    expect((await suite.api.cohort(cohortId)).seatsLeft).toBe(1);

    // Act
    const res = await suite.api.call('POST', `/api/staff/referrals/${referralId}/withdraw`, {
      body: { reason: 'Chose a program closer to home' },
      as: 'casey',
    });

    // Assess
    expect([res.status, res.json.status]).toEqual([200, 'WITHDRAWN']);
    const c = await suite.api.cohort(cohortId);
    expect([c.seatsLeft, c.roster]).toEqual([2, []]);
    const r = await suite.api.referral(referralId);
    expect(eventsOf(r, 'SEAT_RELEASED')).toHaveLength(1);
    expect(await executionEnds(referralId)).toBe('ABORTED');
    expect(await suite.api.waitForEmails(physicianEmail(tag), 1, (e) => /closed \(withdrawn\)/.test(e.body.text ?? ''))).toHaveLength(1);
  });
});

describe('the waitlist', () => {
  test("only when the track is full; reviewed weekly; longest waiting first; a no-show's seat offered and taken", async () => {
    // Prepare: one morning group of one seat (Mon/Wed/Fri 9:00; today's session is over, the next is Wednesday)
    const { cohortId } = await suite.api.newCohort({
      track: 'morning',
      startDate: '2030-01-07',
      capacity: 1,
      sessions: [
        { weekday: 'MO', start: '09:00', minutes: 180 },
        { weekday: 'WE', start: '09:00', minutes: 180 },
        { weekday: 'FR', start: '09:00', minutes: 180 },
      ],
    });
    const [tagA, tagB, tagC] = [tagged(), tagged(), tagged()];
    const a = await suite.api.atEnrollment(referralOf(tagA, { schedulePreference: 'morning' }));
    const b = await suite.api.atEnrollment(referralOf(tagB, { schedulePreference: 'morning' }));
    // C is urgent: the waitlist still goes by waiting time
    const c = await suite.api.atEnrollment(
      referralOf(tagC, {
        schedulePreference: 'morning',
        screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false },
      }),
    );

    // Act + Assess: no waitlist while the morning group has a seat
    const refused = await suite.api.decide(b.referralId, 'enrollment', { waitlist: true });
    expect([refused.status, refused.json.error]).toEqual([409, 'SeatsAvailable']);
    expect((await suite.api.referral(b.referralId)).pendingStep).toBe('enrollment');

    // Act: A takes the seat; B, then C a minute later, are waitlisted
    await enrol(a.referralId, cohortId);
    const wb = await suite.api.decide(b.referralId, 'enrollment', { waitlist: true, note: 'Morning group full' });
    expect([wb.status, wb.json.status]).toEqual([200, 'WAITLISTED']);
    const waitingB = await suite.api.waitFor(b.referralId, (r) => r.pendingStep === 'waitlist');
    pinClock(new Date(Date.parse(MONDAY) + 60_000));
    expect((await suite.api.decide(c.referralId, 'enrollment', { waitlist: true })).status).toBe(200);
    await suite.api.waitFor(c.referralId, (r) => r.pendingStep === 'waitlist');

    // Assess: WAITLISTED is a gate; the person and the referrer told; the queue longest waiting first; the cohort says who waits
    expect(waitingB).toMatchObject({ status: 'WAITLISTED', waitlist: { since: expect.any(String), track: 'morning' } });
    expect(
      await suite.api.waitForEmails(patientEmail(tagB), 1, (e) => e.subject === `You are on our waitlist (${b.reference})`),
    ).toHaveLength(1);
    expect(await suite.api.waitForEmails(physicianEmail(tagB), 1, (e) => /waitlist/.test(e.body.text ?? ''))).toHaveLength(1);
    const queue = (await suite.api.call('GET', '/api/staff/referrals?status=WAITLISTED', { as: 'casey' })).json.items as Array<{
      referralId: string;
      urgent: boolean;
    }>;
    expect(queue.map((x) => x.referralId).filter((id) => id === b.referralId || id === c.referralId)).toEqual([b.referralId, c.referralId]);
    expect(queue.find((x) => x.referralId === c.referralId)?.urgent).toBe(true);
    expect(await suite.api.cohort(cohortId)).toMatchObject({ seatsLeft: 0, waiting: 2 });

    // Act: the review timer runs out (half a day here)
    const reviewed = await suite.api.waitFor(
      b.referralId,
      (r) => eventsOf(r, 'WAITLIST_REVIEW_DUE').length >= 1 && r.pendingStep === 'waitlist',
      20_000,
    );

    // Assess: a reminder, no breach, the same gate open again
    expect(reviewed.status).toBe('WAITLISTED');
    expect(eventsOf(reviewed, 'SLA_BREACHED')).toEqual([]);
    expect(eventsOf(reviewed, 'WAITLIST_REVIEW_DUE')[0]!.detail).toMatchObject({ review: 1, seatsFree: 0 });
    const review = await suite.api.waitForEmails(PROGRAM, 1, (e) => e.subject === `Waitlist review: ${b.reference}`);
    expect(review[0]!.body.text).toContain('No seat is free in its track yet.');
    expect(review[0]!.body.text).not.toMatch(/Alex|Rivera|123-4567|morning/);

    // Act: A misses Wednesday's session and is closed as a no-show: the seat comes back
    pinClock('2030-01-09T16:00:00Z');
    expect((await suite.api.decide(a.referralId, 'first-session', { attended: false, next: 'close' })).status).toBe(200);
    await suite.api.waitFor(a.referralId, (r) => r.status === 'NO_SHOW');
    expect(await suite.api.cohort(cohortId)).toMatchObject({ seatsLeft: 1, waiting: 2 });

    // Act: the seat is offered to B, who waited longest
    const taken = await suite.api.decide(b.referralId, 'waitlist', { cohortId, note: 'Seat freed by a no-show' });

    // Assess: B enrolled from the waitlist, the seat taken atomically, the schedule sent, the first-session gate open
    expect([taken.status, taken.json.status]).toEqual([200, 'ENROLLED']);
    const enrolledB = await suite.api.waitFor(b.referralId, (r) => r.pendingStep === 'first-session');
    expect(enrolledB.firstSession).toEqual({ at: '2030-01-11T09:00:00-05:00', retries: 0 });
    expect(await suite.api.cohort(cohortId)).toMatchObject({ seatsLeft: 0, waiting: 1 });
    expect(await suite.api.waitForEmails(patientEmail(tagB), 1, (e) => e.subject === `Your group schedule (${b.reference})`)).toHaveLength(
      1,
    );
    const full = await suite.api.decide(c.referralId, 'waitlist', { cohortId });
    expect([full.status, full.json.error]).toEqual([409, 'CohortFull']);

    // Act: C withdraws from the waitlist
    const w = await suite.api.call('POST', `/api/staff/referrals/${c.referralId}/withdraw`, {
      body: { reason: 'Found a program elsewhere' },
      as: 'casey',
    });

    // Assess: no seat moved; nobody waits
    expect(w.status).toBe(200);
    expect(await suite.api.cohort(cohortId)).toMatchObject({ seatsLeft: 0, waiting: 0 });
    expect(await executionEnds(c.referralId)).toBe('ABORTED');
    const path = (await suite.api.referral(b.referralId)).events.filter((e) => e.type === 'STATUS_CHANGED').map((e) => `${e.from}>${e.to}`);
    expect(path).toEqual(['RECEIVED>EVALUATION', 'EVALUATION>ENROLLMENT', 'ENROLLMENT>WAITLISTED', 'WAITLISTED>ENROLLED']);
  });
});
