import { afterAll, beforeAll } from '@jest/globals';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../local/runtime';
import { TestApi } from './api';

// The world an integration test file starts from: one fresh local runtime on free ports, started
// before the file's tests and stopped after them, and test/support/api.ts over it. The browser tests'
// counterpart is e2eSuite (test/e2e/support/suite.ts). startRuntime resolves only once GET /api/health
// has answered 200, so nothing here polls for health.

export interface RuntimeSuite {
  /** set by beforeAll (reading it earlier throws, so do not destructure it at module level) */
  readonly rt: Runtime;
  /** test/support/api.ts over this runtime; set by beforeAll (reading it earlier throws) */
  readonly api: TestApi;
}

/**
 * Registers this file's beforeAll (a runtime started with `options` over `{ port: 0, mailPort: 0, quiet: true }`)
 * and afterAll (the runtime stopped). Call it once at the top of a test file. Jest runs beforeAll and
 * afterAll hooks in the order they are registered, so a hook the file registers after this call runs
 * once the runtime is up (beforeAll) or has stopped (afterAll). What the options need before the runtime
 * starts (a fake server's URL, an output capture, a pinned clock) goes in a beforeAll registered before
 * this call, with `options` as a function, called when the runtime starts.
 */
export function runtimeSuite(options: RuntimeOptions | (() => RuntimeOptions) = {}): RuntimeSuite {
  let rt: Runtime | undefined;
  let api: TestApi | undefined;
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`runtimeSuite: ${name} is read before beforeAll has started it`);
    return value;
  };

  beforeAll(async () => {
    rt = await startRuntime({ port: 0, mailPort: 0, quiet: true, ...(typeof options === 'function' ? options() : options) });
    api = new TestApi(rt.appUrl, rt.mailUrl);
  });

  afterAll(async () => {
    await rt?.stop();
  });

  return {
    get rt() {
      return started(rt, 'rt');
    },
    get api() {
      return started(api, 'api');
    },
  };
}
