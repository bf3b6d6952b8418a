import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import ICAL from 'ical.js';
import type { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import { faultProxy, type FaultProxy } from '../support/fault-proxy';
import { cohortBody, EVAL_ACCEPT, personOf, tagged } from '../support/fixtures';
import { localRepository } from '../support/local-table';
import { runtimeSuite } from '../support/runtime-suite';

// Issue 11 over HTTP against the local runtime (DynamoDB Local, the real ASL, the SES emulator
// behind a switchable fault proxy): cohort rules and the unique name as a real conditional write,
// the urgent first-contact timer, staff email links, the caseload index, the contact log, consent
// revocation cancelling physician notices still waiting in the outbox, and the schedule email.

let outbox: DynamoDbReferralRepository;
let ses: FaultProxy;
/** where the fault proxy forwards to: the SES emulator, known once the runtime has its endpoints */
let mailUrl = '';

/** a program closure day: the second Wednesday of the test cohorts (they start next Monday) */
const nextMonday = (): string => cohortBody().startDate as string;
const addDays = (ymd: string, n: number) => new Date(Date.parse(`${ymd}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const CLOSED_ON = addDays(nextMonday(), 9);

beforeAll(async () => {
  // before the runtime: its handlers send email through the proxy
  ses = await faultProxy(() => mailUrl);
});
const suite = runtimeSuite({
  env: (endpoints) => {
    mailUrl = endpoints.mailUrl;
    return {
      AWS_ENDPOINT_URL_SESV2: ses.url,
      NOTICE_RETRY_BASE_SECONDS: '0.2',
      NOTICE_RETRY_MAX_SECONDS: '0.5',
      CLOSURE_DATES: CLOSED_ON,
    };
  },
});
beforeAll(() => {
  outbox = localRepository(suite.rt);
});
afterAll(async () => {
  await ses?.close();
});

const person = (tag: string, o: { urgent?: boolean; lang?: 'en' | 'es' } = {}) =>
  personOf(tag, {
    lastName: `Case${tag}`,
    patient: { preferredLanguage: o.lang ?? 'en' } as never,
    screening: { selfHarmThoughtsPastMonth: !!o.urgent, suicideAttemptPastThreeMonths: false },
    insurance: { type: 'self-pay' } as never,
  });

const intake = async (tag: string, o: { urgent?: boolean; lang?: 'en' | 'es' } = {}) => {
  const p = person(tag, o);
  const res = await suite.api.intake(p.body);
  expect(res.status).toBe(201);
  return { ...p, ...(res.json as { referralId: string; reference: string }) };
};

/** the outbox of a referral once nothing is pending or being sent (sweep retries what failed, as it does every minute) */
const settled = async (referralId: string, timeoutMs = 20_000) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const notices = await outbox.notices(referralId);
    if (notices.every((n) => n.state !== 'pending' && n.state !== 'sending')) return notices;
    if (Date.now() > until) throw new Error(`notices still pending: ${JSON.stringify(notices.map((n) => [n.key, n.state]))}`);
    await suite.rt.runScheduled('sweep');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('cohorts', () => {
  test('a name is unique per start date, whatever its case and spacing: five creators at once, one cohort', async () => {
    // Prepare
    const name = `Evening ${tagged()}`;

    // Act
    const answers = await Promise.all(
      [name, name.toUpperCase(), ` ${name} `, name.replace(' ', '   '), name].map((n) =>
        suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody({ name: n }), as: 'sam' }),
      ),
    );

    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).every((a) => a.json.error === 'CohortNameTaken')).toBe(true);
    const list = (await suite.api.call('GET', '/api/staff/cohorts', { as: 'casey' })).json.items as Array<{ name: string }>;
    expect(list.filter((c) => c.name.trim().toLowerCase().replace(/\s+/g, ' ') === name.toLowerCase())).toHaveLength(1);
    // the same name on another start date is another cohort
    expect(
      (await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody({ name, startDate: addDays(nextMonday(), 7) }), as: 'sam' }))
        .status,
    ).toBe(201);
  });

  test.each([
    [
      'an evening cohort with 09:00 sessions',
      'track',
      {
        sessions: [
          { weekday: 'MO', start: '09:00', minutes: 180 },
          { weekday: 'WE', start: '09:00', minutes: 180 },
          { weekday: 'TH', start: '09:00', minutes: 180 },
        ],
      },
    ],
    ['a start date two months past', 'startDate', { startDate: addDays(nextMonday(), -70) }],
    ['no location', 'location', { location: undefined }],
  ])('%s is a 400 naming %s', async (_what, path, change) => {
    const res = await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody(change), as: 'sam' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.json.fields)).toEqual([path]);
  });

  test("the staff list counts sessions with the program's closure day left out, and says where a group meets", async () => {
    // Act
    const res = await suite.api.call('POST', '/api/staff/cohorts', {
      body: cohortBody({ location: { kind: 'telehealth', url: 'https://meet.example.org/iop-e' } }),
      as: 'sam',
    });

    // Assess: 8 weeks × 3 sessions, minus the closed Wednesday
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      sessionsTotal: 23,
      sessionsLeft: 23,
      location: { kind: 'telehealth', url: 'https://meet.example.org/iop-e' },
    });
  });
});

describe('urgent referrals and staff emails', () => {
  test('the first human gate of an urgent referral waits 4 h, and the urgent email links to the referral by id', async () => {
    // Act
    const x = await intake(tagged(), { urgent: true });
    const r = await suite.api.waitForGate(x.referralId, 'evaluation');

    // Assess: the short timer, the badge flag, a link with the id and no name
    expect(Date.parse(r.gateDueAt!) - Date.parse(r.gateOpenedAt!)).toBe(4 * 3_600_000);
    expect(r.firstContact).toBe(true);
    const [alert] = await suite.api.waitForEmails('intake-team@iop.example', 1, (m) => m.subject === `Urgent referral ${x.reference}`);
    expect(alert!.body.text).toContain(`Open the referral in the staff console: ${suite.rt.appUrl}/console/#/referral/${x.referralId}`);
    expect(JSON.stringify(alert)).not.toContain(x.body.patient.lastName);
  });

  test('a routine referral keeps the routine 48 h at evaluation', async () => {
    const x = await intake(tagged());
    const r = await suite.api.waitForGate(x.referralId, 'evaluation');
    expect(Date.parse(r.gateDueAt!) - Date.parse(r.gateOpenedAt!)).toBe(48 * 3_600_000);
    expect(r.firstContact).toBeUndefined();
  });
});

describe('the caseload', () => {
  test('assigned referrals are "My referrals" until reassigned or closed; each change is on the timeline', async () => {
    // Prepare
    const a = await intake(tagged());
    const b = await intake(tagged(), { urgent: true });
    await suite.api.waitForGate(a.referralId, 'evaluation');
    await suite.api.waitForGate(b.referralId, 'evaluation');

    // Act: casey takes both; sam takes one over, naming casey
    for (const x of [a, b])
      expect(
        (
          await suite.api.call('POST', `/api/staff/referrals/${x.referralId}/assignment`, {
            body: { assignee: 'casey', expected: null },
            as: 'casey',
          })
        ).status,
      ).toBe(200);
    const blind = await suite.api.call('POST', `/api/staff/referrals/${a.referralId}/assignment`, { body: { assignee: 'sam' }, as: 'sam' });
    const takeover = await suite.api.call('POST', `/api/staff/referrals/${a.referralId}/assignment`, {
      body: { assignee: 'sam', expected: 'casey' },
      as: 'sam',
    });

    // Assess
    expect(blind.status).toBe(409);
    expect(blind.json.error).toBe('AlreadyAssigned');
    expect(takeover.status).toBe(200);
    const mine = (await suite.api.call('GET', '/api/staff/caseload', { as: 'casey' })).json.items as Array<{
      referralId: string;
      urgent: boolean;
    }>;
    expect(mine.map((r) => r.referralId)).toEqual([b.referralId]);
    const sams = (await suite.api.call('GET', '/api/staff/caseload', { as: 'sam' })).json.items as Array<{
      referralId: string;
      assignedTo: string;
    }>;
    expect(sams).toEqual([expect.objectContaining({ referralId: a.referralId, assignedTo: 'sam' })]);
    const detail = await suite.api.referral(a.referralId);
    expect(detail.events.filter((e) => e.type === 'ASSIGNED').map((e) => [e.actor.username, e.detail])).toEqual([
      ['casey', { to: 'casey', from: null }],
      ['sam', { to: 'sam', from: 'casey' }],
    ]);

    // a closed referral leaves the caseload
    expect(
      (await suite.api.call('POST', `/api/staff/referrals/${b.referralId}/withdraw`, { body: { reason: 'moved away' }, as: 'casey' }))
        .status,
    ).toBe(200);
    expect((await suite.api.call('GET', '/api/staff/caseload', { as: 'casey' })).json.items).toEqual([]);
  });

  test('a contact attempt is logged on the timeline and as the last contact; the workflow is untouched', async () => {
    // Prepare
    const x = await intake(tagged());
    const before = await suite.api.waitForGate(x.referralId, 'evaluation');

    // Act
    const res = await suite.api.call('POST', `/api/staff/referrals/${x.referralId}/contacts`, {
      body: { channel: 'text', outcome: 'no-answer', note: 'Sent a text, no reply yet' },
      as: 'casey',
    });

    // Assess
    expect(res.status).toBe(200);
    const after = await suite.api.referral(x.referralId);
    expect(after).toMatchObject({
      status: 'EVALUATION',
      pendingStep: 'evaluation',
      gateDueAt: before.gateDueAt,
      lastContact: { channel: 'text', outcome: 'no-answer', by: { username: 'casey' } },
    });
    expect(after.events.find((e) => e.type === 'CONTACT_LOGGED')).toMatchObject({
      detail: { channel: 'text', outcome: 'no-answer', note: 'Sent a text, no reply yet' },
    });
    // the decision still goes through on the gate's token
    expect((await suite.api.decide(x.referralId, 'evaluation', EVAL_ACCEPT)).status).toBe(200);
    await suite.api.waitForGate(x.referralId, 'enrollment');
  });
});

describe('consent revocation', () => {
  test('a physician email waiting for a retry is cancelled by the revocation and never sent; nothing later goes out', async () => {
    // Prepare: SES is down, so the "received" emails wait in the outbox
    ses.failing = true;
    const x = await intake(tagged());
    await suite.api.waitForGate(x.referralId, 'evaluation');
    await suite.api.waitFor(x.referralId, (r) =>
      r.events.some((e) => e.type === 'NOTICE_FAILED' && (e.detail as { audience?: string }).audience === 'physician'),
    );

    // Act: the patient called; staff record it, then SES comes back and the referral moves on
    const res = await suite.api.call('POST', `/api/staff/referrals/${x.referralId}/consent-revocation`, {
      body: { receivedVia: 'phone', note: 'Called the front desk' },
      as: 'casey',
    });
    ses.failing = false;
    expect((await suite.api.decide(x.referralId, 'evaluation', EVAL_ACCEPT)).status).toBe(200);
    await suite.api.waitForGate(x.referralId, 'enrollment');
    const notices = await settled(x.referralId);

    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ consentRevoked: { receivedVia: 'phone', by: { username: 'casey' } }, cancelledNotices: 1 });
    expect(notices.filter((n) => n.audience === 'physician').map((n) => [n.key, n.state])).toEqual([['received:physician', 'cancelled']]);
    expect(await suite.api.emailsTo(x.doctor)).toEqual([]);
    expect(await suite.api.waitForEmails(x.patient, 1)).toHaveLength(1);
    const detail = await suite.api.referral(x.referralId);
    expect(detail.consentRevoked).toMatchObject({ receivedVia: 'phone' });
    expect(detail.events.filter((e) => e.type === 'DISCLOSURE')).toEqual([]);
    expect(detail.events.find((e) => e.type === 'CONSENT_REVOKED')).toMatchObject({
      actor: { username: 'casey' },
      detail: { receivedVia: 'phone', note: 'Called the front desk', cancelledNotices: 1 },
    });
    expect(detail.events.find((e) => e.type === 'NOTICE_CANCELLED')).toMatchObject({
      detail: { audience: 'physician', reason: 'consent revoked' },
    });
    // once is enough
    expect(
      (
        await suite.api.call('POST', `/api/staff/referrals/${x.referralId}/consent-revocation`, {
          body: { receivedVia: 'letter' },
          as: 'casey',
        })
      ).json.error,
    ).toBe('AlreadyRevoked');
  });
});

describe('the schedule email and its invitation', () => {
  test('in Spanish: dates in words, the address, the closure day, what to bring; the invitation parses, skips the closure, names no program', async () => {
    // Prepare
    const cohort = (await suite.api.call('POST', '/api/staff/cohorts', { body: cohortBody({ name: `Tarde ${tagged()}` }), as: 'sam' }))
      .json as {
      cohortId: string;
      startDate: string;
    };
    const x = await intake(tagged(), { lang: 'es' });
    await suite.api.waitForGate(x.referralId, 'evaluation');
    expect((await suite.api.decide(x.referralId, 'evaluation', EVAL_ACCEPT)).status).toBe(200);
    await suite.api.waitForGate(x.referralId, 'enrollment');

    // Act
    expect((await suite.api.decide(x.referralId, 'enrollment', { cohortId: cohort.cohortId })).status).toBe(200);

    // Assess: the email
    const [mail] = await suite.api.waitForEmails(x.patient, 1, (m) => m.attachments.some((a) => a.contentType.startsWith('text/calendar')));
    const text = mail!.body.text!;
    expect(mail!.subject).toMatch(/^Su horario de grupo/);
    expect(text).toMatch(/Su primera sesión es el lunes \d{1,2} de [a-z]+, 18:00\./);
    expect(text).toContain('Cada semana: lunes, miércoles y jueves, de 18:00 a 21:00');
    expect(text).toContain('Dónde: 12 Harbor St, Suite 3, Boston, MA 02110.');
    expect(text).toMatch(/No hay sesión el miércoles \d{1,2} de [a-z]+: el programa está cerrado\./);
    expect(text).toMatch(/Qué traer: /);
    expect(text).not.toMatch(/\b(MO|WE|TH)\b|America\/New_York|\(180 min\)/);

    // Assess: the invitation, as a calendar program reads it
    const ics = Buffer.from(mail!.attachments.find((a) => a.contentType.startsWith('text/calendar'))!.content, 'base64').toString('utf8');
    expect(ics).not.toMatch(/^(TIMEZONE-ID|X-)/m);
    const cal = new ICAL.Component(ICAL.parse(ics));
    for (const tz of cal.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
    const events = cal.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    expect(events).toHaveLength(3);
    const starts: string[] = [];
    for (const e of events) {
      expect(e.summary).toBe('Sesión de grupo');
      expect(e.location).toBe('12 Harbor St, Suite 3, Boston, MA 02110');
      expect(e.description).toContain('(555) 010-0100');
      const it = e.iterator();
      for (let t = it.next(); t; t = it.next()) starts.push(t.toString().slice(0, 10));
    }
    expect(starts).toHaveLength(23);
    expect(starts).not.toContain(CLOSED_ON);
    expect(starts.sort()[0]).toBe(cohort.startDate);
  });
});
