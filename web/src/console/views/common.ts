import type { ErrorBody, ReferralSummary, SlaState, Status } from '../../../../functions/lib/schemas/views';
import type { Session } from '../auth';
import { h, type Child } from '../dom';
import { duration, SLA_LABEL, STATUS_LABEL } from '../format';

// pieces every view uses; every badge carries a word and a shape, never color alone

export interface ViewContext {
  session: Session;
  /** false once the user navigated away: late answers are dropped */
  alive(): boolean;
  /** render the current route again (after a decision, a reload button) */
  reload(): void;
}

export const urgentBadge = (): HTMLElement => h('span', { class: 'badge urgent' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Urgent');

export const routineBadge = (): HTMLElement => h('span', { class: 'badge routine' }, 'Routine');

const SLA_MARK: Record<SlaState, string> = { 'on-time': '●', 'due-soon': '▲', overdue: '■' };

/** "▲ Due soon · in 3 h"; an urgent referral's first contact says so: "● First contact: on time · due in 3 h" */
export function slaBadge(r: Pick<ReferralSummary, 'sla' | 'gateDueAt' | 'firstContact'>, now = Date.now()): HTMLElement | null {
  if (!r.sla) return null;
  let when = '';
  if (r.gateDueAt) {
    const ms = Date.parse(r.gateDueAt) - now;
    when = ms >= 0 ? ` · due in ${duration(ms)}` : ` · ${duration(-ms)} over`;
  }
  const label = r.firstContact ? `First contact: ${SLA_LABEL[r.sla].toLowerCase()}` : SLA_LABEL[r.sla];
  return h(
    'span',
    { class: `badge sla ${r.sla}${r.firstContact ? ' first-contact' : ''}` },
    h('span', { 'aria-hidden': 'true' }, `${SLA_MARK[r.sla]} `),
    label,
    h('span', { class: 'sla-when' }, when),
  );
}

export const statusBadge = (s: Status): HTMLElement => h('span', { class: `badge status status-${s.toLowerCase()}` }, STATUS_LABEL[s]);

/** the message for an API failure; 403 says clearly that the account lacks the role */
export function problem(err: ErrorBody, status: number, ...actions: Child[]): HTMLElement {
  if (status === 403) {
    return h(
      'div',
      { class: 'notice error', role: 'alert' },
      h('h2', null, 'Not allowed for your account'),
      h(
        'p',
        null,
        'Your account does not have the role this needs (case workers for referrals, supervisors for creating cohorts). Ask a supervisor or your administrator if you should have access.',
      ),
      h('p', { class: 'muted' }, `Server said: ${err.message}`),
      actions.length ? h('p', { class: 'actions' }, actions) : null,
    );
  }
  return h(
    'div',
    { class: 'notice error', role: 'alert' },
    h('h2', null, status === 404 ? 'Not found' : status === 0 ? 'No connection' : 'Something went wrong'),
    h('p', null, err.message),
    actions.length ? h('p', { class: 'actions' }, actions) : null,
  );
}

export const loading = (what: string): HTMLElement => h('p', { class: 'loading', role: 'status' }, `Loading ${what}…`);

/** polls `check` until it returns a value or `timeoutMs` passes; async workflow steps settle this way */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 400): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return undefined;
}

/**
 * a person's name as they typed it: each part isolated (`<bdi>`), so a right-to-left mark or
 * override in one part cannot reorder the other or the text around it
 */
export const personName = (first: string, last: string): HTMLElement => h('span', null, h('bdi', null, first), ' ', h('bdi', null, last));

/** `<dl>` from pairs; values are text */
export const defs = (pairs: Array<[string, Child]>): HTMLDListElement =>
  h(
    'dl',
    { class: 'defs' },
    pairs.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v === '' || v === undefined || v === null ? '—' : v))),
  );
