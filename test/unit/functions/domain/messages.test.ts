import { describe, expect, test } from '@jest/globals';
import {
  clockTime,
  consoleLinkTo,
  displayName,
  escapeHtml,
  failureAlert,
  inviteDescription,
  longDate,
  noticeFailedAlert,
  PART2_NOTICE,
  patientEmail,
  physicianEmail,
  slaAlert,
  urgentAlert,
  waitlistReviewAlert,
  weeklyText,
  type Lang,
  type PatientContext,
  type PatientNotice,
  type PhysicianNotice,
  type ScheduleInfo,
} from '../../../../functions/lib/domain/messages';
import type { Status } from '../../../../functions/lib/schemas/views';

const program = { name: 'Harbor Program', phone: '(555) 010-0100' };

/** words a subject must never carry (English and Spanish): the subject is visible on a lock screen */
const REVEALING =
  /substance|sustancia|addict|adicci|alcohol|opioid|opiáceo|drug|droga|detox|desintox|rehab|treatment|tratamiento|recovery|recuperaci|overdose|sobredosis|suicid|crisis|988/i;

/** a morning cohort joined from its start: Mon/Wed/Fri 9–12, Dec 7 2026 to Jan 29 2027, closed on Dec 25 and Jan 1 */
const schedule = (over: Partial<ScheduleInfo> = {}): ScheduleInfo => ({
  group: 'Morning A',
  timeZone: 'America/New_York',
  first: { date: '2026-12-07', start: '09:00' },
  lastDate: '2027-01-29',
  remaining: 22,
  late: false,
  weekly: [
    { weekday: 'MO', start: '09:00', minutes: 180 },
    { weekday: 'WE', start: '09:00', minutes: 180 },
    { weekday: 'FR', start: '09:00', minutes: 180 },
  ],
  location: { kind: 'in-person', address: '12 Harbor St, Suite 3, Boston, MA 02110' },
  closures: ['2026-12-25', '2027-01-01'],
  whatToBring: 'A photo ID.',
  ...over,
});

const patient = (over: Partial<PatientContext> = {}): PatientContext => ({
  lang: 'en',
  firstName: 'Jordan',
  reference: 'IOP-7KQ4-M3TD',
  urgent: false,
  program,
  status: 'WITHDRAWN',
  schedule: schedule(),
  nextSession: { date: '2026-12-09', start: '18:00' },
  ...over,
});

const PATIENT_CASES: Array<[PatientNotice, Lang, Status | undefined]> = (['en', 'es'] as const).flatMap((lang) => [
  ['received', lang, undefined],
  ['schedule', lang, 'ENROLLED'],
  ['waitlisted', lang, 'WAITLISTED'],
  ['missed', lang, 'ENROLLED'],
  ...(['NOT_COVERED', 'REFERRED_OUT', 'WITHDRAWN', 'EXPIRED', 'NO_SHOW'] as const).map(
    (s) => ['closed', lang, s] as [PatientNotice, Lang, Status],
  ),
]);

describe('patientEmail', () => {
  test.each(PATIENT_CASES)('the %s notice in %s (%s) has a neutral subject, urgent or not', (kind, lang, status) => {
    for (const urgent of [false, true]) {
      // Act
      const e = patientEmail(kind, patient({ lang, status, urgent }));

      // Assess
      expect(e.subject).toContain('IOP-7KQ4-M3TD');
      expect(e.subject).not.toMatch(REVEALING);
    }
  });

  test('Spanish notices are written in Spanish', () => {
    const e = patientEmail('received', patient({ lang: 'es' }));
    expect(e.subject).toBe('Recibimos su solicitud (IOP-7KQ4-M3TD)');
    expect(e.text).toMatch(/^Hola Jordan:/);
  });

  test('the HTML part names its language', () => {
    expect(patientEmail('schedule', patient({ lang: 'es' })).html).toMatch(
      /^<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Su horario de grupo \(IOP-7KQ4-M3TD\)<\/title>/,
    );
    expect(patientEmail('schedule', patient()).html).toMatch(/^<!doctype html><html lang="en">/);
    expect(urgentAlert('IOP-7KQ4-M3TD').html).toMatch(/^<!doctype html><html lang="en">/);
  });

  test.each(['en', 'es'] as const)('an urgent patient email in %s tells the person to call or text 988, in text and HTML', (lang) => {
    // Act
    const e = patientEmail('received', patient({ lang, urgent: true }));

    // Assess
    expect(e.text).toContain('988');
    expect(e.html).toContain('988');
  });

  test('a non-urgent received email does not carry crisis lines', () => {
    expect(patientEmail('received', patient()).text).not.toContain('988');
  });

  test('a name holding markup is inert in the HTML part and kept as written in the text part', () => {
    // Prepare
    const hostile = '<img src=x onerror=alert(1)>';

    // Act
    const e = patientEmail('received', patient({ firstName: hostile }));

    // Assess
    expect(e.html).not.toContain('<img');
    expect(e.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(e.text).toContain(hostile);
  });

  test('a group name holding markup is escaped in the schedule HTML', () => {
    const e = patientEmail('schedule', patient({ schedule: schedule({ group: '"><script>alert(1)</script>' }) }));
    expect(e.html).not.toMatch(/<script/i);
    expect(e.html).toContain('&quot;&gt;&lt;script&gt;');
  });

  test('the closed notice tells the reason of its status', () => {
    expect(patientEmail('closed', patient({ status: 'NOT_COVERED' })).text).toContain('could not confirm coverage');
    expect(patientEmail('closed', patient({ status: 'EXPIRED', lang: 'es' })).text).toContain('desintoxicación');
  });
});

describe('the waitlist, a missed first session and a no-show, for the person', () => {
  test('waitlisted: the groups that fit are full, we will call when a place opens, in English and in Spanish', () => {
    expect(patientEmail('waitlisted', patient({ status: 'WAITLISTED' })).text).toContain(
      'you are on our waitlist. We will contact you as soon as a place opens',
    );
    const es = patientEmail('waitlisted', patient({ lang: 'es', status: 'WAITLISTED' }));
    expect(es.subject).toBe('Está en nuestra lista de espera (IOP-7KQ4-M3TD)');
    expect(es.text).toContain('está en nuestra lista de espera');
  });

  test.each([
    ['en', 'Your next group session (IOP-7KQ4-M3TD)', 'the next session is on Wednesday, December 9, 6:00 PM.'],
    ['es', 'Su próxima sesión de grupo (IOP-7KQ4-M3TD)', 'la próxima sesión es el miércoles 9 de diciembre, 18:00.'],
  ] as const)('missed (%s): the place is kept and the next session is written in words', (lang, subject, when) => {
    const e = patientEmail('missed', patient({ lang, status: 'ENROLLED' }));
    expect(e.subject).toBe(subject);
    expect(e.text).toContain(when);
    expect(e.text).toContain(program.phone);
  });

  test('a no-show is told the place was given to someone else, and that they may reach out again', () => {
    expect(patientEmail('closed', patient({ status: 'NO_SHOW' })).text).toContain('we have given your place in the group to someone else');
    expect(patientEmail('closed', patient({ lang: 'es', status: 'NO_SHOW' })).text).toContain(
      'le dimos su lugar en el grupo a otra persona',
    );
  });
});

describe('the schedule email, written for people', () => {
  test('in English: the first session, the weekly hours and the last date in words, the address, the closures, what to bring, the phone', () => {
    // Act
    const { text } = patientEmail('schedule', patient());

    // Assess
    expect(text).toContain('Your first session is on Monday, December 7, 9:00 AM.');
    expect(text).toContain('The group meets for 22 sessions, until Friday, January 29.');
    expect(text).toContain('Every week: Mondays, Wednesdays, and Fridays, 9:00 AM to 12:00 PM (Eastern Time).');
    expect(text).toContain('Where: 12 Harbor St, Suite 3, Boston, MA 02110.');
    expect(text).toContain('There is no session on Friday, December 25 and Friday, January 1: the program is closed.');
    expect(text).toContain('What to bring: A photo ID.');
    expect(text).toContain('(555) 010-0100');
    expect(text).not.toMatch(/\b(MO|WE|FR)\b|2026-12-07|America\/New_York|min\)/);
  });

  test('in Spanish: weekdays, months and times in Spanish, no English codes', () => {
    // Act
    const { text, subject } = patientEmail('schedule', patient({ lang: 'es' }));

    // Assess
    expect(subject).toBe('Su horario de grupo (IOP-7KQ4-M3TD)');
    expect(text).toContain('Su primera sesión es el lunes 7 de diciembre, 9:00.');
    expect(text).toContain('hasta el viernes 29 de enero.');
    expect(text).toContain('Cada semana: lunes, miércoles y viernes, de 9:00 a 12:00');
    expect(text).toContain('Dónde: 12 Harbor St, Suite 3, Boston, MA 02110.');
    expect(text).toContain('No hay sesión el viernes 25 de diciembre y viernes 1 de enero: el programa está cerrado.');
    expect(text).not.toMatch(/\b(MO|WE|FR|AM|PM)\b|Monday|December|Where|Weekly/);
  });

  test('a late start says how many sessions remain', () => {
    expect(patientEmail('schedule', patient({ schedule: schedule({ late: true, remaining: 7 }) })).text).toContain(
      'The group has already started: you join it for its last 7 sessions, until Friday, January 29.',
    );
    expect(patientEmail('schedule', patient({ lang: 'es', schedule: schedule({ late: true, remaining: 7 }) })).text).toContain(
      'El grupo ya comenzó: usted se une para sus últimas 7 sesiones',
    );
  });

  test('a telehealth group gives its link, as a link in the HTML part', () => {
    // Act
    const e = patientEmail(
      'schedule',
      patient({ schedule: schedule({ location: { kind: 'telehealth', url: 'https://meet.example.org/iop-a?pwd=1&x=2' } }) }),
    );

    // Assess
    expect(e.text).toContain('Join by video at this link: https://meet.example.org/iop-a?pwd=1&x=2');
    expect(e.html).toContain('<a href="https://meet.example.org/iop-a?pwd=1&amp;x=2">');
  });

  test('a cohort made before locations existed asks the person to call for the place', () => {
    expect(patientEmail('schedule', patient({ schedule: schedule({ location: undefined }) })).text).toContain(
      'Call us at (555) 010-0100 and we will tell you where the group meets.',
    );
  });

  test('sessions of different hours are grouped by their hours', () => {
    const weekly = [
      { weekday: 'TU' as const, start: '18:00', minutes: 180 },
      { weekday: 'SA' as const, start: '10:30', minutes: 120 },
      { weekday: 'TH' as const, start: '18:00', minutes: 180 },
    ];
    expect(weeklyText(weekly, 'en')).toBe('Tuesdays and Thursdays, 6:00 PM to 9:00 PM; Saturdays, 10:30 AM to 12:30 PM');
    expect(weeklyText(weekly, 'es')).toBe('martes y jueves, de 18:00 a 21:00; sábados, de 10:30 a 12:30');
  });

  test.each([
    ['2026-12-07', 'en', 'Monday, December 7'],
    ['2026-12-07', 'es', 'lunes 7 de diciembre'],
    ['2027-01-01', 'es', 'viernes 1 de enero'],
  ] as const)('longDate(%s, %s) is "%s", whatever the server zone', (ymd, lang, words) => {
    expect(longDate(ymd, lang)).toBe(words);
  });

  test.each([
    ['09:00', 'en', '9:00 AM'],
    ['18:30', 'en', '6:30 PM'],
    ['09:00', 'es', '9:00'],
    ['18:30', 'es', '18:30'],
  ] as const)('clockTime(%s, %s) is %s', (hhmm, lang, words) => {
    expect(clockTime(hhmm, lang)).toBe(words);
  });

  test('the invitation description holds the place, the phone and what to bring, and not the program name', () => {
    // Act
    const d = inviteDescription(schedule({ location: { kind: 'telehealth', url: 'https://meet.example.org/a' } }), 'en', program);

    // Assess
    expect(d).toBe(
      'Join by video at this link: https://meet.example.org/a\nQuestions, or cannot come? Call (555) 010-0100.\nWhat to bring: A photo ID.',
    );
    expect(d).not.toContain(program.name);
  });
});

describe('physicianEmail', () => {
  const doc = {
    physicianName: 'Dr. Ana Lopez',
    patientDisplayName: 'Jordan Q.',
    reference: 'IOP-7KQ4-M3TD',
    program,
    startDate: '2026-12-07',
  };
  const cases: Array<[PhysicianNotice, Status]> = [
    ['received', 'RECEIVED'],
    ['accepted', 'ENROLLMENT'],
    ['enrolled', 'ENROLLED'],
    ['closed', 'NOT_COVERED'],
    ['closed', 'REFERRED_OUT'],
    ['closed', 'WITHDRAWN'],
    ['closed', 'EXPIRED'],
    ['waitlisted', 'WAITLISTED'],
    ['started', 'STARTED'],
    ['closed', 'NO_SHOW'],
  ];

  test('the first session: started treatment, or a no-show that closed the referral; the waitlist', () => {
    expect(physicianEmail('started', { ...doc, status: 'STARTED' }).text).toContain(
      'The patient attended the first session and has started treatment in the program.',
    );
    expect(physicianEmail('closed', { ...doc, status: 'NO_SHOW' }).text).toContain(
      'The referral was closed: the patient did not attend the first session.',
    );
    expect(physicianEmail('waitlisted', { ...doc, status: 'WAITLISTED' }).text).toContain('the patient is on its waitlist');
  });

  test('the enrolment notice gives the start date in words and no session time, place or invitation', () => {
    // Act
    const e = physicianEmail('enrolled', { ...doc, status: 'ENROLLED' });

    // Assess
    expect(e.text).toContain('starts on Monday, December 7, 2026.');
    expect(e.text).not.toMatch(/\d:\d\d|AM|PM|Harbor St|https?:|Where/);
  });

  test.each(cases)('the %s notice (%s) carries the 42 CFR part 2 notice in text and HTML', (kind, status) => {
    const e = physicianEmail(kind, { ...doc, status });
    expect(e.text).toContain(PART2_NOTICE);
    expect(e.html).toContain(escapeHtml(PART2_NOTICE));
    expect(e.text).toContain('42 CFR part 2');
  });

  test.each(cases)('the %s notice (%s) holds status only: no substances, screening, detox or date of birth', (kind, status) => {
    // Act
    const e = physicianEmail(kind, { ...doc, status });
    const body = `${e.subject}\n${e.text.replace(PART2_NOTICE, '')}`;

    // Assess
    expect(body).not.toMatch(/alcohol|opioid|benzodiazepine|stimulant|cannabis|detox|withdrawal|suicid|self-harm|988|screen|1988|birth/i);
    expect(e.subject).not.toMatch(REVEALING);
    expect(e.text).toContain('Jordan Q.');
  });

  test('escapes the physician name in the HTML part', () => {
    const e = physicianEmail('received', { ...doc, physicianName: '<b onmouseover=alert(1)>Lopez</b>' });
    expect(e.html).not.toContain('<b onmouseover');
  });
});

describe('program alerts', () => {
  test.each([
    ['urgent', urgentAlert('IOP-7KQ4-M3TD')],
    ['sla', slaAlert('IOP-7KQ4-M3TD', 'evaluation', 49.5, 1)],
    ['failure', failureAlert('IOP-7KQ4-M3TD', 'Lambda.Unknown')],
    ['waitlist-review', waitlistReviewAlert('IOP-7KQ4-M3TD', 14, 2)],
  ])('the %s alert names the reference and nothing that identifies the person', (_kind, e) => {
    expect(e.subject).toContain('IOP-7KQ4-M3TD');
    expect(e.subject).not.toMatch(REVEALING);
  });

  const LINK = 'https://iop.example.org/console/#/referral/6f1c2f7e-3a5b-4c1d-9e8f-0a1b2c3d4e5f';

  test.each([
    ['urgent', urgentAlert('IOP-7KQ4-M3TD', LINK)],
    ['sla', slaAlert('IOP-7KQ4-M3TD', 'evaluation', 49.5, 1, LINK)],
    ['failure', failureAlert('IOP-7KQ4-M3TD', 'Lambda.Unknown', LINK)],
    ['notice-failed', noticeFailedAlert('IOP-7KQ4-M3TD', 'patient', 'received', 'MessageRejected', LINK)],
    ['waitlist-review', waitlistReviewAlert('IOP-7KQ4-M3TD', 14, 0, LINK)],
  ])('the %s alert links to the referral in the console (text and HTML)', (_kind, e) => {
    expect(e.text).toContain(`Open the referral in the staff console: ${LINK}`);
    expect(e.html).toContain(`<a href="${LINK}">`);
  });

  test('without a console address the alert names the reference to search for', () => {
    expect(urgentAlert('IOP-7KQ4-M3TD').text).toContain('Open the staff console and search for IOP-7KQ4-M3TD.');
  });

  test('consoleLinkTo puts the id (only) after the console address, with or without its final slash', () => {
    expect(consoleLinkTo('https://iop.example.org/console/', 'abc-1')).toBe('https://iop.example.org/console/#/referral/abc-1');
    expect(consoleLinkTo('https://iop.example.org/console', 'abc-1')).toBe('https://iop.example.org/console/#/referral/abc-1');
    expect(consoleLinkTo(undefined, 'abc-1')).toBeUndefined();
  });

  test('the waitlist review says how long the referral has waited and whether a seat is free in its track now', () => {
    expect(waitlistReviewAlert('IOP-7KQ4-M3TD', 14, 2).text).toContain(
      'on the waitlist for 14 days.\n\n2 seats are free now in a cohort of its track',
    );
    expect(waitlistReviewAlert('IOP-7KQ4-M3TD', 7, 0).text).toContain('No seat is free in its track yet.');
  });

  test('the second SLA breach says the referral needs attention, the first that the step was reopened', () => {
    expect(slaAlert('IOP-7KQ4-M3TD', 'evaluation', 96, 2).text).toContain('NEEDS_ATTENTION');
    expect(slaAlert('IOP-7KQ4-M3TD', 'evaluation', 48, 1).text).toContain('reopened');
  });
});

describe('escapeHtml', () => {
  test('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  test('leaves plain text and non-ASCII untouched', () => {
    expect(escapeHtml('José Peña — 5 pm')).toBe('José Peña — 5 pm');
  });
});

describe('displayName', () => {
  test('is the first name and the last initial', () => {
    expect(displayName('Jordan', 'quintana')).toBe('Jordan Q.');
  });
});
