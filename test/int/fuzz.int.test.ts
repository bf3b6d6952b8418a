import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { functions } from '../../functions/catalog';
import { pinClock, resetClock } from '../../functions/lib/clock';
import { Gateway } from '../../local/gateway';
import { ROOT, startRuntime } from '../../local/runtime';
import { isDevelopmentBuild } from '../../web/build';
import { defineEdgeFuzzSuite, pinnedIntake, runsFromEnv, seedFromEnv } from '../soak/edge-fuzz';
import { TestApi } from '../support/api';

// the public edge under fast-check (issue 12, item 1): a few hundred generated requests here,
// 10,000 in `npm run test:soak` (FUZZ_RUNS and FUZZ_SEED override both). What each request must
// show, and what the table must hold afterwards, is written at the top of test/soak/edge-fuzz.ts.
// Below the fuzzing: every kind of API answer is no-store, and no source map is served (item 9).

const suite = defineEdgeFuzzSuite({ beforeAll, afterAll, test, expect }, { pinClock, resetClock }, startRuntime, {
  runs: runsFromEnv(500),
  idempotencyRuns: 15,
  timeLimitMs: 60_000,
  seed: seedFromEnv(),
});

describe('edge hygiene', () => {
  test("every kind of API answer is cache-control: no-store, the gateway's own 401/404/405/413/503 included", async () => {
    // Prepare: a second gateway that never turns ready answers 503
    const rt = suite.runtime();
    const api = new TestApi(rt.appUrl, rt.mailUrl);
    const starting = new Gateway({ functions, invoke: async () => ({ statusCode: 200, body: '{}' }), webRoot: join(ROOT, 'web', 'dist') });
    const server: Server = createServer(starting.listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const startingUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const key = `hygiene-${Date.now()}`;
    try {
      // Act
      const created = await api.call('POST', '/api/referrals', { body: pinnedIntake(), headers: { 'idempotency-key': key } });
      const answers: Array<[string, number, Promise<{ status: number; headers: Headers }>]> = [
        ['201 intake', 201, Promise.resolve(created)],
        ['201 replay', 201, api.call('POST', '/api/referrals', { body: pinnedIntake(), headers: { 'idempotency-key': key } })],
        ['200 health', 200, api.call('GET', '/api/health')],
        ['200 staff list', 200, api.call('GET', '/api/staff/referrals', { as: 'casey' })],
        ['200 staff detail', 200, api.call('GET', `/api/staff/referrals/${created.json.referralId}`, { as: 'casey' })],
        ['400 invalid', 400, api.call('POST', '/api/referrals', { body: {} })],
        ['401 no token (gateway)', 401, api.call('GET', '/api/staff/referrals')],
        ['403 no group', 403, api.call('GET', '/api/staff/referrals', { as: 'pat' })],
        ['404 no route (gateway)', 404, api.call('GET', '/api/nope')],
        ['404 no referral', 404, api.call('GET', '/api/staff/referrals/00000000-0000-4000-8000-000000000000', { as: 'casey' })],
        ['405 method (gateway)', 405, api.call('DELETE', '/api/referrals')],
        ['409 key reuse', 409, api.call('POST', '/api/referrals', { body: pinnedIntake('Other'), headers: { 'idempotency-key': key } })],
        ['413 handler limit', 413, api.call('POST', '/api/referrals', { raw: JSON.stringify({ notes: 'x'.repeat(40_000) }) })],
        ['413 gateway limit', 413, api.call('POST', '/api/referrals', { raw: 'x'.repeat(1024 * 1024 + 1) })],
        [
          '415 not JSON',
          415,
          api.call('POST', '/api/referrals', { raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        ],
        ['200 sign-in', 200, api.call('POST', '/local/auth/login', { body: { username: 'casey', password: 'demo' } })],
        ['401 sign-in', 401, api.call('POST', '/local/auth/login', { body: { username: 'casey', password: 'nope' } })],
        ['404 issuer path', 404, api.call('GET', '/local/auth/nope')],
        ['503 starting (gateway)', 503, fetch(`${startingUrl}/api/health`)],
        ['503 issuer starting', 503, fetch(`${startingUrl}/local/auth/login`, { method: 'POST', body: '{}' })],
      ];
      const results = await Promise.all(answers.map(async ([label, want, p]) => ({ label, want, res: await p })));

      // Assess
      expect(results.filter((r) => r.res.status !== r.want).map((r) => `${r.label}: ${r.res.status}`)).toEqual([]);
      expect(results.filter((r) => r.res.headers.get('cache-control') !== 'no-store').map((r) => r.label)).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('no source map is served: /console/main.js.map and /intake/main.js.map are 404, main.js names none', async () => {
    // Act
    const rt = suite.runtime();
    const get = (path: string) => fetch(`${rt.appUrl}${path}`);
    const [consoleMap, intakeMap, consoleJs, intakeJs] = await Promise.all([
      get('/console/main.js.map'),
      get('/intake/main.js.map'),
      get('/console/main.js'),
      get('/intake/main.js'),
    ]);

    // Assess: the default build (npm test, npm start, a deployment) has none; only a development build does
    expect([consoleMap.status, intakeMap.status]).toEqual([404, 404]);
    expect([consoleJs.status, intakeJs.status]).toEqual([200, 200]);
    expect(await consoleJs.text()).not.toContain('sourceMappingURL');
    expect(await intakeJs.text()).not.toContain('sourceMappingURL');
    expect(isDevelopmentBuild({}, ['node', 'web/build.ts'])).toBe(false);
    expect(isDevelopmentBuild({ NODE_ENV: 'production' }, [])).toBe(false);
    expect(isDevelopmentBuild({ NODE_ENV: 'development' }, [])).toBe(true);
    expect(isDevelopmentBuild({}, ['node', 'web/build.ts', '--dev'])).toBe(true);
  });
});
