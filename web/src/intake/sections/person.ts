// the intake form's sections about the person: the safety screen (with the 988 box), about you,
// substances, withdrawal and detox, co-occurring conditions. each returns its element and what its
// fields hold (see ../collect.ts).
import { DETOX_STATUSES, SUBSTANCES } from '../../../../functions/lib/schemas/intake';
import { h } from '../../shared/dom';
import type { IntakeAnswers } from '../collect';
import type { FieldBuilders, FieldContext } from '../fields';

/** co-occurring conditions offered as checkboxes; sent as these codes in `coOccurring` */
const CONDITIONS = ['depression', 'anxiety', 'bipolar', 'ptsd', 'other'] as const;

/**
 * Safety first: the two screening questions; a "yes" shows the 988 box at once at the top of the
 * form (`crisisLive`, above any error list). On the public page it is scrolled to the top of the
 * screen and takes focus, so on a phone its call and text buttons are what the person sees next.
 */
export const safetySection = (b: FieldBuilders, ctx: FieldContext) => {
  const thoughts = b.yesNo('screening.selfHarmThoughtsPastMonth', 'safety.thoughts');
  const attempt = b.yesNo('screening.suicideAttemptPastThreeMonths', 'safety.attempt');
  const crisisLive = h('div', { class: 'crisis-live', role: 'alert' });
  const crisis = b.crisisBox(2, true);
  const crisisShown = (): boolean => crisisLive.contains(crisis);
  const bringCrisisIntoView = (): void => {
    if (ctx.staff) {
      // the staff member keeps typing: the box shows, focus stays on the answer
      crisis.scrollIntoView({ block: 'nearest' });
      return;
    }
    crisis.focus({ preventScroll: true });
    crisis.scrollIntoView({ block: 'start' });
  };
  /** shows or hides the box as the answers say; `reveal` brings a newly shown box into view */
  const updateCrisis = (reveal: boolean): void => {
    const positive = thoughts.value() === 'yes' || attempt.value() === 'yes';
    if (positive && !crisisShown()) {
      crisisLive.append(crisis);
      if (reveal) bringCrisisIntoView();
    }
    if (!positive && crisisShown()) crisis.remove();
  };
  for (const i of [...thoughts.inputs, ...attempt.inputs]) i.addEventListener('change', () => updateCrisis(true));
  return {
    element: b.section('safety.title', b.txt('p', 'safety.intro', { class: 'section__intro' }), thoughts.field, attempt.field),
    crisisLive,
    crisis,
    crisisShown,
    updateCrisis,
    read: (): Pick<IntakeAnswers, 'screening'> => ({ screening: { selfHarmThoughts: thoughts.value(), suicideAttempt: attempt.value() } }),
  };
};

export const aboutSection = (b: FieldBuilders, ctx: FieldContext) => {
  const firstName = b.inputField({
    path: 'patient.firstName',
    label: 'about.firstName',
    autocomplete: b.own('given-name'),
    spellcheck: false,
  });
  const lastName = b.inputField({
    path: 'patient.lastName',
    label: 'about.lastName',
    autocomplete: b.own('family-name'),
    spellcheck: false,
  });
  const dob = b.inputField({
    path: 'patient.dateOfBirth',
    label: 'about.dateOfBirth',
    type: 'date',
    autocomplete: b.own('bday'),
    width: 'medium',
  });
  const phone = b.inputField({
    path: 'patient.phone',
    label: 'about.phone',
    hint: 'about.phone.hint',
    type: 'tel',
    autocomplete: b.own('tel'),
    width: 'medium',
  });
  const email = b.inputField({
    path: 'patient.email',
    label: 'about.email',
    hint: 'about.email.hint',
    type: 'email',
    autocomplete: b.own('email'),
    spellcheck: false,
  });
  const postal = b.inputField({
    path: 'patient.postalCode',
    label: 'about.postalCode',
    autocomplete: b.own('postal-code'),
    inputmode: 'numeric',
    width: 'short',
  });
  return {
    element: b.section(
      'about.title',
      firstName.field,
      lastName.field,
      dob.field,
      phone.field,
      email.field,
      postal.field,
      b.txt('p', 'about.language', { class: 'note' }, () => ({ language: ctx.lang() === 'es' ? 'Spanish' : 'English' })),
    ),
    read: (): Pick<IntakeAnswers, 'patient'> => ({
      patient: {
        firstName: firstName.input.value,
        lastName: lastName.input.value,
        dateOfBirth: dob.input.value,
        phone: phone.input.value,
        email: email.input.value,
        postalCode: postal.input.value,
      },
    }),
  };
};

/** substances, each with its own "last use" revealed when ticked */
export const substancesSection = (b: FieldBuilders, ctx: FieldContext) => {
  const lastUse = new Map<string, { wrap: HTMLDivElement; field: HTMLDivElement; input: HTMLInputElement }>();
  const options = SUBSTANCES.map((s) => {
    const f = b.inputField({
      path: `lastUse.${s}`,
      label: 'substances.lastUse',
      labelVars: () => ({ substance: ctx.tr().t(`short.${s}`) }),
      hint: 'substances.lastUse.hint',
      type: 'date',
      width: 'medium',
    });
    const wrap = b.reveal(f.field);
    lastUse.set(s, { wrap, ...f });
    return { value: s, label: `substance.${s}` as const, reveal: wrap };
  });
  const substances = b.choiceGroup({
    path: 'substances',
    legend: 'substances.question',
    hint: 'substances.hint',
    type: 'checkbox',
    options,
  });
  /** error paths are by position in the body (`substances.1.lastUse`): number the visible ones */
  const renumber = (): void => {
    let n = 0;
    for (const s of SUBSTANCES) {
      const lu = lastUse.get(s);
      if (!lu) continue;
      const on = substances.input(s).checked;
      lu.wrap.hidden = !on;
      if (on) lu.field.dataset.path = `substances.${n++}.lastUse`;
      else delete lu.field.dataset.path;
    }
  };
  for (const i of substances.inputs) i.addEventListener('change', renumber);
  return {
    element: b.section('substances.title', substances.field),
    renumber,
    /** the ticked substances, in body order (error paths count them) */
    ticked: substances.values,
    read: (): Pick<IntakeAnswers, 'substances'> => ({
      substances: substances.values().map((s) => ({ substance: s, lastUse: lastUse.get(s)?.input.value ?? '' })),
    }),
  };
};

export const withdrawalSection = (b: FieldBuilders) => {
  const symptoms = b.yesNo('withdrawal.currentSymptoms', 'withdrawal.symptoms', 'withdrawal.symptoms.hint');
  const completedOn = b.inputField({ path: 'withdrawal.detoxCompletedOn', label: 'detox.completedOn', type: 'date', width: 'medium' });
  const completedWrap = b.reveal(completedOn.field);
  const detox = b.choiceGroup({
    path: 'withdrawal.detoxStatus',
    legend: 'withdrawal.detox',
    type: 'radio',
    options: DETOX_STATUSES.map((d) => ({
      value: d,
      label: `detox.${d}` as const,
      hint: d === 'unknown' ? ('detox.unknown.hint' as const) : undefined,
      reveal: d === 'completed' ? completedWrap : undefined,
    })),
  });
  for (const i of detox.inputs) i.addEventListener('change', () => (completedWrap.hidden = detox.value() !== 'completed'));
  return {
    element: b.section(
      'withdrawal.title',
      h(
        'div',
        { class: 'callout callout--warning' },
        b.txt(b.heading(3), 'withdrawal.warning.title', { class: 'callout__title' }),
        b.txt('p', 'withdrawal.warning.body'),
        b.txt('p', 'withdrawal.warning.now'),
        h('p', { class: 'actions' }, b.emergencyCall()),
      ),
      symptoms.field,
      detox.field,
    ),
    read: (): Pick<IntakeAnswers, 'withdrawal'> => ({
      withdrawal: { currentSymptoms: symptoms.value(), detoxStatus: detox.value(), detoxCompletedOn: completedOn.input.value },
    }),
  };
};

export const conditionsSection = (b: FieldBuilders) => {
  const conditions = b.choiceGroup({
    path: 'coOccurring',
    legend: 'cooccurring.question',
    hint: 'cooccurring.hint',
    type: 'checkbox',
    options: CONDITIONS.map((c) => ({
      value: c,
      label: `condition.${c}` as const,
      hint: c === 'other' ? ('condition.other.hint' as const) : undefined,
    })),
  });
  return {
    element: b.section('cooccurring.title', conditions.field),
    read: (): Pick<IntakeAnswers, 'coOccurring'> => ({ coOccurring: conditions.values() }),
  };
};
