/**
 * Lambda emulation: the catalog's handlers imported in-process and invoked as the Lambda service
 * would (JSON in and out, a realistic context, the function's timeout), and the ARNs they answer to.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { type FunctionSpec, functions, LAMBDA_MEMORY_MB, STATE_MACHINE_FILE, timeoutSecondsOf } from '../functions/catalog';
import { ACCOUNT_ID, REGION, ROOT } from './constants';

/** a Lambda handler as the runtime calls it: `handler(event, context)` */
// biome-ignore lint/suspicious/noExplicitAny: any handler's event type must be assignable here (a parameter of `unknown` would refuse them)
export type LambdaHandler = (event: any, context: Context) => unknown;

const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

/** `arn:aws:lambda:…:function:<name>[:qualifier]` or a bare name (optionally `name:qualifier`) → name */
export const functionNameOf = (arnOrName: string): string => {
  const m = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::.+)?$/.exec(arnOrName);
  return m ? m[1]! : arnOrName.split(':')[0]!;
};

/** a realistic Lambda context: request id, names, ARN, memory, log group/stream, time left */
const lambdaContext = (spec: FunctionSpec, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(spec.name),
    memoryLimitInMB: String(LAMBDA_MEMORY_MB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${spec.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

class LambdaTimeoutError extends Error {
  constructor(seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

/** JSON in, JSON out, like the Lambda service; a run past the function's timeout fails as Lambda's would */
export const invokeLocal = async (spec: FunctionSpec, handler: LambdaHandler | undefined, payload: unknown): Promise<unknown> => {
  if (!handler) throw Object.assign(new Error(`function ${spec.name} has no handler module`), { name: 'ResourceNotFoundException' });
  const timeoutMs = timeoutSecondsOf(spec) * 1000;
  const event: unknown = JSON.parse(JSON.stringify(payload ?? null));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new LambdaTimeoutError(timeoutMs / 1000)), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => handler(event, lambdaContext(spec, timeoutMs))), timedOut]);
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  } finally {
    clearTimeout(timer);
  }
};

/** handler overrides (tests) must name catalog functions */
export const checkOverrides = (overrides: Record<string, LambdaHandler>): void => {
  const unknown = Object.keys(overrides).filter((n) => !functions.some((f) => f.name === n));
  if (unknown.length) throw new Error(`handlers override names functions not in functions/catalog.ts: ${unknown.join(', ')}`);
};

/** every catalog function's handler module (or its override), imported one at a time; a missing module is skipped with a warning */
export const importHandlers = async (
  overrides: Record<string, LambdaHandler>,
  printErr: (line: string) => void,
): Promise<Map<string, LambdaHandler>> => {
  // one after the other: the CPU work is the same, and jest's ESM loader races on parallel imports
  // of shared dependencies ("request for … is not in cache")
  const entries: Array<[string, LambdaHandler]> = [];
  for (const f of functions) {
    const override = overrides[f.name];
    if (override) {
      entries.push([f.name, override]);
      continue;
    }
    const file = join(ROOT, 'functions', f.name, 'handler.ts');
    if (!existsSync(file)) {
      // a function listed before its code lands: its routes, tasks and triggers are unavailable
      printErr(`local runtime: functions/${f.name}/handler.ts is missing (listed in functions/catalog.ts); ${f.name} is skipped`);
      continue;
    }
    const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
    if (typeof mod.handler !== 'function') throw new Error(`functions/${f.name}/handler.ts does not export a \`handler\` function`);
    entries.push([f.name, mod.handler as LambdaHandler]);
  }
  return new Map(entries);
};

/** the ASL with every catalog `${aslKey}` replaced by its function's ARN */
export const loadDefinition = async (): Promise<object> => {
  let text = await readFile(join(ROOT, STATE_MACHINE_FILE), 'utf8');
  for (const f of functions) if (f.aslKey) text = text.split(`\${${f.aslKey}}`).join(functionArn(f.name));
  const left = [...new Set(text.match(/\$\{[A-Za-z0-9_]+\}/g) ?? [])];
  if (left.length) throw new Error(`${STATE_MACHINE_FILE} has placeholders no catalog function declares as aslKey: ${left.join(', ')}`);
  return JSON.parse(text) as object;
};
