import { FINAL_STATUSES, STATUSES, type Dashboard, type Status } from '../../../../functions/lib/schemas/views';
import {
  FUNNEL_CHANNELS,
  funnelCsv,
  funnelCsvName,
  STEP_LABELS,
  type Funnel,
  type FunnelChannel,
} from '../../../../functions/lib/domain/funnel';
import { api, call } from '../api';
import { announce, h, mount } from '../dom';
import { dateTime, hours, STATUS_LABEL } from '../format';
import { FormErrors, input, select } from '../forms';
import { loading, problem, type ViewContext } from './common';
import { tabForStatus } from './queues';

// program dashboard: referrals per status, urgent open, overdue gates, and the median time from
// intake to each gate and to enrollment (time to admission)

const MEDIANS: Array<{ key: keyof Dashboard['medianHoursFromIntake']; label: string }> = [
  { key: 'EVALUATION', label: 'Intake → evaluation gate' },
  { key: 'DETOX', label: 'Intake → detox gate' },
  { key: 'ENROLLMENT', label: 'Intake → enrollment gate' },
  { key: 'ENROLLED', label: 'Intake → enrolled (time to admission)' },
  { key: 'STARTED', label: 'Intake → first session attended (started)' },
];

export function dashboardView(ctx: ViewContext): HTMLElement {
  const body = h('div', null, loading('the dashboard'));
  const el = h(
    'section',
    { class: 'dashboard', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Program dashboard'),
    body,
    funnelPanel(ctx),
  );
  void (async () => {
    const res = await api.dashboard();
    if (!ctx.alive()) return;
    if (!res.ok) {
      mount(body, problem(res.error, res.status));
      return;
    }
    mount(body, ...render(res.data));
  })();
  return el;
}

function render(d: Dashboard) {
  const open = STATUSES.filter((s) => !FINAL_STATUSES.includes(s));
  const closed = STATUSES.filter((s) => FINAL_STATUSES.includes(s));
  const max = Math.max(1, ...STATUSES.map((s) => d.byStatus[s] ?? 0));
  const statusTable = (caption: string, list: readonly Status[]) =>
    h(
      'table',
      { class: 'by-status' },
      h('caption', null, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Referrals'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Share')),
        ),
      ),
      h(
        'tbody',
        null,
        list.map((s) => {
          const n = d.byStatus[s] ?? 0;
          const tab = tabForStatus(s);
          return h(
            'tr',
            null,
            h('th', { scope: 'row' }, tab ? h('a', { href: `#/queue/${tab}` }, STATUS_LABEL[s]) : STATUS_LABEL[s]),
            h('td', { class: 'num' }, String(n)),
            h('td', { class: 'bar' }, h('meter', { min: 0, max, value: n, 'aria-hidden': 'true' })),
          );
        }),
      ),
    );

  return [
    h(
      'div',
      { class: 'tiles' },
      h(
        'div',
        { class: `tile${d.urgentOpen ? ' alert' : ''}` },
        h('p', { class: 'tile-n' }, String(d.urgentOpen)),
        h('p', { class: 'tile-l' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Urgent referrals open'),
      ),
      h(
        'div',
        { class: `tile${d.overdueGates ? ' alert' : ''}` },
        h('p', { class: 'tile-n' }, String(d.overdueGates)),
        h('p', { class: 'tile-l' }, h('span', { 'aria-hidden': 'true' }, '■ '), 'Gates overdue (past their timer)'),
      ),
      h(
        'div',
        { class: 'tile' },
        h('p', { class: 'tile-n' }, d.medianHoursFromIntake.ENROLLED !== undefined ? hours(d.medianHoursFromIntake.ENROLLED) : '—'),
        h('p', { class: 'tile-l' }, 'Median time to admission'),
      ),
    ),
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'st-h' },
        h('h2', { id: 'st-h' }, 'Referrals by status'),
        statusTable('Open', open),
        statusTable('Closed', closed),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'md-h' },
        h('h2', { id: 'md-h' }, 'Median time from intake'),
        h(
          'table',
          { class: 'medians' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Milestone'), h('th', { scope: 'col' }, 'Median'))),
          h(
            'tbody',
            null,
            MEDIANS.map((m) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, m.label),
                h(
                  'td',
                  { class: 'num' },
                  d.medianHoursFromIntake[m.key] !== undefined ? hours(d.medianHoursFromIntake[m.key]!) : 'No data yet',
                ),
              ),
            ),
          ),
        ),
        h('p', { class: 'hint' }, 'Counted from intake to the first time a referral reached each status.'),
      ),
    ),
    h('p', { class: 'muted' }, `Generated ${dateTime(d.generatedAt)}.`),
  ];
}

// ---- the funnel: received → evaluated → enrolled → started -----------------------------------

const CHANNEL_LABEL: Record<FunnelChannel, string> = { all: 'All channels', web: 'Web form', phone: 'Phone intake' };

const days = (d: number | undefined): string => (d === undefined ? '—' : `${d} ${d === 1 ? 'day' : 'days'}`);

/**
 * The referrals received in a date range (and channel) and how far they got, with the drop-off and
 * the median days before each step. The CSV is made here, from the numbers on the screen: the API
 * stays JSON only, a download link could not carry the bearer token anyway, and what is saved is
 * exactly what was shown (counts and medians, no PHI).
 */
function funnelPanel(ctx: ViewContext): HTMLElement {
  const from = input({ label: 'From', path: 'from', type: 'date' });
  const to = input({ label: 'To', path: 'to', type: 'date' });
  const channel = select({
    label: 'Channel',
    path: 'channel',
    options: FUNNEL_CHANNELS.map((c) => ({ value: c, label: CHANNEL_LABEL[c] })),
    value: 'all',
  });
  const errors = new FormErrors('Check the dates');
  const result = h('div', { id: 'funnel-result' }, loading('the funnel'));
  const download = h('button', { type: 'button', class: 'secondary', id: 'funnel-csv', disabled: true }, 'Download CSV');
  let shown: Funnel | undefined;

  const load = async (query: Record<string, string>) => {
    errors.clear();
    const qs = new URLSearchParams(query).toString();
    const res = await call<Funnel>('GET', `/api/staff/dashboard/funnel${qs ? `?${qs}` : ''}`);
    if (!ctx.alive()) return;
    if (!res.ok) {
      if (res.status === 400 && res.error.fields) {
        errors.show(res.error.fields);
        return;
      }
      mount(result, problem(res.error, res.status));
      return;
    }
    shown = res.data;
    from.control.value = shown.from;
    to.control.value = shown.to;
    channel.control.value = shown.channel;
    download.disabled = false;
    mount(result, funnelTable(shown));
  };

  const form = h(
    'form',
    { class: 'funnel-filters', 'aria-label': 'Funnel filters', novalidate: true },
    errors.summary,
    h('div', { class: 'actions' }, from.el, to.el, channel.el, h('button', { type: 'submit' }, 'Show'), download),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query: Record<string, string> = { channel: channel.control.value };
    if (from.control.value) query.from = from.control.value;
    if (to.control.value) query.to = to.control.value;
    void load(query).then(
      () => shown && announce(`Funnel updated: ${shown.steps[0]?.count ?? 0} referrals received from ${shown.from} to ${shown.to}.`),
    );
  });
  download.addEventListener('click', () => {
    if (!shown) return;
    const url = URL.createObjectURL(new Blob([funnelCsv(shown)], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: funnelCsvName(shown), hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  void load({});

  return h(
    'section',
    { class: 'panel funnel', 'aria-labelledby': 'funnel-h' },
    h('h2', { id: 'funnel-h' }, 'Referral funnel'),
    h(
      'p',
      { class: 'hint' },
      'Referrals received in the dates chosen (program time zone), and how many of them have reached each step so far.',
    ),
    form,
    result,
  );
}

function funnelTable(f: Funnel): Array<HTMLElement | null> {
  const max = Math.max(1, f.steps[0]?.count ?? 0);
  return [
    h(
      'table',
      { class: 'funnel-table' },
      h('caption', null, `${CHANNEL_LABEL[f.channel]}, received ${f.from} to ${f.to}`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Step', 'Referrals', 'Of received', 'Drop-off from the step before', 'Median time from the step before'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Share')),
        ),
      ),
      h(
        'tbody',
        null,
        f.steps.map((s, i) =>
          h(
            'tr',
            { 'data-step': s.step },
            h('th', { scope: 'row' }, STEP_LABELS[s.step]),
            h('td', { class: 'num' }, String(s.count)),
            h('td', { class: 'num' }, `${s.percentOfReceived}%`),
            h('td', { class: 'num' }, i === 0 ? '—' : `${s.dropOff} (${s.dropOffPercent}%)`),
            h('td', { class: 'num' }, i === 0 ? '—' : days(s.medianDaysFromPrevious)),
            h('td', { class: 'bar' }, h('meter', { min: 0, max, value: s.count, 'aria-hidden': 'true' })),
          ),
        ),
      ),
    ),
    f.truncated
      ? h(
          'p',
          { class: 'notice warn', role: 'note' },
          'This range holds more referrals than one report reads: the counts are of the first 20,000. Choose a shorter range.',
        )
      : null,
    h(
      'p',
      { class: 'hint' },
      'Evaluated: the evaluation was decided (accepted or referred out). Started: attended the first group session. Drop-off counts referrals still on their way as well as those that ended.',
    ),
  ];
}
