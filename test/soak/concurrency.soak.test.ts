import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import { startRuntime, type Runtime } from '../../local/runtime';
import { TestApi } from '../support/api';
import { cohortBody, intakeBody } from '../support/fixtures';

// issue 12 item 2, the long run: the scheduler's races (./races.ts) over many more interleavings,
// and the black-box probe's figure over HTTP — 50 enrolments at once into 10 seats → exactly 10.
// RACE_SEED replays a failure the way fast-check prints it.

let rt: Runtime;
let api: TestApi;

beforeAll(async () => {
  rt = await startRuntime({ port: 0, mailPort: 0, quiet: true, env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
  api = new TestApi(rt.appUrl, rt.mailUrl);
});
afterAll(async () => {
  await rt?.stop();
});

const seed = process.env.RACE_SEED ? Number(process.env.RACE_SEED) : undefined;
const out = (line: string) => process.stdout.write(`${line}\n`);

test('50 enrolments at once into a cohort of 10 over HTTP: exactly 10', async () => {
  // Prepare
  const cohort = await api.call('POST', '/api/staff/cohorts', { body: cohortBody({ capacity: 10 }), as: 'sam' });
  expect(cohort.status).toBe(201);
  const ids = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const { referralId } = (await api.intake(intakeBody())).json as { referralId: string };
      await api.waitForGate(referralId, 'evaluation', 60_000);
      expect(
        (
          await api.decide(referralId, 'evaluation', {
            dimensions: { d1: 2, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 },
            recommendedLevel: '2.1',
            detoxRequired: false,
            decision: 'accept',
          })
        ).status,
      ).toBe(200);
      await api.waitForGate(referralId, 'enrollment', 60_000);
      return referralId;
    }),
  );

  // Act
  const answers = await Promise.all(ids.map((id) => api.decide(id, 'enrollment', { cohortId: cohort.json.cohortId })));

  // Assess
  const ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: rt.dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const repo = new DynamoDbReferralRepository(ddb, rt.tableName);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    expect(answers.filter((a) => a.status !== 200).map((a) => a.json.error)).toEqual(Array(40).fill('CohortFull'));
    expect([(await repo.getCohort(cohort.json.cohortId))?.seats, (await repo.roster(cohort.json.cohortId)).length]).toEqual([10, 10]);
  } finally {
    ddb.destroy();
  }
  out('http seat race: 50 enrolments into 10 seats → 10 × 200, 40 × 409 CohortFull');
}, 300_000);

test('k enrolments into c < k seats, 200 interleavings', async () => {
  const { seatRace } = await import('./races');
  const t0 = Date.now();
  await seatRace({ dynamoUrl: rt.dynamoUrl }, { numRuns: 200, seed });
  out(`seat race: 200 interleavings in ${Math.round((Date.now() - t0) / 1000)} s`);
}, 1_200_000);

test('a gate opening or open, the same decision twice, 0–2 withdrawals: 1,000 interleavings', async () => {
  const { gateRace } = await import('./races');
  const t0 = Date.now();
  const seen = await gateRace({ dynamoUrl: rt.dynamoUrl }, { numRuns: 1000, seed });
  out(`gate race: 1,000 interleavings in ${Math.round((Date.now() - t0) / 1000)} s: ${JSON.stringify(seen)}`);
  // both ways of every race were reached
  expect(Object.keys(seen).sort()).toEqual([
    'decided at the open gate',
    'decided at the open gate, then withdrawn',
    'decided while the gate opened, applied by it',
    'decided while the gate opened, applied by it, then withdrawn',
    'withdrawn before any decision',
  ]);
}, 1_200_000);
