// the intake form (docs/ARCHITECTURE.md §1, §3, §7), built in the DOM and validated with the same IntakeSchema
// the API uses. one mount serves both the public page (a patient on a phone) and the staff
// console (phone intake). the suicide-risk screen comes first and shows 988 at once on a "yes":
// the 988 panel sits at the top of the form, above any error list, and is brought into view.
// the parts: ./fields (the field builders both modes use), ./sections/ (what each section asks),
// ./collect (the request body from the answers, pure), ./messages (errors in the form's language).
import * as z from 'zod';
import { fieldErrors } from '../../../functions/lib/schemas/common';
import { PROGRAM_DEFAULTS } from '../../../functions/lib/program';
import { IntakeSchema, type Intake, type IntakeResponse } from '../../../functions/lib/schemas/intake';
import { newIdempotencyKey, readResponse, type ApiResult, type ResponseLike } from '../shared/api';
import { h } from '../shared/dom';
import { clearErrors, showErrors, type FieldErrors } from '../shared/form-errors';
import { languageMemory, preferredLang, textBindings, translator, type Lang, type TextBindings, type Translator } from '../shared/i18n';
import { collect } from './collect';
import { fieldBuilders, unbreakable, type FieldContext } from './fields';
import { DICTIONARIES, READ_ALOUD, STAFF_OVERRIDES, type IntakeKey } from './i18n';
import { INCOMPLETE_DATE, questionName, translateMessage } from './messages';
import { consentSection, insuranceSection, notesSection, physicianSection, scheduleSection } from './sections/care';
import { aboutSection, conditionsSection, safetySection, substancesSection, withdrawalSection } from './sections/person';

// zod compiles object parsers with `new Function` unless told not to; the CSP forbids eval
z.config({ jitless: true });

/** the body sent to the API: the IntakeSchema output (trimmed, empty optionals left out) */
type IntakeBody = Intake;

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

/** paths whose error belongs on another field than the path names */
const PATH_ALIASES: Record<string, string> = { referringPhysician: 'referringPhysician.name' };

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
  const phone = options.programPhone ?? PROGRAM_DEFAULTS.phone;
  const prefix = `intake${++mounts}`;
  const id = (s: string): string => `${prefix}-${s.replace(/[^A-Za-z0-9-]/g, '-')}`;
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

  const ctx: FieldContext = {
    staff,
    phone,
    id,
    texts: () => texts,
    dynamic: (update) => dynamic.push(update),
    lang: () => lang,
    tr: () => tr,
  };
  const b = fieldBuilders(ctx);
  const { txt, heading, phoneLink } = b;

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

    const safety = safetySection(b, ctx);
    const substances = substancesSection(b, ctx);
    const physician = physicianSection(b);
    physician.nameInput.addEventListener('input', () => refresh());
    const sections = {
      safety,
      about: aboutSection(b, ctx),
      substances,
      withdrawal: withdrawalSection(b),
      conditions: conditionsSection(b),
      insurance: insuranceSection(b, ctx),
      physician,
      consent: consentSection(b, ctx, physician.name),
      schedule: scheduleSection(b),
      notes: notesSection(b, ctx),
    };
    const { crisisLive, crisis: formCrisis, crisisShown, updateCrisis } = safety;
    const renumberSubstances = substances.renumber;

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
      ...Object.values(sections).map((section) => section.element),
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
    const body = (): unknown =>
      collect({
        lang,
        signedAt: state.signedAt ?? new Date().toISOString(),
        ...sections.safety.read(),
        ...sections.about.read(),
        ...sections.substances.read(),
        ...sections.withdrawal.read(),
        ...sections.conditions.read(),
        ...sections.insurance.read(),
        ...sections.physician.read(),
        ...sections.consent.read(),
        ...sections.schedule.read(),
        ...sections.notes.read(),
      });

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
        translate: (m, p) =>
          translateMessage(
            tr,
            m,
            p,
            questionName(tr, p, (i) => substances.ticked()[i]),
          ),
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
      if (key)
        failure.append(txt('p', key, { class: 'form-failure__text' }, () => ({ phone: unbreakable(phone), submit: tr.t('submit') })));
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
      const parsed = IntakeSchema.safeParse(body());
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
      urgent ? h('div', { class: 'crisis-live', role: 'alert' }, b.crisisBox(2, false)) : null,
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
