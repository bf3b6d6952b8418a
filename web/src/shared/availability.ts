// open seats (GET /api/availability) in words, English and Spanish: the intake page's line and the
// embeddable page for referrers' sites. Dates are written out in the page's language ("Monday,
// December 7" / "lunes 7 de diciembre"); a cohort's dates are calendar days in its own time zone,
// so they are formatted as UTC days (no shift). The request carries no cookie.
import type { Availability, OpenCohort, Track } from '../../../functions/lib/domain/availability';
import type { Lang } from './i18n';

export type { Availability, OpenCohort, Track };

const LOCALES: Record<Lang, string> = { en: 'en-US', es: 'es-US' };

/** a calendar day written out: "Monday, December 7" / "lunes 7 de diciembre" */
export const longDay = (ymd: string, lang: Lang): string => {
  const d = new Date(`${ymd}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return ymd;
  const parts = new Intl.DateTimeFormat(LOCALES[lang], { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' }).formatToParts(
    d,
  );
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return lang === 'es' ? `${get('weekday')} ${get('day')} de ${get('month')}` : `${get('weekday')}, ${get('month')} ${get('day')}`;
};

const WEEKDAY_DATES: Record<string, string> = {
  MO: '2024-01-01',
  TU: '2024-01-02',
  WE: '2024-01-03',
  TH: '2024-01-04',
  FR: '2024-01-05',
  SA: '2024-01-06',
  SU: '2024-01-07',
};

/** a weekday code (MO…SU) as a short word: "Mon" / "lun" */
export const shortWeekday = (code: string, lang: Lang): string => {
  const ymd = WEEKDAY_DATES[code];
  if (!ymd) return code;
  return new Intl.DateTimeFormat(LOCALES[lang], { weekday: 'short', timeZone: 'UTC' })
    .format(new Date(`${ymd}T00:00:00Z`))
    .replace(/\.$/, '');
};

/** "HH:MM" as the language writes a time: "6:00 PM" / "18:00" */
export const clockTime = (hhmm: string, lang: Lang): string => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return new Intl.DateTimeFormat(LOCALES[lang], { hour: 'numeric', minute: '2-digit', hour12: lang === 'en', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2024, 0, 1, h, m)),
  );
};

const WORDS = {
  en: {
    track: { morning: 'morning', evening: 'evening' },
    seats: (n: number) => (n === 1 ? '1 seat left' : `${n} seats left`),
    place: { 'in-person': 'in person', telehealth: 'by video' },
    next: (track: string, day: string, seats: string) => `Next ${track} group starts ${day} — ${seats}`,
    underway: (track: string, day: string, seats: string) =>
      `${/^[aeiou]/.test(track) ? 'An' : 'A'} ${track} group under way can take you from ${day} — ${seats}`,
    full: 'Our groups are full right now. Send your request anyway: we will call you about the next opening.',
    sessionsLeft: (n: number) => (n === 1 ? '1 session left' : `${n} sessions left`),
  },
  es: {
    track: { morning: 'de la mañana', evening: 'de la tarde' },
    seats: (n: number) => (n === 1 ? 'queda 1 plaza' : `quedan ${n} plazas`),
    place: { 'in-person': 'presencial', telehealth: 'por video' },
    next: (track: string, day: string, seats: string) => `El próximo grupo ${track} empieza el ${day}: ${seats}`,
    underway: (track: string, day: string, seats: string) => `Un grupo ${track} ya en curso puede recibirle desde el ${day}: ${seats}`,
    full: 'Nuestros grupos están llenos ahora. Envíe su solicitud de todos modos: le llamaremos cuando haya un lugar.',
    sessionsLeft: (n: number) => (n === 1 ? 'queda 1 sesión' : `quedan ${n} sesiones`),
  },
} as const;

/** one cohort in a sentence: "Next evening group starts Monday, December 7 — 3 seats left (by video)." */
export const cohortSentence = (track: Track, c: OpenCohort, lang: Lang): string => {
  const w = WORDS[lang];
  const say = c.started ? w.underway : w.next;
  const place = c.locationType ? ` (${w.place[c.locationType]})` : '';
  return `${say(w.track[track], longDay(c.nextSessionDate, lang), w.seats(c.seatsLeft))}${place}.`;
};

/** the intake page's lines: the soonest opening of each track, or one line saying the groups are full */
export const availabilityLines = (a: Availability, lang: Lang): string[] => {
  const lines = (['morning', 'evening'] as const).flatMap((t) => {
    const first = a.tracks[t]?.[0];
    return first ? [cohortSentence(t, first, lang)] : [];
  });
  return lines.length ? lines : [WORDS[lang].full];
};

/** a cohort's weekly pattern: "Mon, Wed, Thu · 6:00 PM–9:00 PM" (one time when all sessions share it) */
export const weeklyPattern = (c: Pick<OpenCohort, 'sessions'>, lang: Lang): string => {
  const days = c.sessions.map((s) => shortWeekday(s.weekday, lang)).join(', ');
  const starts = [...new Set(c.sessions.map((s) => s.start))];
  const times =
    starts.length === 1
      ? clockTime(starts[0]!, lang)
      : c.sessions.map((s) => `${shortWeekday(s.weekday, lang)} ${clockTime(s.start, lang)}`).join(', ');
  return starts.length === 1 ? `${days} · ${times}` : times;
};

export const sessionsLeftText = (n: number, lang: Lang): string => WORDS[lang].sessionsLeft(n);

/** GET /api/availability without cookies; undefined when there is no usable answer (the page then says nothing) */
export const fetchAvailability = async (): Promise<Availability | undefined> => {
  try {
    const res = await fetch('/api/availability', { credentials: 'omit', headers: { accept: 'application/json' } });
    if (!res.ok) return undefined;
    const body = (await res.json()) as Availability;
    return body && typeof body === 'object' && body.tracks ? body : undefined;
  } catch {
    return undefined;
  }
};
