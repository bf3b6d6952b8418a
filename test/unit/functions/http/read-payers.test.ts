import { beforeAll, describe, expect, test } from '@jest/globals';
import { apiEvent, bodyOf, lambdaContext, setTestEnv } from '../support/fixtures';
import { PayerListSchema, SAMPLE_PAYERS } from '../../../../functions/lib/payers';
import type { handler as Handler } from '../../../../functions/read-payers/handler';

// GET /api/payers: the payer picker's list, from PAYER_LIST (validated) or the sample

let handler: typeof Handler;

beforeAll(async () => {
  setTestEnv();
  process.env.PAYER_LIST = JSON.stringify([
    { name: 'Zeta Health', payerId: 'ZETA1' },
    { name: ' Alpha Plan ', payerId: '11111' },
  ]);
  ({ handler } = await import('../../../../functions/read-payers/handler'));
});

describe('GET /api/payers', () => {
  test('answers the configured list sorted by name, trimmed, cacheable by anyone (no PHI)', async () => {
    // Act
    const res = await handler(apiEvent('GET /api/payers'), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['cache-control']).toBe('public, max-age=300');
    expect(bodyOf(res)).toEqual({
      items: [
        { name: 'Alpha Plan', payerId: '11111' },
        { name: 'Zeta Health', payerId: 'ZETA1' },
      ],
    });
  });
});

describe('the payer list', () => {
  test('the sample list passes its own schema', () => {
    expect(PayerListSchema.safeParse(SAMPLE_PAYERS).success).toBe(true);
  });

  test.each([
    ['an empty list', []],
    ['a payer ID with a dash', [{ name: 'A', payerId: '12-34' }]],
    [
      'a name twice (any case)',
      [
        { name: 'Aetna', payerId: '60054' },
        { name: 'AETNA', payerId: '60055' },
      ],
    ],
    ['no name', [{ payerId: '60054' }]],
  ])('refuses %s', (_, list) => {
    expect(PayerListSchema.safeParse(list).success).toBe(false);
  });
});
