// the intake form (DESIGN §1, §4, §6), built in the DOM and validated with the same IntakeSchema
// the API uses. one mount serves both the public page (a patient on a phone) and the staff
// console (phone intake). the suicide-risk screen comes first and shows 988 at once on a "yes":
// the 988 panel sits at the top of the form, above any error list, and is brought into view.
import * as z from 'zod';
import { fieldErrors } from '../../../functions/lib/schemas/common';
import {
  CRISIS_RESOURCES,
  DETOX_STATUSES,
  INSURANCE_TYPES,
  IntakeSchema,
  NOTES_MAX,
  SCHEDULE_PREFERENCES,
  SUBSTANCES,
  type Intake,
  type IntakeResponse,
} from '../../../functions/lib/schemas/intake';
import { newIdempotencyKey, readResponse, type ApiResult, type ResponseLike } from '../shared/api';
import { h, telHref, type Attrs, type Child } from '../shared/dom';
import { clearErrors, showErrors, type FieldErrors } from '../shared/form-errors';
import { languageMemory, preferredLang, textBindings, translator, type Lang, type TextBindings, type Translator, type Vars } from '../shared/i18n';
import { DICTIONARIES, READ_ALOUD, STAFF_OVERRIDES, type IntakeKey } from './i18n';
import { INCOMPLETE_DATE, questionName, translateMessage } from './messages';

// zod compiles object parsers with `new Function` unless told not to; the CSP forbids eval
z.config({ jitless: true });

export const DEFAULT_PROGRAM_PHONE = '(555) 010-0100';

/** co-occurring conditions offered as checkboxes; sent as these codes in `coOccurring` */
export const CONDITIONS = ['depression', 'anxiety', 'bipolar', 'ptsd', 'other'] as const;

/** the body sent to the API: the IntakeSchema output (trimmed, empty optionals left out) */
export type IntakeBody = Intake;

/**
 * Sends one intake. The form calls it with the validated body and the form instance's
 * idempotency key (the same key on every retry). Resolve with the response (any status);
 * reject only when there was no answer (network down) — the form then offers a retry.
 */
export type SubmitIntake = (body: IntakeBody, idempotencyKey: string) => Promise<ResponseLike>;

export interface IntakeFormOptions {
  /** `public`: the patient fills it in; `staff`: a staff member keys in a caller's answers */
  mode: 'public' | 'staff';
  submit: SubmitIntake;
  /** first language (public default: the language chosen last time, else the browser's; staff default: English) */
  lang?: Lang;
  /** the program's phone number shown for help and on the confirmation */
  programPhone?: string;
  /** called after each language change (e.g. to translate the page header) */
  onLanguageChange?: (lang: Lang) => void;
  /** called once the referral is created (the confirmation is already shown) */
  onSubmitted?: (result: IntakeResponse) => void;
}

export interface IntakeFormHandle {
  readonly lang: Lang;
  setLang(lang: Lang): void;
  /** a fresh, empty form with a new idempotency key (e.g. the next caller) */
  reset(): void;
  /** removes the form from its root */
  destroy(): void;
}

/** POSTs to the public intake endpoint; the submit function of the public page */
export const submitPublic: SubmitIntake = (body, idempotencyKey) =>
  fetch('/api/referrals', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });

type HeadingTag = 'h1' | 'h2' | 'h3' | 'h4';
type YesNo = 'yes' | 'no';

/** empty answers become "not given"; what is left is checked by the schema */
const given = (v: string): string | undefined => (v.trim() === '' ? undefined : v);

/** paths whose error belongs on another field than the path names */
const PATH_ALIASES: Record<string, string> = { referringPhysician: 'referringPhysician.name' };

/** a phone number that does not wrap inside running text */
const unbreakable = (s: string): string => s.replace(/ /g, '\u00a0').replace(/-/g, '\u2011');

const todayIso = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

let mounts = 0;

/** the public page remembers the language a person chose (a code only, never an answer) */
const publicLang = languageMemory('iop-intake-lang');

/**
 * Mounts the intake form in `root` (replacing its content). Public mode also sets `<html lang>`
 * and the document title; staff mode words the headings for the staff member and leaves the page
 * alone. Nothing is stored in the browser (PHI): what is typed lives in the DOM until it is sent.
 */
export const mountIntakeForm = (root: HTMLElement, options: IntakeFormOptions): IntakeFormHandle => {
  const staff = options.mode === 'staff';
  const phone = options.programPhone ?? DEFAULT_PROGRAM_PHONE;
  const prefix = `intake${++mounts}`;
  const id = (s: string): string => `${prefix}-${s.replace(/[^A-Za-z0-9-]/g, '-')}`;
  const heading = (level: 1 | 2 | 3): HeadingTag => `h${Math.min(level + (staff ? 1 : 0), 4)}` as HeadingTag;
  /**
   * Staff mode: the language switch is the caller's language. What the staff member reads out to the
   * caller (the safety questions, the 988 lines, the withdrawal warning, the consent) follows it;
   * the staff member's own wording (headings, labels, hints, instructions, errors) stays English.
   */
  const makeTr = (l: Lang): Translator<IntakeKey> => {
    if (!staff) return translator(DICTIONARIES, l);
    const caller = translator(DICTIONARIES, l);
    const own = translator(DICTIONARIES, 'en', STAFF_OVERRIDES);
    return { lang: l, t: (key, vars) => (READ_ALOUD.has(key) ? caller.t(key, vars) : own.t(key, vars)), has: own.has };
  };

  let lang: Lang = options.lang ?? (staff ? 'en' : (publicLang.read() ?? preferredLang()));
  let tr = makeTr(lang);
  let texts: TextBindings<IntakeKey> = textBindings<IntakeKey>();
  /** updates that are not a plain key → text (typed names, dates, counters) */
  let dynamic: Array<() => void> = [];
  let state: FormState;

  interface FormState {
    idempotencyKey: string;
    signedAt?: string;
    sending: boolean;
    done?: IntakeResponse;
    /** last errors shown, as received (English), so a language switch re-translates them */
    errors?: FieldErrors;
    failure?: IntakeKey;
  }

  // ---- small builders: every text goes through `texts` (textContent), never innerHTML ----

  const txt = <K extends keyof HTMLElementTagNameMap>(tag: K, key: IntakeKey, attrs: Attrs = {}, vars?: () => Vars) => {
    const el = texts.bind(h(tag, attrs), key, vars);
    // staff mode: a line read out to the caller is marked with the caller's language (screen readers)
    if (staff && READ_ALOUD.has(key) && !('lang' in attrs)) dynamic.push(() => el.setAttribute('lang', lang));
    return el;
  };

  const phoneLink = (): HTMLAnchorElement => h('a', { href: telHref(phone), class: 'phone-link' }, phone);

  interface InputSpec {
    path: string;
    label: IntakeKey;
    labelVars?: () => Vars;
    hint?: IntakeKey;
    type?: 'text' | 'tel' | 'email' | 'date';
    autocomplete?: string;
    inputmode?: string;
    width?: 'short' | 'medium';
    spellcheck?: boolean;
  }

  const inputField = (spec: InputSpec) => {
    const inputId = id(spec.path);
    const hintId = spec.hint ? `${inputId}-hint` : undefined;
    const input = h('input', {
      id: inputId,
      name: spec.path,
      type: spec.type ?? 'text',
      class: spec.width ? `input input--${spec.width}` : 'input',
      autocomplete: spec.autocomplete,
      inputmode: spec.inputmode,
      spellcheck: spec.spellcheck === false ? 'false' : undefined,
      max: spec.type === 'date' ? todayIso() : undefined,
      'aria-describedby': hintId,
    });
    const field = h(
      'div',
      { class: 'field', 'data-path': spec.path },
      txt('label', spec.label, { for: inputId, class: 'label' }, spec.labelVars),
      spec.hint ? txt('p', spec.hint, { id: hintId, class: 'hint' }) : null,
      input,
    );
    return { field, input };
  };

  interface ChoiceSpec<V extends string> {
    path: string;
    legend: IntakeKey;
    hint?: IntakeKey;
    type: 'radio' | 'checkbox';
    inline?: boolean;
    options: ReadonlyArray<{ value: V; label: IntakeKey; hint?: IntakeKey; reveal?: HTMLElement }>;
  }

  const choiceGroup = <V extends string>(spec: ChoiceSpec<V>) => {
    const hintId = spec.hint ? id(`${spec.path}-hint`) : undefined;
    const inputs: HTMLInputElement[] = [];
    const list = h('div', { class: spec.inline ? 'choices choices--inline' : 'choices' });
    for (const opt of spec.options) {
      const inputId = id(`${spec.path}-${opt.value}`);
      const optHint = opt.hint ? `${inputId}-hint` : undefined;
      const input = h('input', { type: spec.type, id: inputId, name: id(spec.path), value: opt.value, class: 'choice__input', 'aria-describedby': optHint });
      inputs.push(input);
      list.append(
        h(
          'div',
          { class: 'choice' },
          h('label', { class: 'choice__label', for: inputId }, input, txt('span', opt.label, { class: 'choice__text' })),
          opt.hint ? txt('p', opt.hint, { id: optHint, class: 'hint choice__hint' }) : null,
        ),
      );
      if (opt.reveal) list.append(opt.reveal);
    }
    const field = h(
      'fieldset',
      { class: 'field fieldset', 'data-path': spec.path, 'aria-describedby': hintId },
      txt('legend', spec.legend, { class: 'legend' }),
      spec.hint ? txt('p', spec.hint, { id: hintId, class: 'hint' }) : null,
      list,
    );
    const value = (): V | undefined => inputs.find((i) => i.checked)?.value as V | undefined;
    const values = (): V[] => inputs.filter((i) => i.checked).map((i) => i.value as V);
    const input = (v: V): HTMLInputElement => inputs.find((i) => i.value === v) as HTMLInputElement;
    return { field, inputs, value, values, input };
  };

  const yesNo = (path: string, legend: IntakeKey, hint?: IntakeKey) =>
    choiceGroup<YesNo>({ path, legend, hint, type: 'radio', inline: true, options: [{ value: 'yes', label: 'yes' }, { value: 'no', label: 'no' }] });

  const bool = (v: YesNo | undefined): boolean | undefined => (v === undefined ? undefined : v === 'yes');

  const reveal = (...children: Child[]): HTMLDivElement => h('div', { class: 'reveal', hidden: true }, ...children);

  const section = (title: IntakeKey, ...children: Child[]): HTMLElement =>
    h('section', { class: 'section' }, txt(heading(2), title, { class: 'section__title' }), ...children);

  /** the 988 box (a labelled region that can take focus); without the "keep filling in" line on the confirmation */
  const crisisBox = (level: 2 | 3, inForm: boolean): HTMLElement =>
    h(
      'section',
      { class: 'crisis', tabindex: -1, 'aria-labelledby': id(`crisis-title-${inForm ? 'form' : 'done'}`) },
      txt(heading(level), 'crisis.title', { class: 'crisis__title', id: id(`crisis-title-${inForm ? 'form' : 'done'}`) }),
      txt('p', 'crisis.body'),
      h(
        'p',
        { class: 'actions' },
        txt('a', 'crisis.call', { href: `tel:${CRISIS_RESOURCES.call}`, class: 'button button--crisis' }),
        txt('a', 'crisis.text', { href: `sms:${CRISIS_RESOURCES.text}`, class: 'button button--crisis' }),
      ),
      txt('p', 'crisis.spanish', { lang: 'es' }),
      txt('p', 'crisis.emergency', { class: 'crisis__emergency' }),
      h('p', { class: 'actions' }, txt('a', 'crisis.911', { href: `tel:${CRISIS_RESOURCES.emergency}`, class: 'button button--secondary' })),
      inForm ? txt('p', 'crisis.continue') : null,
    );

  // ---- the view: the language switch stays; below it, the form or the confirmation ----

  /** re-labels the current view (language change, a typed physician name) */
  let refresh: () => void = () => undefined;
  /** shows the current errors again in the current language (no focus move) */
  let rerenderErrors: () => void = () => undefined;
  const chromeTexts = textBindings<IntakeKey>();
  const langSwitch = h('nav', { class: 'lang-switch' });
  chromeTexts.bind(langSwitch, 'lang.nav', undefined, 'aria-label');
  const langButtons = (
    [
      ['en', 'English'],
      ['es', 'Español'],
    ] as const
  ).map(([l, name]) => {
    const b = h('button', { type: 'button', class: 'lang-switch__button', lang: l, 'aria-pressed': 'false' }, name);
    b.addEventListener('click', () => {
      if (!staff) publicLang.write(l);
      setLang(l);
    });
    return b;
  });
  langSwitch.append(...langButtons);
  const content = h('div', { class: 'intake__content' });
  root.replaceChildren(h('div', { class: 'intake' }, langSwitch, content));

  const build = (): void => {
    texts = textBindings<IntakeKey>();
    dynamic = [];
    state = { idempotencyKey: newIdempotencyKey(), sending: false };

    // safety first: the two screening questions; a "yes" shows the 988 box at once at the top of
    // the form (above any error list). on the public page it is scrolled to the top of the screen
    // and takes focus, so on a phone its call and text buttons are what the person sees next
    const thoughts = yesNo('screening.selfHarmThoughtsPastMonth', 'safety.thoughts');
    const attempt = yesNo('screening.suicideAttemptPastThreeMonths', 'safety.attempt');
    const crisisLive = h('div', { class: 'crisis-live', role: 'alert' });
    const formCrisis = crisisBox(2, true);
    const crisisShown = (): boolean => crisisLive.contains(formCrisis);
    const bringCrisisIntoView = (): void => {
      if (staff) {
        // the staff member keeps typing: the box shows, focus stays on the answer
        formCrisis.scrollIntoView({ block: 'nearest' });
        return;
      }
      formCrisis.focus({ preventScroll: true });
      formCrisis.scrollIntoView({ block: 'start' });
    };
    const updateCrisis = (reveal: boolean): void => {
      const positive = thoughts.value() === 'yes' || attempt.value() === 'yes';
      if (positive && !crisisShown()) {
        crisisLive.append(formCrisis);
        if (reveal) bringCrisisIntoView();
      }
      if (!positive && crisisShown()) formCrisis.remove();
    };
    for (const i of [...thoughts.inputs, ...attempt.inputs]) i.addEventListener('change', () => updateCrisis(true));

    // about you
    const firstName = inputField({ path: 'patient.firstName', label: 'about.firstName', autocomplete: staff ? 'off' : 'given-name', spellcheck: false });
    const lastName = inputField({ path: 'patient.lastName', label: 'about.lastName', autocomplete: staff ? 'off' : 'family-name', spellcheck: false });
    const dob = inputField({ path: 'patient.dateOfBirth', label: 'about.dateOfBirth', type: 'date', autocomplete: staff ? 'off' : 'bday', width: 'medium' });
    const phoneIn = inputField({ path: 'patient.phone', label: 'about.phone', hint: 'about.phone.hint', type: 'tel', autocomplete: staff ? 'off' : 'tel', width: 'medium' });
    const email = inputField({ path: 'patient.email', label: 'about.email', hint: 'about.email.hint', type: 'email', autocomplete: staff ? 'off' : 'email', spellcheck: false });
    const postal = inputField({ path: 'patient.postalCode', label: 'about.postalCode', autocomplete: staff ? 'off' : 'postal-code', inputmode: 'numeric', width: 'short' });

    // substances, each with its own "last use" revealed when ticked
    const lastUse = new Map<string, { wrap: HTMLDivElement; field: HTMLDivElement; input: HTMLInputElement }>();
    const substanceOptions = SUBSTANCES.map((s) => {
      const f = inputField({
        path: `lastUse.${s}`,
        label: 'substances.lastUse',
        labelVars: () => ({ substance: tr.t(`short.${s}`) }),
        hint: 'substances.lastUse.hint',
        type: 'date',
        width: 'medium',
      });
      const wrap = reveal(f.field);
      lastUse.set(s, { wrap, ...f });
      return { value: s, label: `substance.${s}` as const, reveal: wrap };
    });
    const substances = choiceGroup({ path: 'substances', legend: 'substances.question', hint: 'substances.hint', type: 'checkbox', options: substanceOptions });
    /** error paths are by position in the body (`substances.1.lastUse`): number the visible ones */
    const renumberSubstances = (): void => {
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
    for (const i of substances.inputs) i.addEventListener('change', renumberSubstances);

    // withdrawal and detox
    const symptoms = yesNo('withdrawal.currentSymptoms', 'withdrawal.symptoms', 'withdrawal.symptoms.hint');
    const completedOn = inputField({ path: 'withdrawal.detoxCompletedOn', label: 'detox.completedOn', type: 'date', width: 'medium' });
    const completedWrap = reveal(completedOn.field);
    const detox = choiceGroup({
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

    const conditions = choiceGroup({
      path: 'coOccurring',
      legend: 'cooccurring.question',
      hint: 'cooccurring.hint',
      type: 'checkbox',
      options: CONDITIONS.map((c) => ({ value: c, label: `condition.${c}` as const, hint: c === 'other' ? ('condition.other.hint' as const) : undefined })),
    });

    // insurance: payer and member id only when insured
    const payer = inputField({ path: 'insurance.payer', label: 'insurance.payer', autocomplete: 'off' });
    const memberId = inputField({ path: 'insurance.memberId', label: 'insurance.memberId', hint: 'insurance.memberId.hint', autocomplete: 'off', spellcheck: false, width: 'medium' });
    const groupNumber = inputField({ path: 'insurance.groupNumber', label: 'insurance.groupNumber', autocomplete: 'off', spellcheck: false, width: 'medium' });
    const insuredWrap = reveal(payer.field, memberId.field, groupNumber.field);
    const insurance = choiceGroup({
      path: 'insurance.type',
      legend: 'insurance.type',
      type: 'radio',
      options: INSURANCE_TYPES.map((t) => ({ value: t, label: `insurance.${t}` as const })),
    });
    const insured = (): boolean => insurance.value() !== undefined && insurance.value() !== 'self-pay';
    for (const i of insurance.inputs) i.addEventListener('change', () => (insuredWrap.hidden = !insured()));

    // referring physician (all optional together; the schema checks the NPI)
    const physName = inputField({ path: 'referringPhysician.name', label: 'physician.name', autocomplete: 'off', spellcheck: false });
    const npi = inputField({ path: 'referringPhysician.npi', label: 'physician.npi', hint: 'physician.npi.hint', autocomplete: 'off', inputmode: 'numeric', width: 'medium' });
    const physEmail = inputField({ path: 'referringPhysician.email', label: 'physician.email', type: 'email', autocomplete: 'off', spellcheck: false });
    const practice = inputField({ path: 'referringPhysician.practice', label: 'physician.practice', autocomplete: 'off' });
    const physicianName = (): string => physName.input.value.trim();

    // consent under 42 CFR Part 2: the terms, then a separate explicit checkbox (off by default)
    const who = h('dd', { class: 'terms__value terms__value--who' });
    dynamic.push(() => {
      who.textContent = physicianName() || tr.t('consent.who.none');
    });
    const term = (label: IntakeKey, value: HTMLElement): HTMLElement[] => [txt('dt', label, { class: 'terms__label' }), value];
    const terms = h(
      'dl',
      { class: 'terms' },
      ...term('consent.who', who),
      ...term(
        'consent.what',
        h(
          'dd',
          { class: 'terms__value' },
          txt('p', 'consent.what.value'),
          h('ul', { class: 'terms__list' }, ...(['consent.what.received', 'consent.what.accepted', 'consent.what.enrolled', 'consent.what.closed'] as const).map((k) => txt('li', k))),
          txt('p', 'consent.what.identity'),
          txt('p', 'consent.what.never', { class: 'terms__never' }),
        ),
      ),
      ...term('consent.why', txt('dd', 'consent.why.value', { class: 'terms__value' })),
      ...term('consent.revoke', txt('dd', 'consent.revoke.value', { class: 'terms__value' }, () => ({ phone: unbreakable(phone) }))),
      ...term('consent.expiry', txt('dd', 'consent.expiry.value', { class: 'terms__value' })),
      ...term('consent.care', txt('dd', 'consent.care.value', { class: 'terms__value' })),
    );
    const shareId = id('consent.shareWithReferrer');
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
          txt('span', 'consent.share', { class: 'choice__text' }, () => ({ physician: physicianName() || tr.t('consent.share.none') })),
        ),
      ),
    );
    const signature = inputField({ path: 'consent.signature', label: 'consent.signature', hint: 'consent.signature.hint', autocomplete: staff ? 'off' : 'name', spellcheck: false });
    const signedOn = txt('p', 'consent.date', { class: 'consent__date' }, () => ({
      date: new Intl.DateTimeFormat(lang === 'es' ? 'es-US' : 'en-US', { dateStyle: 'long' }).format(new Date()),
    }));
    physName.input.addEventListener('input', () => refresh());

    const schedule = choiceGroup({
      path: 'schedulePreference',
      legend: 'schedule.question',
      hint: 'schedule.hint',
      type: 'radio',
      options: SCHEDULE_PREFERENCES.map((p) => ({ value: p, label: `schedule.${p}` as const })),
    });

    // notes with a counter: visible at once, announced only after a pause in typing
    const notesId = id('notes');
    const counterId = `${notesId}-count`;
    const notes = h('textarea', { id: notesId, name: 'notes', class: 'textarea', rows: 5, 'aria-describedby': counterId });
    const counter = h('p', { id: counterId, class: 'hint counter' });
    const counterLive = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
    const counterText = (): string => {
      const left = NOTES_MAX - notes.value.length;
      return left >= 0 ? tr.t('notes.left', { n: left }) : tr.t('notes.over', { n: -left });
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
    dynamic.push(updateCounter);
    const notesField = h('div', { class: 'field', 'data-path': 'notes' }, txt('label', 'notes.label', { for: notesId, class: 'label' }), notes, counter, counterLive);

    // submit: busy while sending, a retry message on failure, the status announced
    const submitLabel = txt('span', 'submit');
    const sendingLabel = txt('span', 'submit.sending', { hidden: true });
    const submitButton = h('button', { type: 'submit', class: 'button button--primary button--submit' }, submitLabel, sendingLabel);
    const status = h('p', { role: 'status', class: 'form-status' });
    const failure = h('div', { role: 'alert', class: 'form-failure' });
    const summary = h('div', { class: 'error-summary', hidden: true });

    const form = h(
      'form',
      { class: 'intake-form', novalidate: true },
      crisisLive,
      summary,
      section('safety.title', txt('p', 'safety.intro', { class: 'section__intro' }), thoughts.field, attempt.field),
      section(
        'about.title',
        firstName.field,
        lastName.field,
        dob.field,
        phoneIn.field,
        email.field,
        postal.field,
        txt('p', 'about.language', { class: 'note' }, () => ({ language: lang === 'es' ? 'Spanish' : 'English' })),
      ),
      section('substances.title', substances.field),
      section(
        'withdrawal.title',
        h(
          'div',
          { class: 'callout callout--warning' },
          txt(heading(3), 'withdrawal.warning.title', { class: 'callout__title' }),
          txt('p', 'withdrawal.warning.body'),
          txt('p', 'withdrawal.warning.now'),
          h('p', { class: 'actions' }, txt('a', 'crisis.911', { href: `tel:${CRISIS_RESOURCES.emergency}`, class: 'button button--secondary' })),
        ),
        symptoms.field,
        detox.field,
      ),
      section('cooccurring.title', conditions.field),
      section('insurance.title', insurance.field, insuredWrap),
      section(
        'physician.title',
        h('div', { 'data-path': 'referringPhysician' }, txt('p', 'physician.intro', { class: 'section__intro' }), physName.field, npi.field, physEmail.field, practice.field),
      ),
      section(
        'consent.title',
        txt('p', 'consent.intro', { class: 'section__intro' }),
        terms,
        txt('p', 'consent.law', { class: 'note' }),
        shareField,
        signature.field,
        signedOn,
      ),
      section('schedule.title', schedule.field),
      section('notes.title', notesField),
      h('div', { class: 'submit-row' }, submitButton, status, failure),
      h('p', { class: 'help' }, txt('span', 'form.help'), ' ', phoneLink()),
    );

    const header = h(
      'div',
      { class: 'form-header' },
      txt(heading(1), 'form.title', { class: 'form-title' }),
      txt('p', 'form.intro', { class: 'lead' }),
      txt('p', 'form.privacy', { class: 'note' }),
      h('p', { class: 'help' }, txt('span', 'form.help'), ' ', phoneLink()),
    );

    content.replaceChildren(header, form);

    /** the body as typed; the schema decides what is valid */
    const collect = (): unknown => {
      const insuranceType = insurance.value();
      const physician = [physName, npi, physEmail, practice].some((f) => f.input.value.trim() !== '')
        ? {
            name: given(physName.input.value),
            npi: given(npi.input.value),
            email: given(physEmail.input.value),
            practice: given(practice.input.value),
          }
        : undefined;
      const coOccurring = conditions.values();
      const detoxStatus = detox.value();
      return {
        patient: {
          firstName: given(firstName.input.value),
          lastName: given(lastName.input.value),
          dateOfBirth: given(dob.input.value),
          phone: given(phoneIn.input.value),
          email: given(email.input.value),
          preferredLanguage: lang,
          postalCode: given(postal.input.value),
        },
        substances: substances.values().map((s) => ({ substance: s, lastUse: given(lastUse.get(s)?.input.value ?? '') })),
        withdrawal: {
          currentSymptoms: bool(symptoms.value()),
          detoxStatus,
          detoxCompletedOn: detoxStatus === 'completed' ? given(completedOn.input.value) : undefined,
        },
        screening: {
          selfHarmThoughtsPastMonth: bool(thoughts.value()),
          suicideAttemptPastThreeMonths: bool(attempt.value()),
        },
        coOccurring: coOccurring.length ? coOccurring : undefined,
        insurance: insured()
          ? { type: insuranceType, payer: given(payer.input.value), memberId: given(memberId.input.value), groupNumber: given(groupNumber.input.value) }
          : { type: insuranceType },
        referringPhysician: physician,
        consent: { shareWithReferrer: share.checked, signature: given(signature.input.value), signedAt: state.signedAt ?? new Date().toISOString() },
        schedulePreference: schedule.value(),
        notes: given(notes.value) === undefined ? undefined : notes.value,
      };
    };

    /** date boxes holding part of a date (the browser then gives the form an empty value) */
    const incompleteDates = (): FieldErrors => {
      const fields: FieldErrors = {};
      for (const input of form.querySelectorAll<HTMLInputElement>('input[type=date]')) {
        const path = input.closest<HTMLElement>('[data-path]')?.dataset.path;
        if (path && input.validity.badInput && !input.closest('[hidden]')) fields[path] = [INCOMPLETE_DATE];
      }
      return fields;
    };

    const renderErrors = (focus: boolean): void => {
      if (!state.errors) return;
      const fields: FieldErrors = {};
      for (const [path, messages] of Object.entries(state.errors)) (fields[PATH_ALIASES[path] ?? path] ??= []).push(...messages);
      renumberSubstances();
      showErrors(form, fields, {
        summary,
        title: tr.t('errors.title'),
        headingLevel: staff ? 3 : 2,
        translate: (m, p) => translateMessage(tr, m, p, questionName(tr, p, (i) => substances.values()[i])),
        // with the 988 box shown, it stays in view above the list; the list still takes focus
        focus: focus && !crisisShown(),
      });
      if (focus && crisisShown()) {
        summary.focus({ preventScroll: true });
        formCrisis.scrollIntoView({ block: 'start' });
      }
    };

    const setFailure = (key: IntakeKey | undefined): void => {
      state.failure = key;
      failure.replaceChildren();
      if (key) failure.append(txt('p', key, { class: 'form-failure__text' }, () => ({ phone: unbreakable(phone), submit: tr.t('submit') })));
      refresh();
    };

    const setSending = (on: boolean): void => {
      state.sending = on;
      submitButton.disabled = on;
      form.setAttribute('aria-busy', String(on));
      submitLabel.hidden = on;
      sendingLabel.hidden = !on;
      status.textContent = on ? tr.t('status.sending') : '';
    };

    const failureFor = (res: Extract<ApiResult<IntakeResponse>, { ok: false }>): IntakeKey => {
      if (res.network) return 'error.network';
      if (res.status === 401 || res.status === 403) return 'error.auth';
      if (res.status === 409) return 'error.conflict';
      if (res.status === 413) return 'error.tooLarge';
      if (res.status === 429) return 'error.rateLimit';
      if (res.status >= 500) return 'error.server';
      return 'error.generic';
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (state.sending) return; // a second click while sending does nothing
      void send();
    });

    const send = async (): Promise<void> => {
      setFailure(undefined);
      const parsed = IntakeSchema.safeParse(collect());
      const incomplete = incompleteDates();
      if (!parsed.success || Object.keys(incomplete).length > 0) {
        // a date box with part of a date is told so, not "enter a date"
        state.errors = { ...(parsed.success ? {} : fieldErrors(parsed.error)), ...incomplete };
        renderErrors(true);
        return;
      }
      state.errors = undefined;
      clearErrors(form, summary);
      // the same body on every retry: a retry after a lost answer must match what the server kept
      state.signedAt = parsed.data.consent.signedAt;
      setSending(true);
      let res: ApiResult<IntakeResponse>;
      try {
        res = await readResponse<IntakeResponse>(await options.submit(parsed.data, state.idempotencyKey));
      } catch {
        res = { ok: false, status: 0, body: null, network: true };
      }
      setSending(false);
      if (res.ok) {
        showConfirmation(res.data);
        return;
      }
      if (res.status === 400 && res.body?.fields && Object.keys(res.body.fields).length > 0) {
        state.errors = res.body.fields;
        renderErrors(true);
        return;
      }
      setFailure(failureFor(res));
      submitButton.focus();
    };

    refresh = () => {
      texts.apply(tr);
      for (const d of dynamic) d();
    };
    rerenderErrors = () => renderErrors(false);
    // keep the reveal state consistent with the inputs (e.g. after a browser restores a form)
    renumberSubstances();
    updateCrisis(false);
    refresh();
  };

  const showConfirmation = (result: IntakeResponse): void => {
    texts = textBindings<IntakeKey>();
    const urgent = result.urgent || result.crisisResources !== undefined;
    state = { ...state, done: result, errors: undefined, failure: undefined };
    const title = txt(heading(1), 'done.title', { class: 'form-title', tabindex: -1 });
    const anotherButton = staff ? txt('button', 'done.another', { type: 'button', class: 'button button--secondary' }) : null;
    anotherButton?.addEventListener('click', () => reset());
    const confirmation = h(
      'div',
      { class: 'confirmation' },
      title,
      // crisis help before anything else when the screen was positive
      urgent ? txt('p', 'done.urgent', { class: 'note note--urgent' }) : null,
      urgent ? h('div', { class: 'crisis-live', role: 'alert' }, crisisBox(2, false)) : null,
      h(
        'div',
        { class: 'reference' },
        txt('p', 'done.reference', { class: 'reference__label' }),
        h('p', { class: 'reference__value' }, result.reference),
        txt('p', 'done.reference.hint', { class: 'hint' }),
      ),
      txt(heading(2), 'done.next', { class: 'section__title' }),
      h(
        'ol',
        { class: 'steps' },
        txt('li', 'done.next.insurance'),
        txt('li', 'done.next.evaluation'),
        txt('li', 'done.next.detox'),
        txt('li', 'done.next.group'),
      ),
      h('p', { class: 'help' }, txt('span', 'done.call'), ' ', phoneLink()),
      anotherButton,
    );
    // the form (and what was typed) leaves the page; the language switch stays
    dynamic = [];
    content.replaceChildren(confirmation);
    refresh = () => {
      texts.apply(tr);
      for (const d of dynamic) d();
    };
    rerenderErrors = () => undefined;
    refresh();
    if (!staff) document.title = tr.t('doc.title.done');
    title.focus();
    window.scrollTo(0, 0);
    options.onSubmitted?.(result);
  };

  const setLang = (l: Lang): void => {
    lang = l;
    tr = makeTr(l);
    // staff mode: the page is the staff member's (English); read-out lines carry their own lang
    root.lang = staff ? 'en' : l;
    chromeTexts.apply(tr);
    for (const b of langButtons) b.setAttribute('aria-pressed', String(b.lang === l));
    if (!staff) {
      document.documentElement.lang = l;
      document.title = tr.t(state?.done ? 'doc.title.done' : 'doc.title');
    }
    refresh();
    rerenderErrors();
    options.onLanguageChange?.(l);
  };

  const reset = (): void => {
    build();
    setLang(lang);
    const title = content.querySelector<HTMLElement>('.form-title');
    title?.setAttribute('tabindex', '-1');
    title?.focus();
  };

  build();
  setLang(lang);

  return {
    get lang() {
      return lang;
    },
    setLang,
    reset,
    destroy: () => {
      root.replaceChildren();
      root.removeAttribute('lang');
    },
  };
};
