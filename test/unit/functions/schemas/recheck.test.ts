import { describe, expect, test } from '@jest/globals';
import { RecheckSchema } from '../../../../functions/lib/schemas/recheck';

describe('RecheckSchema', () => {
  test('takes a corrected member ID, payer ID and name (trimmed), or nothing at all', () => {
    expect(RecheckSchema.parse({ memberId: ' ABC-123 ', payerId: '60054', payer: ' Aetna ' })).toEqual({
      memberId: 'ABC-123',
      payerId: '60054',
      payer: 'Aetna',
    });
    expect(RecheckSchema.parse({})).toEqual({});
  });

  test('refuses what the intake refuses, by field', () => {
    const r = RecheckSchema.safeParse({ memberId: 'A B', payerId: 'x', payer: '' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['memberId', 'payer', 'payerId']);
  });
});
