// the intake form's sections about care and consent: insurance, the referring physician, consent
// under 42 CFR Part 2, the schedule preference and notes. each returns its element and what its
// fields hold (see ../collect.ts).
import { INSURANCE_TYPES, NOTES_MAX, SCHEDULE_PREFERENCES } from '../../../../functions/lib/schemas/intake';
import { h } from '../../shared/dom';
import { payerPicker } from '../../shared/payers';
import { isInsured, type IntakeAnswers } from '../collect';
import { unbreakable, type FieldBuilders, type FieldContext } from '../fields';
import type { IntakeKey } from '../i18n';

/**
 * payer, member id and group number only when insured. The payer is a picker (a datalist of
 * GET /api/payers): a listed name gives its payer ID, any other name is sent by name only (checked
 * by hand); while the list is loading, or when it failed, the box is plain text.
 */
export const insuranceSection = (b: FieldBuilders, ctx: FieldContext) => {
  const payer = b.inputField({ path: 'insurance.payer', label: 'insurance.payer', hint: 'insurance.payer.hint', autocomplete: 'off' });
  const picker = payerPicker({
    input: payer.input,
    field: payer.field,
    listId: ctx.id('payer-list'),
    statusClass: 'hint payer-status',
    status: (listed) => ctx.tr().t(listed ? 'insurance.payer.listed' : 'insurance.payer.unlisted'),
  });
  ctx.dynamic(picker.showStatus);
  const memberId = b.inputField({
    path: 'insurance.memberId',
    label: 'insurance.memberId',
    hint: 'insurance.memberId.hint',
    autocomplete: 'off',
    spellcheck: false,
    width: 'medium',
  });
  const groupNumber = b.inputField({
    path: 'insurance.groupNumber',
    label: 'insurance.groupNumber',
    autocomplete: 'off',
    spellcheck: false,
    width: 'medium',
  });
  const insuredWrap = b.reveal(payer.field, memberId.field, groupNumber.field);
  const insurance = b.choiceGroup({
    path: 'insurance.type',
    legend: 'insurance.type',
    type: 'radio',
    options: INSURANCE_TYPES.map((t) => ({ value: t, label: `insurance.${t}` as const })),
  });
  for (const i of insurance.inputs) i.addEventListener('change', () => (insuredWrap.hidden = !isInsured(insurance.value())));
  return {
    element: b.section('insurance.title', insurance.field, insuredWrap),
    read: (): Pick<IntakeAnswers, 'insurance'> => ({
      insurance: {
        type: insurance.value(),
        payer: payer.input.value,
        payerId: picker.listed(payer.input.value)?.payerId,
        memberId: memberId.input.value,
        groupNumber: groupNumber.input.value,
      },
    }),
  };
};

/** the referring physician: all optional together (the schema checks the NPI) */
export const physicianSection = (b: FieldBuilders) => {
  const name = b.inputField({ path: 'referringPhysician.name', label: 'physician.name', autocomplete: 'off', spellcheck: false });
  const npi = b.inputField({
    path: 'referringPhysician.npi',
    label: 'physician.npi',
    hint: 'physician.npi.hint',
    autocomplete: 'off',
    inputmode: 'numeric',
    width: 'medium',
  });
  const email = b.inputField({
    path: 'referringPhysician.email',
    label: 'physician.email',
    type: 'email',
    autocomplete: 'off',
    spellcheck: false,
  });
  const practice = b.inputField({ path: 'referringPhysician.practice', label: 'physician.practice', autocomplete: 'off' });
  return {
    element: b.section(
      'physician.title',
      h(
        'div',
        { 'data-path': 'referringPhysician' },
        b.txt('p', 'physician.intro', { class: 'section__intro' }),
        name.field,
        npi.field,
        email.field,
        practice.field,
      ),
    ),
    /** the name as typed so far (the consent names the physician it would share with) */
    name: (): string => name.input.value.trim(),
    nameInput: name.input,
    read: (): Pick<IntakeAnswers, 'physician'> => ({
      physician: { name: name.input.value, npi: npi.input.value, email: email.input.value, practice: practice.input.value },
    }),
  };
};

/** consent under 42 CFR Part 2: the terms, then a separate explicit checkbox (off by default) */
export const consentSection = (b: FieldBuilders, ctx: FieldContext, physicianName: () => string) => {
  const who = h('dd', { class: 'terms__value terms__value--who' });
  ctx.dynamic(() => {
    who.textContent = physicianName() || ctx.tr().t('consent.who.none');
  });
  const term = (label: IntakeKey, value: HTMLElement): HTMLElement[] => [b.txt('dt', label, { class: 'terms__label' }), value];
  const value = (key: IntakeKey, vars?: () => Record<string, string>) => b.txt('dd', key, { class: 'terms__value' }, vars);
  const terms = h(
    'dl',
    { class: 'terms' },
    ...term('consent.who', who),
    ...term(
      'consent.what',
      h(
        'dd',
        { class: 'terms__value' },
        b.txt('p', 'consent.what.value'),
        h(
          'ul',
          { class: 'terms__list' },
          ...(['consent.what.received', 'consent.what.accepted', 'consent.what.enrolled', 'consent.what.closed'] as const).map((k) =>
            b.txt('li', k),
          ),
        ),
        b.txt('p', 'consent.what.identity'),
        b.txt('p', 'consent.what.never', { class: 'terms__never' }),
      ),
    ),
    ...term('consent.why', value('consent.why.value')),
    ...term(
      'consent.revoke',
      value('consent.revoke.value', () => ({ phone: unbreakable(ctx.phone) })),
    ),
    ...term('consent.expiry', value('consent.expiry.value')),
    ...term('consent.care', value('consent.care.value')),
  );
  const shareId = ctx.id('consent.shareWithReferrer');
  const share = h('input', { type: 'checkbox', id: shareId, name: 'consent.shareWithReferrer', class: 'choice__input' });
  const shareField = h(
    'div',
    { class: 'field', 'data-path': 'consent.shareWithReferrer' },
    h(
      'div',
      { class: 'choice choice--consent' },
      h(
        'label',
        { class: 'choice__label', for: shareId },
        share,
        b.txt('span', 'consent.share', { class: 'choice__text' }, () => ({
          physician: physicianName() || ctx.tr().t('consent.share.none'),
        })),
      ),
    ),
  );
  const signature = b.inputField({
    path: 'consent.signature',
    label: 'consent.signature',
    hint: 'consent.signature.hint',
    autocomplete: b.own('name'),
    spellcheck: false,
  });
  const signedOn = b.txt('p', 'consent.date', { class: 'consent__date' }, () => ({
    date: new Intl.DateTimeFormat(ctx.lang() === 'es' ? 'es-US' : 'en-US', { dateStyle: 'long' }).format(new Date()),
  }));
  return {
    element: b.section(
      'consent.title',
      b.txt('p', 'consent.intro', { class: 'section__intro' }),
      terms,
      b.txt('p', 'consent.law', { class: 'note' }),
      shareField,
      signature.field,
      signedOn,
    ),
    read: (): Pick<IntakeAnswers, 'consent'> => ({ consent: { shareWithReferrer: share.checked, signature: signature.input.value } }),
  };
};

export const scheduleSection = (b: FieldBuilders) => {
  const schedule = b.choiceGroup({
    path: 'schedulePreference',
    legend: 'schedule.question',
    hint: 'schedule.hint',
    type: 'radio',
    options: SCHEDULE_PREFERENCES.map((p) => ({ value: p, label: `schedule.${p}` as const })),
  });
  return {
    element: b.section('schedule.title', schedule.field),
    read: (): Pick<IntakeAnswers, 'schedulePreference'> => ({ schedulePreference: schedule.value() }),
  };
};

/** notes with a counter: visible at once, announced only after a pause in typing */
export const notesSection = (b: FieldBuilders, ctx: FieldContext) => {
  const notesId = ctx.id('notes');
  const counterId = `${notesId}-count`;
  const notes = h('textarea', { id: notesId, name: 'notes', class: 'textarea', rows: 5, 'aria-describedby': counterId });
  const counter = h('p', { id: counterId, class: 'hint counter' });
  const counterLive = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const counterText = (): string => {
    const left = NOTES_MAX - notes.value.length;
    return left >= 0 ? ctx.tr().t('notes.left', { n: left }) : ctx.tr().t('notes.over', { n: -left });
  };
  let counterTimer: ReturnType<typeof setTimeout> | undefined;
  const updateCounter = (): void => {
    counter.textContent = counterText();
    counter.classList.toggle('counter--over', notes.value.length > NOTES_MAX);
  };
  notes.addEventListener('input', () => {
    updateCounter();
    clearTimeout(counterTimer);
    counterTimer = setTimeout(() => (counterLive.textContent = counterText()), 1000);
  });
  ctx.dynamic(updateCounter);
  const field = h(
    'div',
    { class: 'field', 'data-path': 'notes' },
    b.txt('label', 'notes.label', { for: notesId, class: 'label' }),
    notes,
    counter,
    counterLive,
  );
  return {
    element: b.section('notes.title', field),
    read: (): Pick<IntakeAnswers, 'notes'> => ({ notes: notes.value }),
  };
};
