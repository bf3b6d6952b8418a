import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../../local/runtime';
import { TestApi } from '../../support/api';
import { launchBrowser, watchPage } from './browser';
import type { Api } from './console-helpers';

// The world every browser test file starts from: a fresh local runtime on free ports and a headless
// Chromium, staff users signed in through the API, and the browser contexts the file opened, all
// closed again after the file. startRuntime resolves only once GET /api/health has answered 200
// (local/runtime.ts, step 7), so nothing here polls for health.

export interface E2eSuiteOptions<User extends string> {
  /** startRuntime options on top of `{ port: 0, mailPort: 0, quiet: true }` (env, handlers, timeScale) */
  runtime?: RuntimeOptions;
  /** staff users signed in through the API once the runtime is up; their tokens in `tokens` */
  users?: readonly User[];
}

export interface E2eSuite<User extends string> {
  /** the app's and the mailbox's URLs: the same object for the whole file, filled in by beforeAll */
  readonly api: Api;
  /** an access token per requested user: the same object for the whole file, filled in by beforeAll */
  readonly tokens: Readonly<Record<User, string>>;
  /** set by beforeAll (reading it earlier throws, so do not destructure it at module level) */
  readonly runtime: Runtime;
  /** set by beforeAll (reading it earlier throws) */
  readonly browser: Browser;
  /** test/support/api.ts over this runtime; set by beforeAll (reading it earlier throws) */
  readonly client: TestApi;
  /** a new browser context, closed by afterAll; `options` over the console's 1366 × 900 viewport */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** a page in a new context (as newContext), watched for uncaught errors and console errors (watchPage) */
  newPage(options?: BrowserContextOptions): Promise<{ page: Page; context: BrowserContext; problems: string[] }>;
}

/** starting the runtime (its JVM) and Chromium side by side on two busy cores, or stopping them */
const HOOK_TIMEOUT_MS = 120_000;
const CONSOLE_VIEWPORT = { width: 1366, height: 900 };

/**
 * Registers this file's beforeAll (web build present, runtime and Chromium started, users signed in)
 * and afterAll (contexts, Chromium and runtime closed). Call it once at the top of a test file, before
 * the file's own hooks: they run after these, so a file's beforeAll can already use the runtime.
 */
export function e2eSuite<User extends string = never>(options: E2eSuiteOptions<User> = {}): E2eSuite<User> {
  const api: Api = { appUrl: '', mailUrl: '' };
  const tokens = {} as Record<User, string>;
  const contexts: BrowserContext[] = [];
  let runtime: Runtime | undefined;
  let browser: Browser | undefined;
  let client: TestApi | undefined;
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`e2eSuite: ${name} is read before beforeAll has started it`);
    return value;
  };

  beforeAll(async () => {
    if (!existsSync(resolve('web/dist/intake/index.html')) || !existsSync(resolve('web/dist/console/index.html')))
      throw new Error('web/dist is missing: run `npm run build:web` first (npm run test:e2e does)');
    // side by side; whichever started is kept for afterAll to stop, even when the other failed
    const [rt, br] = await Promise.allSettled([startRuntime({ port: 0, mailPort: 0, quiet: true, ...options.runtime }), launchBrowser()]);
    if (rt.status === 'fulfilled') runtime = rt.value;
    if (br.status === 'fulfilled') browser = br.value;
    if (rt.status === 'rejected') throw rt.reason;
    if (br.status === 'rejected') throw br.reason;
    api.appUrl = rt.value.appUrl;
    api.mailUrl = rt.value.mailUrl;
    client = new TestApi(api.appUrl, api.mailUrl);
    const signedIn = client;
    await Promise.all(
      (options.users ?? []).map(async (user) => {
        tokens[user] = await signedIn.token(user);
      }),
    );
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await runtime?.stop();
  }, HOOK_TIMEOUT_MS);

  const newContext = async (contextOptions: BrowserContextOptions = {}): Promise<BrowserContext> => {
    const context = await started(browser, 'browser').newContext({ viewport: CONSOLE_VIEWPORT, ...contextOptions });
    contexts.push(context);
    return context;
  };

  return {
    api,
    tokens,
    get runtime() {
      return started(runtime, 'runtime');
    },
    get browser() {
      return started(browser, 'browser');
    },
    get client() {
      return started(client, 'client');
    },
    newContext,
    async newPage(contextOptions) {
      const context = await newContext(contextOptions);
      const page = await context.newPage();
      return { page, context, ...watchPage(page) };
    },
  };
}
