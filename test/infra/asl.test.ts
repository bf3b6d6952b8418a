import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { functions as catalog, STATE_MACHINE_FILE } from '../../functions/catalog';
import { REPO_ROOT } from '../../infra/stack';

// asl-validator is CommonJS without type declarations
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const raw = readFileSync(join(REPO_ROOT, STATE_MACHINE_FILE), 'utf8');
const aslKeys = catalog.flatMap((s) => (s.aslKey ? [s.aslKey] : []));

/** what CloudFormation does with definitionSubstitutions, with made-up function ARNs */
const substituted = (text: string): unknown =>
  JSON.parse(text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, key: string) => `arn:aws:lambda:us-east-1:123456789012:function:${key}`));

/** every [key, value] pair anywhere in a JSON document */
const walk = (node: unknown, visit: (key: string, value: unknown) => void): void => {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      walk(value, visit);
    }
  }
};

describe('statemachines/referral.asl.json', () => {
  test('its ${...} placeholders are exactly the catalog aslKeys', () => {
    const placeholders = new Set([...raw.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual([...new Set(aslKeys)].sort());
  });

  test('asl-validator accepts it after substitution', () => {
    const result = aslValidator(substituted(raw));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('asl-validator is not a rubber stamp: a Task without Resource is rejected', () => {
    const broken = substituted(raw) as { States: Record<string, Record<string, unknown>> };
    const firstTask = Object.values(broken.States).find((state) => state.Type === 'Task');
    expect(firstTask?.Resource).toBeDefined();
    delete firstTask!.Resource;
    expect(aslValidator(broken).isValid).toBe(false);
  });

  test('JSONPath only: no JSONata query language and no Assign anywhere (the local runtime cannot evaluate them)', () => {
    const offending: string[] = [];
    walk(substituted(raw), (key, value) => {
      if (key === 'Assign') offending.push('Assign');
      if (key === 'QueryLanguage' && value === 'JSONata') offending.push('QueryLanguage: JSONata');
    });
    expect(offending).toEqual([]);
  });
});
