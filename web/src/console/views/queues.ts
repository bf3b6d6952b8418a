import type { ReferralSummary, Status } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { announce, h, mount } from '../dom';
import { ageOf, dateTime, STATUS_LABEL, STEP_LABEL } from '../format';
import { loading, problem, routineBadge, slaBadge, statusBadge, urgentBadge, type ViewContext } from './common';

// work queues: one tab per pending step plus needs-attention (ARIA tabs, manual activation),
// urgent first as the server orders them, counts from the dashboard, search, "Load more"

export const QUEUE_TABS = [
  { id: 'insurance-review', label: 'Insurance review', status: 'INSURANCE_REVIEW' },
  { id: 'evaluation', label: 'Evaluation', status: 'EVALUATION' },
  { id: 'detox-confirmation', label: 'Detox confirmation', status: 'DETOX' },
  { id: 'enrollment', label: 'Enrollment', status: 'ENROLLMENT' },
  { id: 'needs-attention', label: 'Needs attention', status: 'NEEDS_ATTENTION' },
] as const satisfies ReadonlyArray<{ id: string; label: string; status: Status }>;

export type QueueTab = (typeof QUEUE_TABS)[number]['id'];
export const isQueueTab = (s: string): s is QueueTab => QUEUE_TABS.some((t) => t.id === s);
export const tabForStatus = (s: Status): QueueTab | undefined => QUEUE_TABS.find((t) => t.status === s)?.id;

// the search text stays in memory only (a last name is PHI: never in the URL or storage)
let searchText = '';
let searchAll = false;

export interface QueueView {
  el: HTMLElement;
  select(tab: QueueTab, focusTab: boolean): void;
}

export function queueView(ctx: ViewContext, initial: QueueTab): QueueView {
  let current: QueueTab = initial;
  let generation = 0;

  const tabButtons = new Map<QueueTab, HTMLButtonElement>();
  const countEls = new Map<QueueTab, HTMLSpanElement>();
  const panel = h('div', { class: 'tabpanel', role: 'tabpanel', id: 'queue-panel', tabindex: '0' });

  const tablist = h('div', { role: 'tablist', 'aria-label': 'Work queues', class: 'tabs' });
  for (const t of QUEUE_TABS) {
    const count = h('span', { class: 'count' });
    countEls.set(t.id, count);
    const btn = h(
      'button',
      { type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': 'queue-panel', class: `tab${t.id === 'needs-attention' ? ' attention' : ''}` },
      t.id === 'needs-attention' ? h('span', { 'aria-hidden': 'true' }, '! ') : null,
      t.label,
      count,
    );
    btn.addEventListener('click', () => go(t.id));
    btn.addEventListener('keydown', (e) => onKey(e, t.id));
    tabButtons.set(t.id, btn);
    tablist.append(btn);
  }

  // arrow keys move focus along the tabs; Enter/Space (click) opens one (manual activation,
  // because each tab loads from the network)
  function onKey(e: KeyboardEvent, id: QueueTab): void {
    const ids = QUEUE_TABS.map((t) => t.id);
    const i = ids.indexOf(id);
    const to = e.key === 'ArrowRight' ? ids[(i + 1) % ids.length] : e.key === 'ArrowLeft' ? ids[(i - 1 + ids.length) % ids.length] : e.key === 'Home' ? ids[0] : e.key === 'End' ? ids[ids.length - 1] : undefined;
    if (!to) return;
    e.preventDefault();
    tabButtons.get(to)?.focus();
  }

  function go(id: QueueTab): void {
    const hash = `#/queue/${id}`;
    if (window.location.hash === hash) select(id, true);
    else window.location.hash = hash;
  }

  const searchInput = h('input', { id: 'queue-q', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false', maxlength: '100' });
  searchInput.value = searchText;
  const scope = h('input', { id: 'queue-all', type: 'checkbox' });
  scope.checked = searchAll;
  const searchForm = h(
    'form',
    { role: 'search', class: 'queue-search', 'aria-label': 'Find a referral' },
    h('div', { class: 'field inline' }, h('label', { for: 'queue-q' }, 'Find by reference or last name'), searchInput),
    h('div', { class: 'choice' }, scope, h('label', { for: 'queue-all' }, 'Search all statuses')),
    h('button', { type: 'submit' }, 'Search'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { searchInput.value = ''; searchText = ''; load(); } }, 'Clear'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { load(); loadCounts(); } }, 'Refresh'),
  );
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    searchText = searchInput.value.trim();
    searchAll = scope.checked;
    load();
  });

  const el = h(
    'section',
    { class: 'queues', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Work queues'),
    searchForm,
    tablist,
    panel,
  );

  async function loadCounts(): Promise<void> {
    const res = await api.dashboard();
    if (!ctx.alive() || !res.ok) return;
    for (const t of QUEUE_TABS) {
      const n = res.data.byStatus[t.status] ?? 0;
      countEls.get(t.id)!.textContent = ` ${n}`;
      tabButtons.get(t.id)!.setAttribute('aria-label', `${t.label}, ${n} waiting`);
    }
  }

  function select(id: QueueTab, focusTab: boolean): void {
    current = id;
    for (const [tid, b] of tabButtons) {
      const on = tid === id;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    panel.setAttribute('aria-labelledby', `tab-${id}`);
    if (focusTab) tabButtons.get(id)?.focus();
    load();
  }

  function load(): void {
    const gen = ++generation;
    const tab = QUEUE_TABS.find((t) => t.id === current)!;
    const q = searchText;
    const status = q && searchAll ? undefined : tab.status;
    mount(panel, loading('the queue'));
    const rows = h('tbody');
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
    let shown = 0;
    let cursor: string | undefined;
    const caption = h('caption');
    const table = h(
      'table',
      { class: 'queue' },
      caption,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Priority'),
          h('th', { scope: 'col' }, 'Reference'),
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, h('abbr', { title: 'Time since intake' }, 'Age')),
          h('th', { scope: 'col' }, 'Timer (SLA)'),
          h('th', { scope: 'col' }, 'Channel'),
        ),
      ),
      rows,
    );
    const empty = h('p', { class: 'empty', hidden: true });

    const page = async (): Promise<void> => {
      more.disabled = true;
      const res = await api.queue({ status, q: q || undefined, cursor });
      if (!ctx.alive() || gen !== generation) return;
      more.disabled = false;
      if (!res.ok) {
        mount(panel, problem(res.error, res.status, h('button', { type: 'button', onclick: () => load() }, 'Try again')));
        return;
      }
      const firstNew = shown;
      for (const r of res.data.items) rows.append(row(r));
      shown += res.data.items.length;
      cursor = res.data.nextCursor;
      more.hidden = !cursor;
      const where = q ? `Results for “${q}” in ${status ? `${tab.label.toLowerCase()}` : 'all statuses'}` : `${tab.label} queue`;
      caption.textContent = `${where}: ${shown} shown${cursor ? ', more available' : ''}, urgent first`;
      table.hidden = shown === 0;
      empty.hidden = shown !== 0;
      empty.textContent = q ? `No referral matches “${q}”${status ? ` in ${tab.label.toLowerCase()}` : ''}.` : `No referrals waiting for ${tab.label.toLowerCase()}.`;
      if (firstNew > 0) {
        announce(`${res.data.items.length} more loaded`);
        rows.children[firstNew]?.querySelector('a')?.focus();
      } else if (q) {
        announce(`${shown} result${shown === 1 ? '' : 's'}${cursor ? ', more available' : ''}`);
      }
    };
    more.addEventListener('click', () => void page());
    mount(panel, table, empty, h('p', { class: 'actions' }, more));
    void page();
  }

  select(initial, false);
  void loadCounts();
  return { el, select };
}

function row(r: ReferralSummary): HTMLTableRowElement {
  return h(
    'tr',
    { class: r.urgent ? 'urgent-row' : undefined },
    h('td', null, r.urgent ? urgentBadge() : routineBadge()),
    h('td', null, h('a', { href: `#/referral/${encodeURIComponent(r.referralId)}`, class: 'ref' }, r.reference)),
    h('td', { class: 'name' }, r.displayName),
    h('td', null, statusBadge(r.status), r.pendingStep && r.status === 'NEEDS_ATTENTION' ? h('span', { class: 'muted' }, ` (${STEP_LABEL[r.pendingStep]})`) : null),
    h('td', null, h('time', { datetime: r.receivedAt, title: `Received ${dateTime(r.receivedAt)}` }, ageOf(r.receivedAt))),
    h('td', null, slaBadge(r) ?? h('span', { class: 'muted' }, '—')),
    h('td', null, r.channel === 'phone' ? 'Phone' : 'Web'),
  );
}

export const statusWord = (s: Status): string => STATUS_LABEL[s];
