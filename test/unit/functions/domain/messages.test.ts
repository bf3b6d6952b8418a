import { describe, expect, test } from '@jest/globals';
import {
  displayName, escapeHtml, failureAlert, PART2_NOTICE, patientEmail, physicianEmail, slaAlert, urgentAlert,
  type Lang, type PatientContext, type PatientNotice, type PhysicianNotice,
} from '../../../../functions/lib/domain/messages';
import type { Status } from '../../../../functions/lib/schemas/views';

const program = { name: 'Harbor Program', phone: '(555) 010-0100' };

/** words a subject must never carry (English and Spanish): the subject is visible on a lock screen */
const REVEALING = /substance|sustancia|addict|adicci|alcohol|opioid|opiáceo|drug|droga|detox|desintox|rehab|treatment|tratamiento|recovery|recuperaci|overdose|sobredosis|suicid|crisis|988/i;

const patient = (over: Partial<PatientContext> = {}): PatientContext => ({
  lang: 'en', firstName: 'Jordan', reference: 'IOP-7KQ4-M3TD', urgent: false, program, status: 'WITHDRAWN',
  schedule: { group: 'Morning A', start: '2026-12-07 09:00 (America/New_York)', sessions: 'MO 09:00 (180 min)' },
  ...over,
});

const PATIENT_CASES: Array<[PatientNotice, Lang, Status | undefined]> = (['en', 'es'] as const).flatMap((lang) => [
  ['received', lang, undefined],
  ['schedule', lang, 'ENROLLED'],
  ...(['NOT_COVERED', 'REFERRED_OUT', 'WITHDRAWN', 'EXPIRED'] as const).map((s) => ['closed', lang, s] as [PatientNotice, Lang, Status]),
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
    const e = patientEmail('schedule', patient({ schedule: { group: '"><script>alert(1)</script>', start: 'x', sessions: 'y' } }));
    expect(e.html).not.toMatch(/<script/i);
    expect(e.html).toContain('&quot;&gt;&lt;script&gt;');
  });

  test('the closed notice tells the reason of its status', () => {
    expect(patientEmail('closed', patient({ status: 'NOT_COVERED' })).text).toContain('could not confirm coverage');
    expect(patientEmail('closed', patient({ status: 'EXPIRED', lang: 'es' })).text).toContain('desintoxicación');
  });
});

describe('physicianEmail', () => {
  const doc = { physicianName: 'Dr. Ana Lopez', patientDisplayName: 'Jordan Q.', reference: 'IOP-7KQ4-M3TD', program, startDate: '2026-12-07' };
  const cases: Array<[PhysicianNotice, Status]> = [
    ['received', 'RECEIVED'], ['accepted', 'ENROLLMENT'], ['enrolled', 'ENROLLED'],
    ['closed', 'NOT_COVERED'], ['closed', 'REFERRED_OUT'], ['closed', 'WITHDRAWN'], ['closed', 'EXPIRED'],
  ];

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
    ['urgent', urgentAlert('IOP-7KQ4-M3TD', 'Open the console.')],
    ['sla', slaAlert('IOP-7KQ4-M3TD', 'evaluation', 49.5, 1)],
    ['failure', failureAlert('IOP-7KQ4-M3TD', 'Lambda.Unknown')],
  ])('the %s alert names the reference and nothing that identifies the person', (_kind, e) => {
    expect(e.subject).toContain('IOP-7KQ4-M3TD');
    expect(e.subject).not.toMatch(REVEALING);
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
