import { describe, expect, test } from '@jest/globals';
import { newReference, REFERENCE_RE } from '../../../../functions/lib/domain/reference';

const sample = Array.from({ length: 500 }, newReference);

describe('newReference', () => {
  test('has the form IOP-XXXX-XXXX', () => {
    for (const ref of sample) expect(ref).toMatch(/^IOP-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  });

  test('never uses characters that are misread on the phone (0 O 1 I L 2 Z 5 S 8 B)', () => {
    const used = new Set(sample.flatMap((ref) => [...ref.slice('IOP-'.length).replace('-', '')]));
    for (const c of '0O1IL2Z5S8B') expect(used.has(c)).toBe(false);
  });

  test('matches REFERENCE_RE, which the staff search relies on', () => {
    for (const ref of sample) expect(REFERENCE_RE.test(ref)).toBe(true);
  });

  test('is not repeated across 500 draws', () => {
    expect(new Set(sample).size).toBe(sample.length);
  });
});

describe('REFERENCE_RE', () => {
  test.each(['IOP-7KQ4-M3TD', 'IOP-3333-YYYY'])('accepts %s', (ref) => {
    expect(REFERENCE_RE.test(ref)).toBe(true);
  });

  test.each(['IOP-7KQ4-M3T0', 'IOP-7KQ4M3TD', 'iop-7kq4-m3td', 'IOP-BSZ8-M3TD', 'XIOP-7KQ4-M3TD'])('rejects %s', (ref) => {
    expect(REFERENCE_RE.test(ref)).toBe(false);
  });
});
