import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functions as catalog } from '../../functions/catalog';
import { entryOf, lambdaBuildOptions } from '../../infra/bundling';
import { REPO_ROOT } from '../../infra/stack';

// every handler, bundled exactly as the stack bundles it (infra/bundling.ts), loads the way Lambda
// loads it, and a bundled handler really traces: its X-Ray subsegments (the handler and each AWS
// call) reach a stand-in X-Ray daemon. No AWS: the AWS endpoints point at a closed local port.

const present = catalog.filter((spec) => existsSync(entryOf(REPO_ROOT, spec.name))).map((spec) => spec.name);
let outdir: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'iop-bundles-'));
  await build({
    ...lambdaBuildOptions(REPO_ROOT, { sourcemap: true }),
    entryPoints: Object.fromEntries(present.map((name) => [`${name}/index`, entryOf(REPO_ROOT, name)])),
    outdir,
    outExtension: { '.js': '.mjs' },
  });
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** what the Lambda runtime and the stack set, with every AWS endpoint on a port nothing listens on */
const lambdaEnv = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: `iop-test-${name}`,
  _HANDLER: 'index.handler',
  LAMBDA_TASK_ROOT: join(outdir, name),
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_MAX_ATTEMPTS: '1',
  TABLE_NAME: 'iop-test',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:iop-test-referral',
  MAIL_FROM: 'no-reply@iop.example',
  PROGRAM_EMAIL: 'intake@iop.example',
  IOP_STAGE: 'test',
  POWERTOOLS_SERVICE_NAME: 'iop-referral',
  POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
  POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
  ...extra,
});

const runNode = (script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('bundled handlers', () => {
  test('there are handlers to bundle', () => {
    expect(present.length).toBeGreaterThan(5);
  });

  test.each(present)('%s loads as Lambda loads it (ESM, tracing on) and exports a handler', async (name) => {
    const file = join(outdir, name, 'index.mjs');
    const run = await runNode(`const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`, lambdaEnv(name));
    expect({ code: run.code, out: run.stdout.trim() }).toEqual({ code: 0, out: 'function' });
  });

  test('a bundled handler sends its X-Ray subsegments: the handler, and each AWS call by service and operation, without the response', async () => {
    // Prepare: a stand-in X-Ray daemon (UDP) and an API Gateway event for the health route
    if (!present.includes('health')) return;
    const daemon = dgram.createSocket('udp4');
    const datagrams: string[] = [];
    daemon.on('message', (m) => datagrams.push(m.toString()));
    await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', () => r()));
    const { port } = daemon.address();
    const script = join(outdir, 'invoke-health.mjs');
    writeFileSync(
      script,
      `const { handler } = await import(${JSON.stringify(join(outdir, 'health', 'index.mjs'))});
const event = { routeKey: 'GET /api/health', rawPath: '/api/health', headers: {}, isBase64Encoded: false, requestContext: { requestId: 'req-1', http: { method: 'GET', path: '/api/health' } } };
const context = { functionName: 'iop-test-health', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10000 };
const res = await handler(event, context);
console.log(res.statusCode);`,
    );

    try {
      // Act
      const run = await runNode(
        `await import(${JSON.stringify(script)});`,
        lambdaEnv('health', { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}` }),
      );
      expect([run.code, run.stdout.trim()]).toEqual([0, '503']); // no AWS here: the dependencies are down
      const deadline = Date.now() + 5000;
      const documents = () =>
        datagrams
          .flatMap((d) => d.split('\n').slice(1))
          .filter(Boolean)
          .map((d) => JSON.parse(d) as Record<string, any>);
      while (!documents().some((d) => d.name === '## index.handler') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

      // Assess
      const docs = documents();
      const handlerSegment = docs.find((d) => d.name === '## index.handler');
      expect(handlerSegment).toMatchObject({
        type: 'subsegment',
        trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        annotations: { Service: 'iop-referral' },
      });
      expect(handlerSegment?.metadata).toBeUndefined();
      const calls = docs
        .filter((d) => d.namespace === 'aws')
        .map((d) => `${d.name} ${d.aws?.operation}`)
        .sort();
      expect(calls).toEqual(expect.arrayContaining(['DynamoDB GetItem', 'SFN DescribeStateMachine']));
    } finally {
      daemon.close();
    }
  });
});
