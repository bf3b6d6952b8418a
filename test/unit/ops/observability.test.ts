import { afterEach, describe, expect, jest, test } from '@jest/globals';
import middy from '@middy/core';

// functions/lib/observability.ts: the closed set of business metrics as CloudWatch EMF, written
// only inside Lambda, flushed by the handler edge whether the handler returned or threw

type Observability = typeof import('../../../functions/lib/observability');

const ENV_KEYS = ['AWS_EXECUTION_ENV', 'IOP_STAGE', 'POWERTOOLS_TRACE_ENABLED', 'POWERTOOLS_METRICS_DISABLED'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  jest.restoreAllMocks();
});

/** a fresh copy of the module, loaded with `env` (it reads its environment once, like a cold start) */
const load = async (env: Partial<Record<(typeof ENV_KEYS)[number], string>>): Promise<Observability> => {
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  let mod: Observability | undefined;
  await jest.isolateModulesAsync(async () => {
    mod = await import('../../../functions/lib/observability');
  });
  return mod!;
};

/** the EMF documents written to stdout while `act` runs */
const emfWrittenBy = async (act: () => unknown): Promise<Array<Record<string, any>>> => {
  const lines: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  await act();
  jest.restoreAllMocks();
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, any>);
};

const IN_LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', IOP_STAGE: 'prod', POWERTOOLS_TRACE_ENABLED: 'false' };

describe('inside Lambda', () => {
  test('counts are buffered and written once, as one EMF document in the IOP namespace with service and stage', async () => {
    const { metrics, METRICS_NAMESPACE, SERVICE_NAME } = await load(IN_LAMBDA);
    expect(metrics.publishes).toBe(true);

    const docs = await emfWrittenBy(() => {
      metrics.count('ReferralReceived');
      metrics.count('ReferralUrgent');
      metrics.count('NoticeSent', 2);
      metrics.flush();
      metrics.flush(); // nothing left: nothing written
    });

    expect(docs).toHaveLength(1);
    const doc = docs[0]!;
    const directive = doc._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service', 'stage']]);
    expect(directive.Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit])).toEqual([
      ['ReferralReceived', 'Count'],
      ['ReferralUrgent', 'Count'],
      ['NoticeSent', 'Count'],
    ]);
    expect(doc).toMatchObject({ service: SERVICE_NAME, stage: 'prod', ReferralReceived: 1, ReferralUrgent: 1, NoticeSent: 2 });
  });

  test('a milestone is its own document with a milestone dimension and the seconds since intake', async () => {
    const { metrics } = await load(IN_LAMBDA);
    const docs = await emfWrittenBy(() => {
      metrics.count('SlaBreached');
      metrics.milestone('EVALUATION', 3600.4);
      metrics.milestone('ENROLLED', -5); // a clock skew is not a measurement
      metrics.flush();
    });
    expect(docs).toHaveLength(2);
    const milestone = docs.find((d) => 'MilestoneReached' in d)!;
    expect(milestone._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'stage', 'milestone']]);
    expect(milestone._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'MilestoneReached', Unit: 'Seconds' }]);
    expect(milestone).toMatchObject({ milestone: 'EVALUATION', MilestoneReached: 3600, stage: 'prod' });
    // the count kept its own dimensions
    const counts = docs.find((d) => 'SlaBreached' in d)!;
    expect(counts._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'stage']]);
    expect(counts.milestone).toBeUndefined();
  });

  test('only the closed set of names is accepted', async () => {
    const { metrics } = await load(IN_LAMBDA);
    expect(() => metrics.count('PatientName' as never)).toThrow(/not a count metric/);
    expect(() => metrics.count('MilestoneReached' as never)).toThrow(/not a count metric/);
  });

  test('the handler edge flushes after a result and after an error', async () => {
    const { metrics, observability } = await load(IN_LAMBDA);
    const ok = middy<unknown, string>()
      .use(observability())
      .handler(async () => {
        metrics.count('ReferralReceived');
        return 'done';
      });
    const failing = middy<unknown, string>()
      .use(observability())
      .handler(async () => {
        metrics.count('NeedsAttention');
        throw new Error('boom');
      });
    const context = { getRemainingTimeInMillis: () => 10_000 } as never;

    const docs = await emfWrittenBy(async () => {
      await expect(ok({}, context)).resolves.toBe('done');
      await expect(failing({}, context)).rejects.toThrow('boom');
    });

    expect(docs.map((d) => ('ReferralReceived' in d ? 'ReferralReceived' : 'NeedsAttention' in d ? 'NeedsAttention' : '?'))).toEqual([
      'ReferralReceived',
      'NeedsAttention',
    ]);
  });
});

describe('outside Lambda (local runtime, tests)', () => {
  test('nothing is written, and nothing piles up', async () => {
    const { metrics, tracer } = await load({ IOP_STAGE: 'local' });
    expect(metrics.publishes).toBe(false);
    expect(tracer.isTracingEnabled()).toBe(false);
    const docs = await emfWrittenBy(() => {
      metrics.count('ReferralReceived');
      metrics.milestone('EVALUATION', 10);
      metrics.flush();
    });
    expect(docs).toEqual([]);
  });

  test('POWERTOOLS_METRICS_DISABLED=false turns writing on anywhere (to look at the EMF)', async () => {
    const { metrics } = await load({ POWERTOOLS_METRICS_DISABLED: 'false' });
    const docs = await emfWrittenBy(() => {
      metrics.count('NoticeFailed');
      metrics.flush();
    });
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ NoticeFailed: 1, stage: 'local' });
  });

  test('traced() hands an SDK client back unchanged when tracing is off', async () => {
    const { traced } = await load({});
    const client = { send: () => undefined };
    expect(traced(client)).toBe(client);
  });
});
