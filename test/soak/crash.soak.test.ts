import { expect, test } from '@jest/globals';
import { describeCrashRun, runCrashes } from './crash-run';

// issue 12 item 4, the long run: 50 referrals, the runtime killed -9 at random moments (./crash-run.ts)

const seed = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const referrals = Number(process.env.CRASH_REFERRALS ?? 50);
const kills = Number(process.env.CRASH_KILLS ?? 6);

test(
  `${referrals} referrals, ${kills} × kill -9 of the runtime at random moments: all at their end, every email sent and once only (twice only where the kill fell between SES taking it and the outbox marking it sent), no orphan process`,
  async () => {
    // Act
    const result = await runCrashes({
      referrals,
      kills,
      seed,
      killAfterMs: [500, 8000],
      finishMs: 5 * 60_000,
      log: (l) => process.stdout.write(`${l}\n`),
    });

    // Assess
    process.stdout.write(`${describeCrashRun(result, seed)}\n${result.problems.map((p) => `  problem: ${p}`).join('\n')}\n`);
    expect(result.problems).toEqual([]);
    expect(result.kills).toHaveLength(kills);
  },
  40 * 60_000,
);
