/**
 * Fault injection for the local runtime only (issue 12 item 3), after AWS FIS's Lambda actions:
 *
 *   aws:lambda:invocation-error      → `lambda.errorPercent` (+ `preventExecutionPercent`: of those
 *                                       errors, how many stop the function before it runs; the rest
 *                                       run it to the end and then fail, as preventExecution=false)
 *   aws:lambda:invocation-add-delay  → `lambda.delayPercent`, `lambda.delayMs` (a delay past the
 *                                       function's timeout ends as Lambda's Sandbox.Timedout)
 *
 * and, for the adapters' AWS calls, the same two faults at the HTTP edge of DynamoDB Local and of
 * the SES emulator: a proxy between the handlers' SDK clients and the emulator answers a share of
 * the requests with the service's own retryable errors (DynamoDB InternalServerError 500 or
 * ThrottlingException 400; SES InternalFailure 500 or TooManyRequestsException 429) without
 * forwarding them, and holds another share for a while before forwarding. The SDK's own retries
 * see them as they would see AWS's, so a call fails for the adapter only when every attempt does.
 *
 * The switch is the environment variable LOCAL_FAULTS (or `startRuntime({ faults })`), read here
 * and nowhere else; nothing under functions/ imports this module, so no deployed bundle contains
 * it (test/int/faults.int.test.ts bundles every handler and checks). Values:
 *
 *   LOCAL_FAULTS=20                      20 % errors and 20 % delays on every target (shorthand)
 *   LOCAL_FAULTS='{"seed":7,"lambda":{"errorPercent":20,"delayPercent":20,"delayMs":[50,1000]},
 *                  "dynamodb":{"errorPercent":20},"ses":{"errorPercent":20}}'
 *
 * `lambda.functions` names the functions (default: every workflow task and every stream or
 * schedule consumer — the functions Lambda invokes without a person waiting; HTTP handlers are
 * not failed, though their DynamoDB calls are). Without the switch nothing here runs and the
 * handlers' endpoints are the emulators'.
 */
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as z from 'zod';
import type { FunctionSpec } from '../functions/catalog';
import { HOST } from './constants';
import { closeServer, listen } from './net';
import { prng } from './prng';

export const FAULTS_ENV = 'LOCAL_FAULTS';

/** the name of the error an injected Lambda fault throws (what Step Functions' Catch sees) */
export const INJECTED_FAULT = 'InjectedFault';

const Percent = z.number().min(0).max(100);
const DelayRange = z
  .tuple([z.number().int().min(0), z.number().int().min(0)])
  .refine(([a, b]) => a <= b, 'delayMs is [min, max] with min ≤ max');

const EdgeFaultSchema = z.strictObject({
  errorPercent: Percent.default(0),
  delayPercent: Percent.default(0),
  delayMs: DelayRange.default([50, 500]),
});

const LambdaFaultSchema = z.strictObject({
  functions: z.array(z.string().min(1)).optional(),
  errorPercent: Percent.default(0),
  /** of the injected errors, the share that fails before the function runs (the rest run it, then fail) */
  preventExecutionPercent: Percent.default(100),
  delayPercent: Percent.default(0),
  delayMs: DelayRange.default([50, 1000]),
});

const FaultSpecSchema = z.strictObject({
  /** seeds the dice, so a run's sequence of faults can be replayed (the timing of the calls still varies) */
  seed: z.number().int().optional(),
  lambda: LambdaFaultSchema.optional(),
  dynamodb: EdgeFaultSchema.optional(),
  ses: EdgeFaultSchema.optional(),
});

export type FaultSpec = z.input<typeof FaultSpecSchema>;
type Spec = z.output<typeof FaultSpecSchema>;
type EdgeFault = z.output<typeof EdgeFaultSchema>;

/** LOCAL_FAULTS's value → a spec; a bare percentage means that share of errors and of delays everywhere */
export const parseFaults = (text: string): Spec => {
  const trimmed = text.trim();
  const shorthand = /^(\d+(?:\.\d+)?)%?$/.exec(trimmed);
  if (shorthand) {
    const p = Number(shorthand[1]);
    if (p > 100) throw new Error(`${FAULTS_ENV}: a percentage is at most 100, got ${p}`);
    return FaultSpecSchema.parse({
      lambda: { errorPercent: p, delayPercent: p },
      dynamodb: { errorPercent: p, delayPercent: p },
      ses: { errorPercent: p, delayPercent: p },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new Error(`${FAULTS_ENV} is neither a percentage nor JSON (see local/faults.ts)`);
  }
  const parsed = FaultSpecSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${FAULTS_ENV}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
};

/** a spec given as LOCAL_FAULTS's text (parseFaults) or as an object */
const specOf = (spec: FaultSpec | string): Spec => (typeof spec === 'string' ? parseFaults(spec) : FaultSpecSchema.parse(spec));

/** what was injected so far, per target */
export interface FaultStats {
  lambda: { invocations: number; errors: number; errorsAfterRun: number; delays: number };
  dynamodb: { requests: number; errors: number; delays: number };
  ses: { requests: number; errors: number; delays: number };
}

/** the runtime's handle on the switch: change or stop the faults while it runs, read the counts */
export interface FaultControl {
  readonly spec: Spec | undefined;
  /** new faults from now on (undefined: none); DynamoDB and SES faults need the switch at start (their proxies) */
  set(spec: FaultSpec | string | undefined): void;
  stats(): FaultStats;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const injectedError = () => Object.assign(new Error('Injected fault (local fault injection)'), { name: INJECTED_FAULT });

/** the answers AWS gives when it fails a request the SDK may retry (awsJson1_0 for DynamoDB, restJson1 for SES v2) */
const EDGE_ERRORS = {
  dynamodb: [
    { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
    {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
      message: 'Rate of requests exceeds the allowed throughput.',
    },
  ],
  ses: [
    { status: 500, type: 'InternalFailure', message: 'Internal failure' },
    { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' },
  ],
} as const;

type EdgeName = keyof typeof EDGE_ERRORS;

export class FaultInjector implements FaultControl {
  private current: Spec | undefined;
  private random: () => number;
  private readonly counts: FaultStats = {
    lambda: { invocations: 0, errors: 0, errorsAfterRun: 0, delays: 0 },
    dynamodb: { requests: 0, errors: 0, delays: 0 },
    ses: { requests: 0, errors: 0, delays: 0 },
  };
  private readonly servers: Server[] = [];
  private proxying = false;

  /** `defaults`: the functions failed when the spec names none */
  constructor(
    spec: Spec | undefined,
    private readonly defaults: readonly string[],
  ) {
    this.current = spec;
    this.random = prng(spec?.seed ?? Date.now());
  }

  get spec(): Spec | undefined {
    return this.current;
  }

  set(spec: FaultSpec | string | undefined): void {
    const next = spec === undefined ? undefined : specOf(spec);
    if (
      !this.proxying &&
      (next?.dynamodb?.errorPercent ?? 0) +
        (next?.dynamodb?.delayPercent ?? 0) +
        (next?.ses?.errorPercent ?? 0) +
        (next?.ses?.delayPercent ?? 0) >
        0
    ) {
      throw new Error('DynamoDB and SES faults need the fault switch at start (its proxies are not running)');
    }
    this.current = next;
    if (next?.seed !== undefined) this.random = prng(next.seed);
  }

  stats(): FaultStats {
    return structuredClone(this.counts);
  }

  private roll(percent: number): boolean {
    return percent > 0 && this.random() * 100 < percent;
  }

  private delayOf([min, max]: readonly [number, number]): number {
    return Math.round(min + this.random() * (max - min));
  }

  /**
   * a handler that fails or waits as the switch says at the moment it is invoked (the wrapped one
   * runs inside the runtime's Lambda timeout, so a delay past it is a Sandbox.Timedout)
   */
  // biome-ignore lint/suspicious/noExplicitAny: any handler, whatever its event and context types
  wrap<H extends (event: any, context: any) => unknown>(name: string, handler: H): H {
    const wrapped = async (event: unknown, context: unknown) => {
      const f = this.current?.lambda;
      if (!f || !(f.functions ?? this.defaults).includes(name)) return handler(event, context);
      this.counts.lambda.invocations++;
      if (this.roll(f.delayPercent)) {
        this.counts.lambda.delays++;
        await sleep(this.delayOf(f.delayMs));
      }
      if (!this.roll(f.errorPercent)) return handler(event, context);
      this.counts.lambda.errors++;
      if (!this.roll(f.preventExecutionPercent)) {
        // preventExecution=false: the function does its work, then the invocation fails anyway
        this.counts.lambda.errorsAfterRun++;
        await handler(event, context);
      }
      throw injectedError();
    };
    return wrapped as unknown as H;
  }

  /** every handler of `handlers`, wrapped */
  // biome-ignore lint/suspicious/noExplicitAny: as wrap
  wrapAll<H extends (event: any, context: any) => unknown>(handlers: Map<string, H>): Map<string, H> {
    return new Map([...handlers].map(([name, h]) => [name, this.wrap(name, h)]));
  }

  /**
   * Starts a proxy in front of each emulator and answers the handler environment that sends the
   * SDK clients through them (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SESV2).
   */
  async startProxies(targets: { dynamoUrl: string; mailUrl: string }): Promise<Record<string, string>> {
    const dynamo = await this.proxy('dynamodb', targets.dynamoUrl);
    const ses = await this.proxy('ses', targets.mailUrl);
    this.proxying = true;
    return { AWS_ENDPOINT_URL_DYNAMODB: dynamo, AWS_ENDPOINT_URL_SESV2: ses };
  }

  private async proxy(edge: EdgeName, target: string): Promise<string> {
    const server = createServer((req, res) => void this.handle(edge, target, req, res));
    server.keepAliveTimeout = 5000;
    const port = await listen(server, 0, `${edge} fault proxy`);
    this.servers.push(server);
    return `http://${HOST}:${port}`;
  }

  private async handle(edge: EdgeName, target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const f: EdgeFault | undefined = this.current?.[edge];
    const counts = this.counts[edge];
    if (f) counts.requests++;
    if (f && this.roll(f.delayPercent)) {
      counts.delays++;
      await sleep(this.delayOf(f.delayMs));
    }
    if (f && this.roll(f.errorPercent)) {
      counts.errors++;
      req.resume();
      const e = EDGE_ERRORS[edge][this.random() < 0.5 ? 0 : 1];
      const body = edge === 'dynamodb' ? { __type: e.type, message: e.message } : { message: e.message };
      res.writeHead(e.status, {
        'content-type': edge === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/json',
        'x-amzn-requestid': `fault-${Date.now().toString(36)}`,
        ...(edge === 'ses' ? { 'x-amzn-errortype': e.type } : {}),
      });
      res.end(JSON.stringify(body));
      return;
    }
    const to = new URL(req.url ?? '/', target);
    const upstream = request(to, { method: req.method, headers: { ...req.headers, host: to.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"message":"the emulator behind the fault proxy did not answer"}');
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map(closeServer));
  }
}

/** the functions failed by default: workflow tasks and stream/schedule consumers (no person waits on them) */
export const asyncFunctions = (specs: readonly FunctionSpec[]): string[] =>
  specs.filter((f) => f.aslKey || f.triggers?.length).map((f) => f.name);

/**
 * The runtime's fault switch: `option` (startRuntime's `faults`) or else LOCAL_FAULTS; undefined
 * when neither is set (then nothing is wrapped or proxied).
 */
export const faultSwitch = (
  option: FaultSpec | string | undefined,
  specs: readonly FunctionSpec[],
  env: NodeJS.ProcessEnv = process.env,
): FaultInjector | undefined => {
  const raw = option ?? env[FAULTS_ENV];
  if (raw === undefined || raw === '') return undefined;
  return new FaultInjector(specOf(raw), asyncFunctions(specs));
};

/** one line for the start banner: what is being injected */
export const describeFaults = (spec: Spec | undefined): string => {
  if (!spec) return 'none';
  const parts: string[] = [];
  if (spec.lambda) parts.push(`functions ${spec.lambda.errorPercent}% errors/${spec.lambda.delayPercent}% delays`);
  if (spec.dynamodb) parts.push(`DynamoDB ${spec.dynamodb.errorPercent}%/${spec.dynamodb.delayPercent}%`);
  if (spec.ses) parts.push(`SES ${spec.ses.errorPercent}%/${spec.ses.delayPercent}%`);
  return `${parts.join(', ') || 'none'}${spec.seed !== undefined ? ` (seed ${spec.seed})` : ''}`;
};
