import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { pinClock, resetClock } from '../../functions/lib/clock';
import { startRuntime } from '../../local/runtime';
import { defineEdgeFuzzSuite, runsFromEnv, seedFromEnv } from './edge-fuzz';

// `npm run test:soak`: the edge fuzzing of test/int/fuzz.int.test.ts at 10,000 generated requests
// (FUZZ_RUNS, FUZZ_SEED override), with a progress line every 1,000. docs/RELIABILITY.md keeps the
// figures of the last run.

defineEdgeFuzzSuite({ beforeAll, afterAll, test, expect }, { pinClock, resetClock }, startRuntime, {
  runs: runsFromEnv(10_000),
  idempotencyRuns: 200,
  timeLimitMs: 45 * 60_000,
  seed: seedFromEnv(),
  progressEvery: 1000,
});
