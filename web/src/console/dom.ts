// tiny DOM builder: every string child becomes a Text node, so data is always inert.
// there is deliberately no way to pass HTML through here (no innerHTML anywhere in the console).

export type Child = Node | string | number | false | null | undefined | readonly Child[];

export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

const append = (el: Node, child: Child): void => {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child as readonly Child[]) append(el, c);
    return;
  }
  el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
};

/** `h('a', { href: '#/x', class: 'y' }, 'text')`; `on*` attrs become listeners, booleans toggle attrs */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === 'function') {
        el.addEventListener(name.slice(2).toLowerCase(), value);
      } else if (name === 'style' || name.toLowerCase() === 'innerhtml') {
        throw new Error(`attribute ${name} is not allowed`); // CSP forbids inline styles; HTML is never built from data
      } else if (value === true) {
        el.setAttribute(name, '');
      } else {
        el.setAttribute(name, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/** replace all children of `el` */
export const mount = (el: Element, ...children: Child[]): void => {
  el.replaceChildren();
  append(el, children);
};

let uid = 0;
/** unique element id with a readable prefix */
export const nextId = (prefix: string): string => `${prefix}-${++uid}`;

let liveTimer: number | undefined;

/** polite status message for screen readers (and sighted users: the region is visible) */
export const announce = (message: string): void => {
  const region = document.getElementById('live');
  if (!region) return;
  // clear first so repeating the same message is announced again
  region.textContent = '';
  window.clearTimeout(liveTimer);
  window.setTimeout(() => {
    region.textContent = message;
  }, 50);
  // the region doubles as a visible toast; it empties itself after a while
  liveTimer = window.setTimeout(() => {
    region.textContent = '';
  }, 8000);
};
