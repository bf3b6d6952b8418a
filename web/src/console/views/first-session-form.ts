import { MAX_FIRST_SESSION_RETRIES } from '../../../../functions/lib/schemas/decisions';
import type { CohortView, ReferralDetail } from '../../../../functions/lib/schemas/views';
import { type Child, h } from '../dom';
import { dateTime, sessionTime, todayYmd } from '../format';
import { input, opt, radios, textarea } from '../forms';
import { locationText } from './cohorts';
import { CONTACT_CHANNEL, CONTACT_OUTCOME } from './timeline';

// the first-session decision (./decisions.ts): did the person come; if not, keep the seat for the
// next session (at most MAX_FIRST_SESSION_RETRIES times) or close as a no-show

/**
 * whether the person came, and what happens when they did not; `cohorts` (the referral page's
 * list, undefined when it could not be loaded) names the cohort and its place
 */
export function firstSessionForm(r: ReferralDetail, cohorts: readonly CohortView[] | undefined): { fields: Child[]; body(): unknown } {
  const fs = r.firstSession;
  const retries = fs?.retries ?? 0;
  const c = fs && r.cohortId ? cohorts?.find((x) => x.cohortId === r.cohortId) : undefined;
  const expected = h(
    'p',
    { class: 'first-session-at' },
    fs && c
      ? [
          'Expected at the first session: ',
          h('time', { datetime: fs.at }, sessionTime(fs.at, c.timeZone)),
          ` in ${c.name} (${locationText(c)})`,
        ]
      : fs
        ? ['Expected at the first session: ', h('time', { datetime: fs.at }, dateTime(fs.at))]
        : 'The first session is not known.',
  );
  const cameGroup = h('div', { class: 'subform', hidden: true });
  const missedGroup = h('div', { class: 'subform', hidden: true });
  const attended = radios({
    label: 'Did the person come to the first session?',
    path: 'attended',
    required: true,
    options: [
      {
        value: 'true',
        label: 'Yes, the person came',
        detail: 'Started: the referral closes as started; the referrer is told (with consent)',
      },
      { value: 'false', label: 'No, the person did not come' },
    ],
    onchange: (v) => {
      cameGroup.hidden = v !== 'true';
      missedGroup.hidden = v !== 'false';
    },
  });
  const on = input({
    label: 'Attended on',
    path: 'on',
    type: 'date',
    required: true,
    hint: 'The day of the session the person came to.',
    attrs: { max: todayYmd(), min: fs?.at.slice(0, 10) },
  });
  cameGroup.append(on.el);
  const left = MAX_FIRST_SESSION_RETRIES - retries;
  const next = radios({
    label: 'What happens next?',
    path: 'next',
    required: true,
    options: [
      {
        value: 'retry',
        label: 'Keep the seat: wait for the next session',
        disabled: left <= 0,
        detail:
          left > 0
            ? `${left} of ${MAX_FIRST_SESSION_RETRIES} retries left. The person gets an email with the next session; call them before it (a reminder goes on the timeline).`
            : `Both retries were used: a missed session now closes the referral.`,
      },
      {
        value: 'close',
        label: 'Close as a no-show',
        detail: 'The seat is given back (for the waitlist); the person and, with consent, the referrer are told',
      },
    ],
  });
  missedGroup.append(next.el);
  const note = textarea({ label: 'Note', path: 'note', hint: 'Optional, at most 1000 characters. Staff-only.' });
  return {
    fields: [expected, attended.el, cameGroup, missedGroup, note.el],
    body: () => {
      const a = attended.value();
      if (a === 'true') return { attended: true, on: on.control.value, note: opt(note.control.value) };
      if (a === 'false') return { attended: false, next: next.value() || undefined, note: opt(note.control.value) };
      return { attended: undefined };
    },
  };
}

/** after a missed first session: how many, the reminder to call, and whether the contact log has the call since */
export function missedNote(r: ReferralDetail): HTMLElement | null {
  const n = r.firstSession?.retries ?? 0;
  if (!n) return null;
  const reminder = [...r.events].reverse().find((e) => e.type === 'CONTACT_REMINDER');
  const called = r.lastContact && (!reminder || r.lastContact.at >= reminder.at) ? r.lastContact : undefined;
  return h(
    'p',
    { class: 'notice warn missed-note' },
    h('span', { 'aria-hidden': 'true' }, '! '),
    `The person missed ${n === 1 ? 'one session' : `${n} sessions`} already. Call them before the next one: what is in the way (transport, work, child care)? `,
    called
      ? `Contact logged since: ${CONTACT_CHANNEL[called.channel] ?? called.channel}, ${CONTACT_OUTCOME[called.outcome] ?? called.outcome} (${dateTime(called.at)}).`
      : 'No contact is logged since: log the call under Follow-up.',
  );
}
