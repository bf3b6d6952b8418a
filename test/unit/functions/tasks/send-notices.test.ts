import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  cancelled,
  plainPuts,
  sentEmails,
  storeCohort,
  storeIntake,
  storeNotice,
  storeReferral,
  transactions,
  updates,
} from '../support/aws';
import { handlerUnderTest } from '../support/handler';
import {
  cohort,
  dayFromToday,
  HOUR,
  isoAgo,
  notice,
  noticeStreamRecord,
  referral,
  REFERRAL_ID,
  TEST_ENV,
  TEST_NOW,
  validIntake,
  lambdaContext,
} from '../support/fixtures';
import { PART2_NOTICE } from '../../../../functions/lib/domain/messages';
import type { NoticeRecord } from '../../../../functions/lib/adapters/ports';

// the outbox sender: a committed NOTICE item arrives on the table stream; it is claimed, rendered
// from the stored referral, sent, and settled with its timeline event in one transaction

// the console's address (staff emails link to the referral) and a program closure on a Monday of the fixture cohort
const CONSOLE_URL = 'https://iop.example.org/console/';
const CLOSED_ON = dayFromToday(19);
const { m, handler } = handlerUnderTest(() => import('../../../../functions/send-notices/handler'), {
  CONSOLE_URL,
  CLOSURE_DATES: `2026-12-25, ${CLOSED_ON}`,
});

const at = (msFromNow: number) => new Date(Date.parse(TEST_NOW) + msFromNow).toISOString();
const LEASE = at(120_000);
const PATIENT_EMAIL = validIntake().patient.email!;
const PHYSICIAN_EMAIL = validIntake().referringPhysician!.email;

/** stores the notice (and what it is rendered from) and hands it to the sender as the stream would */
const deliver = async (...notices: NoticeRecord[]) => {
  for (const n of notices) storeNotice(m, n);
  return handler({ Records: notices.map((n, i) => noticeStreamRecord(n, String(100 + i))) }, lambdaContext);
};

const sesFails = (name: string, message: string) => {
  m.ses.on(SendEmailCommand).rejects(Object.assign(new Error(message), { name }));
};

const physician = (over: Partial<NoticeRecord> = {}) => notice({ key: 'received:physician', audience: 'physician', ...over });

/** the patient's schedule (the enrolment email with the calendar invitation): the fixture cohort, starting in a week */
const schedule = (params: { cohortId?: string; startDate?: string } = {}) =>
  notice({
    key: 'enrolled:patient',
    notice: 'schedule',
    milestone: 'enrolled',
    status: 'ENROLLED',
    params: { cohortId: 'cohort-morning-a', startDate: dayFromToday(7), ...params },
  });

/** the stored intake's patient prefers Spanish */
const speaksSpanish = () =>
  storeIntake(m, REFERRAL_ID, { ...validIntake(), patient: { ...validIntake().patient, preferredLanguage: 'es' } });

beforeEach(() => {
  storeReferral(m, referral({ status: 'EVALUATION', version: 4 }));
  storeIntake(m, REFERRAL_ID, validIntake());
  storeCohort(m, cohort());
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('send-notices: a due notice is sent once', () => {
  test('claims the notice with a lease, only if it is pending (or its lease ran out) and due', async () => {
    // Act
    await deliver(notice());

    // Assess
    expect(updates(m)).toEqual([
      {
        TableName: TEST_ENV.TABLE_NAME,
        Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#received:patient' },
        UpdateExpression: 'SET #state = :sending, dueAt = :lease, gsi1sk = :sk ADD attempts :one',
        ConditionExpression: '#state IN (:pending, :sending) AND dueAt <= :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sending': 'sending',
          ':pending': 'pending',
          ':lease': LEASE,
          ':now': TEST_NOW,
          ':one': 1,
          ':sk': `${LEASE}#${REFERRAL_ID}#received:patient`,
        },
        ReturnValues: 'ALL_NEW',
      },
    ]);
  });

  test('the patient\'s "received" email goes to the patient, in their language, with the reference', async () => {
    // Prepare
    speaksSpanish();

    // Act
    const out = await deliver(notice());

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    const mails = await sentEmails(m);
    expect(mails.map((x) => [x.to, x.parsed.subject, x.parsed.from?.text])).toEqual([
      [[PATIENT_EMAIL], 'Recibimos su solicitud (IOP-7KQ4-M3TD)', TEST_ENV.MAIL_FROM],
    ]);
  });

  test('then marks it sent and writes NOTICE_SENT under its fixed key, in one transaction that holds only while the claim does', async () => {
    // Act
    await deliver(notice());

    // Assess
    expect(transactions(m)).toEqual([
      [
        {
          Update: {
            TableName: TEST_ENV.TABLE_NAME,
            Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#received:patient' },
            UpdateExpression: 'SET #state = :sent, messageId = :id, sentAt = :at REMOVE gsi1pk, gsi1sk',
            ConditionExpression: '#state = :claimed AND dueAt = :lease',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':claimed': 'sending', ':lease': LEASE, ':sent': 'sent', ':id': 'ses-message-1', ':at': TEST_NOW },
          },
        },
        {
          Put: {
            TableName: TEST_ENV.TABLE_NAME,
            Item: {
              pk: `REFERRAL#${REFERRAL_ID}`,
              sk: 'EVENT#notice#received:patient',
              entity: 'event',
              at: TEST_NOW,
              type: 'NOTICE_SENT',
              actor: { kind: 'system' },
              detail: { audience: 'patient', notice: 'received', milestone: 'received' },
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    ]);
    const [send] = m.ses.commandCalls(SendEmailCommand);
    const [settle] = m.ddb.commandCalls(TransactWriteCommand);
    expect(send!.calledBefore(settle!)).toBe(true);
  });

  test('a closing notice reports the status it was written with', async () => {
    // Act
    await deliver(notice({ key: 'closed:patient', notice: 'closed', milestone: 'closed', status: 'REFERRED_OUT' }));

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.parsed.subject).toBe('An update on your request (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('another level of care');
  });

  test("the physician's email is status only with the Part 2 notice, and its DISCLOSURE names the recipient, what and why", async () => {
    // Act
    await deliver(physician({ key: 'accepted:physician', notice: 'accepted', milestone: 'accepted', status: 'ENROLLMENT' }));

    // Assess
    const [mail, ...more] = await sentEmails(m);
    expect(more).toEqual([]);
    expect(mail!.to).toEqual([PHYSICIAN_EMAIL]);
    expect(mail!.parsed.subject).toBe('Referral update (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('accepted the referral');
    expect(mail!.parsed.text!.replace(/\s+/g, ' ')).toContain(PART2_NOTICE);
    expect(mail!.mime).not.toMatch(/alcohol|benzodiazepine|1988-04-12|201-3344|jordan\.quintana|Quintana|withdrawal|Acme|ABC-12345/i);
    const [tx] = transactions(m);
    expect(tx![1]!.Put!.Item).toEqual({
      pk: `REFERRAL#${REFERRAL_ID}`,
      sk: 'EVENT#notice#accepted:physician',
      entity: 'event',
      at: TEST_NOW,
      type: 'DISCLOSURE',
      actor: { kind: 'system' },
      detail: {
        audience: 'referring-physician',
        recipientNpi: '1234567893',
        notice: 'accepted',
        milestone: 'accepted',
        disclosed: 'referral status only',
        basis: 'written patient consent (42 CFR 2.31)',
        consentSignedAt: '2025-06-02T14:00:00Z',
      },
    });
  });

  test("the physician's enrolment email says enrolled and the start date: no session times, no calendar part, no invite, no patient address", async () => {
    // Prepare
    const params = { cohortId: 'cohort-morning-a', startDate: dayFromToday(7) };

    // Act
    await deliver(physician({ key: 'enrolled:physician', notice: 'enrolled', milestone: 'enrolled', status: 'ENROLLED', params }));

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([PHYSICIAN_EMAIL]);
    expect(mail!.parsed.text).toContain('enrolled in the program and starts on Wednesday, January 6, 2027.');
    expect(mail!.mime).not.toMatch(/text\/calendar|BEGIN:VCALENDAR|invite\.ics|method=REQUEST/i);
    expect(mail!.parsed.attachments).toEqual([]);
    expect(mail!.mime).not.toMatch(/09:00|9:00|Morning A|\bMO\b|\bWE\b|\bFR\b|Harbor St|What to bring/);
    expect(mail!.mime).not.toContain(PATIENT_EMAIL);
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({
      type: 'DISCLOSURE',
      detail: { notice: 'enrolled', disclosed: 'referral status only' },
    });
  });

  test("the patient's enrolment email carries the schedule and the calendar invitation", async () => {
    // Act
    await deliver(schedule());

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([PATIENT_EMAIL]);
    expect(mail!.parsed.subject).toBe('Your group schedule (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('Your first session is on Wednesday, January 6, 9:00 AM.');
    expect(mail!.parsed.text).toContain('Where: 12 Harbor St, Suite 3, Boston, MA 02110.');
    expect(mail!.parsed.text).toContain('There is no session on Monday, January 18: the program is closed.');
    expect(mail!.parsed.text).toContain('What to bring: A photo ID');
    expect(mail!.mime).toMatch(/text\/calendar; charset=utf-8; method=REQUEST/i);
    expect(mail!.mime).toContain('BEGIN:VCALENDAR');
  });

  test('the invitation has a neutral title, the address as LOCATION, the phone in DESCRIPTION and the closure as EXDATE', async () => {
    // Act
    await deliver(schedule());

    // Assess
    const [mail] = await sentEmails(m);
    const ics = mail!.mime
      .slice(mail!.mime.indexOf('BEGIN:VCALENDAR'), mail!.mime.indexOf('END:VCALENDAR') + 'END:VCALENDAR'.length)
      .replace(/\r?\n[ \t]/g, '');
    expect(ics).toContain('SUMMARY:Group session');
    expect(ics).not.toMatch(/SUMMARY:.*(Program|Outpatient)/);
    expect(ics).toContain('LOCATION:12 Harbor St\\, Suite 3\\, Boston\\, MA 02110');
    expect(ics).toMatch(/DESCRIPTION:.*\(555\) 010-0100/);
    expect(ics).toContain(`EXDATE;TZID=America/New_York:${CLOSED_ON.replace(/-/g, '')}T090000`);
    expect(ics).not.toMatch(/TIMEZONE-ID|X-WR-/);
  });

  test('a Spanish speaker gets the schedule and the invitation title in Spanish', async () => {
    // Prepare
    speaksSpanish();

    // Act
    await deliver(schedule());

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.parsed.text).toContain('Su primera sesión es el miércoles 6 de enero, 9:00.');
    expect(mail!.parsed.text).toContain('Cada semana: lunes, miércoles y viernes, de 9:00 a 12:00');
    expect(mail!.parsed.text).toContain('No hay sesión el lunes 18 de enero: el programa está cerrado.');
    expect(mail!.mime).toMatch(/SUMMARY:Sesi(ó|=C3=B3)n de grupo/);
  });

  test('a schedule sent after the group started says how many sessions remain, from the next one', async () => {
    // Prepare: the cohort started three weeks ago (MO/WE/FR, 8 weeks)
    storeCohort(m, cohort({ startDate: dayFromToday(-21) }));

    // Act
    await deliver(schedule({ startDate: dayFromToday(2) }));

    // Assess: it is 10:00 in New York on Wednesday Dec 30, so today's 09:00 session has begun: Friday's is the first
    const [mail] = await sentEmails(m);
    expect(mail!.parsed.text).toMatch(/The group has already started: you join it for its last \d+ sessions, until Monday, February 1\./);
    expect(mail!.parsed.text).toContain('Your first session is on Friday, January 1, 9:00 AM.');
  });

  test('a program alert links to the referral in the console by its id (no name, no reference in the link)', async () => {
    // Act
    await deliver(notice({ key: 'urgent:program', audience: 'program', notice: 'urgent', milestone: 'urgent', params: {} }));

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.parsed.text).toContain(`Open the referral in the staff console: ${CONSOLE_URL}#/referral/${REFERRAL_ID}`);
    expect(mail!.parsed.html).toContain(`href="${CONSOLE_URL}#/referral/${REFERRAL_ID}"`);
  });

  test('a program alert goes to the program address with no PHI, recorded as NOTICE_SENT', async () => {
    // Act
    await deliver(
      notice({
        key: `sla:evaluation:${isoAgo(96 * HOUR)}:2:program`,
        audience: 'program',
        notice: 'sla',
        milestone: 'sla',
        status: 'NEEDS_ATTENTION',
        params: { step: 'evaluation', ageHours: 96, breaches: 2, gateOpenedAt: isoAgo(96 * HOUR) },
      }),
    );

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([TEST_ENV.PROGRAM_EMAIL]);
    expect(mail!.parsed.subject).toBe('Overdue step: IOP-7KQ4-M3TD');
    expect(mail!.parsed.text).toContain('The evaluation step of referral IOP-7KQ4-M3TD has waited 96 hours');
    expect(mail!.mime).not.toMatch(/Jordan|quintana|alcohol/i);
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ type: 'NOTICE_SENT', detail: { audience: 'program', notice: 'sla' } });
  });

  test('the first session: the physician told the patient started treatment, recorded as a DISCLOSURE', async () => {
    // Act
    await deliver(physician({ key: 'started:physician', notice: 'started', milestone: 'started', status: 'STARTED' }));

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([PHYSICIAN_EMAIL]);
    expect(mail!.parsed.subject).toBe('Referral update (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('attended the first session and has started treatment');
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({
      sk: 'EVENT#notice#started:physician',
      type: 'DISCLOSURE',
      detail: { notice: 'started', milestone: 'started', disclosed: 'referral status only' },
    });
  });

  test('a missed first session: the person is told the next session in words, in their language, without a calendar part', async () => {
    // Prepare
    speaksSpanish();

    // Act
    await deliver(
      notice({
        key: 'missed-1:patient',
        notice: 'missed',
        milestone: 'missed-1',
        status: 'ENROLLED',
        params: { cohortId: 'cohort-morning-a', sessionAt: '2027-01-08T09:00:00-05:00' },
      }),
    );

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([PATIENT_EMAIL]);
    expect(mail!.parsed.subject).toBe('Su próxima sesión de grupo (IOP-7KQ4-M3TD)');
    expect(mail!.parsed.text).toContain('la próxima sesión es el viernes 8 de enero, 9:00.');
    expect(mail!.mime).not.toMatch(/text\/calendar/i);
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({
      type: 'NOTICE_SENT',
      detail: { audience: 'patient', notice: 'missed', milestone: 'missed-1' },
    });
  });

  test("the waitlist's weekly review goes to the program: the reference, days waiting, seats free; no PHI", async () => {
    // Act
    await deliver(
      notice({
        key: 'waitlist-review:2:program',
        audience: 'program',
        notice: 'waitlist-review',
        milestone: 'waitlist-review',
        status: 'WAITLISTED',
        params: { review: 2, waitingDays: 14, seatsFree: 1 },
      }),
    );

    // Assess
    const [mail] = await sentEmails(m);
    expect(mail!.to).toEqual([TEST_ENV.PROGRAM_EMAIL]);
    expect(mail!.parsed.subject).toBe('Waitlist review: IOP-7KQ4-M3TD');
    expect(mail!.parsed.text).toContain('has been on the waitlist for 14 days.');
    expect(mail!.parsed.text).toContain('1 seat is free now');
    expect(mail!.mime).not.toMatch(/Jordan|quintana|alcohol|555/i);
  });

  test('a notice whose sender died (state sending, lease ran out) is taken over and sent', async () => {
    // Act
    await deliver(notice({ state: 'sending', attempts: 1, dueAt: isoAgo(1000) }));

    // Assess
    expect(await sentEmails(m)).toHaveLength(1);
    expect(transactions(m)).toHaveLength(1);
  });
});

describe('send-notices: what is not sent', () => {
  test.each([
    ['already sent', notice({ state: 'sent', dueAt: isoAgo(HOUR) })],
    ['held by a live sender (lease ahead)', notice({ state: 'sending', dueAt: at(60_000) })],
    ['due later (a retry)', notice({ dueAt: at(60_000) })],
    ['given up', notice({ state: 'failed' })],
    ['cancelled', notice({ state: 'cancelled' })],
  ])('a notice %s is not claimed: nothing is sent or written', async (_what, n) => {
    // Act
    const out = await deliver(n);

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ses.calls()).toHaveLength(0);
    expect(transactions(m)).toEqual([]);
  });

  test('a physician notice without consent at intake is cancelled with NOTICE_CANCELLED, nothing sent', async () => {
    // Prepare
    storeIntake(m, REFERRAL_ID, { ...validIntake(), consent: { ...validIntake().consent, shareWithReferrer: false } });

    // Act
    const out = await deliver(physician());

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ses.calls()).toHaveLength(0);
    expect(transactions(m)).toEqual([
      [
        {
          Update: expect.objectContaining({
            Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#received:physician' },
            UpdateExpression: 'SET #state = :cancelled REMOVE gsi1pk, gsi1sk',
            ConditionExpression: '#state = :claimed AND dueAt = :lease',
            ExpressionAttributeValues: { ':claimed': 'sending', ':lease': LEASE, ':cancelled': 'cancelled' },
          }),
        },
        {
          Put: expect.objectContaining({
            Item: {
              pk: `REFERRAL#${REFERRAL_ID}`,
              sk: `EVENT#${TEST_NOW}#notice.received:physician.cancelled`,
              entity: 'event',
              at: TEST_NOW,
              type: 'NOTICE_CANCELLED',
              actor: { kind: 'system' },
              detail: { audience: 'physician', notice: 'received', milestone: 'received', reason: 'no consent' },
            },
          }),
        },
      ],
    ]);
    expect(JSON.stringify(transactions(m))).not.toContain('DISCLOSURE');
  });

  test('a physician notice queued before staff recorded a consent revocation is cancelled at send time, nothing disclosed', async () => {
    // Prepare: consent was given at intake, then revoked by phone (recorded on the referral)
    storeReferral(
      m,
      referral({
        status: 'EVALUATION',
        version: 5,
        consentRevoked: { at: isoAgo(HOUR), receivedVia: 'phone', by: { kind: 'staff', sub: 'sub-cw-1', username: 'casey' } },
      }),
    );

    // Act
    const out = await deliver(physician());

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ses.calls()).toHaveLength(0);
    const [tx] = transactions(m);
    expect(tx?.[1]?.Put?.Item).toMatchObject({ type: 'NOTICE_CANCELLED', detail: { audience: 'physician', reason: 'consent revoked' } });
    expect(JSON.stringify(transactions(m))).not.toContain('DISCLOSURE');
  });

  test('a patient notice for a patient without an email is cancelled', async () => {
    // Prepare
    const { email: _email, ...patient } = validIntake().patient;
    storeIntake(m, REFERRAL_ID, { ...validIntake(), patient });

    // Act
    await deliver(notice());

    // Assess
    expect(m.ses.calls()).toHaveLength(0);
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ type: 'NOTICE_CANCELLED', detail: { audience: 'patient' } });
  });

  test('a stream record that is not a notice is ignored without reading anything', async () => {
    // Prepare
    const record = noticeStreamRecord(notice(), '100');
    record.dynamodb!.NewImage!.entity = { S: 'referral' };

    // Act
    const out = await handler({ Records: [record] }, lambdaContext);

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ddb.calls()).toHaveLength(0);
    expect(m.ses.calls()).toHaveLength(0);
  });
});

describe('send-notices: a send that fails', () => {
  test('records NOTICE_FAILED with the error name only and makes the notice due again after a backoff', async () => {
    // Prepare
    jest.spyOn(Math, 'random').mockReturnValue(0);
    sesFails('MessageRejected', `Email address is not verified: ${PATIENT_EMAIL}`);
    const retryAt = at(30_000); // first retry: 60 s base, full jitter down to half

    // Act
    const out = await deliver(notice());

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(transactions(m)).toEqual([
      [
        {
          Update: expect.objectContaining({
            UpdateExpression: 'SET #state = :pending, dueAt = :due, gsi1sk = :sk, lastError = :err',
            ConditionExpression: '#state = :claimed AND dueAt = :lease',
            ExpressionAttributeValues: {
              ':claimed': 'sending',
              ':lease': LEASE,
              ':pending': 'pending',
              ':due': retryAt,
              ':sk': `${retryAt}#${REFERRAL_ID}#received:patient`,
              ':err': 'MessageRejected',
            },
          }),
        },
        {
          Put: expect.objectContaining({
            Item: {
              pk: `REFERRAL#${REFERRAL_ID}`,
              sk: `EVENT#${TEST_NOW}#notice.received:patient.1`,
              entity: 'event',
              at: TEST_NOW,
              type: 'NOTICE_FAILED',
              actor: { kind: 'system' },
              detail: { audience: 'patient', notice: 'received', milestone: 'received', attempt: 1, error: 'MessageRejected', retryAt },
            },
          }),
        },
      ],
    ]);
    expect(JSON.stringify(m.ddb.calls().map((c) => c.args[0].input))).not.toMatch(/not verified|jordan\.quintana/);
  });

  test('the backoff grows with each attempt (the third waits up to 4 minutes)', async () => {
    // Prepare
    jest.spyOn(Math, 'random').mockReturnValue(0.999_999);
    sesFails('Throttling', 'Maximum sending rate exceeded');

    // Act
    await deliver(notice({ attempts: 2, createdAt: isoAgo(HOUR) }));

    // Assess
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ detail: { attempt: 3, retryAt: at(240_000) } });
  });

  test('after NOTICE_RETRY_HOURS it is given up (out of the due index) and the program is told, best effort', async () => {
    // Prepare
    sesFails('AccountSendingPausedException', 'paused');

    // Act
    const out = await deliver(notice({ attempts: 30, createdAt: isoAgo(48 * HOUR) }));

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    const [tx] = transactions(m);
    expect(tx![0]!.Update).toMatchObject({
      UpdateExpression: 'SET #state = :failed, lastError = :err REMOVE gsi1pk, gsi1sk',
      ExpressionAttributeValues: { ':claimed': 'sending', ':lease': LEASE, ':failed': 'failed', ':err': 'AccountSendingPausedException' },
    });
    expect(tx![1]!.Put!.Item).toMatchObject({
      type: 'NOTICE_FAILED',
      detail: { attempt: 31, error: 'AccountSendingPausedException', final: true },
    });
    expect(tx![1]!.Put!.Item!.detail).not.toHaveProperty('retryAt');
    const alert = m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(alert).toEqual([
      {
        TableName: TEST_ENV.TABLE_NAME,
        ConditionExpression: 'attribute_not_exists(pk)',
        Item: {
          pk: `REFERRAL#${REFERRAL_ID}`,
          sk: 'NOTICE#notice-failed:received:patient:program',
          gsi1pk: 'NOTICES#DUE',
          gsi1sk: `${TEST_NOW}#${REFERRAL_ID}#notice-failed:received:patient:program`,
          entity: 'notice',
          referralId: REFERRAL_ID,
          key: 'notice-failed:received:patient:program',
          audience: 'program',
          notice: 'notice-failed',
          milestone: 'received',
          status: 'EVALUATION',
          params: { audience: 'patient', milestone: 'received', errorCode: 'AccountSendingPausedException' },
          state: 'pending',
          attempts: 0,
          createdAt: TEST_NOW,
          dueAt: TEST_NOW,
        },
      },
    ]);
  });

  test('a program alert that is given up raises no alert about itself', async () => {
    // Prepare
    sesFails('MessageRejected', 'rejected');

    // Act
    await deliver(
      notice({
        key: 'urgent:program',
        audience: 'program',
        notice: 'urgent',
        milestone: 'urgent',
        params: {},
        createdAt: isoAgo(49 * HOUR),
      }),
    );

    // Assess
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ type: 'NOTICE_FAILED', detail: { final: true } });
    expect(plainPuts(m)).toEqual([]);
  });

  test('an alert that cannot be queued does not fail the record', async () => {
    // Prepare
    sesFails('MessageRejected', 'rejected');
    m.ddb.on(PutCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const out = await deliver(notice({ createdAt: isoAgo(48 * HOUR) }));

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(transactions(m)).toHaveLength(1);
  });
});

describe('send-notices: partial batch failures', () => {
  const tableDown = () =>
    Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });

  test('a table error is reported for that record only; the other notices of the batch are still sent', async () => {
    // Prepare
    const first = notice();
    const second = physician();
    storeNotice(m, second);
    m.ddb.on(UpdateCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'NOTICE#received:patient' } }).rejects(tableDown());

    // Act
    const out = await handler({ Records: [noticeStreamRecord(first, '100'), noticeStreamRecord(second, '101')] }, lambdaContext);

    // Assess
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
    expect((await sentEmails(m)).map((x) => x.to)).toEqual([[PHYSICIAN_EMAIL]]);
  });

  test('a sent notice whose record could not be written is reported for a retry', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(tableDown());

    // Act
    const out = await deliver(notice());

    // Assess
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
  });

  test('a lost claim (another sender took the notice over) is reported, not swallowed', async () => {
    // Prepare
    m.ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

    // Act
    const out = await deliver(notice());

    // Assess
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
  });

  test.each([['MessageRejected'], ['TooManyRequestsException']])(
    'an SES %s is not a batch failure: the notice is retried from the table',
    async (name) => {
      // Prepare
      sesFails(name, 'no');

      // Act
      const out = await deliver(notice());

      // Assess
      expect(out).toEqual({ batchItemFailures: [] });
      expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ type: 'NOTICE_FAILED', detail: { error: name } });
    },
  );

  // was a gap (fault runs: "claims lost midway"): the referral was read outside the try, so a table
  // error there left the notice claimed until its lease ran out, with no failure recorded
  test('a table error reading the referral after the claim is recorded as a failed send, due again after the backoff', async () => {
    // Prepare
    m.ddb
      .on(GetCommand, { Key: { pk: `REFERRAL#${REFERRAL_ID}`, sk: 'META' } })
      .rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const out = await deliver(notice());

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ses.calls()).toHaveLength(0);
    const [update, event] = transactions(m)[0] ?? [];
    expect(update?.Update?.ExpressionAttributeValues).toMatchObject({
      ':pending': 'pending',
      ':err': 'ProvisionedThroughputExceededException',
    });
    expect(event?.Put?.Item).toMatchObject({ type: 'NOTICE_FAILED', detail: { error: 'ProvisionedThroughputExceededException' } });
  });

  test('a schedule whose cohort is gone is recorded as a failed send (CohortMissing), not a batch failure', async () => {
    // Act
    const out = await deliver(schedule({ cohortId: 'gone' }));

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(m.ses.calls()).toHaveLength(0);
    expect(transactions(m)[0]![1]!.Put!.Item).toMatchObject({ type: 'NOTICE_FAILED', detail: { error: 'CohortMissing' } });
  });
});
