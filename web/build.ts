// the web build: one esbuild bundle per app (web/src/<app>/main.ts → web/dist/<app>/main.js) plus the
// app's own html/css and the shared css copied beside it. apps are found, not listed, so a new
// folder (the console) is picked up as soon as it has a main.ts. nothing is fetched from the network.
// source maps (with the sources inside) only in a development build — NODE_ENV=development or
// `--dev` — never in the default build that `npm start`, `npm test` and a deployment use: a map
// served beside main.js would publish the whole source of the console and the intake form.
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../functions/lib/openapi';
import { PROGRAM_DEFAULTS } from '../functions/lib/program';
import { withProgramPhone } from './program-page';

const webDir = dirname(fileURLToPath(import.meta.url));
const srcDir = join(webDir, 'src');
const distDir = join(webDir, 'dist');
const sharedDir = join(srcDir, 'shared');

/** a development build (source maps) only when asked for */
export const isDevelopmentBuild = (env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv): boolean =>
  env.NODE_ENV === 'development' || argv.includes('--dev');

/** folders under web/src (except shared) that have a main.ts entry */
export const findApps = async (): Promise<string[]> => {
  const entries = await readdir(srcDir, { withFileTypes: true });
  const apps: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'shared') continue;
    if (await exists(join(srcDir, e.name, 'main.ts'))) apps.push(e.name);
  }
  return apps.sort();
};

const exists = async (p: string): Promise<boolean> => {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
};

/** copies every file of `from` whose name ends with one of `exts` into `to` (not recursive) */
const copyAssets = async (from: string, to: string, exts: string[]): Promise<string[]> => {
  if (!(await exists(from))) return [];
  const copied: string[] = [];
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isFile() && exts.some((x) => e.name.endsWith(x))) {
      await copyFile(join(from, e.name), join(to, e.name));
      copied.push(e.name);
    }
  }
  return copied;
};

/** bundles one app and copies its static files; throws on a build error */
const buildApp = async (app: string, dev: boolean): Promise<void> => {
  const out = join(distDir, app);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [join(srcDir, app, 'main.ts')],
    outfile: join(out, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: dev ? 'linked' : false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  // shared first, so an app file of the same name wins
  await copyAssets(sharedDir, out, ['.css']);
  // .json: the console's config.json for the local runtime ({ "auth": "local" }); a deployment
  // leaves it out and uploads its own (infra/constructs/web.ts)
  const copied = await copyAssets(join(srcDir, app), out, ['.html', '.css', '.json']);
  // the program's phone in the page (the default here; a deployment writes its own)
  for (const html of copied.filter((n) => n.endsWith('.html'))) {
    const file = join(out, html);
    await writeFile(file, withProgramPhone(await readFile(file, 'utf8'), PROGRAM_DEFAULTS.phone));
  }
};

export interface WebBuildResult {
  built: string[];
  failed: Array<{ app: string; error: string }>;
  ms: number;
}

/** builds every app side by side; one app failing does not stop the others */
export const buildWeb = async (options: { dev?: boolean } = {}): Promise<WebBuildResult> => {
  const started = performance.now();
  const dev = options.dev ?? isDevelopmentBuild();
  const apps = await findApps();
  const results = await Promise.allSettled(apps.map((app) => buildApp(app, dev)));
  // the API's OpenAPI document, generated from the catalog and the zod schemas, served at /openapi.json
  await mkdir(distDir, { recursive: true });
  await writeFile(join(distDir, 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  const built: string[] = [];
  const failed: WebBuildResult['failed'] = [];
  results.forEach((r, i) => {
    const app = apps[i] ?? '?';
    if (r.status === 'fulfilled') built.push(app);
    else failed.push({ app, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  return { built, failed, ms: Math.round(performance.now() - started) };
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { built, failed, ms } = await buildWeb();
  process.stdout.write(
    `web: built ${built.join(', ') || 'no apps'} in ${ms} ms → ${distDir}${isDevelopmentBuild() ? ' (development: with source maps)' : ''}\n`,
  );
  for (const f of failed) process.stderr.write(`web: ${f.app} failed:\n${f.error}\n`);
  if (failed.length > 0) process.exitCode = 1;
}
