import type { Status } from '../../../../functions/lib/schemas/views';
import { api, call, type QueuePage } from '../api';
import { announce, h, mount } from '../dom';
import { loading, problem, type ViewContext } from './common';
import { row, type RowKind, seatOffers } from './queue-rows';

// work queues: "My referrals" (the caller's caseload), one tab per pending step plus
// needs-attention (ARIA tabs, manual activation), urgent first as the server orders them, counts
// from the dashboard and urgent counts from the queues themselves, search (a reference is looked up
// in every status), "Load more". Opened without a tab, the view shows the first queue with urgent
// work, else the caller's own referrals, else the first queue with any. The waitlist is ordered by
// waiting time alone (longest first, urgent or not): it shows the seats free now and marks who
// each is offered to; it is never where the queue opens (waiting there is not work until a seat is free).

export const QUEUE_TABS = [
  { id: 'mine', label: 'My referrals' },
  { id: 'insurance-review', label: 'Insurance review', status: 'INSURANCE_REVIEW' },
  { id: 'evaluation', label: 'Evaluation', status: 'EVALUATION' },
  { id: 'detox-confirmation', label: 'Detox confirmation', status: 'DETOX' },
  { id: 'enrollment', label: 'Enrollment', status: 'ENROLLMENT' },
  { id: 'first-session', label: 'First session', status: 'ENROLLED' },
  { id: 'waitlist', label: 'Waitlist', status: 'WAITLISTED' },
  { id: 'needs-attention', label: 'Needs attention', status: 'NEEDS_ATTENTION' },
] as const satisfies ReadonlyArray<{ id: string; label: string; status?: Status }>;

export type QueueTab = (typeof QUEUE_TABS)[number]['id'];
export const isQueueTab = (s: string): s is QueueTab => QUEUE_TABS.some((t) => t.id === s);
const statusOf = (id: QueueTab): Status | undefined => {
  const t = QUEUE_TABS.find((x) => x.id === id);
  return t && 'status' in t ? t.status : undefined;
};
export const tabForStatus = (s: Status): QueueTab | undefined => QUEUE_TABS.find((t) => 'status' in t && t.status === s)?.id;

// the search text stays in memory only (a last name is PHI: never in the URL or storage)
let searchText = '';
let searchAll = false;

/**
 * A reference as people type or read it out ("iop 7kq4 m3td", "IOP-7KQ4-M3TD"), written as the
 * API knows it; undefined for anything else (a last name).
 */
const asReference = (q: string): string | undefined => {
  const m = /^IOP[\s-]*([A-Z0-9]{4})[\s-]*([A-Z0-9]{4})$/i.exec(q.trim());
  return m ? `IOP-${m[1]}-${m[2]}`.toUpperCase() : undefined;
};

/** urgent referrals waiting in one queue: n, and whether there are more than were counted */
interface UrgentCount {
  n: number;
  more: boolean;
}

const URGENT_PAGE = 50;
const URGENT_PAGES = 4;

/** the waitlist is ordered by waiting time, not urgent first */
const BY_WAITING_TIME: readonly Status[] = ['WAITLISTED'];

/**
 * Counts the urgent referrals of a queue from GET /api/staff/referrals, which lists urgent first:
 * read until the first routine one (at most URGENT_PAGES pages); the waitlist, ordered by waiting
 * time, is counted over those pages. The dashboard has only the program-wide `urgentOpen`, not a
 * count per status.
 */
async function urgentWaiting(status: Status): Promise<UrgentCount | undefined> {
  let n = 0;
  let cursor: string | undefined;
  for (let page = 0; page < URGENT_PAGES; page++) {
    const params = new URLSearchParams({ status, limit: String(URGENT_PAGE) });
    if (cursor) params.set('cursor', cursor);
    const res = await call<QueuePage>('GET', `/api/staff/referrals?${params.toString()}`);
    if (!res.ok) return undefined;
    const byWaiting = BY_WAITING_TIME.includes(status);
    const routine = byWaiting ? -1 : res.data.items.findIndex((r) => !r.urgent);
    if (routine >= 0) return { n: n + routine, more: false };
    n += byWaiting ? res.data.items.filter((r) => r.urgent).length : res.data.items.length;
    cursor = res.data.nextCursor;
    if (!cursor) return { n, more: false };
  }
  return { n, more: true };
}

interface TabCounts {
  waiting?: number;
  /** more waiting than counted (My referrals counts its first page) */
  more?: boolean;
  urgent?: UrgentCount;
}

/**
 * where the queue opens without a tab: a step queue with urgent work first (an urgent referral is
 * everyone's until someone takes it), else the caller's own referrals, else any work, else the
 * first step queue
 */
const openingTab = (counts: ReadonlyMap<QueueTab, TabCounts>): { tab: QueueTab; urgent: boolean } => {
  const steps = QUEUE_TABS.filter((t) => t.id !== 'mine' && t.id !== 'waitlist');
  const urgent = steps.find((t) => (counts.get(t.id)?.urgent?.n ?? 0) > 0);
  if (urgent) return { tab: urgent.id, urgent: true };
  if ((counts.get('mine')?.waiting ?? 0) > 0) return { tab: 'mine', urgent: (counts.get('mine')?.urgent?.n ?? 0) > 0 };
  const waiting = steps.find((t) => (counts.get(t.id)?.waiting ?? 0) > 0);
  return { tab: waiting?.id ?? steps[0]!.id, urgent: false };
};

/** "My referrals": how many the caller owns (first page) and how many of them are urgent */
async function mineCounts(): Promise<TabCounts> {
  const res = await api.caseload();
  if (!res.ok) return {};
  const n = res.data.items.filter((r) => r.urgent).length;
  return {
    waiting: res.data.items.length,
    more: !!res.data.nextCursor,
    urgent: { n, more: !!res.data.nextCursor && n === res.data.items.length },
  };
}

export interface QueueView {
  el: HTMLElement;
  select(tab: QueueTab, focusTab: boolean): void;
}

/**
 * The queue view on `initial`, or, without one, on the first queue with urgent work (else the
 * first with any) once the counts are in.
 */
export function queueView(ctx: ViewContext, initial: QueueTab | undefined): QueueView {
  let current: QueueTab = initial ?? QUEUE_TABS[0].id;
  let chosen = false;
  let generation = 0;

  const tabButtons = new Map<QueueTab, HTMLButtonElement>();
  const countEls = new Map<QueueTab, HTMLSpanElement>();
  const urgentEls = new Map<QueueTab, HTMLSpanElement>();
  const panel = h('div', { class: 'tabpanel', role: 'tabpanel', id: 'queue-panel', tabindex: '0' });
  const opening = h('p', { class: 'queue-opening', role: 'status' });

  const tablist = h('div', { role: 'tablist', 'aria-label': 'Work queues', class: 'tabs' });
  for (const t of QUEUE_TABS) {
    // the tab's name is its text: "Evaluation 4 waiting, 2 urgent" (words a screen reader reads, a
    // badge a sighted person sees)
    const count = h('span', { class: 'count' });
    const urgent = h('span', { class: 'tab-urgent', hidden: true });
    countEls.set(t.id, count);
    urgentEls.set(t.id, urgent);
    const btn = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${t.id}`,
        'aria-controls': 'queue-panel',
        class: `tab${t.id === 'needs-attention' ? ' attention' : ''}`,
      },
      t.id === 'needs-attention' ? h('span', { 'aria-hidden': 'true' }, '! ') : null,
      t.label,
      count,
      urgent,
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
    const to =
      e.key === 'ArrowRight'
        ? ids[(i + 1) % ids.length]
        : e.key === 'ArrowLeft'
          ? ids[(i - 1 + ids.length) % ids.length]
          : e.key === 'Home'
            ? ids[0]
            : e.key === 'End'
              ? ids[ids.length - 1]
              : undefined;
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
  const scope = h('input', { id: 'queue-all', type: 'checkbox', 'aria-describedby': 'queue-all-hint' });
  scope.checked = searchAll;
  const searchForm = h(
    'form',
    { role: 'search', class: 'queue-search', 'aria-label': 'Find a referral' },
    h('div', { class: 'field inline' }, h('label', { for: 'queue-q' }, 'Find by reference or last name'), searchInput),
    h(
      'div',
      { class: 'choice' },
      scope,
      h('label', { for: 'queue-all' }, 'Search all statuses'),
      h('span', { id: 'queue-all-hint', class: 'hint' }, 'for a last name; a reference is always found in every status'),
    ),
    h('button', { type: 'submit' }, 'Search'),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          searchInput.value = '';
          searchText = '';
          load();
        },
      },
      'Clear',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          load();
          loadCounts();
        },
      },
      'Refresh',
    ),
  );
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const reference = asReference(searchInput.value);
    if (reference) searchInput.value = reference;
    searchText = reference ?? searchInput.value.trim();
    searchAll = scope.checked;
    load();
  });

  const el = h(
    'section',
    { class: 'queues', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Work queues'),
    searchForm,
    opening,
    tablist,
    panel,
  );

  /** waiting (dashboard) and urgent (the queues) per tab, shown on the tabs; My referrals from the caseload */
  async function loadCounts(): Promise<Map<QueueTab, TabCounts>> {
    const [dash, mine, ...urgent] = await Promise.all([
      api.dashboard(),
      mineCounts(),
      ...QUEUE_TABS.map((t) => ('status' in t ? urgentWaiting(t.status) : Promise.resolve(undefined))),
    ]);
    const counts = new Map<QueueTab, TabCounts>();
    if (!ctx.alive()) return counts;
    QUEUE_TABS.forEach((t, i) => {
      const c: TabCounts = 'status' in t ? { waiting: dash.ok ? (dash.data.byStatus[t.status] ?? 0) : undefined, urgent: urgent[i] } : mine;
      const { waiting, urgent: u } = c;
      counts.set(t.id, c);
      const count = countEls.get(t.id)!;
      count.replaceChildren(
        ...(waiting === undefined
          ? []
          : [
              ` ${waiting}${c.more ? '+' : ''}`,
              h('span', { class: 'visually-hidden' }, t.id === 'mine' ? ' assigned to you' : ' waiting'),
            ]),
      );
      const badge = urgentEls.get(t.id)!;
      badge.hidden = !u || u.n === 0;
      badge.replaceChildren(
        ...(u && u.n > 0
          ? [h('span', { class: 'visually-hidden' }, ', '), h('span', { 'aria-hidden': 'true' }, '⚠ '), `${u.n}${u.more ? '+' : ''} urgent`]
          : []),
      );
    });
    return counts;
  }

  function select(id: QueueTab, focusTab: boolean): void {
    chosen = true;
    current = id;
    opening.textContent = '';
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
    // a reference names one referral: it is found whatever its status, from any tab
    const reference = q !== '' && asReference(q) === q;
    const status = q && (searchAll || reference) ? undefined : statusOf(tab.id);
    // My referrals without a search: the caller's caseload (a search there looks in every status)
    const mine = tab.id === 'mine' && !q;
    const kind: RowKind = q ? 'default' : tab.id === 'waitlist' ? 'waitlist' : tab.id === 'first-session' ? 'first-session' : 'default';
    // the waitlist: the seats free now, offered down the list (longest waiting first)
    const seats = kind === 'waitlist' ? seatOffers() : undefined;
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
          kind === 'waitlist' ? h('th', { scope: 'col' }, 'Track') : h('th', { scope: 'col' }, 'Status'),
          kind === 'waitlist'
            ? h('th', { scope: 'col' }, 'Waiting')
            : kind === 'first-session'
              ? h('th', { scope: 'col' }, 'First session')
              : h('th', { scope: 'col' }, h('abbr', { title: 'Time since intake' }, 'Age')),
          kind === 'waitlist' ? h('th', { scope: 'col' }, 'Seat') : h('th', { scope: 'col' }, 'Timer (SLA)'),
          h('th', { scope: 'col' }, 'Assigned to'),
          h('th', { scope: 'col' }, 'Channel'),
        ),
      ),
      rows,
    );
    const empty = h('p', { class: 'empty', hidden: true });

    const page = async (): Promise<void> => {
      more.disabled = true;
      const res = mine ? await api.caseload({ cursor }) : await api.queue({ status, q: q || undefined, cursor });
      if (!ctx.alive() || gen !== generation) return;
      more.disabled = false;
      if (!res.ok) {
        mount(panel, problem(res.error, res.status, h('button', { type: 'button', onclick: () => load() }, 'Try again')));
        return;
      }
      const firstNew = shown;
      const offers = seats ? await seats.ready : undefined;
      if (!ctx.alive() || gen !== generation) return;
      for (const r of res.data.items) rows.append(row(r, ctx.session.username, kind, offers?.offer(r)));
      shown += res.data.items.length;
      cursor = res.data.nextCursor;
      more.hidden = !cursor;
      const where = q
        ? `Results for “${q}” in ${status ? `${tab.label.toLowerCase()}` : 'all statuses'}`
        : mine
          ? 'Open referrals assigned to you'
          : `${tab.label} queue`;
      caption.textContent = `${where}: ${shown} shown${cursor ? ', more available' : ''}, ${kind === 'waitlist' ? 'longest waiting first' : 'urgent first'}`;
      table.hidden = shown === 0;
      empty.hidden = shown !== 0;
      empty.textContent = reference
        ? `No referral has the reference ${q}, in any status.`
        : q
          ? `No referral matches “${q}”${status ? ` in ${tab.label.toLowerCase()}` : ''}.`
          : mine
            ? 'No open referral is assigned to you. Open one from a queue and choose “Assign to me”.'
            : `No referrals waiting for ${tab.label.toLowerCase()}.`;
      if (firstNew > 0) {
        announce(`${res.data.items.length} more loaded`);
        rows.children[firstNew]?.querySelector('a')?.focus();
      } else if (q) {
        announce(`${shown} result${shown === 1 ? '' : 's'}${cursor ? ', more available' : ''}`);
      }
    };
    more.addEventListener('click', () => void page());
    mount(panel, ...(seats ? [seats.el] : []), table, empty, h('p', { class: 'actions' }, more));
    void page();
  }

  if (initial) {
    select(initial, false);
    void loadCounts();
  } else {
    mount(panel, loading('the queues'));
    void loadCounts().then((counts) => {
      // a tab chosen meanwhile (click, hash) wins
      if (!ctx.alive() || chosen) return;
      const open = openingTab(counts);
      const label = QUEUE_TABS.find((t) => t.id === open.tab)!.label;
      const n = counts.get(open.tab)?.urgent;
      select(open.tab, false);
      if (open.urgent && n)
        opening.textContent = `Opened on ${label}: ${n.n}${n.more ? '+' : ''} urgent referral${n.n === 1 ? '' : 's'} waiting.`;
    });
  }
  return { el, select };
}
