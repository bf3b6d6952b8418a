// bundle size of every Lambda handler, built with esbuild exactly as infra/constructs/functions.ts
// has NodejsFunction build it (same target, format, banner, main fields, minify, source map), in
// two variants: AWS SDK v3 external (taken from the Lambda runtime: what deploys today) and SDK
// bundled. Also times a cold `import()` of each bundle in a fresh node process (this machine's
// node, not Lambda's: compare the variants, not the absolute numbers).
// run: npx tsx bench/bundle-sizes.ts   → bench/results/bundle-sizes.json and .md
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { functions as catalog } from '../functions/catalog';
import { BUNDLE_AWS_SDK, ESBUILD_TARGET, entryOf, lambdaBuildOptions } from '../infra/bundling';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(repoRoot, 'bench', 'results');
const IMPORT_RUNS = 5;

type Variant = 'sdk-external' | 'sdk-bundled';

interface Measurement {
  function: string;
  variant: Variant;
  /** index.mjs, minified */
  bundleBytes: number;
  /** index.mjs.map */
  sourceMapBytes: number;
  /** deflate(level 9) of both files: about the size of the deployment zip */
  zippedBytes: number;
  /** biggest contributors to index.mjs, by package */
  topInputs: Array<{ input: string; bytes: number }>;
  /** median wall time of a cold import() in a new node process, ms */
  coldImportMs: number | null;
}

const packageOf = (input: string): string => {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  return m?.[1] ?? input.replace(/^(functions\/[^/]+)\/.*$/, '$1');
};

const topInputs = (meta: Metafile): Array<{ input: string; bytes: number }> => {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = packageOf(input);
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([input, bytes]) => ({ input, bytes }));
};

// the environment functions/lib/config.ts requires at cold start (values are placeholders)
const handlerEnv = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  TABLE_NAME: 'bench',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
  MAIL_FROM: 'no-reply@example.com',
  PROGRAM_EMAIL: 'intake@example.com',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** cold import of one bundle, IMPORT_RUNS fresh processes; null when the module cannot load here */
const coldImport = (file: string): number | null => {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: handlerEnv, encoding: 'utf8', timeout: 20_000 });
    if (run.status !== 0) return null;
    times.push(Number(run.stdout));
  }
  return Math.round(median(times) * 10) / 10;
};

const measure = async (name: string, variant: Variant, workDir: string): Promise<Measurement> => {
  const outdir = join(workDir, variant, name);
  const outfile = join(outdir, 'index.mjs');
  const result = await build({
    ...lambdaBuildOptions(repoRoot, { sdk: variant === 'sdk-external' ? 'external' : 'bundled', sourcemap: true }),
    entryPoints: [entryOf(repoRoot, name)],
    outfile,
    metafile: true,
  });
  const code = readFileSync(outfile);
  const map = readFileSync(`${outfile}.map`);
  return {
    function: name,
    variant,
    bundleBytes: code.length,
    sourceMapBytes: map.length,
    zippedBytes: deflateRawSync(code, { level: 9 }).length + deflateRawSync(map, { level: 9 }).length,
    topInputs: topInputs(result.metafile),
    coldImportMs: coldImport(outfile),
  };
};

const kb = (n: number): string => `${(n / 1024).toFixed(1)}`;

const main = async (): Promise<void> => {
  const workDir = mkdtempSync(join(tmpdir(), 'iop-bundle-sizes-'));
  // external @aws-sdk/* resolves from the repo's node_modules, as it would from the runtime's
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  try {
    const rows: Measurement[] = [];
    for (const spec of catalog) {
      statSync(entryOf(repoRoot, spec.name)); // fails loudly when a handler is missing
      for (const variant of ['sdk-external', 'sdk-bundled'] as const) rows.push(await measure(spec.name, variant, workDir));
    }

    const deployed: Variant = BUNDLE_AWS_SDK ? 'sdk-bundled' : 'sdk-external';
    const json = {
      measuredAt: new Date().toISOString(),
      node: process.version,
      esbuildTarget: ESBUILD_TARGET,
      deployedVariant: deployed,
      importRuns: IMPORT_RUNS,
      rows,
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'bundle-sizes.json'), `${JSON.stringify(json, null, 2)}\n`);

    const lines = [
      '# Lambda bundle sizes',
      '',
      `Measured ${json.measuredAt} with \`npx tsx bench/bundle-sizes.ts\` (esbuild as NodejsFunction runs it: ESM, minified, source map, target ${ESBUILD_TARGET}). `,
      `Deployed variant: **${deployed}**. Cold import = median of ${IMPORT_RUNS} fresh \`node\` ${process.version} processes on this machine (compare variants, not absolute numbers).`,
      '',
      '| function | SDK external: index.mjs KiB | zip KiB | cold import ms | SDK bundled: index.mjs KiB | zip KiB | cold import ms | largest inputs (SDK bundled) |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
    ];
    for (const spec of catalog) {
      const ext = rows.find((r) => r.function === spec.name && r.variant === 'sdk-external');
      const bun = rows.find((r) => r.function === spec.name && r.variant === 'sdk-bundled');
      if (!ext || !bun) continue;
      const top = bun.topInputs.map((t) => `${t.input} ${kb(t.bytes)}`).join(', ');
      lines.push(
        `| ${spec.name} | ${kb(ext.bundleBytes)} | ${kb(ext.zippedBytes)} | ${ext.coldImportMs ?? 'n/a'} | ${kb(bun.bundleBytes)} | ${kb(bun.zippedBytes)} | ${bun.coldImportMs ?? 'n/a'} | ${top} |`,
      );
    }
    writeFileSync(join(resultsDir, 'bundle-sizes.md'), `${lines.join('\n')}\n`);
    console.log(lines.join('\n'));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
};

await main();
