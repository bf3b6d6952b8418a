import { afterEach, beforeAll, beforeEach } from '@jest/globals';
import { answerDefaults, mocks, resetMocks, type Mocks } from './aws';
import { setTestEnv } from './fixtures';

/**
 * One handler under test, for a test file's top level: the AWS clients mocked at the class (now,
 * before the handler builds them), the test environment set (and `env` over it) before the handler is
 * imported (handlers read it at load), the default answers before each test and every mock reset
 * after it. A file's own beforeEach runs after answerDefaults, so it can add to the defaults.
 *
 *   const { m, handler } = handlerUnderTest(() => import('../../../../functions/sweep/handler'));
 */
export const handlerUnderTest = <H extends (...args: never[]) => unknown>(
  load: () => Promise<{ handler: H }>,
  env: Record<string, string> = {},
): { m: Mocks; handler: H } => {
  const m = mocks();
  let loaded: H | undefined;
  beforeAll(async () => {
    setTestEnv();
    Object.assign(process.env, env);
    ({ handler: loaded } = await load());
  });
  beforeEach(() => {
    answerDefaults(m);
  });
  afterEach(() => {
    resetMocks(m);
  });
  const handler = ((...args: Parameters<H>) => loaded!(...args)) as H;
  return { m, handler };
};
