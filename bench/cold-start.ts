/**
 * Cold start of every Lambda: each handler bundled with esbuild exactly as infra/ has
 * NodejsFunction bundle it (infra/bundling.ts: ESM, minified, target, banner, main fields), with
 * the AWS SDK external (taken from the runtime) and bundled (what deploys today). For each bundle,
 * `runs` fresh `node` processes each time a cold `import()` and then a first invoke with a
 * plausible event (its SDK calls go to a closed local port, one attempt: the client is built,
 * resolved and signed as on Lambda, the network answer is a refusal). Medians are reported; this
 * machine's node, not Lambda's: compare variants and functions, not absolute numbers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { functions as catalog, type FunctionSpec } from '../functions/catalog';
import { BUNDLE_AWS_SDK, ESBUILD_TARGET, entryOf, lambdaBuildOptions } from '../infra/bundling';
import { intakeBody } from '../test/support/fixtures';
import { median, progress, round } from './lib/util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
type Variant = 'sdk-external' | 'sdk-bundled';

export interface ColdStartRow {
  function: string;
  variant: Variant;
  bundleKiB: number;
  topInputs: Array<{ input: string; kib: number }>;
  importMs: number | null;
  firstInvokeMs: number | null;
  /** import + first invoke */
  coldMs: number | null;
}

const packageOf = (input: string): string =>
  /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.replace(/^(functions\/[^/]+)\/.*$/, '$1');

const topInputs = (meta: Metafile) => {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      totals.set(packageOf(input), (totals.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([input, bytes]) => ({ input, kib: round(bytes / 1024) }));
};

const handlerEnv = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_MAX_ATTEMPTS: '1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  TABLE_NAME: 'bench',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
  MAIL_FROM: 'no-reply@example.com',
  PROGRAM_EMAIL: 'intake@example.com',
  CURSOR_SECRET: 'bench-cursor-secret-bench-cursor-secret',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  POWERTOOLS_METRICS_NAMESPACE: 'bench',
  POWERTOOLS_DEV: 'false',
};

const ID = '00000000-0000-4000-8000-000000000001';

/** a first event of the kind the function gets on AWS */
const eventFor = (spec: FunctionSpec): unknown => {
  const route = spec.routes?.[0];
  if (route) {
    const path = route.path.replace('{id}', ID).replace('{step}', 'evaluation');
    const body =
      route.method === 'POST'
        ? JSON.stringify(spec.name === 'submit-intake' ? intakeBody() : spec.name === 'decide-step' ? { decision: 'covered' } : {})
        : undefined;
    return {
      version: '2.0',
      routeKey: `${route.method} ${route.path}`,
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', 'idempotency-key': '11111111-1111-4111-8111-111111111111' },
      pathParameters: { id: ID, step: 'evaluation' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'bench',
        domainName: 'bench',
        requestId: 'bench',
        routeKey: `${route.method} ${route.path}`,
        stage: '$default',
        time: '',
        timeEpoch: 0,
        http: { method: route.method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
        authorizer: {
          jwt: {
            claims: { sub: 'bench', username: 'casey', 'cognito:groups': '[case-workers supervisors]', token_use: 'access' },
            scopes: [],
          },
        },
      },
      body,
      isBase64Encoded: false,
    };
  }
  if (spec.triggers?.[0]?.kind === 'table-stream') return { Records: [] };
  if (spec.triggers?.[0]?.kind === 'schedule')
    return {
      version: '0',
      id: 'bench',
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      time: new Date().toISOString(),
      detail: {},
    };
  if (spec.name === 'escalate') return { referralId: ID, kind: 'breach', status: 'EVALUATION' };
  if (spec.name === 'open-gate') return { referralId: ID, status: 'EVALUATION', taskToken: 'bench-token', timeoutSeconds: 60 };
  return { referralId: ID };
};

const CHILD = `
const file = process.env.BENCH_FILE, event = JSON.parse(process.env.BENCH_EVENT);
const t0 = performance.now();
const mod = await import(file);
const t1 = performance.now();
const context = { awsRequestId: 'bench', functionName: 'bench', functionVersion: '1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', memoryLimitInMB: '512', logGroupName: 'bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {} };
try { await mod.handler(event, context); } catch {}
const t2 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, invokeMs: t2 - t1 }));
process.exit(0);
`;

const coldRuns = (file: string, event: unknown, runs: number) => {
  const imports: number[] = [];
  const invokes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...handlerEnv, BENCH_FILE: pathToFileURL(file).href, BENCH_EVENT: JSON.stringify(event) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const line = run.stdout?.trim();
    if (run.status !== 0 || !line)
      return { importMs: null, firstInvokeMs: null, coldMs: null, error: (run.stderr ?? '').split('\n').slice(0, 3).join(' ') };
    const r = JSON.parse(line) as { importMs: number; invokeMs: number };
    imports.push(r.importMs);
    invokes.push(r.invokeMs);
  }
  const importMs = round(median(imports));
  const firstInvokeMs = round(median(invokes));
  return { importMs, firstInvokeMs, coldMs: round(median(imports.map((x, k) => x + invokes[k]!))) };
};

export const runColdStart = async (opts: { runs: number }) => {
  const work = mkdtempSync(join(tmpdir(), 'iop-cold-start-'));
  // external @aws-sdk/* resolves from the repo's node_modules, as it would from the runtime's
  symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
  const rows: ColdStartRow[] = [];
  try {
    for (const spec of catalog) {
      for (const variant of ['sdk-external', 'sdk-bundled'] as const) {
        const outfile = join(work, variant, spec.name, 'index.mjs');
        mkdirSync(dirname(outfile), { recursive: true });
        const result = await build({
          ...lambdaBuildOptions(repoRoot, { sdk: variant === 'sdk-external' ? 'external' : 'bundled' }),
          entryPoints: [entryOf(repoRoot, spec.name)],
          outfile,
          metafile: true,
        });
        const cold = coldRuns(outfile, eventFor(spec), opts.runs);
        rows.push({
          function: spec.name,
          variant,
          bundleKiB: round(readFileSync(outfile).length / 1024),
          topInputs: topInputs(result.metafile),
          ...cold,
        });
      }
      const ext = rows.at(-2)!;
      const bun = rows.at(-1)!;
      progress(
        `cold start ${spec.name}: SDK external ${ext.bundleKiB} KiB, import ${ext.importMs} ms + first invoke ${ext.firstInvokeMs} ms; SDK bundled ${bun.bundleKiB} KiB, import ${bun.importMs} ms + ${bun.firstInvokeMs} ms`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const ext = rows.filter((r) => r.variant === 'sdk-external');
  const bun = rows.filter((r) => r.variant === 'sdk-bundled');
  return {
    node: process.version,
    esbuildTarget: ESBUILD_TARGET,
    deployedVariant: BUNDLE_AWS_SDK ? 'sdk-bundled' : 'sdk-external',
    runs: opts.runs,
    rows,
    goals: {
      sdkExternalKiB: { goal: 150, over: ext.filter((r) => r.bundleKiB > 150).map((r) => `${r.function} ${r.bundleKiB}`) },
      importMs: {
        goal: 60,
        overExternal: ext.filter((r) => (r.importMs ?? Infinity) > 60).map((r) => `${r.function} ${r.importMs}`),
        overBundled: bun.filter((r) => (r.importMs ?? Infinity) > 60).map((r) => `${r.function} ${r.importMs}`),
      },
    },
  };
};

export type ColdStartResult = Awaited<ReturnType<typeof runColdStart>>;
