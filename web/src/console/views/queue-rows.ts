import { serves } from '../../../../functions/lib/domain/seats';
import type { CohortView, ReferralSummary } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { h } from '../dom';
import { ageOf, dateTime, STEP_LABEL, words } from '../format';
import { hasSessionsLeft } from './cohorts';
import { routineBadge, slaBadge, statusBadge, urgentBadge } from './common';

// the rows of the work queues (./queues.ts): a referral as one table row, and for the waitlist the
// seats free now and who each is offered to

export type RowKind = 'default' | 'first-session' | 'waitlist';

interface SeatOffers {
  /** the seats free now, said above the waitlist */
  el: HTMLElement;
  ready: Promise<{ offer(r: ReferralSummary): CohortView | undefined }>;
}

/**
 * The seats free now (cohorts with a session left and a seat), and who each is offered to: down
 * the waitlist in its order (longest waiting first), each person the next free seat of a cohort
 * that serves their track.
 */
export function seatOffers(): SeatOffers {
  const el = h('div', { class: 'notice info seats-free', role: 'status' }, 'Looking for free seats…');
  const ready = api.cohorts().then((res) => {
    const open = res.ok ? res.data.items.filter((c) => c.seatsLeft > 0 && hasSessionsLeft(c)) : [];
    const left = new Map(open.map((c) => [c.cohortId, c.seatsLeft]));
    if (!res.ok) el.replaceChildren('The cohorts could not be loaded: free seats are not shown.');
    else if (!open.length)
      el.replaceChildren(
        'No seat is free in any cohort now. A seat that appears (a new cohort, a no-show, a withdrawal before the start) is offered here to whoever has waited longest.',
      );
    else {
      el.replaceChildren(
        h('strong', null, 'Seats free now: '),
        open.map((c) => `${c.name} (${c.track}, ${c.seatsLeft} seat${c.seatsLeft === 1 ? '' : 's'})`).join('; '),
        '. Offer them down the list, longest waiting first: open the referral and choose the cohort.',
      );
    }
    return {
      offer: (r: ReferralSummary): CohortView | undefined => {
        const track = r.waitlist?.track ?? 'any';
        const c = open.find((x) => (left.get(x.cohortId) ?? 0) > 0 && serves(x.track, track));
        if (c) left.set(c.cohortId, left.get(c.cohortId)! - 1);
        return c;
      },
    };
  });
  return { el, ready };
}

export function row(r: ReferralSummary, me: string, kind: RowKind = 'default', offer?: CohortView): HTMLTableRowElement {
  const since = r.waitlist?.since ?? r.gateOpenedAt ?? r.receivedAt;
  return h(
    'tr',
    { class: r.urgent ? 'urgent-row' : undefined },
    h('td', null, r.urgent ? urgentBadge() : routineBadge()),
    h('td', null, h('a', { href: `#/referral/${encodeURIComponent(r.referralId)}`, class: 'ref' }, r.reference)),
    h('td', { class: 'name' }, h('bdi', null, r.displayName)),
    kind === 'waitlist'
      ? h('td', null, r.waitlist ? words(r.waitlist.track) : '—')
      : h(
          'td',
          null,
          statusBadge(r.status),
          r.pendingStep && r.status === 'NEEDS_ATTENTION' ? h('span', { class: 'muted' }, ` (${STEP_LABEL[r.pendingStep]})`) : null,
        ),
    kind === 'waitlist'
      ? h('td', null, h('time', { datetime: since, title: `Waitlisted ${dateTime(since)}` }, ageOf(since)))
      : kind === 'first-session'
        ? h(
            'td',
            null,
            r.firstSession ? h('time', { datetime: r.firstSession.at }, dateTime(r.firstSession.at)) : '—',
            r.firstSession?.retries ? h('span', { class: 'muted' }, ` (missed ${r.firstSession.retries})`) : null,
          )
        : h('td', null, h('time', { datetime: r.receivedAt, title: `Received ${dateTime(r.receivedAt)}` }, ageOf(r.receivedAt))),
    kind === 'waitlist'
      ? h(
          'td',
          null,
          offer ? h('span', { class: 'badge match offer' }, `Offer a seat in ${offer.name}`) : h('span', { class: 'muted' }, 'None free'),
        )
      : h('td', null, slaBadge(r) ?? h('span', { class: 'muted' }, '—')),
    h('td', null, r.assignedTo ? (r.assignedTo === me ? 'You' : r.assignedTo) : h('span', { class: 'muted' }, 'Nobody')),
    h('td', null, r.channel === 'phone' ? 'Phone' : 'Web'),
  );
}
