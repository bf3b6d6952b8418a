import { expect, test } from '@jest/globals';
import { describeCrashRun, runCrashes } from '../soak/crash-run';

// Crash (issue 12, item 4), the fast part: a few referrals driven to their ends while the runtime
// (--persist) is killed -9 with its whole process group at random moments and started again on the
// same data (../soak/crash-run.ts; 50 referrals and six kills in `npm run test:soak`).
// CRASH_SEED replays the journeys and the moments of the kills; `npm test` runs one fixed seed (the
// soak draws new ones: a seed that finds something becomes a fixed test, not a red build).

const seed = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : 1_234_567;

test('10 referrals, 2 × kill -9 at random moments: every referral at its end, every email sent (twice only where the kill fell between SES taking it and the outbox marking it sent), no process left', async () => {
  // Act
  const result = await runCrashes({ referrals: 10, kills: 2, seed, killAfterMs: [300, 4000], finishMs: 25_000 });

  // Assess
  const summary = describeCrashRun(result, seed);
  expect({ problems: result.problems, summary }).toEqual({ problems: [], summary });
  expect(result.kills.map((k) => k.jvms)).toEqual([1, 1]);
}, 90_000);
