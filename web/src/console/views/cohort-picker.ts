import { serves, type TrackPreference } from '../../../../functions/lib/domain/seats';
import type { CohortView, ReferralDetail } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { h, mount, type Child } from '../dom';
import { ageOf, calendarDay, dateTime, sessionTime } from '../format';
import { opt, radios, textarea } from '../forms';
import { hasSessionsLeft, locationText, sessionsText } from './cohorts';

// the cohort list of the enrollment and waitlist forms (./decisions.ts): the cohorts a person can
// still join, seats and schedule in words, and the waitlist choice

export interface CohortPicker {
  fields: Child[];
  /** the enrollment or waitlist body: a cohort, or the waitlist */
  body(): unknown;
  /** after a 409 CohortFull: load the cohorts again */
  onCohortFull(): void;
}

/** the value of the waitlist choice in the enrollment form's cohort list */
const WAITLIST = 'waitlist';

/**
 * The cohorts a person can still join (a session ahead), the soonest next session first; full ones
 * listed but disabled. At enrollment the list ends with the waitlist, open only when every cohort
 * of the person's track (a preference of "any" takes both) is full; from the waitlist, cohorts
 * with a seat in the person's track come first.
 */
export function cohortPicker(r: ReferralDetail, withWaitlist: boolean, cohorts: readonly CohortView[] | undefined): CohortPicker {
  const holder = h('div', { class: 'cohort-picker' }, h('p', { class: 'loading' }, 'Loading cohorts…'));
  let value = (): string => '';
  const note = textarea({ label: 'Note', path: 'note', hint: 'Optional, at most 1000 characters. Staff-only.' });
  const pref = r.intake.schedulePreference as TrackPreference;
  /** the referral page's list, or a fresh one (after a 409, or when the page's could not be loaded) */
  const load = async (): Promise<void> => {
    const res = await api.cohorts();
    if (!res.ok) {
      mount(holder, h('p', { class: 'notice error', role: 'alert' }, `Cohorts could not be loaded: ${res.error.message}`));
      return;
    }
    draw(res.data.items);
  };
  const draw = (all: readonly CohortView[]): void => {
    const fits = (c: CohortView) => serves(c.track, pref) && c.seatsLeft > 0;
    const items = all
      .filter(hasSessionsLeft)
      .sort(
        (a, b) =>
          (withWaitlist ? 0 : Number(fits(b)) - Number(fits(a))) ||
          (a.nextSessions[0] ?? '').localeCompare(b.nextSessions[0] ?? '') ||
          a.name.localeCompare(b.name),
      );
    const open = items.filter(fits);
    if (!items.length && !withWaitlist) {
      mount(
        holder,
        h(
          'p',
          { class: 'notice warn' },
          all.length
            ? 'Every cohort has ended: no session is left to join. A supervisor creates new ones under Cohorts.'
            : 'No cohorts exist yet. A supervisor creates them under Cohorts.',
        ),
      );
      return;
    }
    const track = pref === 'any' ? 'any track' : `the ${pref} track`;
    const options = items.map((c) => cohortOption(c, pref));
    if (withWaitlist) {
      options.push({
        value: WAITLIST,
        disabled: open.length > 0,
        label: 'Put on the waitlist',
        detail: [
          open.length
            ? `Not while ${open.length === 1 ? 'a cohort' : `${open.length} cohorts`} of ${track} ${open.length === 1 ? 'has' : 'have'} seats: enrol the person instead.`
            : `Every cohort of ${track} with sessions left is full. The person and, with consent, the referrer are told; the program is reminded to review it every week, and a seat that appears is offered to whoever waited longest.`,
        ],
      });
    }
    const group = radios({
      label: withWaitlist ? 'Cohort, or the waitlist' : 'Cohort',
      path: 'cohortId',
      required: true,
      hint: `The person prefers: ${pref}. Full cohorts cannot be chosen.${!items.length ? ' No cohort has a session left.' : ''}`,
      options,
    });
    value = group.value;
    mount(holder, group.el);
  };
  if (cohorts) draw(cohorts);
  else void load();
  return {
    fields: [holder, note.el],
    body: () =>
      value() === WAITLIST
        ? { waitlist: true, note: opt(note.control.value) }
        : { cohortId: value() || undefined, note: opt(note.control.value) },
    onCohortFull: () => void load(),
  };
}

/** "starts Mon, Dec 7" or, once it has met, "started Nov 2 · next Mon, Dec 7 · 14 of 24 sessions left" */
function startText(c: CohortView): string {
  const next = c.nextSessions[0];
  const late = c.sessionsLeft !== undefined && c.sessionsTotal !== undefined && c.sessionsLeft < c.sessionsTotal;
  if (!late) return `starts ${next ? sessionTime(next, c.timeZone) : calendarDay(c.startDate)}`;
  return `started ${calendarDay(c.startDate)} · joins at the next session, ${next ? sessionTime(next, c.timeZone) : '—'} · ${c.sessionsLeft} of ${c.sessionsTotal} sessions left`;
}

function cohortOption(c: CohortView, pref: string) {
  const full = c.seatsLeft <= 0;
  return {
    value: c.cohortId,
    disabled: full,
    label: `${c.name} — ${c.track} track`,
    detail: [
      h('span', { class: full ? 'seats full' : 'seats' }, full ? 'Full — no seats left' : `${c.seatsLeft} of ${c.capacity} seats left`),
      ` · ${startText(c)} · ${sessionsText(c)} · ${locationText(c)}`,
      pref !== 'any' && pref === c.track ? h('span', { class: 'badge match' }, 'Matches preference') : null,
    ],
  };
}

/** at the waitlist: since when, for which track, and how to take the person off it */
export function waitlistNote(r: ReferralDetail): HTMLElement {
  const w = r.waitlist;
  return h(
    'p',
    { class: 'notice info waitlist-note' },
    w
      ? `On the waitlist for ${ageOf(w.since)} (since ${dateTime(w.since)}), ${w.track === 'any' ? 'any track' : `${w.track} track`}. `
      : 'On the waitlist. ',
    'When a seat is free, choose its cohort below. To take the person off the waitlist, use Withdraw.',
  );
}
