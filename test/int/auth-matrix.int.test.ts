import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { functions, type Access } from '../../functions/catalog';
import { cohortBody, intakeBody } from '../support/fixtures';
import { runtimeSuite } from '../support/runtime-suite';

// every staff route of the catalog against forged and misused tokens (401 before any handler runs,
// nothing changed), the role matrix of the demo users (403 where due, nothing changed), and ids of
// referrals that do not exist or are malformed (404, the same answer whatever the id, nothing echoed)

const suite = runtimeSuite();
let ddb: DynamoDBClient;
/** a referral that exists: forged and forbidden calls aim at it and must leave it as it was */
let realId: string;

beforeAll(async () => {
  ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: suite.rt.dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const created = await suite.api.intake(intakeBody({ lastName: 'Matrix' }));
  expect(created.status).toBe(201);
  realId = created.json.referralId;
  await suite.api.waitForGate(realId, 'evaluation');
});
afterAll(() => {
  ddb?.destroy();
});

interface StaffRoute {
  method: string;
  path: string;
  access: Access;
}
const staffRoutes: StaffRoute[] = functions.flatMap((f) => (f.routes ?? []).filter((r) => r.access !== 'public'));

/** a request body each route would accept from an allowed user (so only the token can stop it) */
const bodyFor = (route: StaffRoute): unknown => {
  if (route.path === '/api/staff/referrals') return intakeBody({ lastName: 'Forged' });
  if (route.path === '/api/staff/cohorts') return cohortBody({ name: 'Forged cohort' });
  if (route.path.endsWith('/withdraw')) return { reason: 'forged withdraw' };
  if (route.path.endsWith('/steps/{step}'))
    return { dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 }, recommendedLevel: '2.1', detoxRequired: false, decision: 'accept' };
  if (route.path.endsWith('/assignment')) return { assignee: 'casey', expected: null };
  if (route.path.endsWith('/contacts')) return { channel: 'phone', outcome: 'no-answer' };
  if (route.path.endsWith('/consent-revocation')) return { receivedVia: 'phone' };
  return {};
};

const pathFor = (route: StaffRoute, id: string): string =>
  route.path
    .replace('{id}', id)
    .replace('{step}', 'evaluation')
    .replace(/\{[^}]+\}/g, 'x');

const callRoute = (route: StaffRoute, opts: { authorization?: string; id?: string; body?: unknown } = {}) =>
  suite.api.call(route.method, pathFor(route, opts.id ?? realId), {
    ...(route.method === 'POST' ? { body: opts.body ?? bodyFor(route) } : {}),
    headers: {
      ...(opts.authorization !== undefined ? { authorization: opts.authorization } : {}),
      'idempotency-key': `matrix-${randomUUID()}`,
    },
  });

/** what a forged or forbidden call could change: the items a staff action writes, and the real referral */
const tableState = async () => {
  // notices of the real referral may still be delivered meanwhile (their items are not counted)
  const watched = new Set(['referral', 'intake', 'reference', 'idempotency', 'cohort', 'seat']);
  const counts: Record<string, number> = {};
  let start: Record<string, any> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: suite.rt.tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const entity = item.entity?.S ?? '?';
      if (watched.has(entity)) counts[entity] = (counts[entity] ?? 0) + 1;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  const real = await suite.api.referral(realId, 'sam');
  const changes = real.events.filter((e) => !/NOTICE|DISCLOSURE|EMAIL/.test(e.type)).map((e) => e.type);
  return { counts, real: { status: real.status, pendingStep: real.pendingStep, changes } };
};

// ---- forged and misused tokens -----------------------------------------------------------------

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const partsOf = (token: string) => {
  const [h, p] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
};

/** the ten kinds of the issue, several shapes of some; each a full Authorization header value (or none) */
const forgedAuthorizations = (): Array<{ kind: string; authorization?: string }> => {
  const casey = suite.rt.auth.issueToken('casey');
  const sam = suite.rt.auth.issueToken('sam');
  const { header, payload } = partsOf(sam);
  const publicJwk = JSON.stringify(suite.rt.auth.jwks.keys[0]);
  // the JWKS's public key as PEM: what an "alg confusion" attacker uses as the HMAC secret
  const publicPem = createPublicKey({ key: suite.rt.auth.jwks.keys[0] as any, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  }) as string;
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaSign = (h: object, p: object, key = pem.privateKey) => {
    const input = `${b64url(h)}.${b64url(p)}`;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  };
  const hmac = (h: object, p: object, secret: Buffer | string) => {
    const input = `${b64url(h)}.${b64url(p)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const now = Math.floor(Date.now() / 1000);
  const [h0, p0, s0] = casey.split('.') as [string, string, string];
  const bearer = (t: string) => `Bearer ${t}`;
  return [
    { kind: 'none' },
    { kind: 'garbage: empty bearer', authorization: 'Bearer ' },
    { kind: 'garbage: not a jwt', authorization: 'Bearer not-a-jwt' },
    { kind: 'garbage: basic auth', authorization: 'Basic Y2FzZXk6ZGVtbw==' },
    { kind: 'garbage: three dots', authorization: 'Bearer a.b.c' },
    {
      kind: 'garbage: random bytes',
      authorization: bearer(`${b64url(Buffer.from(randomUUID()).toString())}.${b64url('x')}.${b64url('y')}`),
    },
    { kind: 'garbage: header only', authorization: bearer(`${h0}..`) },
    { kind: 'alg none, no signature', authorization: bearer(`${b64url({ alg: 'none', typ: 'JWT' })}.${p0}.`) },
    { kind: 'alg none, signature kept', authorization: bearer(`${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.${s0}`) },
    { kind: 'HS256 keyed with the public key (PEM)', authorization: bearer(hmac({ ...header, alg: 'HS256' }, payload, publicPem)) },
    { kind: 'HS256 keyed with the public JWK', authorization: bearer(hmac({ ...header, alg: 'HS256' }, payload, publicJwk)) },
    { kind: 'expired', authorization: bearer(suite.rt.auth.issueToken('sam', { issuedAt: now - 7200 })) },
    { kind: 'not yet valid (nbf)', authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { nbf: now + 3600 } })) },
    { kind: 'issued in the future', authorization: bearer(suite.rt.auth.issueToken('sam', { issuedAt: now + 3600 })) },
    {
      kind: 'wrong issuer',
      authorization: bearer(
        suite.rt.auth.issueToken('sam', { claims: { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil' } }),
      ),
    },
    {
      kind: 'issuer with a trailing slash',
      authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { iss: `${suite.rt.auth.issuer}/` } })),
    },
    { kind: 'no issuer', authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { iss: undefined } })) },
    { kind: 'wrong client', authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { client_id: 'another-app-client' } })) },
    { kind: 'no client', authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { client_id: undefined } })) },
    {
      kind: 'tampered claims: groups added',
      authorization: bearer(`${h0}.${b64url({ ...partsOf(casey).payload, 'cognito:groups': ['case-workers', 'supervisors'] })}.${s0}`),
    },
    {
      kind: 'tampered claims: exp extended',
      authorization: bearer(`${h0}.${b64url({ ...partsOf(casey).payload, exp: now + 86_400 * 365 })}.${s0}`),
    },
    { kind: 'tampered signature', authorization: bearer(`${h0}.${p0}.${s0.slice(0, -4)}${s0.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`) },
    { kind: 'another key, same kid', authorization: bearer(rsaSign(header, payload)) },
    { kind: 'another key, no kid', authorization: bearer(rsaSign({ alg: 'RS256', typ: 'JWT' }, payload)) },
    { kind: 'an ID token where an access token belongs', authorization: bearer(suite.rt.auth.issueToken('sam', { tokenUse: 'id' })) },
    {
      kind: 'an access token claiming token_use id',
      authorization: bearer(suite.rt.auth.issueToken('sam', { claims: { token_use: 'id' } })),
    },
  ];
};

describe('401: every staff route × every forged or misused token', () => {
  test('the genuine tokens pass the authorizer on every staff route (the control)', async () => {
    // Act
    const statuses = await Promise.all(
      staffRoutes.map(
        async (r) =>
          [
            `${r.method} ${r.path}`,
            (await callRoute(r, { authorization: `Bearer ${suite.rt.auth.issueToken('sam')}`, id: randomUUID(), body: {} })).status,
          ] as const,
      ),
    );

    // Assess: a 4xx of the handler (400/404), never the authorizer's 401
    expect(staffRoutes.length).toBeGreaterThanOrEqual(8);
    for (const [, status] of statuses) {
      expect(status).not.toBe(401);
      expect(status).toBeLessThan(500);
    }
  });

  test('→ 401 {"message":"Unauthorized"}, no-store, a Bearer challenge; nothing reaches a handler, nothing changes', async () => {
    // Prepare
    const forged = forgedAuthorizations();
    const before = await tableState();

    // Act
    const outcomes: Array<{ route: string; kind: string; status: number; body: string; cache: string | null; challenge: string | null }> =
      [];
    for (const route of staffRoutes) {
      const answers = await Promise.all(forged.map(async (f) => ({ f, res: await callRoute(route, { authorization: f.authorization }) })));
      for (const { f, res } of answers) {
        outcomes.push({
          route: `${route.method} ${route.path}`,
          kind: f.kind,
          status: res.status,
          body: res.text,
          cache: res.headers.get('cache-control'),
          challenge: res.headers.get('www-authenticate'),
        });
      }
    }

    // Assess
    expect(outcomes.length).toBe(staffRoutes.length * forged.length);
    expect(outcomes.filter((o) => o.status !== 401).map((o) => `${o.route} with ${o.kind}: ${o.status}`)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.body))).toEqual(new Set(['{"message":"Unauthorized"}']));
    expect(outcomes.filter((o) => o.cache !== 'no-store')).toEqual([]);
    expect(outcomes.filter((o) => !o.challenge?.startsWith('Bearer'))).toEqual([]);
    expect(await tableState()).toEqual(before);
  });
});

// ---- roles ---------------------------------------------------------------------------------------

const USERS = ['casey', 'sam', 'pat'] as const;
const GROUPS: Record<(typeof USERS)[number], string[]> = { casey: ['case-workers'], sam: ['case-workers', 'supervisors'], pat: [] };
const allowed = (user: (typeof USERS)[number], access: Access): boolean =>
  access === 'supervisor' ? GROUPS[user].includes('supervisors') : GROUPS[user].some((g) => g === 'case-workers' || g === 'supervisors');

describe('403: the role matrix of the demo users', () => {
  test('a user without the group gets 403 on the real referral with a valid body, and nothing changes', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const outcomes = [];
    for (const route of staffRoutes) {
      for (const user of USERS) {
        if (allowed(user, route.access)) continue;
        const res = await callRoute(route, { authorization: `Bearer ${await suite.api.token(user)}` });
        outcomes.push({
          key: `${user} ${route.method} ${route.path}`,
          status: res.status,
          json: res.json,
          cache: res.headers.get('cache-control'),
        });
      }
    }

    // Assess: pat on every route, casey on the supervisors' routes
    expect(outcomes.length).toBe(staffRoutes.length + staffRoutes.filter((r) => r.access === 'supervisor').length);
    expect(outcomes.filter((o) => o.status !== 403).map((o) => `${o.key}: ${o.status}`)).toEqual([]);
    expect(outcomes.every((o) => o.json?.error === 'Forbidden' && typeof o.json.message === 'string')).toBe(true);
    expect(outcomes.every((o) => o.cache === 'no-store')).toBe(true);
    expect(await tableState()).toEqual(before);
  });

  test('a user with the group passes (any answer but 401/403; ids that name nothing, so nothing changes)', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const outcomes = [];
    for (const route of staffRoutes) {
      for (const user of USERS) {
        if (!allowed(user, route.access)) continue;
        const res = await callRoute(route, { authorization: `Bearer ${await suite.api.token(user)}`, id: randomUUID(), body: {} });
        outcomes.push({ key: `${user} ${route.method} ${route.path}`, status: res.status });
      }
    }

    // Assess
    expect(outcomes.filter((o) => [401, 403].includes(o.status) || o.status >= 500).map((o) => `${o.key}: ${o.status}`)).toEqual([]);
    expect(await tableState()).toEqual(before);
  });

  test('pat is refused alike whether the referral exists or not (a 403 tells nothing about the id)', async () => {
    // Act
    const token = `Bearer ${await suite.api.token('pat')}`;
    const idRoutes = staffRoutes.filter((r) => r.path.includes('{id}'));
    const pairs = await Promise.all(
      idRoutes.map(async (r) => [
        (await callRoute(r, { authorization: token })).text,
        (await callRoute(r, { authorization: token, id: randomUUID() })).text,
      ]),
    );

    // Assess
    for (const [existing, missing] of pairs) expect(existing).toBe(missing);
  });
});

// ---- 404 ---------------------------------------------------------------------------------------

describe('404: referral ids that do not exist or are malformed', () => {
  const CANARY = 'Zq9CanaryId';
  const ids = (): string[] => [
    randomUUID(),
    randomUUID().toUpperCase(),
    '00000000-0000-0000-0000-000000000000',
    `${realId}x`,
    realId.slice(1),
    'x',
    CANARY,
    `${CANARY}${'x'.repeat(3000)}`,
    encodeURIComponent(`REFERRAL#${realId}`),
    encodeURIComponent(`${realId}#INTAKE`),
    encodeURIComponent(`../${realId}`),
    encodeURIComponent(`${CANARY}/../../etc/passwd`),
    encodeURIComponent(`' OR '1'='1 ${CANARY}`),
    encodeURIComponent(`<script>${CANARY}</script>`),
    encodeURIComponent(`${CANARY}\u0000\r\n`),
    encodeURIComponent(`${CANARY}é😀\u202e`),
    '%E0%A4%A', // a broken escape
    'null',
    '-1',
  ];

  test('→ 404 with one and the same body on a route, whatever the id; no id, key or internal detail in it', async () => {
    // Prepare
    const idRoutes = staffRoutes.filter((r) => r.path.includes('{id}'));
    const token = `Bearer ${await suite.api.token('sam')}`;
    const before = await tableState();

    // Act
    const outcomes = [];
    for (const route of idRoutes) {
      for (const id of ids()) {
        const res = await callRoute(route, { authorization: token, id });
        outcomes.push({
          route: `${route.method} ${route.path}`,
          id,
          status: res.status,
          text: res.text,
          cache: res.headers.get('cache-control'),
        });
      }
    }

    // Assess
    expect(idRoutes.length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => o.status !== 404).map((o) => `${o.route} ${o.id.slice(0, 60)}: ${o.status}`)).toEqual([]);
    for (const route of idRoutes) {
      const bodies = new Set(outcomes.filter((o) => o.route === `${route.method} ${route.path}`).map((o) => o.text));
      // on a failure: which id got which answer
      const answers =
        bodies.size === 1
          ? []
          : outcomes.filter((o) => o.route === `${route.method} ${route.path}`).map((o) => `${o.text} ← ${o.id.slice(0, 40)}`);
      expect({ route: `${route.method} ${route.path}`, bodies: bodies.size, answers }).toEqual({
        route: `${route.method} ${route.path}`,
        bodies: 1,
        answers: [],
      });
      const [body] = [...bodies] as [string];
      expect(JSON.parse(body)).toEqual({ error: 'NotFound', message: expect.any(String) });
      expect(body).not.toMatch(new RegExp(`${CANARY}|REFERRAL#|INTAKE|pk|sk|Dynamo|Exception|stack|at .*\\.ts`, 'i'));
      expect(body).not.toContain(realId);
    }
    expect(outcomes.filter((o) => o.cache !== 'no-store')).toEqual([]);
    expect(await tableState()).toEqual(before);
  });
});
