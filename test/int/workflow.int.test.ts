import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GetExecutionHistoryCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { pinClock, resetClock } from '../../functions/lib/clock';
import type { ReferralDetail } from '../../functions/lib/schemas/views';
import { cohortBody, evalAccept, intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// the whole workflow over HTTP against the local runtime: DynamoDB Local, the real ASL in the
// interpreter, the SES emulator. One runtime for the file; each test makes its own referrals.

const suite = runtimeSuite();
let sfn: SFNClient;

beforeAll(() => {
  sfn = new SFNClient({ region: 'us-east-1', endpoint: suite.rt.sfnUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(() => {
  sfn?.destroy();
});

const uniqueName = () => `Tester${Math.random().toString(36).slice(2, 8)}`;
const physicianEmail = (tag: string) => `dr.${tag}@clinic.example`;

const executionArn = (referralId: string) => `${suite.rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${referralId}`;

describe('happy path with detox', () => {
  test('intake → evaluation → detox → enrollment → first session → STARTED, with emails, disclosures and ≤ 12 transitions', async () => {
    // Prepare
    const tag = uniqueName().toLowerCase();
    const body = intakeBody({
      lastName: uniqueName(),
      patient: { email: `pt.${tag}@example.org` } as never,
      referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: physicianEmail(tag) },
    });
    const cohort = await suite.api.newCohort();

    // Act: intake
    const created = await suite.api.intake(body);
    expect(created.status).toBe(201);
    const { referralId, reference } = created.json;
    expect(reference).toMatch(/^IOP-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(created.json.urgent).toBe(false);
    expect(created.json.crisisResources).toBeUndefined();

    // Assess: the insurance check ran and the evaluation gate is open; the token never shows
    const atEval = await suite.api.waitForGate(referralId, 'evaluation');
    expect(atEval.status).toBe('EVALUATION');
    expect(atEval.eligibility?.outcome).toBe('covered');
    expect(JSON.stringify(atEval)).not.toMatch(/taskToken/i);
    const received = await suite.api.waitForEmails(`pt.${tag}@example.org`, 1);
    expect(received[0]!.subject).toContain(reference);
    expect(received[0]!.subject).not.toMatch(/substance|addiction|alcohol|detox|rehab|treatment/i);
    const toDoc = await suite.api.waitForEmails(physicianEmail(tag), 1);
    expect(toDoc[0]!.body.text).toContain('42 CFR part 2');
    expect(toDoc[0]!.body.text).not.toMatch(/alcohol|1990-04-12|self-harm/i);

    // Act: evaluation accepted, detox required
    const ev = await suite.api.decide(referralId, 'evaluation', evalAccept(true));
    expect(ev.status).toBe(200);
    await suite.api.waitForGate(referralId, 'detox-confirmation');
    const dx = await suite.api.decide(referralId, 'detox-confirmation', {
      completed: true,
      completedOn: new Date().toISOString().slice(0, 10),
      withdrawalScore: { instrument: 'CIWA-Ar', score: 4 },
    });
    expect(dx.status).toBe(200);
    await suite.api.waitForGate(referralId, 'enrollment');
    const en = await suite.api.decide(referralId, 'enrollment', { cohortId: cohort.cohortId });
    expect(en.status).toBe(200);

    // Assess: enrolled, seat taken, schedule emailed with a calendar REQUEST; the first-session gate open
    const done = await suite.api.waitFor(referralId, (r) => r.status === 'ENROLLED' && r.pendingStep === 'first-session');
    expect(done.cohortId).toBe(cohort.cohortId);
    const mine = await suite.api.cohort(cohort.cohortId);
    expect(mine.seatsLeft).toBe(9);
    expect(mine.roster!.map((s) => s.referralId)).toEqual([referralId]);

    const schedule = (
      await suite.api.waitForEmails(`pt.${tag}@example.org`, 1, (e) =>
        e.attachments.some((a) => a.contentType.startsWith('text/calendar') || a.contentType === 'application/ics'),
      )
    )[0]!;
    const ics = Buffer.from(schedule.attachments.find((a) => /calendar|ics/.test(a.contentType))!.content, 'base64').toString('utf8');
    expect(ics).toContain('METHOD:REQUEST');
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(3);
    expect(ics.match(/RRULE:FREQ=WEEKLY;COUNT=8;BYDAY=(MO|WE|TH)/g)).toHaveLength(3);
    expect(ics).toMatch(/DTSTART;TZID=America\/New_York:\d{8}T180000/);
    expect(ics).toContain('BEGIN:VTIMEZONE');

    // Act: an hour into the first session, the case worker records that the person came (the
    // clock stays there until its notice is out: a notice is not due before the change it reports)
    const firstSession = done.firstSession!.at;
    pinClock(Date.parse(firstSession) + 3_600_000);
    try {
      expect((await suite.api.decide(referralId, 'first-session', { attended: true, on: firstSession.slice(0, 10) })).status).toBe(200);
      await suite.api.waitFor(
        referralId,
        (r) => r.status === 'STARTED' && r.events.some((e) => e.type === 'DISCLOSURE' && e.detail?.notice === 'started'),
      );
    } finally {
      resetClock();
    }

    // Assess: the timeline and the disclosures
    const final = await suite.api.referral(referralId);
    const path = final.events.filter((e) => e.type === 'STATUS_CHANGED').map((e) => `${e.from}>${e.to}`);
    expect(path).toEqual(['RECEIVED>EVALUATION', 'EVALUATION>DETOX', 'DETOX>ENROLLMENT', 'ENROLLMENT>ENROLLED', 'ENROLLED>STARTED']);
    const decided = final.events.filter((e) => e.type === 'STEP_DECIDED');
    expect(decided.map((e) => e.actor.username)).toEqual(['casey', 'casey', 'casey', 'casey']);
    // Assess: the execution succeeded within the transition budget
    let status = '';
    for (let i = 0; i < 100 && status !== 'SUCCEEDED'; i++) {
      status = (await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(referralId) }))).status ?? '';
      if (status !== 'SUCCEEDED') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('SUCCEEDED');
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: executionArn(referralId), maxResults: 1000 }));
    const entered = (history.events ?? []).filter((e) => e.type?.endsWith('StateEntered'));
    // 9 states to enrolment, 3 more for the first-session gate (the choice after enrollment, the gate, the choice after it)
    expect(entered.length).toBeLessThanOrEqual(12);
    const input = (history.events ?? []).find((e) => e.type === 'ExecutionStarted')?.executionStartedEventDetails?.input;
    expect(JSON.parse(input ?? '{}')).toEqual({ referralId });
    // each physician email is recorded as a DISCLOSURE once it went out (the outbox sends after the commit)
    const disclosuresOf = (r: ReferralDetail) =>
      r.events
        .filter((e) => e.type === 'DISCLOSURE')
        .map((e) => String(e.detail?.notice))
        .sort();
    const closed = await suite.api.waitFor(referralId, (r) => disclosuresOf(r).length >= 4);
    expect(disclosuresOf(closed)).toEqual(['accepted', 'enrolled', 'received', 'started']);
  });
});

describe('branches', () => {
  test('unclear coverage → insurance review → not covered: NOT_COVERED, patient and referrer told', async () => {
    const tag = uniqueName().toLowerCase();
    const created = await suite.api.intake(
      intakeBody({
        patient: { email: `pt.${tag}@example.org` } as never,
        insurance: { type: 'commercial', payer: 'Acme', memberId: 'REVIEW-1' },
        referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: physicianEmail(tag) },
      }),
    );
    const { referralId } = created.json;
    const atReview = await suite.api.waitForGate(referralId, 'insurance-review');
    expect(atReview.status).toBe('INSURANCE_REVIEW');
    expect(atReview.eligibility?.outcome).toBe('unclear');

    expect((await suite.api.decide(referralId, 'insurance-review', { decision: 'not-covered', note: 'No SUD benefit' })).status).toBe(200);

    await suite.api.waitFor(referralId, (r) => r.status === 'NOT_COVERED');
    const toPatient = await suite.api.waitForEmails(`pt.${tag}@example.org`, 2);
    expect(toPatient.map((e) => e.body.text).join('\n')).toContain('could not confirm coverage');
    const toDoc = await suite.api.waitForEmails(physicianEmail(tag), 2);
    expect(toDoc.some((e) => /coverage could not be confirmed/.test(e.body.text ?? ''))).toBe(true);
  });

  test('inactive coverage → review → self-pay continues to evaluation', async () => {
    const { referralId } = (await suite.api.intake(intakeBody({ insurance: { type: 'medicaid', payer: 'State', memberId: 'INACTIVE-9' } })))
      .json;
    const r = await suite.api.waitForGate(referralId, 'insurance-review');
    expect(r.eligibility?.outcome).toBe('not-covered');
    expect((await suite.api.decide(referralId, 'insurance-review', { decision: 'self-pay' })).status).toBe(200);
    const atEval = await suite.api.waitForGate(referralId, 'evaluation');
    expect(atEval.status).toBe('EVALUATION');
  });

  test('self-pay goes straight to evaluation', async () => {
    const { referralId } = (await suite.api.intake(intakeBody({ insurance: { type: 'self-pay' } }))).json;
    const r = await suite.api.waitForGate(referralId, 'evaluation');
    expect(r.eligibility?.outcome).toBe('self-pay');
  });

  test('evaluation refer-out → REFERRED_OUT', async () => {
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    const res = await suite.api.decide(referralId, 'evaluation', {
      ...evalAccept(false),
      recommendedLevel: '3.7',
      decision: 'refer-out',
      referOutTo: 'Residential program',
    });
    expect(res.status).toBe(200);
    await suite.api.waitFor(referralId, (r) => r.status === 'REFERRED_OUT');
  });

  test('evaluation without detox goes straight to enrollment', async () => {
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    await suite.api.decide(referralId, 'evaluation', evalAccept(false));
    const r = await suite.api.waitForGate(referralId, 'enrollment');
    expect(r.status).toBe('ENROLLMENT');
  });

  test('detox not completed: extend keeps waiting with a fresh gate, then refer-out closes', async () => {
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    await suite.api.decide(referralId, 'evaluation', evalAccept(true));
    await suite.api.waitForGate(referralId, 'detox-confirmation');
    expect(
      (await suite.api.decide(referralId, 'detox-confirmation', { completed: false, decision: 'extend', note: 'Still in detox' })).status,
    ).toBe(200);
    const reopened = await suite.api.waitFor(
      referralId,
      (r) => r.pendingStep === 'detox-confirmation' && r.events.some((e) => e.type === 'STEP_DECIDED' && e.detail?.decision === 'extend'),
    );
    expect(reopened.status).toBe('DETOX');
    expect((await suite.api.decide(referralId, 'detox-confirmation', { completed: false, decision: 'refer-out' })).status).toBe(200);
    await suite.api.waitFor(referralId, (r) => r.status === 'REFERRED_OUT');
  });

  test('withdraw stops the execution; a later decision is a 409; withdrawing again is a 409', async () => {
    const tag = uniqueName().toLowerCase();
    const { referralId } = (await suite.api.intake(intakeBody({ patient: { email: `pt.${tag}@example.org` } as never }))).json;
    await suite.api.waitForGate(referralId, 'evaluation');

    const res = await suite.api.call('POST', `/api/staff/referrals/${referralId}/withdraw`, {
      body: { reason: 'Person chose another program' },
      as: 'casey',
    });

    expect(res.status).toBe(200);
    const r = await suite.api.referral(referralId);
    expect(r.status).toBe('WITHDRAWN');
    expect(r.pendingStep).toBeUndefined();
    const exec = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(referralId) }));
    expect(exec.status).toBe('ABORTED');
    expect((await suite.api.decide(referralId, 'evaluation', evalAccept(false))).status).toBe(409);
    expect(
      (await suite.api.call('POST', `/api/staff/referrals/${referralId}/withdraw`, { body: { reason: 'again' }, as: 'casey' })).status,
    ).toBe(409);
    const mails = await suite.api.waitForEmails(`pt.${tag}@example.org`, 2);
    expect(mails.some((e) => /has been closed/.test(e.body.text ?? ''))).toBe(true);
  });

  test('consent off: no email to the physician at all and no disclosure recorded', async () => {
    const tag = uniqueName().toLowerCase();
    const cohort = await suite.api.newCohort({ name: 'No-consent group' });
    const { referralId } = (
      await suite.api.intake(
        intakeBody({
          consent: { shareWithReferrer: false },
          referringPhysician: { name: 'Dr. Quiet', npi: '1234567893', email: physicianEmail(tag) },
        }),
      )
    ).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    await suite.api.decide(referralId, 'evaluation', evalAccept(false));
    await suite.api.waitForGate(referralId, 'enrollment');
    await suite.api.decide(referralId, 'enrollment', { cohortId: cohort.cohortId });
    const r = await suite.api.waitFor(
      referralId,
      (x) => x.status === 'ENROLLED' && x.events.some((e) => e.type === 'NOTICE_SENT' && e.detail?.milestone === 'enrolled'),
    );
    expect(await suite.api.emailsTo(physicianEmail(tag))).toHaveLength(0);
    expect(r.events.filter((e) => e.type === 'DISCLOSURE')).toHaveLength(0);
  });

  test('a positive crisis screen: urgent, crisis resources at once, program alerted, first in the queue', async () => {
    const res = await suite.api.intake(
      intakeBody({ screening: { selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false } }),
    );
    expect(res.status).toBe(201);
    expect(res.json.urgent).toBe(true);
    expect(res.json.crisisResources).toMatchObject({ call: '988', text: '988', emergency: '911' });
    const { referralId, reference } = res.json;
    await suite.api.waitForGate(referralId, 'evaluation');
    const alert = await suite.api.waitForEmails('intake-team@iop.example', 1, (e) => e.subject.includes(reference));
    expect(alert[0]!.subject).toBe(`Urgent referral ${reference}`);
    expect(alert[0]!.body.text).not.toMatch(/Alex|Rivera|123-4567/);
    const queue = await suite.api.call('GET', '/api/staff/referrals?status=EVALUATION', { as: 'casey' });
    expect(queue.json.items[0].urgent).toBe(true);
  });
});

describe('concurrency and idempotency', () => {
  test('same Idempotency-Key and body → same referral; another body → 409; five at once → one referral', async () => {
    const body = intakeBody({ lastName: uniqueName() });
    const key = `key-${Date.now()}-a`;
    const first = await suite.api.intake(body, key);
    const again = await suite.api.intake(body, key);
    expect(again.status).toBe(201);
    expect(again.json.referralId).toBe(first.json.referralId);
    const other = await suite.api.intake({ ...body, notes: 'different' }, key);
    expect(other.status).toBe(409);

    const lastName = uniqueName();
    const burstKey = `key-${Date.now()}-b`;
    const burstBody = intakeBody({ lastName });
    const burst = await Promise.all(Array.from({ length: 5 }, () => suite.api.intake(burstBody, burstKey)));
    expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(burst.map((r) => r.json.referralId)).size).toBe(1);
    const found = await suite.api.call('GET', `/api/staff/referrals?q=${lastName}`, { as: 'casey' });
    expect(found.json.items).toHaveLength(1);
  });

  test('two identical decisions at once → exactly one 200, the other 409', async () => {
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    const results = await Promise.all([
      suite.api.decide(referralId, 'evaluation', evalAccept(false)),
      suite.api.decide(referralId, 'evaluation', evalAccept(false), 'sam'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const r = await suite.api.waitForGate(referralId, 'enrollment');
    expect(r.events.filter((e) => e.type === 'STEP_DECIDED')).toHaveLength(1);
  });

  test('seat race: four enrolments into a cohort of two → exactly two enrolled, two stay pending', async () => {
    const cohort = await suite.api.newCohort({ name: 'Small group', capacity: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await suite.api.intake(intakeBody({ insurance: { type: 'self-pay' } }))).json.referralId);
    for (const id of ids) {
      await suite.api.waitForGate(id, 'evaluation');
      await suite.api.decide(id, 'evaluation', evalAccept(false));
    }
    for (const id of ids) await suite.api.waitForGate(id, 'enrollment');

    const results = await Promise.all(ids.map((id) => suite.api.decide(id, 'enrollment', { cohortId: cohort.cohortId })));

    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    expect(results.filter((r) => r.status === 409).map((r) => r.json.error)).toEqual(['CohortFull', 'CohortFull']);
    const after = await Promise.all(ids.map((id) => suite.api.referral(id)));
    expect(after.filter((r) => r.pendingStep === 'enrollment')).toHaveLength(2);
    const c = await suite.api.cohort(cohort.cohortId);
    expect(c.seatsLeft).toBe(0);
    expect(c.roster).toHaveLength(2);
  });
});

describe('bad input: a clear 4xx, nothing written, no PHI echoed', () => {
  test('validation errors name the fields and do not echo the values', async () => {
    const lastName = uniqueName();
    const body = intakeBody({ lastName, patient: { dateOfBirth: '2999-01-01', phone: '12' } as never });
    const res = await suite.api.intake(body);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('ValidationError');
    expect(Object.keys(res.json.fields)).toEqual(expect.arrayContaining(['patient.dateOfBirth', 'patient.phone']));
    expect(res.text).not.toContain(lastName);
    expect(res.text).not.toContain('2999-01-01');
    const found = await suite.api.call('GET', `/api/staff/referrals?q=${lastName}`, { as: 'casey' });
    expect(found.json.items).toHaveLength(0);
  });

  test('not JSON → 415; malformed JSON → 400; too large → 413; unknown step → 400; unknown referral → 404', async () => {
    expect(
      (await suite.api.call('POST', '/api/referrals', { raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
        .status,
    ).toBe(415);
    expect((await suite.api.call('POST', '/api/referrals', { raw: '{"patient":' })).status).toBe(400);
    expect((await suite.api.call('POST', '/api/referrals', { raw: JSON.stringify({ notes: 'x'.repeat(40_000) }) })).status).toBe(413);
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    expect((await suite.api.decide(referralId, 'triage', {})).status).toBe(400);
    expect((await suite.api.decide('no-such-id', 'evaluation', evalAccept(false))).status).toBe(404);
    // an id longer than a DynamoDB key may be is still just "no such referral", not a 5xx
    expect((await suite.api.call('GET', `/api/staff/referrals/${'x'.repeat(3000)}`, { as: 'casey' })).status).toBe(404);
    expect(
      (await suite.api.call('POST', `/api/staff/referrals/${'x'.repeat(3000)}/withdraw`, { body: { reason: 'r' }, as: 'casey' })).status,
    ).toBe(404);
    await suite.api.waitForGate(referralId, 'evaluation');
    const wrongStep = await suite.api.decide(referralId, 'enrollment', { cohortId: 'x' });
    expect(wrongStep.status).toBe(409);
    const invalid = await suite.api.decide(referralId, 'evaluation', { dimensions: { d1: 9 } });
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.json.fields)).toEqual(expect.arrayContaining(['dimensions.d1', 'recommendedLevel']));
    expect((await suite.api.referral(referralId)).pendingStep).toBe('evaluation');
  });

  test('hostile bodies and queries on every route: always a 4xx, never a 5xx', async () => {
    const { referralId } = (await suite.api.intake(intakeBody())).json;
    await suite.api.waitForGate(referralId, 'evaluation');
    const valid = intakeBody();
    const bodies: unknown[] = [
      null,
      1,
      'x',
      [],
      {},
      { patient: null },
      { patient: [] },
      { substances: 'alcohol' },
      { notes: { a: 1 } },
      { ...valid, notes: '\u0000\ud800' },
      { ...valid, patient: { ...valid.patient, dateOfBirth: '99999-01-01' } },
      { ...valid, consent: { shareWithReferrer: true, signature: 'x', signedAt: 'yesterday' } },
      { ...valid, insurance: { type: 'commercial', memberId: 'x'.repeat(5000) } },
      { ...valid, coOccurring: Array(1000).fill('a') },
      JSON.parse('{"__proto__": {"polluted": 1}}'),
    ];
    const posts = [
      '/api/referrals',
      '/api/staff/referrals',
      `/api/staff/referrals/${referralId}/steps/evaluation`,
      `/api/staff/referrals/${referralId}/steps/enrollment`,
      `/api/staff/referrals/${referralId}/withdraw`,
      '/api/staff/cohorts',
    ];
    const statuses: number[] = [];
    for (const path of posts) {
      for (const body of bodies) {
        statuses.push(
          (
            await suite.api.call('POST', path, {
              body,
              as: path.includes('/staff/') ? 'sam' : undefined,
              headers: { 'idempotency-key': `k-${Math.random().toString(36).slice(2)}` },
            })
          ).status,
        );
      }
    }
    const forged = Buffer.from(JSON.stringify({ pk: 'x', sk: 'y', gsi2pk: 'REFERRALS', gsi2sk: 'z' })).toString('base64url');
    for (const q of ['status=NOPE', 'limit=-1', 'limit=abc', `q=${'a'.repeat(500)}`, 'cursor=%25%25', `cursor=${forged}`, 'q=%00']) {
      statuses.push((await suite.api.call('GET', `/api/staff/referrals?${q}`, { as: 'casey' })).status);
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect({} as Record<string, unknown>).not.toHaveProperty('polluted');
    expect((await suite.api.referral(referralId)).pendingStep).toBe('evaluation');
  });

  test('roles: no token 401, a user without a staff group 403, cohorts need supervisors', async () => {
    expect((await suite.api.call('GET', '/api/staff/referrals')).status).toBe(401);
    expect((await suite.api.call('GET', '/api/staff/referrals', { as: 'pat' })).status).toBe(403);
    expect((await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody(), as: 'casey' })).status).toBe(403);
    const bad = await suite.api.call('POST', '/api/staff/cohorts', {
      body: cohortBody({ sessions: [{ weekday: 'MO', start: '18:00', minutes: 120 }] }),
      as: 'sam',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.fields.sessions[0]).toMatch(/9 hours/);
  });
});

test('phone intake by staff records the channel and the staff user', async () => {
  const res = await suite.api.call('POST', '/api/staff/referrals', {
    body: intakeBody(),
    as: 'casey',
    headers: { 'idempotency-key': `phone-${Date.now()}` },
  });
  expect(res.status).toBe(201);
  const r = await suite.api.referral(res.json.referralId);
  expect(r.channel).toBe('phone');
  expect(r.events[0]).toMatchObject({ type: 'RECEIVED', actor: { kind: 'staff', username: 'casey' } });
});
