import { describe, expect, test } from '@jest/globals';
import { request } from 'node:http';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { stageConfigFrom } from '../../infra/config';
import { INTAKE_METHOD, INTAKE_PATH, Protection } from '../../infra/constructs/protection';
import { RATE_LIMITED_INTAKE, WAF_RATE_LIMITS } from '../../local/gateway/rate-limits';
import { intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// the local rate limits mirror the WAF web ACL: a token bucket per client address on the public
// intake (every request counts, 429 + Retry-After over the limit) and on failed sign-ins. The
// buckets run on a clock this test moves, so refilling needs no waiting. Clients are told apart by
// their address: this test also speaks from 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback).

let fakeMs = 0;
const advance = (seconds: number) => (fakeMs += seconds * 1000);

const suite = runtimeSuite({ rateLimits: { ...WAF_RATE_LIMITS, now: () => fakeMs } });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** one request from a chosen loopback address */
const send = (
  method: string,
  path: string,
  opts: { from?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(suite.rt.appUrl);
    const headers = { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
    const req = request(
      { host: url.hostname, port: url.port, path, method, headers, localAddress: opts.from ?? '127.0.0.1', agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });

const intake = (from: string, body: unknown = {}, headers: Record<string, string> = {}) =>
  send('POST', '/api/referrals', { from, body: JSON.stringify(body), headers });
const login = (from: string, password: string, username = 'casey') =>
  send('POST', '/local/auth/login', { from, body: JSON.stringify({ username, password }) });

const storedIntakes = async (): Promise<number> => {
  const ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: suite.rt.dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    let count = 0;
    let start: Record<string, any> | undefined;
    do {
      const page = await ddb.send(
        new ScanCommand({
          TableName: suite.rt.tableName,
          FilterExpression: 'entity = :e',
          ExpressionAttributeValues: { ':e': { S: 'intake' } },
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  } finally {
    ddb.destroy();
  }
};

describe('the mirror', () => {
  test("the local intake bucket is the WAF rule's: POST /api/referrals, per IP, 100 per 300 s by default", () => {
    // Prepare: the web ACL as the stack builds it with the default context
    const app = new App();
    const stack = new Stack(app, 'RateLimitMirror', { env: { region: 'us-east-1', account: '111111111111' } });
    const protection = new Protection(stack, 'Protection', { config: stageConfigFrom(app.node), opsKey: new kms.Key(stack, 'Key') });

    // Act
    const rules = protection.webAcl.rules as Array<{
      name: string;
      statement: { rateBasedStatement?: { limit: number; evaluationWindowSec: number; aggregateKeyType: string } };
    }>;
    const rate = rules.find((r) => r.name === 'IntakeRateLimit')!.statement.rateBasedStatement!;

    // Assess
    expect({ method: INTAKE_METHOD, path: INTAKE_PATH }).toEqual(RATE_LIMITED_INTAKE);
    expect(rate.aggregateKeyType).toBe('IP');
    const bucket = WAF_RATE_LIMITS.intake as { capacity: number; refillPerSecond: number };
    expect(bucket.capacity).toBe(rate.limit);
    expect(bucket.refillPerSecond * rate.evaluationWindowSec).toBeCloseTo(rate.limit, 9);
  });
});

describe('intake', () => {
  test('100 requests from one address pass, the 101st is a 429 with Retry-After and a JSON error; it refills at 1 per 3 s', async () => {
    // Prepare: an empty body is a cheap 400, and counts like any other request
    const from = '127.0.0.2';

    // Act
    const first = [];
    for (let i = 0; i < 100; i++) first.push((await intake(from)).status);
    const refused = await intake(from, intakeBody());
    advance(2);
    const stillRefused = await intake(from);
    advance(1);
    const refilled = await intake(from);
    const emptyAgain = await intake(from);

    // Assess
    expect(first).toEqual(Array(100).fill(400));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('3');
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.headers['content-type']).toContain('application/json');
    expect(refused.json).toEqual({ error: 'TooManyRequests', message: expect.stringMatching(/try again in 3 seconds/) });
    expect(stillRefused.status).toBe(429);
    expect(stillRefused.headers['retry-after']).toBe('1');
    expect(refilled.status).toBe(400);
    expect(emptyAgain.status).toBe(429);
  });

  test('a refused intake stores nothing and never reaches the handler; a forged X-Forwarded-For does not escape the limit', async () => {
    // Prepare: 127.0.0.2 is out of tokens (previous test); the table holds no intake yet
    const before = await storedIntakes();

    // Act
    const body = intakeBody({ lastName: 'Throttled' });
    const refused = await intake('127.0.0.2', body, { 'idempotency-key': 'rate-limit-refused-1', 'x-forwarded-for': '203.0.113.9' });

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.text).not.toContain('Throttled');
    expect(await storedIntakes()).toBe(before);
  });

  test('another address keeps its own bucket; other routes are not limited', async () => {
    // Act
    const elsewhere = await intake('127.0.0.3', intakeBody(), { 'idempotency-key': 'rate-limit-other-client' });
    const health = await send('GET', '/api/health', { from: '127.0.0.2' });
    const staff = await send('POST', '/api/staff/referrals', { from: '127.0.0.2', body: '{}' });

    // Assess
    expect(elsewhere.status).toBe(201);
    expect(await storedIntakes()).toBe(1);
    expect(health.status).toBe(200);
    expect(staff.status).toBe(401); // the authorizer, not the rate rule
  });

  test('the bucket is refilled to its capacity, never beyond', async () => {
    // Prepare: 127.0.0.2 ran dry above; ten hours would refill it 12,000 times over
    const from = '127.0.0.2';
    advance(10 * 3600);

    // Act
    const statuses = [];
    for (let i = 0; i < 101; i++) statuses.push((await intake(from)).status);

    // Assess
    expect(statuses.filter((s) => s === 400)).toHaveLength(100);
    expect(statuses[100]).toBe(429);
  });
});

describe('sign-in', () => {
  test('5 wrong passwords from one address, then 429 even for the right one; other addresses sign in; a minute later it works', async () => {
    // Prepare
    const from = '127.0.0.5';

    // Act
    const wrong = [];
    for (let i = 0; i < 5; i++) wrong.push((await login(from, `wrong-${i}`)).status);
    const sixth = await login(from, 'wrong-6');
    const right = await login(from, 'demo');
    const elsewhere = await login('127.0.0.6', 'demo');
    advance(60);
    const later = await login(from, 'demo');
    const wrongAgain = await login(from, 'wrong-7');
    const thenLocked = await login(from, 'demo');

    // Assess
    expect(wrong).toEqual([401, 401, 401, 401, 401]);
    expect(sixth.status).toBe(429);
    expect(sixth.headers['retry-after']).toBe('60');
    expect(sixth.headers['cache-control']).toBe('no-store');
    expect(sixth.json).toMatchObject({ error: 'TooManyRequests' });
    expect(sixth.text).not.toContain('wrong-6');
    expect(right.status).toBe(429);
    expect(right.text).not.toContain('accessToken');
    expect(elsewhere.status).toBe(200);
    expect(later.status).toBe(200);
    expect(wrongAgain.status).toBe(401);
    expect(thenLocked.status).toBe(429);
  });

  test('a right password takes no token; a malformed sign-in (400) takes none either', async () => {
    // Prepare
    const from = '127.0.0.7';

    // Act
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await login(from, 'demo')).status);
    for (let i = 0; i < 5; i++) statuses.push((await send('POST', '/local/auth/login', { from, body: '{"username":' })).status);
    const wrong = [];
    for (let i = 0; i < 6; i++) wrong.push((await login(from, 'nope')).status);

    // Assess
    expect(statuses).toEqual([...Array(20).fill(200), ...Array(5).fill(400)]);
    expect(wrong).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
