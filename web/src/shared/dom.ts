// DOM building without innerHTML: attributes via setAttribute, text via textContent. every string
// a person typed stays data, never markup.

export type Attrs = Record<string, string | number | boolean | undefined | null>;
export type Child = Node | string | null | undefined | false;

/**
 * Creates `<tag>` with `attrs` (true → empty attribute, false/null/undefined → omitted) and
 * `children` (strings become text nodes).
 */
export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
};

/** a `tel:` href for a display phone number such as "(555) 010-0100" */
export const telHref = (phone: string): string => `tel:${phone.replace(/[^\d+]/g, '')}`;
