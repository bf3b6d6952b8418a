// form errors, generic: API/zod `fields` (dotted paths) → messages beside the inputs plus an error
// summary at the top with a link to each field.
//
// markup convention: each field sits in a wrapper with `data-path="<dotted path>"`:
//   <div class="field" data-path="patient.dateOfBirth">  label, hint, input  </div>
//   <fieldset class="field" data-path="insurance.type">   legend, radios      </fieldset>
// an error message element is created in the wrapper (after the label/legend/hint) on demand;
// `aria-invalid` and `aria-describedby` go on the input (or, for a fieldset, on the fieldset,
// with `aria-invalid` also on its own radios/checkboxes).

export type FieldErrors = Record<string, string[]>;

export interface ShowErrorsOptions {
  /** the container of the summary; it is filled, shown and (by default) focused */
  summary: HTMLElement;
  /** the summary's heading, e.g. "There is a problem" */
  title: string;
  /** heading level of the summary title (default 2) */
  headingLevel?: 2 | 3 | 4;
  /** message text as shown (translation hook); default: as given */
  translate?: (message: string, path: string) => string;
  /** move focus to the summary (default true) */
  focus?: boolean;
}

const ERROR_CLASS = 'field-error';
const INVALID_CLASS = 'field--invalid';
const CONTROLS = 'input:not([type=hidden]), select, textarea';

const cssEscape = (s: string): string => (typeof globalThis.CSS?.escape === 'function' ? CSS.escape(s) : s.replace(/["\\]/g, '\\$&'));

/**
 * The visible wrapper for `path`: the element with exactly that `data-path`, else the nearest
 * ancestor path that has one (`substances.2.lastUse` → `substances.2` → `substances`). Hidden
 * wrappers are skipped. Null when nothing matches (the error is then shown in the summary only).
 */
export const findField = (root: ParentNode, path: string): HTMLElement | null => {
  const parts = path.split('.');
  while (parts.length > 0) {
    const el = root.querySelector<HTMLElement>(`[data-path="${cssEscape(parts.join('.'))}"]`);
    if (el && isShown(el)) return el;
    parts.pop();
  }
  return null;
};

const isShown = (el: HTMLElement): boolean => !el.closest('[hidden]');

/** the element that carries aria-describedby: the fieldset itself, else its first control */
const describedElement = (field: HTMLElement): HTMLElement | null =>
  field instanceof HTMLFieldSetElement ? field : field.querySelector<HTMLElement>(CONTROLS);

/** where focus goes for a field: a checked radio, else the first enabled control */
const focusTarget = (field: HTMLElement): HTMLElement | null =>
  field.querySelector<HTMLElement>('input[type=radio]:checked:not(:disabled)') ??
  field.querySelector<HTMLElement>(
    `${CONTROLS.split(', ')
      .map((c) => `${c}:not(:disabled)`)
      .join(', ')}`,
  );

const addToken = (el: HTMLElement, attr: string, token: string): void => {
  const tokens = (el.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean);
  if (!tokens.includes(token)) el.setAttribute(attr, [...tokens, token].join(' '));
};

const removeToken = (el: HTMLElement, attr: string, token: string): void => {
  const tokens = (el.getAttribute(attr) ?? '').split(/\s+/).filter((t) => t && t !== token);
  if (tokens.length) el.setAttribute(attr, tokens.join(' '));
  else el.removeAttribute(attr);
};

let uid = 0;
const ensureId = (el: HTMLElement, prefix: string): string => {
  if (!el.id) el.id = `${prefix}-${++uid}`;
  return el.id;
};

/** removes every field error under `root` and empties/hides the summary */
export const clearErrors = (root: ParentNode, summary?: HTMLElement): void => {
  for (const field of root.querySelectorAll<HTMLElement>(`.${INVALID_CLASS}`)) clearFieldError(field);
  if (summary) {
    summary.replaceChildren();
    summary.hidden = true;
  }
};

/** removes the error of one field wrapper (e.g. once the person has corrected it) */
const clearFieldError = (field: HTMLElement): void => {
  field.classList.remove(INVALID_CLASS);
  const msg = field.querySelector<HTMLElement>(`:scope > .${ERROR_CLASS}`);
  const described = describedElement(field);
  if (msg) {
    if (described) removeToken(described, 'aria-describedby', msg.id);
    msg.remove();
  }
  field.removeAttribute('aria-invalid');
  if (field instanceof HTMLFieldSetElement) for (const c of groupControls(field)) c.removeAttribute('aria-invalid');
  else describedElement(field)?.removeAttribute('aria-invalid');
};

/** the radios/checkboxes of a group (not the inputs of a field revealed inside it) */
const groupControls = (field: HTMLFieldSetElement): HTMLInputElement[] =>
  [...field.querySelectorAll<HTMLInputElement>('input[type=radio], input[type=checkbox]')].filter((c) => c.closest('.field') === field);

/** marks one field wrapper invalid with `messages`; returns the element to focus for it */
const setFieldError = (field: HTMLElement, messages: string[]): HTMLElement | null => {
  clearFieldError(field);
  field.classList.add(INVALID_CLASS);
  const msg = document.createElement('p');
  msg.className = ERROR_CLASS;
  ensureId(msg, 'err');
  msg.textContent = messages.join(' ');
  // after the label/legend and hint, before the control: read before the person types
  const anchor =
    field.querySelector<HTMLElement>(':scope > .hint:last-of-type') ?? field.querySelector<HTMLElement>(':scope > legend, :scope > label');
  if (anchor) anchor.after(msg);
  else field.prepend(msg);
  const described = describedElement(field);
  if (described) {
    addToken(described, 'aria-describedby', msg.id);
    described.setAttribute('aria-invalid', 'true');
  }
  if (field instanceof HTMLFieldSetElement) {
    for (const c of groupControls(field)) c.setAttribute('aria-invalid', 'true');
  }
  return focusTarget(field);
};

/**
 * Shows `fields` beside their inputs and lists them in the summary (links that move focus to
 * the field; the URL is left alone). Paths with no field on the page (or `_`) are listed without
 * a link. Returns the number of messages shown.
 */
export const showErrors = (root: ParentNode, fields: FieldErrors, options: ShowErrorsOptions): number => {
  clearErrors(root, options.summary);
  const translate = options.translate ?? ((m: string) => m);
  const items: HTMLLIElement[] = [];
  const byField = new Map<HTMLElement, string[]>();
  const unplaced: string[] = [];

  for (const [path, raw] of Object.entries(fields)) {
    const messages = [...new Set(raw.map((m) => translate(m, path)))];
    const field = findField(root, path);
    if (!field) {
      unplaced.push(...messages);
      continue;
    }
    byField.set(field, [...new Set([...(byField.get(field) ?? []), ...messages])]);
  }

  // list in page order so the summary reads top to bottom like the form
  const ordered = [...byField.entries()].sort(([a], [b]) =>
    a === b ? 0 : a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
  );
  for (const [field, messages] of ordered) {
    const target = setFieldError(field, messages);
    for (const m of messages) {
      const li = document.createElement('li');
      if (target) {
        const a = document.createElement('a');
        a.href = `#${ensureId(target, 'field')}`;
        a.textContent = m;
        a.addEventListener('click', (e) => {
          e.preventDefault();
          target.focus();
          field.scrollIntoView({ block: 'center' });
        });
        li.append(a);
      } else {
        li.textContent = m;
      }
      items.push(li);
    }
  }
  for (const m of new Set(unplaced)) {
    const li = document.createElement('li');
    li.textContent = m;
    items.push(li);
  }

  const { summary } = options;
  const heading = document.createElement(`h${options.headingLevel ?? 2}`);
  heading.className = 'error-summary__title';
  heading.textContent = options.title;
  const list = document.createElement('ul');
  list.className = 'error-summary__list';
  list.append(...items);
  // the alert makes screen readers read the problems as focus lands on the summary
  const alert = document.createElement('div');
  alert.setAttribute('role', 'alert');
  alert.append(heading, list);
  summary.classList.add('error-summary');
  summary.tabIndex = -1;
  summary.replaceChildren(alert);
  summary.hidden = items.length === 0;
  if (items.length > 0 && options.focus !== false) {
    summary.focus();
    summary.scrollIntoView({ block: 'start' });
  }
  return items.length;
};
