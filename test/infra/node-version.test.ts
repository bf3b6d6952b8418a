import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functions as catalog } from '../../functions/catalog';
import { ESBUILD_TARGET, LAMBDA_RUNTIME_NAME, NODE_MAJOR } from '../../infra/bundling';
import { REPO_ROOT } from '../../infra/stack';
import { resourcesOf, templateFor } from './helpers';

// one Node.js version everywhere (DEPLOY.md, "Node.js version"): the Lambda runtime, the esbuild
// target, @types/node, package.json engines and .nvmrc agree on NODE_MAJOR

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const majorOf = (range: string): number => Number(range.match(/(\d+)/)?.[1]);

describe(`Node.js ${NODE_MAJOR} everywhere`, () => {
  test('every catalog function runs on it', () => {
    const runtimes = Object.values(resourcesOf(templateFor('prod'), 'AWS::Lambda::Function'))
      .filter((f) => catalog.some((s) => s.description === f.Properties?.Description))
      .map((f) => f.Properties?.Runtime);
    expect(runtimes).toHaveLength(catalog.length);
    expect(new Set(runtimes)).toEqual(new Set([LAMBDA_RUNTIME_NAME]));
    expect(LAMBDA_RUNTIME_NAME).toBe(`nodejs${NODE_MAJOR}.x`);
  });

  test('esbuild targets it', () => {
    expect(ESBUILD_TARGET).toBe(`node${NODE_MAJOR}`);
  });

  test('the types describe it, engines and .nvmrc ask for it', () => {
    expect(majorOf(pkg.devDependencies['@types/node']!)).toBe(NODE_MAJOR);
    expect(pkg.engines.node).toBe(`${NODE_MAJOR}.x`);
    expect(readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(NODE_MAJOR));
  });

  test('DEPLOY.md states the choice', () => {
    const deploy = readFileSync(join(REPO_ROOT, 'DEPLOY.md'), 'utf8');
    expect(deploy).toContain(`Node.js ${NODE_MAJOR}`);
    expect(deploy).toContain(LAMBDA_RUNTIME_NAME);
  });
});
