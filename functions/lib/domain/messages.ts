import { CRISIS_RESOURCES } from '../schemas/intake';
import type { Status } from '../schemas/views';

// every email the program sends: neutral subjects (never naming substance-use treatment), patient
// emails in their language, physician emails status-only with the 42 CFR §2.32 notice, program
// emails without PHI. All interpolated text is HTML-escaped.

export const PART2_NOTICE =
  'This information has been disclosed to you from records protected by federal confidentiality rules (42 CFR part 2). ' +
  'The federal rules prohibit you from using or disclosing this information, or testimony that describes it, in any civil, ' +
  'criminal, administrative, or legislative proceedings against the patient, unless authorized by the consent of the patient, ' +
  'except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or 2.65. In addition, the ' +
  'federal rules prohibit you from making any further disclosure of this information unless further disclosure is expressly ' +
  'permitted by the written consent of the person to whom it pertains or is otherwise permitted by 42 CFR part 2. A general ' +
  'authorization for the release of medical or other information is NOT sufficient for this purpose (see 42 CFR 2.31). The ' +
  'federal rules restrict any use of the information to investigate or prosecute with regard to a crime any patient with a ' +
  'substance use disorder, except as provided at 42 CFR 2.12(c)(5) and 2.65.';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface Email {
  subject: string;
  text: string;
  html: string;
}

export type Lang = 'en' | 'es';

export interface Program {
  name: string;
  phone: string;
}

/** paragraphs → text and escaped HTML bodies */
const email = (subject: string, paragraphs: string[], footer?: string): Email => ({
  subject,
  text: [...paragraphs, ...(footer ? ['--', footer] : [])].join('\n\n') + '\n',
  html:
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">' +
    paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
    (footer ? `<hr><p style="font-size:12px;color:#444">${escapeHtml(footer)}</p>` : '') +
    '</body></html>',
});

// ---- patient -------------------------------------------------------------------------------

export type PatientNotice = 'received' | 'schedule' | 'closed';

const T = {
  en: {
    hello: (n: string) => `Hello ${n},`,
    receivedSubject: (ref: string) => `We received your request (${ref})`,
    received: (ref: string, p: Program) =>
      `Thank you for reaching out to ${p.name}. Your reference number is ${ref}. Next we check your insurance, then a case worker will contact you to talk about what you need. You can call us at ${p.phone} any time and give your reference number.`,
    crisis: `If you are thinking about harming yourself, call or text ${CRISIS_RESOURCES.call} (Suicide & Crisis Lifeline) now, any time, day or night. In an emergency call ${CRISIS_RESOURCES.emergency}.`,
    scheduleSubject: (ref: string) => `Your group schedule (${ref})`,
    schedule: (group: string, start: string, sessions: string) =>
      `Your place in the group "${group}" is reserved. The first session is on ${start}. Weekly sessions: ${sessions}. The attached calendar invitation adds every session to your calendar.`,
    closedSubject: (ref: string) => `An update on your request (${ref})`,
    closed: {
      NOT_COVERED: 'We could not confirm coverage for this program. A case worker can talk with you about other ways to pay and other programs.',
      REFERRED_OUT: 'After your evaluation, another level of care fits your needs better. A case worker will help you connect with it.',
      WITHDRAWN: 'Your request has been closed. You are welcome to reach out again at any time.',
      EXPIRED: 'Your request has been closed because we could not confirm that detox was completed in time. You are welcome to reach out again at any time.',
    } as Partial<Record<Status, string>>,
    callUs: (p: Program) => `Questions? Call ${p.name} at ${p.phone}.`,
  },
  es: {
    hello: (n: string) => `Hola ${n}:`,
    receivedSubject: (ref: string) => `Recibimos su solicitud (${ref})`,
    received: (ref: string, p: Program) =>
      `Gracias por comunicarse con ${p.name}. Su número de referencia es ${ref}. Primero revisamos su seguro y después un trabajador social se comunicará con usted para hablar de lo que necesita. Puede llamarnos al ${p.phone} en cualquier momento y dar su número de referencia.`,
    crisis: `Si está pensando en hacerse daño, llame o envíe un mensaje de texto al ${CRISIS_RESOURCES.call} (Línea de Prevención del Suicidio y Crisis) ahora, a cualquier hora. En una emergencia llame al ${CRISIS_RESOURCES.emergency}.`,
    scheduleSubject: (ref: string) => `Su horario de grupo (${ref})`,
    schedule: (group: string, start: string, sessions: string) =>
      `Su lugar en el grupo "${group}" está reservado. La primera sesión es el ${start}. Sesiones semanales: ${sessions}. La invitación de calendario adjunta agrega todas las sesiones a su calendario.`,
    closedSubject: (ref: string) => `Novedades sobre su solicitud (${ref})`,
    closed: {
      NOT_COVERED: 'No pudimos confirmar la cobertura para este programa. Un trabajador social puede hablar con usted sobre otras formas de pago y otros programas.',
      REFERRED_OUT: 'Después de su evaluación, otro nivel de atención se ajusta mejor a sus necesidades. Un trabajador social le ayudará a conectarse con él.',
      WITHDRAWN: 'Su solicitud se ha cerrado. Puede comunicarse de nuevo cuando quiera.',
      EXPIRED: 'Su solicitud se ha cerrado porque no pudimos confirmar a tiempo que la desintoxicación terminó. Puede comunicarse de nuevo cuando quiera.',
    } as Partial<Record<Status, string>>,
    callUs: (p: Program) => `¿Preguntas? Llame a ${p.name} al ${p.phone}.`,
  },
} as const;

export interface PatientContext {
  lang: Lang;
  firstName: string;
  reference: string;
  urgent: boolean;
  program: Program;
  status?: Status;
  schedule?: { group: string; start: string; sessions: string };
}

export const patientEmail = (kind: PatientNotice, c: PatientContext): Email => {
  const t = T[c.lang];
  const crisis = c.urgent ? [t.crisis] : [];
  switch (kind) {
    case 'received':
      return email(t.receivedSubject(c.reference), [t.hello(c.firstName), ...crisis, t.received(c.reference, c.program)], t.callUs(c.program));
    case 'schedule': {
      const s = c.schedule!;
      return email(t.scheduleSubject(c.reference), [t.hello(c.firstName), t.schedule(s.group, s.start, s.sessions), ...crisis], t.callUs(c.program));
    }
    case 'closed':
      return email(t.closedSubject(c.reference), [t.hello(c.firstName), t.closed[c.status!] ?? t.closed.WITHDRAWN!, ...crisis], t.callUs(c.program));
  }
};

// ---- referring physician (status only, consented, 42 CFR §2.32 notice) --------------------

export type PhysicianNotice = 'received' | 'accepted' | 'enrolled' | 'closed';

const PHYSICIAN_STATUS: Record<PhysicianNotice, (c: PhysicianContext) => string> = {
  received: () => 'The program has received the referral and started its intake process.',
  accepted: () => 'The program has accepted the referral after evaluation.',
  // status and at most the start date: no session times, no invitation (minimum necessary)
  enrolled: (c) => (c.startDate ? `The patient is enrolled in the program and starts on ${c.startDate}.` : 'The patient is enrolled in the program.'),
  closed: (c) =>
    ({
      NOT_COVERED: 'The referral was closed: coverage could not be confirmed.',
      REFERRED_OUT: 'The referral was closed: the patient was referred to another level of care.',
      WITHDRAWN: 'The referral was closed (withdrawn).',
      EXPIRED: 'The referral was closed: it expired while waiting.',
    })[c.status as 'NOT_COVERED'] ?? 'The referral was closed.',
};

export interface PhysicianContext {
  physicianName: string;
  /** first name and last initial: enough to recognise the patient, minimum necessary */
  patientDisplayName: string;
  reference: string;
  program: Program;
  status?: Status;
  startDate?: string;
}

export const physicianEmail = (kind: PhysicianNotice, c: PhysicianContext): Email =>
  email(
    `Referral update (${c.reference})`,
    [
      `Dear ${c.physicianName},`,
      `Referral ${c.reference} (${c.patientDisplayName}), sent with the patient's written consent to share its status with you.`,
      PHYSICIAN_STATUS[kind](c),
      `Questions: ${c.program.name}, ${c.program.phone}.`,
    ],
    PART2_NOTICE,
  );

// ---- program team (no PHI: reference, step, codes, age) ------------------------------------

export const urgentAlert = (reference: string, consoleHint: string): Email =>
  email(`Urgent referral ${reference}`, [
    `Referral ${reference} screened positive on the crisis screen at intake and is marked urgent.`,
    `Crisis resources (988) were shown to the person. Please reach out today. ${consoleHint}`,
  ]);

export const slaAlert = (reference: string, step: string, ageHours: number, breaches: number): Email =>
  email(`Overdue step: ${reference}`, [
    `The ${step} step of referral ${reference} has waited ${ageHours} hours, past its time limit (breach ${breaches}).`,
    breaches >= 2 ? 'The referral is now marked NEEDS_ATTENTION.' : 'The step has been reopened; please decide it soon.',
  ]);

export const failureAlert = (reference: string, errorCode: string): Email =>
  email(`Referral needs attention: ${reference}`, [
    `An automatic step for referral ${reference} kept failing (${errorCode}) and the referral is marked NEEDS_ATTENTION.`,
    'Open it in the staff console: once the cause is fixed, Resume restarts it at the step that failed.',
  ]);

/** an email to a person could not be delivered however often it was tried: someone should call instead */
export const noticeFailedAlert = (reference: string, audience: string, milestone: string, errorCode: string): Email =>
  email(`Email not delivered: ${reference}`, [
    `The ${milestone} email to the ${audience} of referral ${reference} could not be delivered (${errorCode}) and will not be retried.`,
    'Please reach them another way (phone) and record the contact in the referral.',
  ]);

/** "Jane D." */
export const displayName = (firstName: string, lastName: string): string => `${firstName} ${lastName.slice(0, 1).toUpperCase()}.`;
