import { describe, expect, test } from '@jest/globals';
import { compileFilter, FilterPatternError } from '../../../local/triggers/filter';

// the event source mapping filter subset the local runtime applies to stream records

const record = (eventName: string, entity?: unknown) => ({
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { pk: { S: 'REFERRAL#1' } },
    NewImage: entity === undefined ? { pk: { S: 'REFERRAL#1' } } : { pk: { S: 'REFERRAL#1' }, entity },
  },
});

describe('compileFilter', () => {
  const outbox = compileFilter({ eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['notice'] } } } });

  test('an INSERT of a notice item matches', () => {
    expect(outbox(record('INSERT', { S: 'notice' }))).toBe(true);
  });

  test('another event name, another entity, a missing attribute or another attribute type does not match', () => {
    expect(outbox(record('MODIFY', { S: 'notice' }))).toBe(false);
    expect(outbox(record('INSERT', { S: 'referral' }))).toBe(false);
    expect(outbox(record('INSERT'))).toBe(false);
    expect(outbox(record('INSERT', { N: 'notice' }))).toBe(false);
    expect(outbox({})).toBe(false);
    expect(outbox(null)).toBe(false);
  });

  test('a leaf lists alternatives; an array value matches when any element does; null matches null; numbers by value', () => {
    const either = compileFilter({ eventName: ['INSERT', 'MODIFY'] });
    expect(either({ eventName: 'MODIFY' })).toBe(true);
    expect(either({ eventName: 'REMOVE' })).toBe(false);
    expect(compileFilter({ tags: ['b'] })({ tags: ['a', 'b'] })).toBe(true);
    expect(compileFilter({ x: [null] })({ x: null })).toBe(true);
    expect(compileFilter({ x: [null] })({})).toBe(false);
    expect(compileFilter({ n: [5] })({ n: 5 })).toBe(true);
    expect(compileFilter({ n: [5] })({ n: '5' })).toBe(false);
  });

  test('content operators, empty lists and scalar pattern values are refused when compiled', () => {
    expect(() => compileFilter({ eventName: [{ prefix: 'INS' }] })).toThrow(FilterPatternError);
    expect(() => compileFilter({ eventName: [{ 'anything-but': ['REMOVE'] }] })).toThrow(/only exact values/);
    expect(() => compileFilter({ eventName: [] })).toThrow(/empty array/);
    expect(() => compileFilter({ eventName: 'INSERT' })).toThrow(/object or an array/);
    expect(() => compileFilter({})).toThrow(/empty object/);
  });
});
