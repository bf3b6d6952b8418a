// the payer list behind the payer pickers (GET /api/payers, public, no PHI): the intake form (public
// page and the console's phone intake) and the console's insurance re-check. A picker is a text
// input with a <datalist>: choosing a listed name gives its payer ID; any other name stays allowed
// (checked by hand). A list that fails to load leaves plain text boxes, never a blocked form.

import type { Payer } from '../../../functions/lib/payers';
import { PayerIdSchema } from '../../../functions/lib/schemas/intake';
import { h } from './dom';

let loading: Promise<Payer[]> | undefined;

const isPayer = (v: unknown): v is Payer =>
  typeof v === 'object' && v !== null && typeof (v as Payer).name === 'string' && PayerIdSchema.safeParse((v as Payer).payerId).success;

const fetchPayers = async (): Promise<Payer[]> => {
  const res = await fetch('/api/payers', { headers: { accept: 'application/json' }, credentials: 'omit' });
  if (!res.ok) throw new Error(`payers ${res.status}`);
  const body = (await res.json()) as { items?: unknown };
  if (!Array.isArray(body.items)) throw new Error('payers: not a list');
  return body.items.filter(isPayer);
};

/** the payer list, fetched once per page; an empty list when it could not be loaded (tried again next time) */
const loadPayers = (): Promise<Payer[]> => {
  loading ??= fetchPayers().catch(() => {
    loading = undefined;
    return [];
  });
  return loading;
};

const key = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** the listed payer a typed name is (any case, spacing aside), or undefined for a name not on the list */
const listedPayer = (list: readonly Payer[], typed: string): Payer | undefined => {
  const k = key(typed);
  return k === '' ? undefined : list.find((p) => key(p.name) === k);
};

/** fills a <datalist> with the payers' names (text nodes only) */
const fillDatalist = (datalist: HTMLDataListElement, list: readonly Payer[]): void => {
  datalist.replaceChildren(
    ...list.map((p) => {
      const option = document.createElement('option');
      option.value = p.name;
      return option;
    }),
  );
};

export interface PayerPicker {
  /** the listed payer a typed name is, or undefined (also while the list loads or when it failed) */
  listed(typed: string): Payer | undefined;
  /** writes the status line again (e.g. after a change of language) */
  showStatus(): void;
}

/**
 * Makes `input` a payer picker: a <datalist> of the payers (once the list has loaded) and, after
 * `field`, a polite status line saying whether the typed name is on the list, in the caller's
 * words; nothing while the box is empty or the list is empty.
 */
export const payerPicker = (o: {
  input: HTMLInputElement;
  /** the input's field: the datalist and the status line are appended to it */
  field: HTMLElement;
  listId: string;
  statusClass: string;
  status(listed: Payer | undefined): string;
}): PayerPicker => {
  const datalist = h('datalist', { id: o.listId });
  const line = h('p', { class: o.statusClass, 'aria-live': 'polite' });
  let payers: Payer[] = [];
  const showStatus = (): void => {
    line.textContent = o.input.value.trim() === '' || !payers.length ? '' : o.status(listedPayer(payers, o.input.value));
  };
  o.field.append(datalist, line);
  o.input.addEventListener('input', showStatus);
  void loadPayers().then((list) => {
    payers = list;
    if (!list.length) return;
    fillDatalist(datalist, list);
    o.input.setAttribute('list', datalist.id);
    showStatus();
  });
  return { listed: (typed) => listedPayer(payers, typed), showStatus };
};
