import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { functions as catalog } from '../../../functions/catalog';
import type { Need } from '../../../infra/grants';
import { permissionGaps, reachableActions, unusedNeeds } from './support/sdk-actions';
import { handlerFile, hasHandler, sdkAnalyzer, type Reach } from './support/sdk-reach';

// what a function calls is what it may call: for every catalog function, the AWS SDK commands its
// code can reach (a call graph from its handler through ports to adapters, support/sdk-reach.ts)
// must be granted by its catalog `needs`, read through the same need → actions table the CDK
// construct uses (infra/grants.ts). And a need its code never uses is one too many.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./support/sdk-reach-fixture/handler.ts', import.meta.url));

// one TypeScript program over every handler (and the fixture), built once: a few seconds
let analysis: { reaches: Map<string, Reach>; fixture: Reach } | undefined;
const analyse = () => {
  if (!analysis) {
    const present = catalog.filter((f) => hasHandler(root, f.name)).map((f) => f.name);
    const analyzer = sdkAnalyzer(`${root}tsconfig.json`, [...present.map((n) => handlerFile(root, n)), fixture]);
    analysis = { reaches: new Map(present.map((n) => [n, analyzer.reach(handlerFile(root, n))])), fixture: analyzer.reach(fixture) };
  }
  return analysis;
};
const reachOf = (name: string): Reach => {
  const r = analyse().reaches.get(name);
  if (!r) throw new Error(`no analysis for ${name}: functions/${name}/handler.ts is missing`);
  return r;
};
const commandsOf = (r: Reach) => [...r.commands.values()].map((u) => `${u.pkg}#${u.command}`).sort();
const specOf = (name: string) => catalog.find((f) => f.name === name)!;

describe('the analysis', () => {
  test('follows a port call to the adapter that implements it, and only into the bundle', () => {
    // Prepare / Act
    const r = analyse().fixture;

    // Assess: GetCommand through Store.load → DocStore.load; the paginator and the aggregated client's
    // method count as their commands; DocStore.remove and `overwrite` are never called, and ScanStore
    // implements the port but is not imported by the handler
    expect(commandsOf(r)).toEqual([
      '@aws-sdk/client-sfn#StartExecutionCommand',
      '@aws-sdk/lib-dynamodb#GetCommand',
      '@aws-sdk/lib-dynamodb#QueryCommand',
    ]);
    expect(r.commands.get('@aws-sdk/lib-dynamodb#GetCommand')!.via.at(-1)).toBe('DocStore.load');
    expect(r.bundle.some((f) => f.endsWith('scan-store.ts'))).toBe(false);
  });

  test('finds SendTaskSuccess in open-gate, through the Workflow port to SfnWorkflow.resume', () => {
    const use = reachOf('open-gate').commands.get('@aws-sdk/client-sfn#SendTaskSuccessCommand');
    expect(use?.via.at(-1)).toBe('SfnWorkflow.resume');
    expect(use?.at).toMatch(/^functions\/lib\/adapters\/sfn-workflow\.ts:\d+$/);
  });

  test('is per function, not per module: health does not reach what getDeps builds but health never calls', () => {
    const actions = reachableActions(reachOf('health'));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'states:DescribeStateMachine']));
    expect(actions).not.toContain('states:StartExecution');
    expect(actions).not.toContain('dynamodb:PutItem');
  });

  test('reports a missing need with the action and the call chain, and an unused one', () => {
    const r = reachOf('open-gate');
    const needs = specOf('open-gate').needs.filter((n) => n !== 'workflow:callback');

    const gaps = permissionGaps(r, needs);
    expect(gaps.map((g) => g.missing)).toEqual([['states:SendTaskSuccess']]);
    expect(gaps[0]!.via).toContain('SfnWorkflow.resume');
    // the fixture reads, pages and starts, but sends no email
    expect(unusedNeeds(analyse().fixture, ['table:read', 'workflow:start', 'email:send'])).toEqual(['email:send']);
  });

  test('reports a command it has no IAM action for instead of passing it', () => {
    const reach: Reach = {
      commands: new Map([
        [
          '@aws-sdk/client-sfn#ListTagsForResourceCommand',
          { pkg: '@aws-sdk/client-sfn', command: 'ListTagsForResourceCommand', at: 'x.ts:1', via: [] },
        ],
      ]),
      bundle: [],
      functionsReached: 0,
    };
    expect(permissionGaps(reach, ['workflow:describe', 'workflow:start'])).toEqual([
      expect.objectContaining({ unmapped: true, missing: ['@aws-sdk/client-sfn#ListTagsForResourceCommand'] }),
    ]);
  });
});

describe.each(catalog.map((f) => [f.name, f.needs] as const))('%s', (name, needs: readonly Need[]) => {
  test('has its handler', () => {
    expect(hasHandler(root, name)).toBe(true);
  });

  test('may call every AWS action its code can reach', () => {
    const gaps = permissionGaps(reachOf(name), needs).map(
      (g) => `${g.command} needs ${g.missing.join(', ')} (${g.at}, via ${g.via.join(' → ')})`,
    );
    expect(gaps).toEqual([]);
  });

  test('is granted no need its code never uses', () => {
    expect(unusedNeeds(reachOf(name), needs)).toEqual([]);
  });
});

test('every function with a handler and needs reaches at least one AWS command (PERMISSIONS_TABLE=1 prints the table)', () => {
  const rows = catalog
    .filter((f) => analyse().reaches.has(f.name))
    .map((f) => {
      const r = reachOf(f.name);
      const commands = [...r.commands.values()]
        .map((u) => u.command.replace(/Command$/, ''))
        .sort()
        .join(', ');
      return {
        name: f.name,
        commands,
        line: `| ${f.name} | ${f.needs.join(', ')} | ${commands} | ${reachableActions(r).join(', ')} | ${r.functionsReached} / ${r.bundle.length} |`,
      };
    });
  if (process.env.PERMISSIONS_TABLE) {
    process.stdout.write(
      [
        '',
        '| function | needs | commands | actions | functions / files reached |',
        '|---|---|---|---|---|',
        ...rows.map((r) => r.line),
        '',
      ].join('\n'),
    );
  }
  // a function granted anything reaches a command: none found means the analysis lost the handler
  // (one granted nothing, such as read-payers serving its configured list, may reach none)
  const needless = new Set(catalog.filter((f) => f.needs.length === 0).map((f) => f.name));
  expect(rows.filter((r) => !r.commands && !needless.has(r.name)).map((r) => r.name)).toEqual([]);
});
