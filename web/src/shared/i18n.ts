// a tiny i18n helper: typed dictionaries (a missing Spanish key is a compile error), {name}
// placeholders, and text bindings so a language switch re-labels a view in place without
// re-rendering it (nothing typed is lost).

const LANGS = ['en', 'es'] as const;
export type Lang = (typeof LANGS)[number];

/** one dictionary per language; `es` must have every key of `en` */
export type Dictionaries<K extends string> = Record<Lang, Record<K, string>>;

export type Vars = Record<string, string | number>;

export interface Translator<K extends string> {
  readonly lang: Lang;
  /** the text of `key` in the current language, `{name}` placeholders filled from `vars` */
  t(key: K, vars?: Vars): string;
  /** true when `key` is a known key (for data-driven lookups, e.g. error messages) */
  has(key: string): key is K;
}

export const isLang = (v: unknown): v is Lang => v === 'en' || v === 'es';

const fill = (text: string, vars?: Vars): string =>
  vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;

/**
 * Builds a translator over `dicts` for `lang`. `overrides` (e.g. staff-mode wording) are
 * consulted first, then the language's dictionary, then English.
 */
export const translator = <K extends string>(
  dicts: Dictionaries<K>,
  lang: Lang,
  overrides?: Partial<Record<Lang, Partial<Record<K, string>>>>,
): Translator<K> => ({
  lang,
  t: (key, vars) => fill(overrides?.[lang]?.[key] ?? dicts[lang][key] ?? dicts.en[key] ?? key, vars),
  has: (key): key is K => key in dicts.en,
});

export interface TextBindings<K extends string> {
  /** keeps `el`'s text (or attribute `attr`) in the current language; `vars` is re-read on each apply */
  bind<E extends Element>(el: E, key: K, vars?: () => Vars, attr?: string): E;
  /** re-labels every bound element (text via textContent only, never HTML) */
  apply(tr: Translator<K>): void;
}

/**
 * A registry of translated texts for one view: bind elements once as you build them, call
 * `apply` on a language change (or when a `{placeholder}` value changes). The page is
 * re-labelled in place, so nothing typed is lost.
 */
export const textBindings = <K extends string>(): TextBindings<K> => {
  const items: Array<{ el: Element; key: K; vars?: () => Vars; attr?: string }> = [];
  return {
    bind(el, key, vars, attr) {
      items.push({ el, key, vars, attr });
      return el;
    },
    apply(tr) {
      for (const { el, key, vars, attr } of items) {
        const text = tr.t(key, vars?.());
        if (attr) el.setAttribute(attr, text);
        else if (el.textContent !== text) el.textContent = text;
      }
    },
  };
};

/** the browser's preferred language among the supported ones (Spanish when it comes first) */
export const preferredLang = (languages: readonly string[] = globalThis.navigator?.languages ?? []): Lang => {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return 'en';
};

/**
 * A language the person chose on a page, kept in localStorage under `key` (a language code, never
 * anything they typed). Storage can be unavailable (private modes, blocked storage): then nothing
 * is kept and nothing fails.
 */
export const languageMemory = (key: string) => ({
  read(): Lang | undefined {
    try {
      const v = globalThis.localStorage?.getItem(key);
      return isLang(v) ? v : undefined;
    } catch {
      return undefined;
    }
  },
  write(lang: Lang): void {
    try {
      globalThis.localStorage?.setItem(key, lang);
    } catch {
      // not kept: the page still works in the chosen language
    }
  },
});
