// the payer list behind the payer pickers (GET /api/payers, public, no PHI): the intake form (public
// page and the console's phone intake) and the console's insurance re-check. A picker is a text
// input with a <datalist>: choosing a listed name gives its payer ID; any other name stays allowed
// (checked by hand). A list that fails to load leaves plain text boxes, never a blocked form.

export interface PayerOption {
  name: string;
  payerId: string;
}

let loading: Promise<PayerOption[]> | undefined;

const isPayer = (v: unknown): v is PayerOption =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as PayerOption).name === 'string' &&
  typeof (v as PayerOption).payerId === 'string' &&
  /^[A-Za-z0-9]{2,20}$/.test((v as PayerOption).payerId);

const fetchPayers = async (): Promise<PayerOption[]> => {
  const res = await fetch('/api/payers', { headers: { accept: 'application/json' }, credentials: 'omit' });
  if (!res.ok) throw new Error(`payers ${res.status}`);
  const body = (await res.json()) as { items?: unknown };
  if (!Array.isArray(body.items)) throw new Error('payers: not a list');
  return body.items.filter(isPayer);
};

/** the payer list, fetched once per page; an empty list when it could not be loaded (tried again next time) */
export const loadPayers = (): Promise<PayerOption[]> => {
  loading ??= fetchPayers().catch(() => {
    loading = undefined;
    return [];
  });
  return loading;
};

const key = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** the listed payer a typed name is (any case, spacing aside), or undefined for a name not on the list */
export const listedPayer = (list: readonly PayerOption[], typed: string): PayerOption | undefined => {
  const k = key(typed);
  return k === '' ? undefined : list.find((p) => key(p.name) === k);
};

/** fills a <datalist> with the payers' names (text nodes only) */
export const fillDatalist = (datalist: HTMLDataListElement, list: readonly PayerOption[]): void => {
  datalist.replaceChildren(
    ...list.map((p) => {
      const option = document.createElement('option');
      option.value = p.name;
      return option;
    }),
  );
};
