import type { z } from 'zod';
import { ASAM_DIMENSIONS, ASAM_LEVELS, DecisionSchemas, type Step } from '../../../../functions/lib/schemas/decisions';
import { type CohortView, FINAL_STATUSES, type ReferralDetail } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { announce, h, mount, type Child } from '../dom';
import { dateTime, sentence, STATUS_LABEL, STEP_LABEL, todayYmd } from '../format';
import { FormErrors, input, issuesToFields, num, opt, radios, requiredError, select, textarea } from '../forms';
import { waitFor, type ViewContext } from './common';
import { cohortPicker, waitlistNote } from './cohort-picker';
import { firstSessionForm, missedNote } from './first-session-form';
import { actorText, decisionText, type TimelineLookup } from './timeline';

// one form per human step (docs/ARCHITECTURE.md §2), validated in the browser with the same zod schemas the
// API uses; the server's answer (400 fields, 409 already decided / cohort full, 403) is shown in
// place. No field has a default: a decision is always an explicit choice.

const RISK = ['0 — none', '1 — mild', '2 — moderate', '3 — significant', '4 — severe'];

const LEVEL_LABEL: Record<(typeof ASAM_LEVELS)[number], string> = {
  '1.0': '1.0 Outpatient',
  '2.1': '2.1 Intensive outpatient (IOP)',
  '2.5': '2.5 Partial hospitalization',
  '3.1': '3.1 Clinically managed low-intensity residential',
  '3.5': '3.5 Clinically managed high-intensity residential',
  '3.7': '3.7 Medically monitored intensive inpatient',
  '4.0': '4.0 Medically managed intensive inpatient',
};

interface Built {
  fields: Child[];
  /** the request body from the inputs (validated by the step's schema before sending) */
  body(): unknown;
  /** after a 409 CohortFull, the enrollment form reloads its cohorts */
  onCohortFull?(): void;
}

/**
 * `cohorts`: the list the referral page loaded with the referral (undefined when that failed);
 * `lookup` names the cohorts of the decisions it shows
 */
export function decisionForm(
  ctx: ViewContext,
  r: ReferralDetail,
  cohorts: readonly CohortView[] | undefined,
  lookup: TimelineLookup,
): HTMLElement {
  const step = r.pendingStep!;
  const errors = new FormErrors('The decision was not sent');
  const built = BUILDERS[step](r, cohorts);
  const submit = h('button', { type: 'submit', class: 'primary' }, `Record ${STEP_LABEL[step].toLowerCase()} decision`);
  const outcome = h('div', { class: 'outcome', role: 'status' });
  const form = h(
    'form',
    { class: 'decision', novalidate: true, 'aria-labelledby': 'decision-h', 'data-step': step },
    errors.summary,
    built.fields,
    h('p', { class: 'actions' }, submit),
    outcome,
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void send();
  });

  async function send(): Promise<void> {
    errors.clear();
    outcome.replaceChildren();
    const schema = DecisionSchemas[step] as z.ZodType;
    // a missing answer reads "<label>: required" rather than zod's type wording
    const parsed = schema.safeParse(built.body(), { error: requiredError });
    if (!parsed.success) {
      errors.show(issuesToFields(parsed.error));
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Sending…';
    const res = await api.decide(r.referralId, step, parsed.data);
    submit.disabled = false;
    submit.textContent = `Record ${STEP_LABEL[step].toLowerCase()} decision`;
    if (!ctx.alive()) return;
    if (res.ok) {
      for (const c of form.querySelectorAll('input, select, textarea, button')) (c as HTMLInputElement).disabled = true;
      mount(
        outcome,
        h(
          'p',
          { class: 'notice ok' },
          h('span', { 'aria-hidden': 'true' }, '✓ '),
          `${STEP_LABEL[step]} decision recorded. Waiting for the workflow to move on…`,
        ),
      );
      announce(`${STEP_LABEL[step]} decision recorded`);
      const moved = await waitFor(async () => {
        if (!ctx.alive()) return null; // navigated away: stop polling
        const d = await api.referral(r.referralId);
        return d.ok && settledAfter(r, d.data) ? d.data : undefined;
      });
      if (!ctx.alive()) return;
      if (moved) {
        announce(`Status is now ${STATUS_LABEL[moved.status]}`);
        ctx.reload();
      } else {
        mount(
          outcome,
          h(
            'p',
            { class: 'notice warn' },
            'The decision was recorded, but the workflow has not moved on yet. ',
            h('button', { type: 'button', onclick: () => ctx.reload() }, 'Reload referral'),
          ),
        );
      }
      return;
    }
    if (res.status === 400 && res.error.fields) {
      errors.show(res.error.fields, res.error.message);
    } else if (res.status === 409 && res.error.error === 'CohortFull') {
      errors.message('That cohort is full', `${sentence(res.error.message)} The step is still pending: choose another cohort.`);
      built.onCohortFull?.();
    } else if (res.status === 409 && res.error.error === 'SeatsAvailable') {
      errors.message('Seats are open in this track', `${sentence(res.error.message)} The step is still pending.`);
      built.onCohortFull?.();
    } else if (res.status === 409 && res.error.error === 'CohortOver') {
      errors.message('No session is left', `${sentence(res.error.message)} The step is still pending.`);
      built.onCohortFull?.();
    } else if (res.status === 409) {
      errors.message(
        'Already decided',
        await whoDecided(r, step, res.error.message, lookup),
        h('button', { type: 'button', onclick: () => ctx.reload() }, 'Reload referral'),
      );
    } else if (res.status === 403) {
      errors.message(
        'Not allowed for your account',
        `Your account does not have the case-worker role needed to decide this step. Server said: ${sentence(res.error.message)}`,
      );
    } else if (res.status !== 401) {
      errors.message('The decision was not recorded', res.error.message, h('button', { type: 'submit' }, 'Try again'));
    }
  }

  return h(
    'section',
    { class: 'panel decision-panel', 'aria-labelledby': 'decision-h' },
    h('h2', { id: 'decision-h' }, `Decision: ${STEP_LABEL[step]}`),
    r.status === 'NEEDS_ATTENTION'
      ? h(
          'p',
          { class: 'notice warn' },
          h('span', { 'aria-hidden': 'true' }, '! '),
          'This referral needs attention: its timer passed twice. It can still be decided here.',
        )
      : null,
    step === 'waitlist' ? waitlistNote(r) : null,
    step === 'first-session' ? missedNote(r) : null,
    form,
  );
}

/**
 * Who decided `step` meanwhile, when, and what: "Evaluation was decided by sam (staff) on Dec 1,
 * 2026, 2:44 PM: Accepted into IOP (no detox needed). The referral is now at Enrollment."
 */
async function whoDecided(before: ReferralDetail, step: Step, serverSaid: string, lookup: TimelineLookup): Promise<string> {
  const now = await api.referral(before.referralId);
  if (!now.ok) return `This step is no longer pending. Server said: ${sentence(serverSaid)}`;
  const decided = [...now.data.events].reverse().find((e) => e.type === 'STEP_DECIDED' && e.step === step);
  const where = `The referral is now ${FINAL_STATUSES.includes(now.data.status) ? 'closed' : 'at'} ${STATUS_LABEL[now.data.status]}${now.data.pendingStep ? ` (${STEP_LABEL[now.data.pendingStep]} pending)` : ''}.`;
  if (!decided) return `This step is no longer pending. ${where}`;
  const what = decisionText(step, decided.detail ?? {}, lookup)
    .map((l) => sentence(l))
    .join(' ');
  return `${STEP_LABEL[step]} was decided by ${actorText(decided)} on ${dateTime(decided.at)}: ${what} ${where}`;
}

/**
 * true once the workflow has moved on from `before` and come to rest: a final status, or a gate
 * that is open again (a new status, or the same gate reopened, e.g. detox extended)
 */
const settledAfter = (before: ReferralDetail, now: ReferralDetail): boolean =>
  FINAL_STATUSES.includes(now.status) ||
  (!!now.pendingStep &&
    (now.status !== before.status || now.pendingStep !== before.pendingStep || now.gateOpenedAt !== before.gateOpenedAt));

const BUILDERS: Record<Step, (r: ReferralDetail, cohorts: readonly CohortView[] | undefined) => Built> = {
  'insurance-review': (r) => {
    const decision = radios({
      label: 'Coverage decision',
      path: 'decision',
      required: true,
      hint: r.eligibility
        ? `Automatic check: ${r.eligibility.outcome} — ${r.eligibility.summary}`
        : 'No automatic check result is recorded.',
      options: [
        { value: 'covered', label: 'Covered', detail: 'Other coverage found, or state-funded' },
        { value: 'self-pay', label: 'Self-pay', detail: 'The person pays (sliding scale)' },
        { value: 'not-covered', label: 'Not covered', detail: 'Closes the referral; the referrer is told' },
      ],
    });
    const note = textarea({ label: 'Note', path: 'note', hint: 'Optional, at most 1000 characters. Staff-only.' });
    return { fields: [decision.el, note.el], body: () => ({ decision: decision.value() || undefined, note: opt(note.control.value) }) };
  },

  evaluation: () => {
    const dims = (Object.keys(ASAM_DIMENSIONS) as Array<keyof typeof ASAM_DIMENSIONS>).map((key, i) => ({
      key,
      field: select({
        label: `Dimension ${i + 1}: ${ASAM_DIMENSIONS[key]}`,
        path: `dimensions.${key}`,
        required: true,
        placeholder: 'Choose a risk rating',
        options: RISK.map((label, v) => ({ value: String(v), label })),
        class: 'dimension',
      }),
    }));
    const level = select({
      label: 'Recommended level of care (ASAM)',
      path: 'recommendedLevel',
      required: true,
      placeholder: 'Choose a level',
      options: ASAM_LEVELS.map((l) => ({ value: l, label: LEVEL_LABEL[l] })),
    });
    // asked only of an acceptance: a person referred out goes elsewhere, detox or not
    const detox = radios({
      label: 'Detox required before IOP?',
      path: 'detoxRequired',
      required: true,
      inline: true,
      options: [
        { value: 'true', label: 'Yes, detox first' },
        { value: 'false', label: 'No' },
      ],
    });
    detox.el.hidden = true;
    const referTo = input({
      label: 'Referred to',
      path: 'referOutTo',
      required: true,
      hint: 'The program or level of care the person is referred to.',
    });
    referTo.el.hidden = true;
    const decision = radios({
      label: 'Decision',
      path: 'decision',
      required: true,
      inline: true,
      options: [
        { value: 'accept', label: 'Accept into IOP' },
        { value: 'refer-out', label: 'Refer out' },
      ],
      onchange: (v) => {
        detox.el.hidden = v !== 'accept';
        referTo.el.hidden = v !== 'refer-out';
      },
    });
    const note = textarea({ label: 'Note', path: 'note', hint: 'Optional, at most 1000 characters. Staff-only.' });
    return {
      fields: [
        h(
          'fieldset',
          { class: 'asam' },
          h('legend', null, 'ASAM risk ratings (0–4)'),
          dims.map((d) => d.field.el),
        ),
        level.el,
        decision.el,
        detox.el,
        referTo.el,
        note.el,
      ],
      body: () => ({
        dimensions: Object.fromEntries(dims.map((d) => [d.key, num(d.field.control.value)])),
        recommendedLevel: level.control.value || undefined,
        detoxRequired: decision.value() !== 'accept' || detox.value() === '' ? undefined : detox.value() === 'true',
        decision: decision.value() || undefined,
        referOutTo: decision.value() === 'refer-out' ? opt(referTo.control.value) : undefined,
        note: opt(note.control.value),
      }),
    };
  },

  'detox-confirmation': () => {
    const doneGroup = h('div', { class: 'subform', hidden: true });
    const notGroup = h('div', { class: 'subform', hidden: true });
    const completed = radios({
      label: 'Is physical detox complete?',
      path: 'completed',
      required: true,
      options: [
        { value: 'true', label: 'Yes, detox is complete' },
        { value: 'false', label: 'No, not completed' },
      ],
      onchange: (v) => {
        doneGroup.hidden = v !== 'true';
        notGroup.hidden = v !== 'false';
      },
    });
    const on = input({ label: 'Completed on', path: 'completedOn', type: 'date', required: true, attrs: { max: todayYmd() } });
    const facility = input({ label: 'Detox facility', path: 'facility', hint: 'Optional.' });
    const instrument = select({
      label: 'Withdrawal scale',
      path: 'withdrawalScore.instrument',
      placeholder: 'No score recorded',
      options: [
        { value: 'CIWA-Ar', label: 'CIWA-Ar (alcohol, 0–67)' },
        { value: 'COWS', label: 'COWS (opioids, 0–48)' },
      ],
    });
    const score = input({
      label: 'Score at discharge',
      path: 'withdrawalScore.score',
      type: 'number',
      hint: 'Whole number; required when a scale is chosen.',
      attrs: { min: 0, max: 67, step: 1, inputmode: 'numeric' },
    });
    doneGroup.append(
      on.el,
      facility.el,
      h('fieldset', { class: 'score' }, h('legend', null, 'Withdrawal score (optional)'), instrument.el, score.el),
    );
    const next = radios({
      label: 'What happens next?',
      path: 'decision',
      required: true,
      options: [
        { value: 'extend', label: 'Extend: keep waiting for detox', detail: 'At most 30 days in all, then the referral expires' },
        { value: 'refer-out', label: 'Refer out', detail: 'Closes the referral' },
      ],
    });
    notGroup.append(next.el);
    const note = textarea({ label: 'Note', path: 'note', hint: 'Optional, at most 1000 characters. Staff-only.' });
    return {
      fields: [completed.el, doneGroup, notGroup, note.el],
      body: () => {
        const c = completed.value();
        if (c === 'true') {
          const inst = instrument.control.value;
          return {
            completed: true,
            completedOn: on.control.value,
            facility: opt(facility.control.value),
            withdrawalScore: inst ? { instrument: inst, score: num(score.control.value) } : undefined,
            note: opt(note.control.value),
          };
        }
        if (c === 'false') return { completed: false, decision: next.value() || undefined, note: opt(note.control.value) };
        return { completed: undefined };
      },
    };
  },

  enrollment: (r, cohorts) => cohortPicker(r, true, cohorts),

  waitlist: (r, cohorts) => cohortPicker(r, false, cohorts),

  'first-session': (r, cohorts) => firstSessionForm(r, cohorts),
};
