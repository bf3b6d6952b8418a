import { type CohortLocation, WEEKDAYS } from '../schemas/cohort';
import { CRISIS_RESOURCES } from '../schemas/intake';
import type { Status } from '../schemas/views';
import { BREACHES_BEFORE_ATTENTION } from './workflow';

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

/** a paragraph: text, or text followed by a link (an http(s) URL the program configured, never patient text) */
type Paragraph = string | { text: string; link: string };

const paraText = (p: Paragraph): string => (typeof p === 'string' ? p : `${p.text} ${p.link}`);
const paraHtml = (p: Paragraph): string =>
  typeof p === 'string'
    ? `<p>${escapeHtml(p)}</p>`
    : `<p>${escapeHtml(p.text)} <a href="${escapeHtml(p.link)}">${escapeHtml(p.link)}</a></p>`;

/** paragraphs → text and escaped HTML bodies */
const email = (subject: string, paragraphs: Paragraph[], footer?: string): Email => ({
  subject,
  text: `${[...paragraphs.map(paraText), ...(footer ? ['--', footer] : [])].join('\n\n')}\n`,
  html:
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;line-height:1.5">` +
    paragraphs.map(paraHtml).join('') +
    (footer ? `<hr><p style="font-size:12px;color:#444">${escapeHtml(footer)}</p>` : '') +
    '</body></html>',
});

// ---- dates and times in words, in the reader's language -------------------------------------

const LOCALE: Record<Lang, string> = { en: 'en-US', es: 'es' };

/** a calendar day read at noon UTC, so no zone moves it to another day */
const noon = (ymd: string): Date => new Date(`${ymd}T12:00:00Z`);

const partsOf = (lang: Lang, d: Date, o: Intl.DateTimeFormatOptions) =>
  Object.fromEntries(new Intl.DateTimeFormat(LOCALE[lang], { ...o, timeZone: 'UTC' }).formatToParts(d).map((p) => [p.type, p.value]));

/** "Monday, December 7" / "lunes 7 de diciembre" (with the year when asked: "…, 2026" / "… de 2026") */
export const longDate = (ymd: string, lang: Lang, withYear = false): string => {
  const p = partsOf(lang, noon(ymd), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return lang === 'es'
    ? `${p.weekday} ${p.day} de ${p.month}${withYear ? ` de ${p.year}` : ''}`
    : `${p.weekday}, ${p.month} ${p.day}${withYear ? `, ${p.year}` : ''}`;
};

/** "9:00 AM" / "9:00" (Spanish readers get the 24-hour clock: "18:30") */
export const clockTime = (hhmm: string, lang: Lang): string => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  if (lang === 'es') return `${h}:${String(m).padStart(2, '0')}`;
  return new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2000, 0, 1, h, m)),
  );
};

const endTime = (hhmm: string, minutes: number): string => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const t = (h * 60 + m + minutes) % 1440;
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

/** the zone's generic name, "Eastern Time" / "hora oriental" */
const zoneName = (timeZone: string, lang: Lang): string =>
  new Intl.DateTimeFormat(LOCALE[lang], { timeZone, timeZoneName: 'longGeneric' })
    .formatToParts(new Date(0))
    .find((p) => p.type === 'timeZoneName')?.value ?? timeZone;

type Weekday = (typeof WEEKDAYS)[number];
const WEEKDAYS_PLURAL: Record<Lang, Record<Weekday, string>> = {
  en: { MO: 'Mondays', TU: 'Tuesdays', WE: 'Wednesdays', TH: 'Thursdays', FR: 'Fridays', SA: 'Saturdays', SU: 'Sundays' },
  es: { MO: 'lunes', TU: 'martes', WE: 'miércoles', TH: 'jueves', FR: 'viernes', SA: 'sábados', SU: 'domingos' },
};

const list = (items: string[], lang: Lang): string =>
  new Intl.ListFormat(LOCALE[lang], { style: 'long', type: 'conjunction' }).format(items);

/**
 * The weekly sessions in words, sessions of the same hours together: "Mondays, Wednesdays and
 * Fridays, 9:00 AM to 12:00 PM" / "lunes, miércoles y viernes, de 9:00 a 12:00"
 */
export const weeklyText = (sessions: ReadonlyArray<{ weekday: Weekday; start: string; minutes: number }>, lang: Lang): string => {
  const groups = new Map<string, Weekday[]>();
  for (const s of [...sessions].sort((a, b) => WEEKDAYS.indexOf(a.weekday) - WEEKDAYS.indexOf(b.weekday))) {
    const key = `${s.start}|${s.minutes}`;
    groups.set(key, [...(groups.get(key) ?? []), s.weekday]);
  }
  return [...groups]
    .map(([key, days]) => {
      const [start, minutes] = key.split('|') as [string, string];
      const from = clockTime(start, lang);
      const to = clockTime(endTime(start, Number(minutes)), lang);
      const names = list(
        days.map((d) => WEEKDAYS_PLURAL[lang][d]),
        lang,
      );
      return lang === 'es' ? `${names}, de ${from} a ${to}` : `${names}, ${from} to ${to}`;
    })
    .join('; ');
};

// ---- patient -------------------------------------------------------------------------------

export type PatientNotice = 'received' | 'schedule' | 'closed' | 'waitlisted' | 'missed';

const T = {
  en: {
    hello: (n: string) => `Hello ${n},`,
    receivedSubject: (ref: string) => `We received your request (${ref})`,
    received: (ref: string, p: Program) =>
      `Thank you for reaching out to ${p.name}. Your reference number is ${ref}. Next we check your insurance, then a case worker will contact you to talk about what you need. You can call us at ${p.phone} any time and give your reference number.`,
    crisis: `If you are thinking about harming yourself, call or text ${CRISIS_RESOURCES.call} (Suicide & Crisis Lifeline) now, any time, day or night. In an emergency call ${CRISIS_RESOURCES.emergency}.`,
    scheduleSubject: (ref: string) => `Your group schedule (${ref})`,
    reserved: (group: string, first: string) => `Your place in the group "${group}" is reserved. Your first session is on ${first}.`,
    sessionsLeft: (n: number, last: string, late: boolean) =>
      late
        ? `The group has already started: you join it for its last ${n} session${n === 1 ? '' : 's'}, until ${last}.`
        : `The group meets for ${n} session${n === 1 ? '' : 's'}, until ${last}.`,
    weekly: (when: string, zone: string) => `Every week: ${when} (${zone}).`,
    address: (a: string) => `Where: ${a}.`,
    video: 'Join by video at this link:',
    noLocation: (p: Program) => `Call us at ${p.phone} and we will tell you where the group meets.`,
    closure: (days: string) => `There is no session on ${days}: the program is closed.`,
    bring: (what: string) => `What to bring: ${what}`,
    invite: (p: Program) =>
      `The attached calendar invitation adds every session to your calendar. If you cannot come, please call us at ${p.phone}.`,
    inviteCall: (p: Program) => `Questions, or cannot come? Call ${p.phone}.`,
    closedSubject: (ref: string) => `An update on your request (${ref})`,
    closed: {
      NOT_COVERED:
        'We could not confirm coverage for this program. A case worker can talk with you about other ways to pay and other programs.',
      REFERRED_OUT: 'After your evaluation, another level of care fits your needs better. A case worker will help you connect with it.',
      WITHDRAWN: 'Your request has been closed. You are welcome to reach out again at any time.',
      EXPIRED:
        'Your request has been closed because we could not confirm that detox was completed in time. You are welcome to reach out again at any time.',
      NO_SHOW:
        'We did not see you at your first group session, so we have given your place in the group to someone else. You are welcome to reach out again at any time: call us and we will help you start.',
    } as Partial<Record<Status, string>>,
    waitlistedSubject: (ref: string) => `You are on our waitlist (${ref})`,
    waitlisted: (p: Program) =>
      `Every group that fits your schedule is full right now, so you are on our waitlist. We will contact you as soon as a place opens. If your schedule changes (for example, if you could come in the morning or in the evening), call us at ${p.phone} and give your reference number.`,
    missedSubject: (ref: string) => `Your next group session (${ref})`,
    missed: (when: string, p: Program) =>
      `We missed you at your first group session. Your place is kept for you: the next session is on ${when}. If something makes it hard to come (transport, work, child care), call us at ${p.phone} and we will help.`,
    callUs: (p: Program) => `Questions? Call ${p.name} at ${p.phone}.`,
  },
  es: {
    hello: (n: string) => `Hola ${n}:`,
    receivedSubject: (ref: string) => `Recibimos su solicitud (${ref})`,
    received: (ref: string, p: Program) =>
      `Gracias por comunicarse con ${p.name}. Su número de referencia es ${ref}. Primero revisamos su seguro y después un trabajador social se comunicará con usted para hablar de lo que necesita. Puede llamarnos al ${p.phone} en cualquier momento y dar su número de referencia.`,
    crisis: `Si está pensando en hacerse daño, llame o envíe un mensaje de texto al ${CRISIS_RESOURCES.call} (Línea de Prevención del Suicidio y Crisis) ahora, a cualquier hora. En una emergencia llame al ${CRISIS_RESOURCES.emergency}.`,
    scheduleSubject: (ref: string) => `Su horario de grupo (${ref})`,
    reserved: (group: string, first: string) => `Su lugar en el grupo "${group}" está reservado. Su primera sesión es el ${first}.`,
    sessionsLeft: (n: number, last: string, late: boolean) =>
      late
        ? `El grupo ya comenzó: usted se une para ${n === 1 ? 'su última sesión' : `sus últimas ${n} sesiones`}, hasta el ${last}.`
        : `El grupo se reúne durante ${n} ${n === 1 ? 'sesión' : 'sesiones'}, hasta el ${last}.`,
    weekly: (when: string, zone: string) => `Cada semana: ${when} (${zone}).`,
    address: (a: string) => `Dónde: ${a}.`,
    video: 'Únase por video con este enlace:',
    noLocation: (p: Program) => `Llámenos al ${p.phone} y le diremos dónde se reúne el grupo.`,
    closure: (days: string) => `No hay sesión el ${days}: el programa está cerrado.`,
    bring: (what: string) => `Qué traer: ${what}`,
    invite: (p: Program) =>
      `La invitación de calendario adjunta agrega todas las sesiones a su calendario. Si no puede venir, llámenos al ${p.phone}.`,
    inviteCall: (p: Program) => `¿Preguntas, o no puede venir? Llame al ${p.phone}.`,
    closedSubject: (ref: string) => `Novedades sobre su solicitud (${ref})`,
    closed: {
      NOT_COVERED:
        'No pudimos confirmar la cobertura para este programa. Un trabajador social puede hablar con usted sobre otras formas de pago y otros programas.',
      REFERRED_OUT:
        'Después de su evaluación, otro nivel de atención se ajusta mejor a sus necesidades. Un trabajador social le ayudará a conectarse con él.',
      WITHDRAWN: 'Su solicitud se ha cerrado. Puede comunicarse de nuevo cuando quiera.',
      EXPIRED:
        'Su solicitud se ha cerrado porque no pudimos confirmar a tiempo que la desintoxicación terminó. Puede comunicarse de nuevo cuando quiera.',
      NO_SHOW:
        'No le vimos en su primera sesión de grupo, así que le dimos su lugar en el grupo a otra persona. Puede comunicarse de nuevo cuando quiera: llámenos y le ayudaremos a empezar.',
    } as Partial<Record<Status, string>>,
    waitlistedSubject: (ref: string) => `Está en nuestra lista de espera (${ref})`,
    waitlisted: (p: Program) =>
      `Todos los grupos que se ajustan a su horario están llenos en este momento, así que está en nuestra lista de espera. Nos comunicaremos con usted en cuanto haya un lugar. Si su horario cambia (por ejemplo, si pudiera venir por la mañana o por la tarde), llámenos al ${p.phone} y dé su número de referencia.`,
    missedSubject: (ref: string) => `Su próxima sesión de grupo (${ref})`,
    missed: (when: string, p: Program) =>
      `Le extrañamos en su primera sesión de grupo. Su lugar sigue reservado: la próxima sesión es el ${when}. Si algo le dificulta venir (transporte, trabajo, cuidado de niños), llámenos al ${p.phone} y le ayudaremos.`,
    callUs: (p: Program) => `¿Preguntas? Llame a ${p.name} al ${p.phone}.`,
  },
} as const;

/** where a cohort meets */
type Location = CohortLocation;

/** what the schedule email says: the person's own sessions, from the first still ahead */
export interface ScheduleInfo {
  group: string;
  timeZone: string;
  /** the person's first session: local date (YYYY-MM-DD) and start (HH:MM) */
  first: { date: string; start: string };
  /** the date of the last session */
  lastDate: string;
  /** the sessions the person will attend (closure days left out) */
  remaining: number;
  /** the person joins a group that has already met */
  late: boolean;
  weekly: ReadonlyArray<{ weekday: Weekday; start: string; minutes: number }>;
  /** absent on cohorts made before cohorts had a location */
  location?: Location;
  /** closure days (YYYY-MM-DD) between the first and the last session on which the group would have met */
  closures: string[];
  whatToBring: string;
}

export interface PatientContext {
  lang: Lang;
  firstName: string;
  reference: string;
  urgent: boolean;
  program: Program;
  status?: Status;
  schedule?: ScheduleInfo;
  /** missed: the next session, its local date (YYYY-MM-DD) and start (HH:MM) */
  nextSession?: { date: string; start: string };
}

/** the schedule in the reader's language: dates and weekdays in words, where, what to bring */
const scheduleParagraphs = (s: ScheduleInfo, lang: Lang, program: Program): Paragraph[] => {
  const t = T[lang];
  return [
    t.reserved(s.group, `${longDate(s.first.date, lang)}, ${clockTime(s.first.start, lang)}`),
    t.sessionsLeft(s.remaining, longDate(s.lastDate, lang), s.late),
    t.weekly(weeklyText(s.weekly, lang), zoneName(s.timeZone, lang)),
    !s.location
      ? t.noLocation(program)
      : s.location.kind === 'in-person'
        ? t.address(s.location.address)
        : { text: t.video, link: s.location.url },
    ...(s.closures.length
      ? [
          t.closure(
            list(
              s.closures.map((d) => longDate(d, lang)),
              lang,
            ),
          ),
        ]
      : []),
    t.bring(s.whatToBring),
    t.invite(program),
  ];
};

/** the calendar invitation's DESCRIPTION (plain text, no program name: it shows in calendars) */
export const inviteDescription = (s: Pick<ScheduleInfo, 'location' | 'whatToBring'>, lang: Lang, program: Program): string => {
  const t = T[lang];
  return [
    ...(s.location?.kind === 'telehealth' ? [`${t.video} ${s.location.url}`] : s.location ? [t.address(s.location.address)] : []),
    t.inviteCall(program),
    t.bring(s.whatToBring),
  ].join('\n');
};

/** the HTML part says which language it is in (screen readers, translation prompts) */
const inLang = (lang: Lang, e: Email): Email => ({ ...e, html: e.html.replace('<html lang="en">', `<html lang="${lang}">`) });

/** a patient email, in the patient's language */
export const patientEmail = (kind: PatientNotice, c: PatientContext): Email => inLang(c.lang, patientEmailIn(kind, c));

const patientEmailIn = (kind: PatientNotice, c: PatientContext): Email => {
  const t = T[c.lang];
  const crisis = c.urgent ? [t.crisis] : [];
  switch (kind) {
    case 'received':
      return email(
        t.receivedSubject(c.reference),
        [t.hello(c.firstName), ...crisis, t.received(c.reference, c.program)],
        t.callUs(c.program),
      );
    case 'schedule':
      return email(
        t.scheduleSubject(c.reference),
        [t.hello(c.firstName), ...scheduleParagraphs(c.schedule!, c.lang, c.program), ...crisis],
        t.callUs(c.program),
      );
    case 'closed':
      return email(
        t.closedSubject(c.reference),
        [t.hello(c.firstName), t.closed[c.status!] ?? t.closed.WITHDRAWN!, ...crisis],
        t.callUs(c.program),
      );
    case 'waitlisted':
      return email(t.waitlistedSubject(c.reference), [t.hello(c.firstName), t.waitlisted(c.program), ...crisis], t.callUs(c.program));
    case 'missed': {
      const n = c.nextSession!;
      return email(
        t.missedSubject(c.reference),
        [t.hello(c.firstName), t.missed(`${longDate(n.date, c.lang)}, ${clockTime(n.start, c.lang)}`, c.program), ...crisis],
        t.callUs(c.program),
      );
    }
  }
};

// ---- referring physician (status only, consented, 42 CFR §2.32 notice) --------------------

export type PhysicianNotice = 'received' | 'accepted' | 'enrolled' | 'closed' | 'waitlisted' | 'started';

const PHYSICIAN_STATUS: Record<PhysicianNotice, (c: PhysicianContext) => string> = {
  received: () => 'The program has received the referral and started its intake process.',
  accepted: () => 'The program has accepted the referral after evaluation.',
  // status and at most the start date: no session times, no invitation (minimum necessary)
  enrolled: (c) =>
    c.startDate
      ? `The patient is enrolled in the program and starts on ${longDate(c.startDate, 'en', true)}.`
      : 'The patient is enrolled in the program.',
  waitlisted: () => 'The program has accepted the referral; the patient is on its waitlist for the next open place in a group.',
  started: () => 'The patient attended the first session and has started treatment in the program.',
  closed: (c) =>
    ({
      NOT_COVERED: 'The referral was closed: coverage could not be confirmed.',
      REFERRED_OUT: 'The referral was closed: the patient was referred to another level of care.',
      WITHDRAWN: 'The referral was closed (withdrawn).',
      EXPIRED: 'The referral was closed: it expired while waiting.',
      NO_SHOW: 'The referral was closed: the patient did not attend the first session.',
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

/**
 * where a staff email sends its reader: the referral in the console (a link holding the referral's
 * id, never PHI), or, without a configured console address, the reference to search for
 */
const openIt = (reference: string, consoleLink?: string): Paragraph =>
  consoleLink
    ? { text: 'Open the referral in the staff console:', link: consoleLink }
    : `Open the staff console and search for ${reference}.`;

export const urgentAlert = (reference: string, consoleLink?: string): Email =>
  email(`Urgent referral ${reference}`, [
    `Referral ${reference} screened positive on the crisis screen at intake and is marked urgent.`,
    'Crisis resources (988) were shown to the person. Please reach out today.',
    openIt(reference, consoleLink),
  ]);

export const slaAlert = (reference: string, step: string, ageHours: number, breaches: number, consoleLink?: string): Email =>
  email(`Overdue step: ${reference}`, [
    `The ${step} step of referral ${reference} has waited ${ageHours} hours, past its time limit (breach ${breaches}).`,
    breaches >= BREACHES_BEFORE_ATTENTION
      ? 'The referral is now marked NEEDS_ATTENTION.'
      : 'The step has been reopened; please decide it soon.',
    openIt(reference, consoleLink),
  ]);

/** a waitlisted referral's weekly review: still waiting, and whether a seat in its track is free now */
export const waitlistReviewAlert = (reference: string, waitingDays: number, seatsFree: number, consoleLink?: string): Email =>
  email(`Waitlist review: ${reference}`, [
    `Referral ${reference} has been on the waitlist for ${waitingDays} day${waitingDays === 1 ? '' : 's'}.`,
    seatsFree > 0
      ? `${seatsFree} seat${seatsFree === 1 ? ' is' : 's are'} free now in a cohort of its track: offer a seat to the person waiting longest (the Waitlist queue of the staff console).`
      : 'No seat is free in its track yet. Please check in with the person and note the contact on the referral.',
    openIt(reference, consoleLink),
  ]);

export const failureAlert = (reference: string, errorCode: string, consoleLink?: string): Email =>
  email(`Referral needs attention: ${reference}`, [
    `An automatic step for referral ${reference} kept failing (${errorCode}) and the referral is marked NEEDS_ATTENTION.`,
    'Once the cause is fixed, Resume (on the referral in the staff console) restarts it at the step that failed.',
    openIt(reference, consoleLink),
  ]);

/** an email to a person could not be delivered however often it was tried: someone should call instead */
export const noticeFailedAlert = (reference: string, audience: string, milestone: string, errorCode: string, consoleLink?: string): Email =>
  email(`Email not delivered: ${reference}`, [
    `The ${milestone} email to the ${audience} of referral ${reference} could not be delivered (${errorCode}) and will not be retried.`,
    'Please reach them another way (phone) and record the contact in the referral.',
    openIt(reference, consoleLink),
  ]);

/** the console address of one referral: `<console>#/referral/<id>` (the id only: never a name or a reference in a URL) */
export const consoleLinkTo = (consoleUrl: string | undefined, referralId: string): string | undefined =>
  consoleUrl ? `${consoleUrl.replace(/\/*$/, '/')}#/referral/${encodeURIComponent(referralId)}` : undefined;

/** "Jane D." */
export const displayName = (firstName: string, lastName: string): string => `${firstName} ${lastName.slice(0, 1).toUpperCase()}.`;
