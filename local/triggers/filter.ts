/**
 * Event source mapping filter patterns (the EventBridge pattern syntax Lambda applies to stream
 * records), the subset the catalog uses: nested objects whose leaves are arrays of exact values.
 *
 *   { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['notice'] } } } }
 *
 * A record matches when every leaf matches: the value at that path equals one of the listed values
 * (an array value matches when any element does; `null` matches null; a missing field matches
 * nothing). Content operators (`prefix`, `exists`, `anything-but`, `numeric`, …) are refused when the
 * pattern is compiled, so a filter the emulation would get wrong fails the start instead of
 * filtering differently than AWS.
 */

type Leaf = string | number | boolean | null;
type Compiled = (value: unknown) => boolean;

export class FilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterPatternError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const equalsLeaf = (value: unknown, leaf: Leaf): boolean => {
  if (leaf === null) return value === null;
  if (typeof leaf === 'number') return typeof value === 'number' && value === leaf;
  return value === leaf;
};

const compileLeaf = (values: unknown[], path: string): Compiled => {
  if (values.length === 0) throw new FilterPatternError(`${path}: an empty array matches nothing`);
  const leaves = values.map((v, i) => {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v as Leaf;
    const op = isObject(v) ? Object.keys(v).join(', ') : typeof v;
    throw new FilterPatternError(`${path}[${i}]: only exact values are supported locally, not ${op}`);
  });
  return (value) => {
    if (value === undefined) return false;
    const candidates = Array.isArray(value) ? value : [value];
    return candidates.some((c) => leaves.some((leaf) => equalsLeaf(c, leaf)));
  };
};

const compileObject = (pattern: Record<string, unknown>, path: string): Compiled => {
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw new FilterPatternError(`${path || 'pattern'}: an empty object`);
  const checks = entries.map(([key, sub]): [string, Compiled] => {
    const where = path ? `${path}.${key}` : key;
    if (Array.isArray(sub)) return [key, compileLeaf(sub, where)];
    if (isObject(sub)) return [key, compileObject(sub, where)];
    throw new FilterPatternError(`${where}: a pattern value is an object or an array of values`);
  });
  return (value) => isObject(value) && checks.every(([key, check]) => check(value[key]));
};

/** a predicate for `pattern`; throws FilterPatternError for what this subset does not support */
export const compileFilter = (pattern: Record<string, unknown>): ((record: unknown) => boolean) => {
  if (!isObject(pattern)) throw new FilterPatternError('a filter pattern is an object');
  return compileObject(pattern, '');
};
