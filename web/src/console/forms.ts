import { message } from '../../../functions/lib/schemas/messages';
import { clearErrors, findField, showErrors, type FieldErrors } from '../shared/form-errors';
import { h, nextId, type Child } from './dom';

// labelled controls for the console's forms. Each field sits in a wrapper with `data-path` (the
// dotted path of the API's `fields`), so the shared form-errors helper puts client-side zod
// issues and server answers on the same inputs, with an error summary that takes focus.

export { fieldErrors as issuesToFields } from '../../../functions/lib/schemas/common';

/** the message for a missing answer (the schemas'); FormErrors words it with the field's label */
const REQUIRED = message('required');

/** zod error map for safeParse: a missing answer (or no discriminator chosen) is REQUIRED */
export const requiredError = (iss: { input?: unknown; code?: string }): string | undefined =>
  iss.input === undefined || (iss.code === 'invalid_union' && 'discriminator' in iss) ? REQUIRED : undefined;

/** the error summary of one form, plus whole-form problems (409, 403, network) */
export class FormErrors {
  readonly summary: HTMLDivElement;

  constructor(private readonly title = 'Check these answers') {
    this.summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
  }

  private root(): ParentNode {
    return this.summary.closest('form') ?? this.summary.parentElement ?? document;
  }

  clear(): void {
    clearErrors(this.root(), this.summary);
  }

  /** shows `{ path: [messages] }` beside the fields and in the summary; returns how many */
  show(fields: FieldErrors, extra?: string): number {
    const root = this.root();
    const worded: FieldErrors = {};
    for (const [path, messages] of Object.entries(fields)) {
      const label = findField(root, path)?.dataset.label ?? 'This answer';
      worded[path] = messages.map((m) => (m === REQUIRED ? `${label}: required` : m));
    }
    const all = extra && !Object.values(fields).flat().includes(extra) ? { _: [extra], ...worded } : worded;
    return showErrors(root, all, { summary: this.summary, title: this.title, headingLevel: 3 });
  }

  /** a problem with the whole form: title, text and actions (e.g. "Reload referral") */
  message(title: string, body: string, ...actions: Child[]): void {
    this.clear();
    this.summary.replaceChildren(
      h(
        'div',
        { role: 'alert' },
        h('h3', { class: 'error-summary__title' }, title),
        h('p', null, body),
        actions.length ? h('p', { class: 'actions' }, actions) : null,
      ),
    );
    this.summary.hidden = false;
    this.summary.focus();
  }
}

interface FieldOpts {
  label: string;
  /** dotted path as in the API's `fields` (e.g. `dimensions.d1`) */
  path: string;
  hint?: string;
  required?: boolean;
  /** extra attributes for the control */
  attrs?: Record<string, string | number | boolean | undefined>;
  class?: string;
}

const labelText = (label: string, required?: boolean): Child[] => [label, required ? h('span', { class: 'req' }, ' (required)') : null];

function wrap(opts: FieldOpts, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLDivElement {
  const hintId = `${control.id}-hint`;
  if (opts.hint) control.setAttribute('aria-describedby', hintId);
  if (opts.required) control.required = true;
  return h(
    'div',
    { class: `field ${opts.class ?? ''}`.trim(), 'data-path': opts.path, 'data-label': opts.label },
    h('label', { for: control.id }, labelText(opts.label, opts.required)),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    control,
  );
}

export function input(opts: FieldOpts & { type?: string; value?: string }): { el: HTMLDivElement; control: HTMLInputElement } {
  const control = h('input', { id: nextId('f'), name: opts.path, type: opts.type ?? 'text', ...opts.attrs });
  if (opts.value !== undefined) control.value = opts.value;
  return { el: wrap(opts, control), control };
}

export function textarea(opts: FieldOpts & { rows?: number }): { el: HTMLDivElement; control: HTMLTextAreaElement } {
  const control = h('textarea', { id: nextId('f'), name: opts.path, rows: opts.rows ?? 3, ...opts.attrs });
  return { el: wrap(opts, control), control };
}

export interface Option {
  value: string;
  label: string;
  disabled?: boolean;
  /** extra text beside a radio option */
  detail?: Child;
}

export function select(opts: FieldOpts & { options: Option[]; placeholder?: string; value?: string }): {
  el: HTMLDivElement;
  control: HTMLSelectElement;
} {
  const control = h(
    'select',
    { id: nextId('f'), name: opts.path, ...opts.attrs },
    opts.placeholder !== undefined ? h('option', { value: '' }, opts.placeholder) : null,
    opts.options.map((o) => h('option', { value: o.value, disabled: o.disabled }, o.label)),
  );
  if (opts.value !== undefined) control.value = opts.value;
  return { el: wrap(opts, control), control };
}

/** a radio group in a fieldset; `value()` is the checked value or '' */
export function radios(opts: FieldOpts & { options: Option[]; inline?: boolean; onchange?: (v: string) => void }): {
  el: HTMLFieldSetElement;
  value: () => string;
  inputs: HTMLInputElement[];
} {
  const name = nextId('r');
  const hintId = `${name}-hint`;
  const inputs: HTMLInputElement[] = [];
  const items = opts.options.map((o) => {
    const id = nextId('o');
    const radio = h('input', { type: 'radio', id, name, value: o.value, disabled: o.disabled, required: opts.required });
    if (opts.onchange) radio.addEventListener('change', () => opts.onchange?.(o.value));
    inputs.push(radio);
    return h(
      'div',
      { class: `choice${o.disabled ? ' disabled' : ''}` },
      radio,
      h('label', { for: id }, o.label, o.detail ? h('span', { class: 'choice-detail' }, o.detail) : null),
    );
  });
  const fieldset = h(
    'fieldset',
    {
      class: `field radios${opts.inline ? ' inline' : ''} ${opts.class ?? ''}`.trim(),
      'data-path': opts.path,
      'data-label': opts.label,
      'aria-describedby': opts.hint ? hintId : undefined,
    },
    h('legend', null, labelText(opts.label, opts.required)),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    h('div', { class: 'choices' }, items),
  );
  return { el: fieldset, value: () => inputs.find((i) => i.checked)?.value ?? '', inputs };
}

/** '' → undefined, so optional fields are left out of the body */
export const opt = (s: string): string | undefined => (s.trim() === '' ? undefined : s.trim());

/** an empty number field is undefined (not 0) */
export const num = (s: string): number | undefined => (s.trim() === '' ? undefined : Number(s));
