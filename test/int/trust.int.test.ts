import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import type { StoredEmail } from '../support/api';
import { faultProxy, type FaultProxy } from '../support/fault-proxy';
import { EVAL_ACCEPT, personOf, tagged } from '../support/fixtures';
import { localRepository } from '../support/local-table';
import { runtimeSuite } from '../support/runtime-suite';

// Issue 9's reproductions, each over HTTP against the local runtime (DynamoDB Local, the real ASL,
// the SES emulator behind a switchable fault proxy): nobody is told anything untrue, every email is
// sent once after the change it reports has committed, and an email failure never stalls a referral.

let ses: FaultProxy;
/** where the fault proxy forwards to: the SES emulator, known once the runtime has its endpoints */
let mailUrl = '';
let outbox: DynamoDbReferralRepository;

beforeAll(async () => {
  // before the runtime: its handlers send email through the proxy
  ses = await faultProxy(() => mailUrl);
});
const suite = runtimeSuite({
  timeScale: 600,
  env: (endpoints) => {
    mailUrl = endpoints.mailUrl;
    return { AWS_ENDPOINT_URL_SESV2: ses.url, NOTICE_RETRY_BASE_SECONDS: '0.2', NOTICE_RETRY_MAX_SECONDS: '0.5' };
  },
});
beforeAll(() => {
  outbox = localRepository(suite.rt);
});
afterAll(async () => {
  await ses?.close();
});

/** an intake with its own patient and physician addresses, so a test reads only its own mail */
const person = (tag: string, consent = true) =>
  personOf(tag, { lastName: `Trust${tag}`, consent: { shareWithReferrer: consent } as never });

const atEnrollment = async (tag: string) => {
  const p = person(tag);
  return { ...p, ...(await suite.api.atEnrollment(p.body)) };
};

/** the mail a referral caused once the outbox is empty: sent, failed for good or cancelled, nothing pending */
const settled = async (referralId: string, timeoutMs = 20_000) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const notices = await outbox.notices(referralId);
    // read after the notices settled: their timeline events are written with their final state
    if (notices.every((n) => n.state !== 'pending' && n.state !== 'sending'))
      return { referral: await suite.api.referral(referralId), notices };
    if (Date.now() > until)
      throw new Error(`notices of ${referralId} still pending: ${JSON.stringify(notices.map((n) => [n.key, n.state]))}`);
    await new Promise((res) => setTimeout(res, 50));
  }
};

const subjects = (mails: StoredEmail[]) => mails.map((m) => m.subject).sort();

/** how many referrals each race runs (TRUST_RUNS=15 for the figures in the closing note; a few in npm test) */
const RUNS = Number(process.env.TRUST_RUNS ?? 6);

describe('withdraw racing a decision', () => {
  test('enrolment vs withdraw: the withdrawal always stands (an enrolled person can be withdrawn); people hear what happened, once each; every seat comes back', async () => {
    // Prepare
    const cohort = await suite.api.newCohort({ capacity: 10 });
    const runs = await Promise.all(Array.from({ length: RUNS }, () => atEnrollment(tagged())));

    // Act: both at once, for every referral
    const outcomes = await Promise.all(
      runs.map(async (x) => {
        const [decision, withdrawal] = await Promise.all([
          suite.api.decide(x.referralId, 'enrollment', { cohortId: cohort.cohortId }),
          suite.api.call('POST', `/api/staff/referrals/${x.referralId}/withdraw`, { body: { reason: 'Race test' }, as: 'casey' }),
        ]);
        return { ...x, decision: decision.status, withdrawal: withdrawal.status };
      }),
    );

    // Assess: ENROLLED is not final (it waits for the first session), so a withdrawal after the
    // enrolment wins too, and gives the seat back in its own transaction
    for (const o of outcomes) {
      expect(o.withdrawal).toBe(200);
      expect([200, 409]).toContain(o.decision);
      const { referral, notices } = await settled(o.referralId);
      const toPatient = await suite.api.emailsTo(o.patient);
      const toDoctor = await suite.api.emailsTo(o.doctor);
      expect(referral.status).toBe('WITHDRAWN');
      if (o.decision === 200) {
        // enrolled, then withdrawn: both true, each told once, and the seat released
        expect(subjects(toPatient)).toEqual(
          [
            `An update on your request (${o.reference})`,
            `Your group schedule (${o.reference})`,
            `We received your request (${o.reference})`,
          ].sort(),
        );
        expect(referral.events.filter((e) => e.type === 'SEAT_RELEASED')).toHaveLength(1);
      } else {
        expect(subjects(toPatient)).toEqual(
          [`An update on your request (${o.reference})`, `We received your request (${o.reference})`].sort(),
        );
        expect(notices.map((n) => n.key)).not.toContain('enrolled:patient');
        expect(referral.events.filter((e) => e.type === 'SEAT_RELEASED')).toHaveLength(0);
      }
      // every physician email actually sent is one DISCLOSURE event, and nothing else is
      expect(referral.events.filter((e) => e.type === 'DISCLOSURE')).toHaveLength(toDoctor.length);
    }
    const c = await suite.api.cohort(cohort.cohortId);
    expect([c.seatsLeft, c.roster]).toEqual([10, []]);
  });

  test('evaluation accept vs withdraw (the reported race): the withdrawal stands; the referrer hears "accepted" only if the acceptance committed, and "closed" once', async () => {
    // Prepare
    const people = Array.from({ length: RUNS }, () => person(tagged()));
    const made = await Promise.all(
      people.map(async (p) => ({ ...p, ...((await suite.api.intake(p.body)).json as { referralId: string; reference: string }) })),
    );
    for (const m of made) await suite.api.waitForGate(m.referralId, 'evaluation');

    // Act
    const outcomes = await Promise.all(
      made.map(async (m) => {
        const [decision, withdrawal] = await Promise.all([
          suite.api.decide(m.referralId, 'evaluation', EVAL_ACCEPT),
          suite.api.call('POST', `/api/staff/referrals/${m.referralId}/withdraw`, { body: { reason: 'Race test' }, as: 'casey' }),
        ]);
        return { ...m, decision: decision.status, withdrawal: withdrawal.status };
      }),
    );

    // Assess
    for (const o of outcomes) {
      expect(o.withdrawal).toBe(200);
      expect([200, 409]).toContain(o.decision);
      const { referral } = await settled(o.referralId);
      expect(referral.status).toBe('WITHDRAWN');
      const told = (await suite.api.emailsTo(o.doctor)).map((m) => m.body.text ?? '');
      expect(told.filter((t) => t.includes('accepted the referral'))).toHaveLength(o.decision === 200 ? 1 : 0);
      expect(told.filter((t) => t.includes('The referral was closed'))).toHaveLength(1);
      expect((await suite.api.emailsTo(o.patient)).filter((m) => /request has been closed/.test(m.body.text ?? ''))).toHaveLength(1);
      expect(referral.events.filter((e) => e.type === 'DISCLOSURE')).toHaveLength(told.length);
    }
  });

  test('five concurrent withdraws: one 200, one closure email per recipient, one DISCLOSURE for it', async () => {
    // Prepare
    const tag = tagged();
    const p = person(tag);
    const { referralId, reference } = (await suite.api.intake(p.body)).json;
    await suite.api.waitForGate(referralId, 'evaluation');

    // Act
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        suite.api.call('POST', `/api/staff/referrals/${referralId}/withdraw`, { body: { reason: 'Asked to stop' }, as: 'casey' }),
      ),
    );

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const { referral } = await settled(referralId);
    const closing = (mails: StoredEmail[]) => mails.filter((m) => /request has been closed|referral was closed/.test(m.body.text ?? ''));
    expect(closing(await suite.api.emailsTo(p.patient))).toHaveLength(1);
    expect(closing(await suite.api.emailsTo(p.doctor))).toHaveLength(1);
    expect(referral.events.filter((e) => e.type === 'DISCLOSURE' && e.detail?.milestone === 'closed')).toHaveLength(1);
    expect(referral.events.filter((e) => e.type === 'WITHDRAWN')).toHaveLength(1);
    expect(reference).toMatch(/^IOP-/);
  });
});

describe('a decision right after the previous step', () => {
  test('the enrolment decision sent 0 ms after the evaluation is accepted (200) and applied when its gate opens', async () => {
    // Prepare
    const cohort = await suite.api.newCohort();
    const made = await Promise.all(
      Array.from({ length: Math.max(1, Math.ceil(RUNS / 2)) }, async () => {
        const p = person(tagged());
        const { referralId, reference } = (await suite.api.intake(p.body)).json;
        await suite.api.waitForGate(referralId, 'evaluation');
        return { ...p, referralId, reference };
      }),
    );

    for (const { referralId, reference, patient } of made) {
      // Act
      const evaluation = await suite.api.decide(referralId, 'evaluation', EVAL_ACCEPT);
      const enrolment = await suite.api.decide(referralId, 'enrollment', { cohortId: cohort.cohortId });

      // Assess
      expect(evaluation.status).toBe(200);
      expect(enrolment.status).toBe(200);
      expect(enrolment.json.status).toBe('ENROLLED');
      const again = await suite.api.decide(referralId, 'enrollment', { cohortId: cohort.cohortId });
      expect(again.status).toBe(409);
      await suite.api.waitForGate(referralId, 'first-session');
      await settled(referralId);
      const schedule = await suite.api.waitForEmails(patient, 1, (m) => m.subject === `Your group schedule (${reference})`);
      expect(schedule).toHaveLength(1);
    }
  });
});

describe('the referring physician hears status only', () => {
  test('the enrolment notice says enrolled and the start date: no session times, no calendar, no patient address', async () => {
    // Prepare
    const cohort = await suite.api.newCohort();
    const x = await atEnrollment(tagged());

    // Act
    expect((await suite.api.decide(x.referralId, 'enrollment', { cohortId: cohort.cohortId })).status).toBe(200);

    // Assess
    const [mail] = await suite.api.waitForEmails(x.doctor, 1, (m) => m.body.text?.includes('enrolled') ?? false);
    expect(mail!.body.text).toMatch(/enrolled in the program and starts on [A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4}\./);
    expect(mail!.body.text).not.toMatch(/\d{1,2}:\d{2}|min\)|Weekly/);
    expect(mail!.attachments).toEqual([]);
    expect(JSON.stringify(mail)).not.toContain(x.patient);
  });
});

describe('SES failing for a while', () => {
  test('referrals still reach their gates; each email is delivered once SES answers again, none twice', async () => {
    // Prepare
    ses.failing = true;
    const people = Array.from({ length: Math.max(2, Math.ceil((RUNS * 2) / 3)) }, () => person(tagged()));

    // Act: intakes and decisions while every send fails
    const made = await Promise.all(
      people.map(async (p) => ({ ...p, ...((await suite.api.intake(p.body)).json as { referralId: string; reference: string }) })),
    );
    for (const m of made) await suite.api.waitForGate(m.referralId, 'evaluation');
    for (const m of made) expect((await suite.api.decide(m.referralId, 'evaluation', EVAL_ACCEPT)).status).toBe(200);
    for (const m of made) await suite.api.waitForGate(m.referralId, 'enrollment');
    for (const m of made)
      await suite.api.waitFor(m.referralId, (r) => r.events.some((e) => e.type === 'NOTICE_FAILED' && e.detail?.milestone === 'accepted'));
    expect(ses.refused).toBeGreaterThan(0);
    expect((await suite.api.referral(made[0]!.referralId)).status).toBe('ENROLLMENT');

    // SES answers again: the sweep delivers what failed
    ses.failing = false;
    for (const m of made) await settled(m.referralId);

    // Assess: received + accepted notices, exactly once each
    for (const m of made) {
      expect(subjects(await suite.api.emailsTo(m.patient))).toEqual([`We received your request (${m.reference})`]);
      const toDoctor = await suite.api.emailsTo(m.doctor);
      expect(toDoctor).toHaveLength(2);
      const r = await suite.api.referral(m.referralId);
      const failures = r.events.filter((e) => e.type === 'NOTICE_FAILED');
      expect(failures.length).toBeGreaterThan(0);
      expect(JSON.stringify(failures)).not.toMatch(/example\.org|clinic\.example|Service unavailable/);
      expect(r.events.filter((e) => e.type === 'DISCLOSURE')).toHaveLength(2);
    }
  });
});

describe('page cursors', () => {
  test('a cursor from another queue, or a tampered one, is a 400 InvalidCursor; its own queue pages on', async () => {
    // Prepare: enough referrals at the evaluation gate for two pages
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await suite.api.intake(person(tagged()).body)).json.referralId);
    for (const id of ids) await suite.api.waitForGate(id, 'evaluation');
    const first = await suite.api.call('GET', '/api/staff/referrals?status=EVALUATION&limit=1', { as: 'casey' });
    const cursor = first.json.nextCursor as string;

    // Act
    const same = await suite.api.call('GET', `/api/staff/referrals?status=EVALUATION&limit=1&cursor=${encodeURIComponent(cursor)}`, {
      as: 'casey',
    });
    const other = await suite.api.call('GET', `/api/staff/referrals?status=ENROLLED&cursor=${encodeURIComponent(cursor)}`, { as: 'casey' });
    const tampered = await suite.api.call(
      'GET',
      `/api/staff/referrals?status=EVALUATION&cursor=${encodeURIComponent(`x${cursor.slice(1)}`)}`,
      {
        as: 'casey',
      },
    );

    // Assess
    expect(first.status).toBe(200);
    expect(same.status).toBe(200);
    expect(same.json.items[0].referralId).not.toBe(first.json.items[0].referralId);
    expect([other.status, other.json.error]).toEqual([400, 'InvalidCursor']);
    expect([tampered.status, tampered.json.error]).toEqual([400, 'InvalidCursor']);
  });
});
