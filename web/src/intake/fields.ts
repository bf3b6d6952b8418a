// the intake form's field builders, one set for both of its modes: the public page (a patient on a
// phone) and the console's phone intake (a staff member keying in a caller's answers, which mounts
// this same form in staff mode). every text goes through the view's text bindings (textContent),
// never innerHTML; every field sits in a wrapper whose `data-path` is the API's error path.
import { CRISIS_RESOURCES } from '../../../functions/lib/schemas/intake';
import { h, telHref, type Attrs, type Child } from '../shared/dom';
import type { Lang, TextBindings, Translator, Vars } from '../shared/i18n';
import { READ_ALOUD, type IntakeKey } from './i18n';

type HeadingTag = 'h1' | 'h2' | 'h3' | 'h4';
export type YesNo = 'yes' | 'no';

/** what the builders need from the form they build for */
export interface FieldContext {
  /** staff mode: headings one level down (the console's page has its own h1), read-out lines marked */
  staff: boolean;
  /** the program's phone number for help lines */
  phone: string;
  /** an element id unique to this mount of the form */
  id(s: string): string;
  /** the current view's text bindings (a fresh set per view) */
  texts(): TextBindings<IntakeKey>;
  /** registers an update that is not a plain key → text (typed names, dates, counters) */
  dynamic(update: () => void): void;
  lang(): Lang;
  tr(): Translator<IntakeKey>;
}

export interface InputSpec {
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

export interface ChoiceSpec<V extends string> {
  path: string;
  legend: IntakeKey;
  hint?: IntakeKey;
  type: 'radio' | 'checkbox';
  inline?: boolean;
  options: ReadonlyArray<{ value: V; label: IntakeKey; hint?: IntakeKey; reveal?: HTMLElement }>;
}

export interface InputField {
  field: HTMLDivElement;
  input: HTMLInputElement;
}

export interface ChoiceGroup<V extends string> {
  field: HTMLFieldSetElement;
  inputs: HTMLInputElement[];
  /** the checked option (radio) */
  value(): V | undefined;
  /** every checked option, in the order offered (checkbox) */
  values(): V[];
  input(v: V): HTMLInputElement;
}

/** a phone number that does not wrap inside running text */
export const unbreakable = (s: string): string => s.replace(/ /g, '\u00a0').replace(/-/g, '\u2011');

/** today in the browser's zone, for a date box's `max` */
const todayIso = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

export const fieldBuilders = (ctx: FieldContext) => {
  const { staff, id } = ctx;

  const heading = (level: 1 | 2 | 3): HeadingTag => `h${Math.min(level + (staff ? 1 : 0), 4)}` as HeadingTag;

  const txt = <K extends keyof HTMLElementTagNameMap>(tag: K, key: IntakeKey, attrs: Attrs = {}, vars?: () => Vars) => {
    const el = ctx.texts().bind(h(tag, attrs), key, vars);
    // staff mode: a line read out to the caller is marked with the caller's language (screen readers)
    if (staff && READ_ALOUD.has(key) && !('lang' in attrs)) ctx.dynamic(() => el.setAttribute('lang', ctx.lang()));
    return el;
  };

  const phoneLink = (): HTMLAnchorElement => h('a', { href: telHref(ctx.phone), class: 'phone-link' }, ctx.phone);

  const inputField = (spec: InputSpec): InputField => {
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

  const choiceGroup = <V extends string>(spec: ChoiceSpec<V>): ChoiceGroup<V> => {
    const hintId = spec.hint ? id(`${spec.path}-hint`) : undefined;
    const inputs: HTMLInputElement[] = [];
    const list = h('div', { class: spec.inline ? 'choices choices--inline' : 'choices' });
    for (const opt of spec.options) {
      const inputId = id(`${spec.path}-${opt.value}`);
      const optHint = opt.hint ? `${inputId}-hint` : undefined;
      const input = h('input', {
        type: spec.type,
        id: inputId,
        name: id(spec.path),
        value: opt.value,
        class: 'choice__input',
        'aria-describedby': optHint,
      });
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
    return {
      field,
      inputs,
      value: () => inputs.find((i) => i.checked)?.value as V | undefined,
      values: () => inputs.filter((i) => i.checked).map((i) => i.value as V),
      input: (v) => inputs.find((i) => i.value === v) as HTMLInputElement,
    };
  };

  const yesNo = (path: string, legend: IntakeKey, hint?: IntakeKey) =>
    choiceGroup<YesNo>({
      path,
      legend,
      hint,
      type: 'radio',
      inline: true,
      options: [
        { value: 'yes', label: 'yes' },
        { value: 'no', label: 'no' },
      ],
    });

  /** content shown only while an answer asks for it */
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
      h('p', { class: 'actions' }, emergencyCall()),
      inForm ? txt('p', 'crisis.continue') : null,
    );

  /** the 911 button (the crisis box and the withdrawal warning) */
  const emergencyCall = (): HTMLElement =>
    txt('a', 'crisis.911', { href: `tel:${CRISIS_RESOURCES.emergency}`, class: 'button button--secondary' });

  /** autocomplete for the patient's own details: the public page only (a staff browser must not suggest another caller's) */
  const own = (token: string): string => (staff ? 'off' : token);

  return { heading, txt, phoneLink, inputField, choiceGroup, yesNo, reveal, section, crisisBox, emergencyCall, own };
};

export type FieldBuilders = ReturnType<typeof fieldBuilders>;
