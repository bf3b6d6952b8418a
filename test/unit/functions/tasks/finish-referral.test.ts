import { afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { answerDefaults, mocks, noticeEvents, resetMocks, sentEmails } from '../support/aws';
import {
  cohort, cohortItem, dayFromToday, intakeItem, lambdaContext, metaItem, referral, REFERRAL_ID, setTestEnv, TEST_ENV, validIntake,
} from '../support/fixtures';
import type { CohortRecord, ReferralRecord } from '../../../../functions/lib/adapters/ports';
import type { Intake } from '../../../../functions/lib/schemas/intake';
import type { handler as Handler } from '../../../../functions/finish-referral/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/finish-referral/handler'));
});

const stored = (r: ReferralRecord, intake: Intake = validIntake(), c?: CohortRecord) => {
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'META' } }).resolves({ Item: metaItem(r) });
  m.ddb.on(GetCommand, { Key: { pk: `REFERRAL#${r.referralId}`, sk: 'INTAKE' } }).resolves({ Item: intakeItem(r.referralId, intake) });
  if (c) m.ddb.on(GetCommand, { Key: { pk: `COHORT#${c.cohortId}`, sk: 'META' } }).resolves({ Item: cohortItem(c) });
};

/** RFC 5545 unfolding: a long content line continues after CRLF + space */
const unfold = (ics: string) => ics.replace(/\r\n[ \t]/g, '');

const enrolled = (c: CohortRecord) => referral({ status: 'ENROLLED', cohortId: c.cohortId, version: 14 });

beforeEach(() => {
  answerDefaults(m);
});

afterEach(() => {
  resetMocks(m);
});

describe('finish-referral task: ENROLLED', () => {
  test('emails the patient a multipart text + HTML schedule with a text/calendar; method=REQUEST part', async () => {
    // Prepare
    const c = cohort({ startDate: dayFromToday(7) });
    stored(enrolled(c), validIntake(), c);

    // Act
    const out = await handler({ referralId: REFERRAL_ID, outcome: 'ENROLLED' }, lambdaContext);

    // Assess
    expect(out).toEqual({ status: 'ENROLLED' });
    const [toPatient] = await sentEmails(m);
    expect(toPatient!.to).toEqual(['jordan.quintana@example.com']);
    expect(toPatient!.parsed.subject).toBe('Your group schedule (IOP-7KQ4-M3TD)');
    expect(toPatient!.parsed.text).toContain('Morning A');
    expect(toPatient!.parsed.html).toContain('<p>');
    expect(toPatient!.mime).toMatch(/Content-Type: multipart\/alternative/);
    expect(toPatient!.mime).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/);
    const calendar = toPatient!.parsed.attachments.find((a) => a.contentType === 'text/calendar');
    const ics = calendar!.content.toString('utf8');
    expect(ics).toContain('METHOD:REQUEST');
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(3);
    expect(ics).toContain(`DTSTART;TZID=America/New_York:${c.startDate.replace(/-/g, '')}T`);
    expect(ics).toContain('RRULE:FREQ=WEEKLY;COUNT=8;BYDAY=');
  });

  test('the consenting physician gets the enrolment notice with the start date, recorded as a DISCLOSURE', async () => {
    // Prepare
    const c = cohort();
    stored(enrolled(c), validIntake(), c);

    // Act
    await handler({ referralId: REFERRAL_ID, outcome: 'ENROLLED' }, lambdaContext);

    // Assess
    const [, toDoctor] = await sentEmails(m);
    expect(toDoctor!.to).toEqual(['alopez@clinic.example.com']);
    expect(toDoctor!.parsed.text).toContain('The patient is enrolled');
    expect(toDoctor!.parsed.text).toContain('42 CFR part 2');
    expect(noticeEvents(m).filter((e) => e.type === 'DISCLOSURE')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ notice: 'enrolled', disclosed: 'referral status only' }) }),
    ]);
  });

  // was a bug (fixed): the physician's invite lists every attendee, so the patient's own email address (PHI, not
  // status) is disclosed to the referrer; DESIGN §6 asks for status only (minimum necessary)
  test('the physician email holds no patient contact data (not even in the calendar attendees)', async () => {
    // Prepare
    const c = cohort();
    stored(enrolled(c), validIntake(), c);

    // Act
    await handler({ referralId: REFERRAL_ID, outcome: 'ENROLLED' }, lambdaContext);

    // Assess
    const [, toDoctor] = await sentEmails(m);
    expect(toDoctor!.to).toEqual(['alopez@clinic.example.com']);
    const parts = [toDoctor!.parsed.text, toDoctor!.parsed.html, ...toDoctor!.parsed.attachments.map((a) => unfold(a.content.toString('utf8')))];
    expect(parts.join('\n')).not.toContain('jordan.quintana@example.com');
  });

  // was a bug (fixed): the schedule names the cohort's first session even when the cohort started before the
  // enrolment (nothing stops enrolling into a running cohort), so the person is told to come on a past date
  test('the schedule email never names a first session that is already past', async () => {
    // Prepare
    const c = cohort({ startDate: dayFromToday(-15) });
    stored(enrolled(c), validIntake(), c);

    // Act
    await handler({ referralId: REFERRAL_ID, outcome: 'ENROLLED' }, lambdaContext);

    // Assess
    const [toPatient] = await sentEmails(m);
    const first = /The first session is on (\d{4}-\d{2}-\d{2})/.exec(toPatient!.parsed.text ?? '')?.[1];
    expect(first! >= dayFromToday(0)).toBe(true);
  });

  test('a referral that is not in the expected status is a conflict and nothing is sent', async () => {
    // Prepare
    stored(referral({ status: 'ENROLLMENT' }));

    // Act
    const run = handler({ referralId: REFERRAL_ID, outcome: 'ENROLLED' }, lambdaContext);

    // Assess
    await expect(run).rejects.toMatchObject({ code: 'UnexpectedStatus' });
    expect(await sentEmails(m)).toEqual([]);
  });
});

describe('finish-referral task: closed outcomes', () => {
  test('NOT_COVERED tells the patient (neutral subject) and the consenting physician', async () => {
    // Prepare
    stored(referral({ status: 'NOT_COVERED' }));

    // Act
    await handler({ referralId: REFERRAL_ID, outcome: 'NOT_COVERED' }, lambdaContext);

    // Assess
    const mails = await sentEmails(m);
    expect(mails.map((x) => [x.to[0], x.parsed.subject])).toEqual([
      ['jordan.quintana@example.com', 'An update on your request (IOP-7KQ4-M3TD)'],
      ['alopez@clinic.example.com', 'Referral update (IOP-7KQ4-M3TD)'],
    ]);
    expect(mails[1]!.parsed.text).toContain('coverage could not be confirmed');
  });

  test('a patient without an email and no consent to share gets no email at all', async () => {
    // Prepare
    const base = validIntake();
    const intake: Intake = { ...base, patient: { ...base.patient, email: undefined }, consent: { ...base.consent, shareWithReferrer: false } };
    stored(referral({ status: 'EXPIRED' }), intake);

    // Act
    const out = await handler({ referralId: REFERRAL_ID, outcome: 'EXPIRED' }, lambdaContext);

    // Assess
    expect(out).toEqual({ status: 'EXPIRED' });
    expect(await sentEmails(m)).toEqual([]);
  });

  test('every email is sent from MAIL_FROM', async () => {
    // Prepare
    stored(referral({ status: 'REFERRED_OUT' }));

    // Act
    await handler({ referralId: REFERRAL_ID, outcome: 'REFERRED_OUT' }, lambdaContext);

    // Assess
    const mails = await sentEmails(m);
    expect(mails.map((x) => x.parsed.from?.text)).toEqual([TEST_ENV.MAIL_FROM, TEST_ENV.MAIL_FROM]);
  });
});
