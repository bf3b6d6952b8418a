import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { functions as catalog } from '../../functions/catalog';
import { entryOf, lambdaBuildOptions } from '../../infra/bundling';
import { asyncFunctions, FAULTS_ENV, FaultInjector, INJECTED_FAULT, parseFaults } from '../../local/faults';
import { describeRun, runFaults } from '../soak/fault-run';
import { withdrawnWhileStopped } from '../soak/referral-fleet';

// Fault injection (issue 12, item 3): the local runtime's switch (local/faults.ts) — what it does,
// that no deployed bundle can contain it — and the fast run: referrals at 20 % failures and delays
// of the workflow's functions, DynamoDB and SES, each ending right or in NEEDS_ATTENTION with the
// reason, then Resume once the faults stop (../soak/fault-run.ts; 200 referrals in the soak).

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the switch', () => {
  test('LOCAL_FAULTS takes a percentage (errors and delays everywhere) or a JSON spec, and refuses anything else by name', () => {
    expect(parseFaults('20')).toMatchObject({
      lambda: { errorPercent: 20, delayPercent: 20, preventExecutionPercent: 100 },
      dynamodb: { errorPercent: 20, delayPercent: 20 },
      ses: { errorPercent: 20, delayPercent: 20 },
    });
    expect(parseFaults('{"seed":3,"dynamodb":{"errorPercent":5}}')).toEqual({
      seed: 3,
      dynamodb: { errorPercent: 5, delayPercent: 0, delayMs: [50, 500] },
    });
    expect(() => parseFaults('120')).toThrow(/at most 100/);
    expect(() => parseFaults('lots')).toThrow(`${FAULTS_ENV} is neither a percentage nor JSON`);
    expect(() => parseFaults('{"lambda":{"errorPercent":-1}}')).toThrow(/lambda\.errorPercent/);
    expect(() => parseFaults('{"sqs":{}}')).toThrow(/sqs|Unrecognized/);
    expect(() => parseFaults('{"ses":{"delayMs":[900,100]}}')).toThrow(/min ≤ max/);
  });

  test('by default it fails the functions no person waits on: workflow tasks and stream/schedule consumers, not the API', () => {
    expect(asyncFunctions(catalog).sort()).toEqual(
      catalog
        .filter((f) => f.aslKey || f.triggers)
        .map((f) => f.name)
        .sort(),
    );
    expect(asyncFunctions(catalog)).toEqual(expect.arrayContaining(['check-insurance', 'open-gate', 'escalate', 'send-notices', 'sweep']));
    expect(asyncFunctions(catalog)).not.toContain('decide-step');
  });

  test('a wrapped function: an error before it runs (preventExecution) or after it ran, a delay, and nothing for a function not selected', async () => {
    // Prepare
    let runs = 0;
    const handler = async (_event: unknown, _context: unknown) => {
      runs++;
      return 'done';
    };
    const faults = new FaultInjector(parseFaults('{"seed":1,"lambda":{"errorPercent":100,"preventExecutionPercent":100}}'), ['open-gate']);

    // Act / Assess: prevented
    await expect(faults.wrap('open-gate', handler)({}, {})).rejects.toMatchObject({ name: INJECTED_FAULT });
    expect(runs).toBe(0);
    // run, then failed (FIS preventExecution=false)
    faults.set({ lambda: { errorPercent: 100, preventExecutionPercent: 0 } });
    await expect(faults.wrap('open-gate', handler)({}, {})).rejects.toMatchObject({ name: INJECTED_FAULT });
    expect(runs).toBe(1);
    // delayed, no error
    faults.set({ lambda: { delayPercent: 100, delayMs: [120, 120] } });
    const t0 = Date.now();
    await expect(faults.wrap('open-gate', handler)({}, {})).resolves.toBe('done');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    // not selected, or switched off
    faults.set({ lambda: { errorPercent: 100 } });
    await expect(faults.wrap('decide-step', handler)({}, {})).resolves.toBe('done');
    faults.set(undefined);
    await expect(faults.wrap('open-gate', handler)({}, {})).resolves.toBe('done');
    expect(faults.stats().lambda).toEqual({ invocations: 3, errors: 2, errorsAfterRun: 1, delays: 1 });
  });

  test("the DynamoDB proxy answers AWS's retryable errors: the SDK retries them, and a call fails only when every attempt does", async () => {
    // Prepare: a stand-in DynamoDB that answers every GetItem with an empty item
    let reached = 0;
    const stub = createServer((req, res) => {
      reached++;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    const faults = new FaultInjector(parseFaults('{"seed":5,"dynamodb":{"errorPercent":100}}'), []);
    const env = await faults.startProxies({
      dynamoUrl: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`,
      mailUrl: 'http://127.0.0.1:9',
    });
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
    });
    const get = () => client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
    try {
      // Act / Assess: every attempt failed → the call fails with one of AWS's names; nothing reached DynamoDB
      await expect(get()).rejects.toMatchObject({ name: expect.stringMatching(/^(InternalServerError|ThrottlingException)$/) });
      expect([reached, faults.stats().dynamodb.errors]).toEqual([0, 3]);
      // half the attempts fail: the retries get through
      faults.set({ dynamodb: { errorPercent: 50 } });
      for (let i = 0; i < 5; i++) await get().catch(() => undefined);
      expect(reached).toBeGreaterThan(0);
      faults.set(undefined);
      await expect(get()).resolves.toBeDefined();
    } finally {
      client.destroy();
      await faults.close();
      stub.close();
    }
  });
});

describe('never in a deployed bundle', () => {
  test("no function's import graph reaches local/, and no bundle holds the switch's name or its error", async () => {
    // Prepare: every handler bundled as infra/bundling.ts has the stack bundle it, with its import graph
    const present = catalog.filter((f) => statSync(entryOf(REPO_ROOT, f.name), { throwIfNoEntry: false })).map((f) => f.name);
    const result = await build({
      ...lambdaBuildOptions(REPO_ROOT),
      entryPoints: Object.fromEntries(present.map((name) => [name, entryOf(REPO_ROOT, name)])),
      write: false,
      outdir: '/bundles',
      metafile: true,
    });

    // Assess: the import graph (every module each bundle was built from)
    const inputs = Object.keys(result.metafile.inputs);
    expect(present.length).toBe(catalog.length);
    expect(inputs.filter((i) => i.startsWith('functions/')).length).toBeGreaterThan(20);
    expect(inputs.filter((i) => i.startsWith('local/') || i.includes('/local/'))).toEqual([]);
    // the bytes that would deploy
    for (const out of result.outputFiles) {
      expect({ bundle: out.path, switch: out.text.includes(FAULTS_ENV), error: out.text.includes(INJECTED_FAULT) }).toEqual({
        bundle: out.path,
        switch: false,
        error: false,
      });
    }
    // and nothing the stack deploys sets it
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
      );
    const mentions = [...sources(join(REPO_ROOT, 'infra')), ...sources(join(REPO_ROOT, 'functions'))].filter((f) =>
      readFileSync(f, 'utf8').includes(FAULTS_ENV),
    );
    expect(mentions.map((f) => relative(REPO_ROOT, f))).toEqual([]);
  });
});

describe('how a stop ends', () => {
  test('a referral that needed attention ends its stop by a Resume or by a withdrawal; a withdrawal before the failure, or resumed after it, is not one', () => {
    const timeline = (...types: string[]) => types.map((type) => ({ type }));
    // a task failed behind the case worker's page at the evaluation gate, then they withdrew it (CI seed 967833027)
    expect(withdrawnWhileStopped(timeline('STATUS_CHANGED', 'TASK_FAILED', 'STATUS_CHANGED', 'WITHDRAWN'))).toBe(true);
    expect(withdrawnWhileStopped(timeline('TASK_FAILED', 'RESUMED', 'WITHDRAWN'))).toBe(false);
    expect(withdrawnWhileStopped(timeline('TASK_FAILED', 'RESUMED', 'TASK_FAILED', 'WITHDRAWN'))).toBe(true);
    expect(withdrawnWhileStopped(timeline('STATUS_CHANGED', 'WITHDRAWN'))).toBe(false);
    expect(withdrawnWhileStopped(timeline('TASK_FAILED', 'RESUMED'))).toBe(false);
  });
});

describe('20 % failures and delays', () => {
  test('24 referrals: each ends right or needs attention with the reason, none stuck, no duplicate email or seat; after the faults, Resume brings every one to its end', async () => {
    // Act
    // one fixed seed in `npm test` (FAULT_SEED replays another; the soak draws new ones)
    const seed = process.env.FAULT_SEED ? Number(process.env.FAULT_SEED) : 967_833_027;
    const result = await runFaults({ referrals: 24, seed, capacity: 4, faultPhaseMs: 30_000, finishPhaseMs: 35_000 });

    // Assess
    const summary = describeRun(result, seed);
    expect({ problems: result.problems, summary }).toEqual({ problems: [], summary });
    expect(result.injected.lambda.errors + result.injected.dynamodb.errors + result.injected.ses.errors).toBeGreaterThan(0);
    expect(result.figures.resumes + result.figures.withdrawnWhileStopped).toBe(result.figures.stops);
  }, 90_000);
});
