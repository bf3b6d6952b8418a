import { join } from 'node:path';

/**
 * How every handler is bundled, shared by the CDK functions construct and bench/bundle-sizes.ts so
 * the benchmark measures exactly what NodejsFunction deploys.
 */

/**
 * The one Node.js major everywhere: the Lambda runtime, the esbuild target, `@types/node`,
 * package.json `engines` and `.nvmrc` (test/infra/node-version.test.ts holds them together; the
 * choice is explained in DEPLOY.md). 24 is the current LTS and Lambda's newest Node.js runtime.
 */
export const NODE_MAJOR = 24;

/** the Lambda runtime identifier of {@link NODE_MAJOR} */
export const LAMBDA_RUNTIME_NAME = `nodejs${NODE_MAJOR}.x`;

/** esbuild target: the deployed runtime's own version, so nothing is down-levelled for an older one */
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;

/**
 * ESM output (`index.mjs`). Bundled CommonJS dependencies that call `require()` for Node
 * built-ins need a real `require` inside an ES module; this banner provides one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __iopCreateRequire } from 'node:module'; const require = __iopCreateRequire(import.meta.url);";

/** prefer the ES module build of each dependency (better tree shaking) */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * The AWS SDK v3 is bundled, not taken from the Lambda runtime: bench/results/bundle-sizes.md
 * measured about half the cold import time for one tree-shaken file (vs. loading the SDK's many
 * files from node_modules) for ~+420 KiB per function, and the handlers then run the exact SDK
 * versions package-lock.json pins and the tests used. See DEPLOY.md.
 */
export const BUNDLE_AWS_SDK = true;

/** what esbuild would leave out if the SDK were taken from the runtime (CDK's list for SDK v3) */
export const SDK_EXTERNALS = ['@aws-sdk/*', '@smithy/*'];

/** a catalog function's entry file under a project root */
export const entryOf = (projectRoot: string, name: string): string => join(projectRoot, 'functions', name, 'handler.ts');

/**
 * esbuild options that bundle handlers as NodejsFunction does (the options above), for the tests and
 * benchmarks that build them outside CDK; `sdk: 'external'` leaves the AWS SDK out (a measured variant).
 * Callers add entry points and where the output goes.
 */
export const lambdaBuildOptions = (projectRoot: string, options: { sdk?: 'bundled' | 'external'; sourcemap?: boolean } = {}) => ({
  absWorkingDir: projectRoot,
  bundle: true,
  platform: 'node' as const,
  target: ESBUILD_TARGET,
  format: 'esm' as const,
  minify: true,
  sourcemap: options.sourcemap ?? false,
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  external: (options.sdk ?? (BUNDLE_AWS_SDK ? 'bundled' : 'external')) === 'external' ? SDK_EXTERNALS : [],
  logLevel: 'error' as const,
});
