import { PROGRAM_DEFAULTS } from '../../../../functions/lib/program';
import { CohortSchema, MIN_WEEKLY_MINUTES, WEEKDAYS, type CohortRules } from '../../../../functions/lib/schemas/cohort';
import type { CohortView } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { isSupervisor } from '../auth';
import { announce, h, mount } from '../dom';
import { calendarDay, dateTime, sentence, sessionTime } from '../format';
import { FormErrors, input, issuesToFields, num, radios, requiredError, select, textarea } from '../forms';
import { loading, problem, type ViewContext } from './common';

// IOP cohorts: list with seats left, sessions, next dates and roster; supervisors get the create
// form (hidden for others, and the server's 403 is what really decides)

const DEFAULT_TZ = PROGRAM_DEFAULTS.timeZone;
const DAY_NAME: Record<(typeof WEEKDAYS)[number], string> = { MO: 'Mon', TU: 'Tue', WE: 'Wed', TH: 'Thu', FR: 'Fri', SA: 'Sat', SU: 'Sun' };
const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Puerto_Rico',
];

const endOf = (start: string, minutes: number): string => {
  const [hh, mm] = start.split(':').map(Number);
  const t = ((hh ?? 0) * 60 + (mm ?? 0) + minutes) % (24 * 60);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

/** "Mon, Wed, Fri 09:00–12:00 · 9 h/week" */
export function sessionsText(c: Pick<CohortView, 'sessions'>): string {
  const total = c.sessions.reduce((s, x) => s + x.minutes, 0);
  const parts = c.sessions.map((s) => `${DAY_NAME[s.weekday]} ${s.start}–${endOf(s.start, s.minutes)}`);
  return `${parts.join(', ')} · ${+(total / 60).toFixed(1)} h/week`;
}

/** whether a cohort still has a session to join: its sessionsLeft, or without one its next sessions */
export const hasSessionsLeft = (c: Pick<CohortView, 'sessionsLeft' | 'nextSessions'>): boolean =>
  (c.sessionsLeft ?? c.nextSessions.length) > 0;

/** "In person: 12 Harbor St…" / "Telehealth: https://…" / "Not recorded" (cohorts made before locations) */
export const locationText = (c: Pick<CohortView, 'location'>): string =>
  !c.location ? 'Not recorded' : c.location.kind === 'in-person' ? `In person: ${c.location.address}` : `Telehealth: ${c.location.url}`;

export function cohortsView(ctx: ViewContext): HTMLElement {
  const list = h('div', { class: 'cohort-list' }, loading('cohorts'));
  const supervisor = isSupervisor(ctx.session);
  // the program's evening boundary comes with the list (the server checks the same rule)
  const rules: CohortRules = {};
  const form = createForm(ctx, () => void refresh(), rules);
  form.hidden = !supervisor;
  const el = h(
    'section',
    { class: 'cohorts', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Cohorts'),
    supervisor
      ? null
      : h(
          'p',
          { class: 'notice info', id: 'cohort-role-note' },
          'Only supervisors create cohorts. You can see every cohort, its seats and roster.',
        ),
    form,
    h('h2', { id: 'cohort-list-h' }, 'IOP cohorts'),
    list,
  );

  async function refresh(): Promise<void> {
    const res = await api.cohorts();
    if (!ctx.alive()) return;
    if (!res.ok) {
      mount(list, problem(res.error, res.status));
      return;
    }
    if (res.data.eveningFrom) rules.eveningFrom = res.data.eveningFrom;
    const items = [...res.data.items].sort((a, b) => a.startDate.localeCompare(b.startDate));
    mount(list, items.length ? items.map(card) : h('p', { class: 'muted' }, 'No cohorts yet.'));
  }
  void refresh();
  return el;
}

function card(c: CohortView): HTMLElement {
  const full = c.seatsLeft <= 0;
  const hid = `cohort-${c.cohortId}`;
  return h(
    'article',
    { class: 'panel cohort', 'aria-labelledby': hid },
    h(
      'h3',
      { id: hid },
      c.name,
      ' ',
      h('span', { class: `badge seats${full ? ' full' : ''}` }, full ? 'Full' : `${c.seatsLeft} of ${c.capacity} seats left`),
    ),
    waitingLine(c),
    h(
      'dl',
      { class: 'defs compact' },
      [
        ['Track', `${c.track} (${c.population})`],
        ['Starts', `${calendarDay(c.startDate)}, ${c.weeks} weeks`],
        ['Sessions left', c.sessionsLeft === undefined ? '' : `${c.sessionsLeft} of ${c.sessionsTotal}`],
        ['Sessions', sessionsText(c)],
        ['Time zone', c.timeZone],
        ['Meets', locationText(c)],
      ].map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
    ),
    h('h4', null, 'Next sessions'),
    c.nextSessions.length
      ? h(
          'ul',
          { class: 'plain' },
          c.nextSessions.map((s) => h('li', null, h('time', { datetime: s }, sessionTime(s, c.timeZone)))),
        )
      : h('p', { class: 'muted' }, 'None scheduled (the cohort has ended).'),
    h('h4', null, `Roster (${c.roster?.length ?? c.seats})`),
    c.roster?.length
      ? h(
          'table',
          { class: 'roster' },
          h(
            'thead',
            null,
            h('tr', null, h('th', { scope: 'col' }, 'Reference'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Enrolled')),
          ),
          h(
            'tbody',
            null,
            c.roster.map((p) =>
              h(
                'tr',
                null,
                h('td', null, h('a', { href: `#/referral/${encodeURIComponent(p.referralId)}` }, p.reference)),
                h('td', null, p.displayName),
                h('td', null, dateTime(p.enrolledAt)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No one enrolled yet.'),
  );
}

/** "2 seats free — 3 waiting" with the way to the waitlist, when someone of its track waits */
function waitingLine(c: CohortView): HTMLElement | null {
  if (!c.waiting) return null;
  const open = c.seatsLeft > 0 && hasSessionsLeft(c);
  return h(
    'p',
    { class: `waiting${open ? ' notice info' : ''}` },
    open
      ? `${c.seatsLeft} seat${c.seatsLeft === 1 ? '' : 's'} free — ${c.waiting} waiting. `
      : `${c.waiting} ${c.waiting === 1 ? 'person waits' : 'people wait'} for a seat in this track. `,
    h('a', { href: '#/queue/waitlist' }, open ? 'Offer the seats on the waitlist' : 'Open the waitlist'),
  );
}

interface SessionRow {
  weekday: string;
  start: string;
  minutes: string;
}

function createForm(ctx: ViewContext, created: () => void, rules: CohortRules): HTMLElement {
  const errors = new FormErrors('The cohort was not created');
  const name = input({ label: 'Name', path: 'name', required: true, attrs: { maxlength: 100, autocomplete: 'off' } });
  const track = radios({
    label: 'Track',
    path: 'track',
    required: true,
    inline: true,
    options: [
      { value: 'morning', label: 'Morning' },
      { value: 'evening', label: 'Evening' },
    ],
  });
  const population = select({
    label: 'Population',
    path: 'population',
    value: 'adult',
    options: [
      { value: 'adult', label: 'Adult (at least 9 h/week)' },
      { value: 'adolescent', label: 'Adolescent (at least 6 h/week)' },
    ],
  });
  const startDate = input({ label: 'Start date', path: 'startDate', type: 'date', required: true });
  const tz = input({
    label: 'Time zone',
    path: 'timeZone',
    value: DEFAULT_TZ,
    hint: 'IANA name, e.g. America/New_York',
    attrs: { list: 'tz-list', autocomplete: 'off', spellcheck: 'false' },
  });
  const capacity = input({
    label: 'Capacity',
    path: 'capacity',
    type: 'number',
    value: '10',
    required: true,
    hint: '1 to 10 people',
    attrs: { min: 1, max: 10, step: 1, inputmode: 'numeric' },
  });
  const weeks = input({
    label: 'Weeks',
    path: 'weeks',
    type: 'number',
    value: '8',
    required: true,
    hint: '1 to 16',
    attrs: { min: 1, max: 16, step: 1, inputmode: 'numeric' },
  });
  // where it meets: the schedule email and the calendar invite give people this address or link
  const address = textarea({
    label: 'Address',
    path: 'location.address',
    required: true,
    rows: 2,
    hint: 'Street, suite, city: as people should find it. It goes into the schedule email and the calendar invitation.',
    attrs: { maxlength: 300, autocomplete: 'off' },
  });
  const link = input({
    label: 'Video link',
    path: 'location.url',
    type: 'url',
    required: true,
    hint: 'The https:// link people open to join. It goes into the schedule email and the calendar invitation.',
    attrs: { maxlength: 500, autocomplete: 'off', spellcheck: 'false' },
  });
  address.el.hidden = true;
  link.el.hidden = true;
  const where = radios({
    label: 'Where the group meets',
    path: 'location',
    required: true,
    inline: true,
    options: [
      { value: 'in-person', label: 'In person' },
      { value: 'telehealth', label: 'Telehealth (video)' },
    ],
    onchange: (v) => {
      address.el.hidden = v !== 'in-person';
      link.el.hidden = v !== 'telehealth';
    },
  });
  const location = (): unknown => {
    const kind = where.value();
    if (kind === 'in-person') return { kind, address: address.control.value };
    if (kind === 'telehealth') return { kind, url: link.control.value };
    return undefined;
  };

  let rows: SessionRow[] = [
    { weekday: 'MO', start: '09:00', minutes: '180' },
    { weekday: 'WE', start: '09:00', minutes: '180' },
    { weekday: 'FR', start: '09:00', minutes: '180' },
  ];
  const sessionsBox = h('fieldset', {
    class: 'field sessions',
    'data-path': 'sessions',
    'data-label': 'Weekly sessions',
    'aria-describedby': 'sessions-total',
  });
  const total = h('p', { class: 'hint', id: 'sessions-total', 'aria-live': 'polite' });

  const updateTotal = (): void => {
    const minutes = rows.reduce((s, r) => s + (Number(r.minutes) || 0), 0);
    const min = MIN_WEEKLY_MINUTES[(population.control.value as 'adult' | 'adolescent') ?? 'adult'] ?? 540;
    total.textContent = `Weekly total: ${+(minutes / 60).toFixed(2)} h (minimum ${min / 60} h for this population, ASAM 2.1)${minutes < min ? ' — not enough' : ''}`;
  };
  population.control.addEventListener('change', updateTotal);

  const drawSessions = (focusIndex?: number): void => {
    const items = rows.map((r, i) => {
      const wd = select({
        label: 'Weekday',
        path: `sessions.${i}.weekday`,
        value: r.weekday,
        options: WEEKDAYS.map((d) => ({ value: d, label: DAY_NAME[d] })),
      });
      const st = input({ label: 'Start (HH:MM)', path: `sessions.${i}.start`, type: 'time', value: r.start });
      const mi = input({
        label: 'Minutes',
        path: `sessions.${i}.minutes`,
        type: 'number',
        value: r.minutes,
        attrs: { min: 30, max: 480, step: 15, inputmode: 'numeric' },
      });
      wd.control.addEventListener('change', () => (r.weekday = wd.control.value));
      st.control.addEventListener('input', () => (r.start = st.control.value));
      mi.control.addEventListener('input', () => {
        r.minutes = mi.control.value;
        updateTotal();
      });
      const remove = h(
        'button',
        { type: 'button', class: 'secondary small', 'aria-label': `Remove session ${i + 1}`, disabled: rows.length === 1 },
        'Remove',
      );
      remove.addEventListener('click', () => {
        rows = rows.filter((x) => x !== r);
        drawSessions(Math.min(i, rows.length - 1));
      });
      const group = h('div', { class: 'session-row', role: 'group', 'aria-label': `Session ${i + 1}` }, wd.el, st.el, mi.el, remove);
      return { group, focus: wd.control };
    });
    const add = h('button', { type: 'button', class: 'secondary small', disabled: rows.length >= 7 }, 'Add a session');
    add.addEventListener('click', () => {
      const used = new Set(rows.map((r) => r.weekday));
      rows.push({ weekday: WEEKDAYS.find((d) => !used.has(d)) ?? 'MO', start: rows[rows.length - 1]?.start ?? '09:00', minutes: '180' });
      drawSessions(rows.length - 1);
    });
    sessionsBox.replaceChildren(h('legend', null, 'Weekly sessions'), total, ...items.map((x) => x.group), add);
    updateTotal();
    if (focusIndex !== undefined) items[focusIndex]?.focus.focus();
  };
  drawSessions();

  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create cohort');
  const form = h(
    'form',
    { class: 'panel cohort-form', novalidate: true, 'aria-labelledby': 'cohort-create-h', id: 'cohort-create' },
    h('h2', { id: 'cohort-create-h' }, 'Create a cohort'),
    errors.summary,
    h('div', { class: 'grid2' }, name.el, track.el, population.el, startDate.el, tz.el, capacity.el, weeks.el),
    h('div', { class: 'location-fields' }, where.el, address.el, link.el),
    h(
      'datalist',
      { id: 'tz-list' },
      ZONES.map((z) => h('option', { value: z })),
    ),
    sessionsBox,
    h('p', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const body = {
        name: name.control.value,
        track: track.value() || undefined,
        population: population.control.value,
        startDate: startDate.control.value,
        timeZone: tz.control.value.trim() || undefined,
        capacity: num(capacity.control.value),
        weeks: num(weeks.control.value),
        sessions: rows.map((r) => ({ weekday: r.weekday, start: r.start, minutes: num(r.minutes) })),
        location: location(),
      };
      const parsed = CohortSchema(DEFAULT_TZ, rules).safeParse(body, { error: requiredError });
      if (!parsed.success) {
        errors.show(issuesToFields(parsed.error));
        return;
      }
      submit.disabled = true;
      const res = await api.createCohort(parsed.data);
      submit.disabled = false;
      if (!ctx.alive()) return;
      if (res.ok) {
        errors.clear();
        announce(`Cohort ${res.data.name} created`);
        name.control.value = '';
        created();
        return;
      }
      if (res.status === 403) {
        errors.message(
          'Not allowed for your account',
          `Only supervisors can create cohorts. The server refused this request (403): ${sentence(res.error.message)}`,
        );
      } else if (res.status === 400 && res.error.fields) {
        errors.show(res.error.fields, res.error.message);
      } else if (res.status === 409 && res.error.error === 'CohortNameTaken') {
        errors.show({ name: [res.error.message] });
      } else if (res.status !== 401) {
        errors.message('The cohort was not created', res.error.message);
      }
    })();
  });
  return form;
}
