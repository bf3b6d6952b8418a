import { randomInt } from 'node:crypto';

// short, human-friendly references for phone calls: no 0/O, 1/I/L, 2/Z, 5/S, 8/B to misread

const ALPHABET = '34679ACDEFGHJKMNPQRTUVWXY';

/** e.g. "IOP-7KQ4-M3TD": 8 characters from 25 → 1.5e11 references; uniqueness is enforced on write */
export const newReference = (): string => {
  const pick = () => ALPHABET[randomInt(ALPHABET.length)];
  const part = () => Array.from({ length: 4 }, pick).join('');
  return `IOP-${part()}-${part()}`;
};

export const REFERENCE_RE = /^IOP-[34679ACDEFGHJKMNPQRTUVWXY]{4}-[34679ACDEFGHJKMNPQRTUVWXY]{4}$/;
