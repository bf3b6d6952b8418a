import { expect, test } from '@jest/globals';
import { describeRun, runFaults } from './fault-run';

// issue 12 item 3, the long run: 200 referrals at 20 % failures and delays (see ./fault-run.ts)

const seed = process.env.FAULT_SEED ? Number(process.env.FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);
const referrals = Number(process.env.FAULT_REFERRALS ?? 200);

test(
  `${referrals} referrals at 20 % failures and delays: each ends right or needs attention with the reason, none stuck, no duplicate email or seat; Resume finishes them all`,
  async () => {
    // Act
    const result = await runFaults({
      referrals,
      seed,
      faultPhaseMs: 20 * 60_000,
      finishPhaseMs: 10 * 60_000,
      log: (l) => process.stdout.write(`${l}\n`),
    });

    // Assess
    process.stdout.write(`${describeRun(result, seed)}\n${result.problems.map((p) => `  problem: ${p}`).join('\n')}\n`);
    expect(result.problems).toEqual([]);
    expect(result.injected.lambda.errors).toBeGreaterThan(0);
  },
  35 * 60_000,
);
