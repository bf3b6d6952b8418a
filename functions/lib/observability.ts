import type { MiddlewareObj } from '@middy/core';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Status } from './schemas/views';

/**
 * Business metrics (Powertools Metrics, CloudWatch embedded metric format) and X-Ray tracing
 * (Powertools Tracer) for every handler. The stack's alarms and dashboard read the same names,
 * namespace and dimensions from here (infra/constructs/alarms.ts), so they cannot drift apart.
 *
 * Metrics carry counts, a stage and a milestone name only: never a referral id, never PHI.
 * Traces record AWS calls and timings; handler responses and error details are kept out of them
 * (a staff read returns PHI).
 */

/** CloudWatch namespace of the business metrics */
export const METRICS_NAMESPACE = 'IOP';
/** `service` dimension of every metric, and the Powertools service name of every handler */
export const SERVICE_NAME = 'iop-referral';

/** the closed set of business metric names */
export const BUSINESS_METRICS = [
  'ReferralReceived',
  'ReferralUrgent',
  'SlaBreached',
  'NeedsAttention',
  'NoticeFailed',
  'NoticeSent',
  'MilestoneReached',
] as const;
export type BusinessMetric = (typeof BUSINESS_METRICS)[number];
/** the metrics that count occurrences (everything but MilestoneReached) */
export type CountMetric = Exclude<BusinessMetric, 'MilestoneReached'>;

const COUNT_METRICS: ReadonlySet<string> = new Set(BUSINESS_METRICS.filter((m) => m !== 'MilestoneReached'));

/** the dimensions every business metric carries; alarms must match them exactly */
export const metricDimensions = (stage: string): { service: string; stage: string } => ({ service: SERVICE_NAME, stage });

/** the stage of this deployment (the stack sets IOP_STAGE; elsewhere `local`) */
const STAGE = process.env.IOP_STAGE || 'local';

/**
 * Inside Lambda (AWS_EXECUTION_ENV = AWS_Lambda_…) metrics are written as EMF to stdout, where
 * CloudWatch Logs extracts them. Anywhere else (local runtime, tests) nothing is written unless
 * POWERTOOLS_METRICS_DISABLED=false asks for it: EMF lines would only flood the console.
 */
const inLambda = (process.env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
const publish = inLambda ? process.env.POWERTOOLS_METRICS_DISABLED !== 'true' : process.env.POWERTOOLS_METRICS_DISABLED === 'false';

const newMetrics = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { stage: STAGE } });

/** counts, buffered and flushed once per invocation at the handler edge */
const counts = newMetrics();
/** one document per milestone: its `milestone` dimension must not reach the counts */
const milestones = newMetrics();

const flush = (m: Metrics): void => {
  if (!m.hasStoredMetrics()) return;
  if (publish) {
    m.publishStoredMetrics();
    return;
  }
  m.clearMetrics();
  m.clearDimensions();
  m.clearMetadata();
};

/**
 * The business metrics. Call from the services where the fact becomes true (after the write
 * that records it committed), once per occurrence:
 *
 *   metrics.count('ReferralReceived')                    // an intake was stored
 *   metrics.milestone('EVALUATION', secondsSinceIntake)  // a referral first reached a status
 */
export const metrics = {
  /** one (or `n`) occurrence(s) of a business event; published when the invocation ends */
  count(name: CountMetric, n = 1): void {
    if (!COUNT_METRICS.has(name)) throw new RangeError(`not a count metric: ${String(name)}`);
    counts.addMetric(name, MetricUnit.Count, n);
  },
  /** a referral reached `milestone` (a status) this many seconds after its intake */
  milestone(milestone: Status, secondsSinceIntake: number): void {
    if (!Number.isFinite(secondsSinceIntake) || secondsSinceIntake < 0) return;
    milestones.addDimension('milestone', milestone).addMetric('MilestoneReached', MetricUnit.Seconds, Math.round(secondsSinceIntake));
    flush(milestones);
  },
  /** writes what is buffered (the handler edges call this; services never need to) */
  flush(): void {
    flush(counts);
    flush(milestones);
  },
  /** whether this process writes EMF (inside Lambda, or when asked to) */
  publishes: publish,
};

/**
 * X-Ray through Powertools Tracer: on only inside Lambda with active tracing (the Tracer turns
 * itself off elsewhere). Global HTTP(S) capture is off: outgoing URLs could carry query data;
 * AWS SDK clients are captured explicitly with {@link traced}.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME, captureHTTPsRequests: false });

/** an AWS SDK v3 client whose calls appear as X-Ray subsegments (unchanged when tracing is off) */
export const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);

/**
 * The middleware every handler edge (http.ts, task.ts, stream and schedule handlers) uses first:
 * a handler subsegment without the response as metadata (it may hold PHI), errors flagged
 * without their message, and the business metrics flushed whether the handler returned or threw.
 */
export const observability = <E, R>(): MiddlewareObj<E, R> => {
  const trace = captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj<E, R>;
  return {
    before: trace.before,
    after: async (request) => {
      try {
        await trace.after?.(request);
      } finally {
        metrics.flush();
      }
    },
    onError: async (request) => {
      try {
        await trace.onError?.(request);
      } finally {
        metrics.flush();
      }
    },
  };
};
