import { describe, expect, test } from '@jest/globals';
import type { ReferralEvent } from '../../../functions/lib/schemas/views';
import { duration, phone, sentence, words } from '../../../web/src/console/format';
import { graph, progressOf } from '../../../web/src/console/workflow-model';

// the console's pure parts: the workflow drawn from the one ASL file, the path a referral took,
// and codes, durations and phone numbers in words

const changed = (...to: ReferralEvent['to'][]): ReferralEvent[] =>
  to.map((s, i) => ({ at: `2026-12-01T10:0${i}:00.000Z`, type: 'STATUS_CHANGED', actor: { kind: 'system' }, to: s }));

describe('the workflow graph', () => {
  test('is laid out from the ASL: the gates on the main lane in order, timers and failures apart', () => {
    // Act
    const lane = graph.layers
      .flat()
      .filter((n) => n.kind === 'gate')
      .map((n) => n.name);
    const apart = graph.exceptional.map((n) => n.name);

    // Assess
    expect(graph.startAt).toBe('Start');
    expect(lane).toEqual(['InsuranceReview', 'Evaluation', 'Detox', 'Enrollment', 'Waitlist', 'FirstSession']);
    expect(apart).toEqual(expect.arrayContaining(['RecordBreach', 'RecordFailure']));
  });

  test('a referral at evaluation: the check done, evaluation current, later gates ahead', () => {
    const p = progressOf(graph, { status: 'EVALUATION', pendingStep: 'evaluation', events: changed('EVALUATION') });

    expect(p.current).toBe('Evaluation');
    expect(p.path[0]).toBe('Start');
    expect([p.state.get('Evaluation'), p.state.get('Enrollment'), p.state.get('FirstSession')]).toEqual(['current', 'ahead', 'ahead']);
  });

  test('a stopped gate that passed its timer twice: current at that gate, with the reason', () => {
    const p = progressOf(graph, {
      status: 'NEEDS_ATTENTION',
      pendingStep: 'enrollment',
      events: changed('EVALUATION', 'ENROLLMENT', 'NEEDS_ATTENTION'),
    });

    expect(p.current).toBe('Enrollment');
    expect(p.note).toMatch(/passed its timer twice/);
  });
});

describe('words for the console', () => {
  test('durations, codes and server messages', () => {
    expect([duration(45 * 60_000), duration(3 * 3_600_000), duration(52 * 3_600_000)]).toEqual(['45 min', '3 h', '2 d 4 h']);
    expect([words('refer-out'), words('detoxRequired')]).toEqual(['Refer out', 'Detox required']);
    expect([sentence(' The cohort is full '), sentence('Done.')]).toEqual(['The cohort is full.', 'Done.']);
  });

  test('phone numbers as people read them, and dialable', () => {
    expect(phone('5551234567')).toEqual({ text: '(555) 123-4567', tel: '+15551234567' });
    expect(phone('1-555-123-4567')).toEqual({ text: '+1 (555) 123-4567', tel: '+15551234567' });
    expect(phone(' +44 20 7946 0000 ')).toEqual({ text: '+44 20 7946 0000', tel: '+442079460000' });
  });
});
