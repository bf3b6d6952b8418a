// the open-seats widget for referrers' sites (framable by any site, see infra/constructs/web.ts
// EMBED_PATH_PREFIX): per track the next cohorts with seats left, their weekly pattern and whether
// they meet in person or by video. No cookies, no storage, no PHI; `?lang=es` picks Spanish.
import { cohortSentence, fetchAvailability, sessionsLeftText, weeklyPattern, type OpenCohort, type Track } from '../shared/availability';
import { h } from '../shared/dom';
import { isLang, preferredLang, type Lang } from '../shared/i18n';

const TEXT = {
  en: {
    title: 'Open seats in our groups',
    track: { morning: 'Morning groups', evening: 'Evening groups' } as Record<Track, string>,
    none: 'No open seats in this track right now.',
    failed: 'Open seats cannot be shown right now. Call the program to ask.',
    note: 'Seats change as people enroll; this list is at most a minute old.',
    link: 'Ask for a place (opens the intake form)',
    docTitle: 'Open seats — Intensive Outpatient Program',
  },
  es: {
    title: 'Plazas libres en nuestros grupos',
    track: { morning: 'Grupos de la mañana', evening: 'Grupos de la tarde' } as Record<Track, string>,
    none: 'Ahora no hay plazas libres en este horario.',
    failed: 'Ahora no se pueden mostrar las plazas libres. Llame al programa para preguntar.',
    note: 'Las plazas cambian cuando alguien se inscribe; esta lista tiene como mucho un minuto.',
    link: 'Pedir una plaza (abre el formulario)',
    docTitle: 'Plazas libres — Programa Intensivo Ambulatorio',
  },
} as const;

const param = new URLSearchParams(window.location.search).get('lang');
const lang: Lang = isLang(param) ? param : preferredLang();
const t = TEXT[lang];

document.documentElement.lang = lang;
document.title = t.docTitle;
const byId = (id: string) => document.getElementById(id)!;
byId('seats-title').textContent = t.title;
const link = byId('seats-link') as HTMLAnchorElement;
link.textContent = t.link;

const item = (track: Track, c: OpenCohort) =>
  h(
    'li',
    { class: 'seats__item' },
    h('p', {}, cohortSentence(track, c, lang)),
    h('p', { class: 'seats__meta' }, `${weeklyPattern(c, lang)}${c.started ? ` · ${sessionsLeftText(c.sessionsLeft, lang)}` : ''}`),
  );

void fetchAvailability().then((a) => {
  const status = byId('seats-status');
  if (!a) {
    status.textContent = t.failed;
    return;
  }
  byId('seats-list').replaceChildren(
    ...(['morning', 'evening'] as const).flatMap((track) => [
      h('h2', { class: 'seats__track' }, t.track[track]),
      a.tracks[track].length
        ? h('ul', { class: 'seats__list' }, ...a.tracks[track].map((c) => item(track, c)))
        : h('p', { class: 'seats__none' }, t.none),
    ]),
  );
  status.textContent = '';
  status.hidden = true;
  const note = byId('seats-note');
  note.textContent = t.note;
  note.hidden = false;
});
