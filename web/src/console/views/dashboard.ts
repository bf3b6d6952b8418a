import { FINAL_STATUSES, STATUSES, type Dashboard, type Status } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { h, mount } from '../dom';
import { dateTime, hours, STATUS_LABEL } from '../format';
import { loading, problem, type ViewContext } from './common';
import { tabForStatus } from './queues';

// program dashboard: referrals per status, urgent open, overdue gates, and the median time from
// intake to each gate and to enrollment (time to admission)

const MEDIANS: Array<{ key: keyof Dashboard['medianHoursFromIntake']; label: string }> = [
  { key: 'EVALUATION', label: 'Intake → evaluation gate' },
  { key: 'DETOX', label: 'Intake → detox gate' },
  { key: 'ENROLLMENT', label: 'Intake → enrollment gate' },
  { key: 'ENROLLED', label: 'Intake → enrolled (time to admission)' },
];

export function dashboardView(ctx: ViewContext): HTMLElement {
  const body = h('div', null, loading('the dashboard'));
  const el = h('section', { class: 'dashboard', 'aria-labelledby': 'page-h' }, h('h1', { id: 'page-h', tabindex: '-1' }, 'Program dashboard'), body);
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
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Referrals'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Share')))),
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
      h('div', { class: `tile${d.urgentOpen ? ' alert' : ''}` }, h('p', { class: 'tile-n' }, String(d.urgentOpen)), h('p', { class: 'tile-l' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Urgent referrals open')),
      h('div', { class: `tile${d.overdueGates ? ' alert' : ''}` }, h('p', { class: 'tile-n' }, String(d.overdueGates)), h('p', { class: 'tile-l' }, h('span', { 'aria-hidden': 'true' }, '■ '), 'Gates overdue (past their timer)')),
      h('div', { class: 'tile' }, h('p', { class: 'tile-n' }, d.medianHoursFromIntake.ENROLLED !== undefined ? hours(d.medianHoursFromIntake.ENROLLED) : '—'), h('p', { class: 'tile-l' }, 'Median time to admission')),
    ),
    h(
      'div',
      { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'st-h' }, h('h2', { id: 'st-h' }, 'Referrals by status'), statusTable('Open', open), statusTable('Closed', closed)),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'md-h' },
        h('h2', { id: 'md-h' }, 'Median time from intake'),
        h(
          'table',
          { class: 'medians' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Milestone'), h('th', { scope: 'col' }, 'Median'))),
          h('tbody', null, MEDIANS.map((m) => h('tr', null, h('th', { scope: 'row' }, m.label), h('td', { class: 'num' }, d.medianHoursFromIntake[m.key] !== undefined ? hours(d.medianHoursFromIntake[m.key]!) : 'No data yet')))),
        ),
        h('p', { class: 'hint' }, 'Counted from intake to the first time a referral reached each status.'),
      ),
    ),
    h('p', { class: 'muted' }, `Generated ${dateTime(d.generatedAt)}.`),
  ];
}
