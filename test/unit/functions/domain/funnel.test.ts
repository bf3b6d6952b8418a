import { describe, expect, test } from '@jest/globals';
import {
  computeFunnel,
  CSV_COLUMNS,
  funnelCsv,
  funnelCsvName,
  milestones,
  type FunnelReferral,
} from '../../../../functions/lib/domain/funnel';
import { localDay as localDate } from '../../../../functions/lib/domain/dates';
import { FunnelQuerySchema } from '../../../../functions/lib/schemas/reports';
import { TEST_NOW } from '../support/fixtures';

// the funnel: received → evaluated → enrolled → started for the referrals received in a range

const TZ = 'America/New_York';
const now = new Date(TEST_NOW);
const at = (day: string, hour = 15) => `${day}T${String(hour).padStart(2, '0')}:00:00.000Z`;

/** a referral received on `day` that reached the given statuses `n` days later each */
const referral = (
  day: string,
  path: Array<[string, number]>,
  o: Partial<FunnelReferral> & { evaluationTo?: string } = {},
): FunnelReferral => {
  const received = at(day);
  const reached: Record<string, string> = { RECEIVED: received };
  for (const [status, days] of path) reached[status] = new Date(Date.parse(received) + days * 86_400_000).toISOString();
  return {
    channel: 'web',
    receivedAt: received,
    reached,
    ...(o.evaluationTo ? { decided: { evaluation: { next: o.evaluationTo } } } : {}),
    ...o,
  };
};

const q = { from: '2026-11-01', to: '2026-11-30', channel: 'all' as const };

describe('milestones', () => {
  test('evaluated is when the evaluation decision led on (accept to enrollment, to detox, or refer out)', () => {
    expect(
      milestones(
        referral(
          '2026-11-02',
          [
            ['EVALUATION', 1],
            ['ENROLLMENT', 3],
          ],
          { evaluationTo: 'ENROLLMENT' },
        ),
      ).evaluated,
    ).toBe(at('2026-11-05'));
    expect(
      milestones(
        referral(
          '2026-11-02',
          [
            ['EVALUATION', 1],
            ['DETOX', 2],
            ['ENROLLMENT', 9],
          ],
          { evaluationTo: 'DETOX' },
        ),
      ).evaluated,
    ).toBe(at('2026-11-04'));
    expect(
      milestones(
        referral(
          '2026-11-02',
          [
            ['EVALUATION', 1],
            ['REFERRED_OUT', 2],
          ],
          { evaluationTo: 'REFERRED_OUT' },
        ),
      ),
    ).toMatchObject({ evaluated: at('2026-11-04'), reachedIndex: 1 });
  });

  test('not covered, or still waiting at evaluation, is received only; a referral out of detox was evaluated at detox', () => {
    expect(
      milestones(
        referral('2026-11-02', [
          ['INSURANCE_REVIEW', 0],
          ['NOT_COVERED', 1],
        ]),
      ).reachedIndex,
    ).toBe(0);
    expect(milestones(referral('2026-11-02', [['EVALUATION', 1]])).reachedIndex).toBe(0);
    // a record without `decided`: the first status only an evaluation leads to
    expect(
      milestones(
        referral('2026-11-02', [
          ['EVALUATION', 1],
          ['DETOX', 2],
          ['REFERRED_OUT', 20],
        ]),
      ),
    ).toMatchObject({ evaluated: at('2026-11-04'), reachedIndex: 1 });
  });

  test('started (a status added by the first-session gate) counts, and implies the steps before it', () => {
    const m = milestones(
      referral(
        '2026-11-02',
        [
          ['ENROLLMENT', 2],
          ['ENROLLED', 4],
          ['STARTED', 10],
        ],
        { evaluationTo: 'ENROLLMENT' },
      ),
    );
    expect(m).toMatchObject({ evaluated: at('2026-11-04'), enrolled: at('2026-11-06'), started: at('2026-11-12'), reachedIndex: 3 });
  });
});

describe('computeFunnel', () => {
  const referrals = [
    referral(
      '2026-11-02',
      [
        ['EVALUATION', 1],
        ['ENROLLMENT', 2],
        ['ENROLLED', 4],
        ['STARTED', 10],
      ],
      { evaluationTo: 'ENROLLMENT' },
    ),
    referral(
      '2026-11-03',
      [
        ['EVALUATION', 1],
        ['ENROLLMENT', 4],
        ['ENROLLED', 6],
        ['NO_SHOW', 14],
      ],
      { evaluationTo: 'ENROLLMENT' },
    ),
    referral(
      '2026-11-04',
      [
        ['EVALUATION', 1],
        ['REFERRED_OUT', 3],
      ],
      { evaluationTo: 'REFERRED_OUT', channel: 'phone' },
    ),
    referral('2026-11-05', [['EVALUATION', 1]], { channel: 'phone' }),
    // outside the range (a day before and after, by the program's calendar)
    { ...referral('2026-10-31', []), receivedAt: '2026-11-01T03:59:00.000Z' },
    referral(
      '2026-12-01',
      [
        ['EVALUATION', 1],
        ['ENROLLMENT', 2],
      ],
      { evaluationTo: 'ENROLLMENT' },
    ),
  ];

  test('counts, drop-off and median days at each step, for the days chosen in the program time zone', () => {
    // Act
    const f = computeFunnel(referrals, q, { timeZone: TZ, now });

    // Assess
    expect(f.steps).toEqual([
      { step: 'received', count: 4, percentOfReceived: 100, dropOff: 0, dropOffPercent: 0 },
      {
        step: 'evaluated',
        count: 3,
        percentOfReceived: 75,
        dropOff: 1,
        dropOffPercent: 25,
        medianDaysFromPrevious: 3,
        medianDaysFromReceived: 3,
      },
      {
        step: 'enrolled',
        count: 2,
        percentOfReceived: 50,
        dropOff: 1,
        dropOffPercent: 33.3,
        medianDaysFromPrevious: 2,
        medianDaysFromReceived: 5,
      },
      {
        step: 'started',
        count: 1,
        percentOfReceived: 25,
        dropOff: 1,
        dropOffPercent: 50,
        medianDaysFromPrevious: 6,
        medianDaysFromReceived: 10,
      },
    ]);
    expect(f).toMatchObject({
      from: '2026-11-01',
      to: '2026-11-30',
      channel: 'all',
      timeZone: TZ,
      truncated: false,
      generatedAt: TEST_NOW,
    });
  });

  test('by channel', () => {
    const phone = computeFunnel(referrals, { ...q, channel: 'phone' }, { timeZone: TZ, now });
    expect(phone.steps.map((s) => s.count)).toEqual([2, 1, 0, 0]);
    const web = computeFunnel(referrals, { ...q, channel: 'web' }, { timeZone: TZ, now });
    expect(web.steps.map((s) => s.count)).toEqual([2, 2, 2, 1]);
  });

  test('nothing received: zeros, no medians, no division by zero', () => {
    const f = computeFunnel([], q, { timeZone: TZ, now });
    expect(f.steps.map((s) => [s.count, s.percentOfReceived, s.dropOffPercent, s.medianDaysFromPrevious])).toEqual([
      [0, 0, 0, undefined],
      [0, 0, 0, undefined],
      [0, 0, 0, undefined],
      [0, 0, 0, undefined],
    ]);
  });

  test('localDate is the program calendar day of an instant', () => {
    expect(localDate('2026-11-01T03:59:00.000Z', TZ)).toBe('2026-10-31');
    expect(localDate('2026-11-01T04:00:00.000Z', TZ)).toBe('2026-11-01');
  });
});

describe('funnelCsv', () => {
  test('one row per step with the query on each, CRLF, numbers only: no PHI, nothing a spreadsheet would run', () => {
    // Prepare
    const f = computeFunnel(
      [
        referral(
          '2026-11-02',
          [
            ['EVALUATION', 1],
            ['ENROLLMENT', 2],
          ],
          { evaluationTo: 'ENROLLMENT' },
        ),
      ],
      q,
      { timeZone: TZ, now },
    );

    // Act
    const csv = funnelCsv(f);

    // Assess
    const lines = csv.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.slice(1, -1)).toEqual([
      '2026-11-01,2026-11-30,all,received,1,100,0,0,,',
      '2026-11-01,2026-11-30,all,evaluated,1,100,0,0,2,2',
      '2026-11-01,2026-11-30,all,enrolled,0,0,1,100,,',
      '2026-11-01,2026-11-30,all,started,0,0,0,0,,',
    ]);
    expect(csv).not.toMatch(/(^|,)[=+\-@]/m);
    expect(funnelCsvName(f)).toBe('referral-funnel_2026-11-01_to_2026-11-30_all.csv');
  });
});

describe('FunnelQuerySchema', () => {
  test('accepts a range and a channel, defaults the channel, leaves the dates to the service', () => {
    expect(FunnelQuerySchema.parse({ from: '2026-11-01', to: '2026-11-30', channel: 'phone' })).toEqual({
      from: '2026-11-01',
      to: '2026-11-30',
      channel: 'phone',
    });
    expect(FunnelQuerySchema.parse({})).toEqual({ channel: 'all' });
  });

  test('refuses a reversed range, a range over two years, an unreal date and an unknown channel', () => {
    const issues = (v: unknown) => FunnelQuerySchema.safeParse(v).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ from: '2026-12-01', to: '2026-11-01' })).toEqual(['from']);
    expect(issues({ from: '2024-01-01', to: '2026-11-01' })).toEqual(['from']);
    expect(issues({ from: '2026-02-30' })).toEqual(['from']);
    expect(issues({ channel: 'fax' })).toEqual(['channel']);
  });
});
