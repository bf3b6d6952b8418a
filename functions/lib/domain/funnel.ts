import { localDay } from './dates';
// the referral funnel (dashboard): received → evaluated → enrolled → started, for the referrals
// received in a date range (a cohort of referrals, each counted at every step it has reached by
// now), with the drop-off and the median days spent before each step. Counts and medians only: no
// referral id, reference, name or date leaves this module, so the CSV holds no PHI either.

const FUNNEL_STEPS = ['received', 'evaluated', 'enrolled', 'started'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

export const FUNNEL_CHANNELS = ['all', 'web', 'phone'] as const;
export type FunnelChannel = (typeof FUNNEL_CHANNELS)[number];

export const STEP_LABELS: Record<FunnelStep, string> = {
  received: 'Received',
  evaluated: 'Evaluated',
  enrolled: 'Enrolled',
  started: 'Started treatment',
};

/** what the funnel reads of a referral (its META item): when each status was first reached */
export interface FunnelReferral {
  channel: 'web' | 'phone';
  receivedAt: string;
  /** first time each status was reached (ISO); string keys so statuses added later need no change here */
  reached: Partial<Record<string, string>>;
  /** the evaluation's decision and where it led */
  decided?: Partial<Record<string, { next: string }>>;
}

interface FunnelRow {
  step: FunnelStep;
  count: number;
  /** share of the received referrals that reached this step (0–100, one decimal) */
  percentOfReceived: number;
  /** referrals that reached the step before but not this one */
  dropOff: number;
  /** dropOff as a share of the step before (0–100, one decimal) */
  dropOffPercent: number;
  /** median days from the step before to this one, over the referrals that reached this one (one decimal) */
  medianDaysFromPrevious?: number;
  /** median days from intake to this step */
  medianDaysFromReceived?: number;
}

export interface FunnelQuery {
  /** calendar dates (YYYY-MM-DD) in the program's time zone, inclusive */
  from: string;
  to: string;
  channel: FunnelChannel;
}

export interface Funnel extends FunnelQuery {
  timeZone: string;
  steps: FunnelRow[];
  /** true when the range held more referrals than one report reads (the counts are of the first ones) */
  truncated: boolean;
  generatedAt: string;
}

/** statuses an evaluation decision leads to (a referral past one of them was evaluated) */
const AFTER_EVALUATION = ['DETOX', 'ENROLLMENT', 'WAITLISTED', 'ENROLLED', 'STARTED', 'NO_SHOW'];

const earliest = (xs: Array<string | undefined>): string | undefined => xs.filter((x): x is string => !!x).sort()[0];

/**
 * When a referral reached each step, or undefined. Evaluated = the evaluation was decided (accepted
 * or referred out): the time its decision's status was first reached. Enrolled and started are the
 * first ENROLLED and STARTED. A later step implies the earlier ones (their time may be unknown).
 */
export const milestones = (r: FunnelReferral): Record<FunnelStep, string | undefined> & { reachedIndex: number } => {
  const evaluationNext = r.decided?.evaluation?.next;
  const at: Record<FunnelStep, string | undefined> = {
    received: r.receivedAt,
    // records without `decided` (older ones): the first status only an evaluation leads to
    evaluated: (evaluationNext ? r.reached[evaluationNext] : undefined) ?? earliest(AFTER_EVALUATION.map((s) => r.reached[s])),
    enrolled: r.reached.ENROLLED,
    started: r.reached.STARTED,
  };
  let reachedIndex = 0;
  FUNNEL_STEPS.forEach((s, i) => {
    if (at[s] || (s === 'evaluated' && evaluationNext)) reachedIndex = i;
  });
  return { ...at, reachedIndex };
};

const median = (xs: number[]): number | undefined => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
};

const DAY_MS = 86_400_000;
const oneDecimal = (x: number) => Math.round(x * 10) / 10;
const percent = (part: number, whole: number) => (whole ? oneDecimal((part / whole) * 100) : 0);

/** the referrals of the query: received on a day in [from, to] (program time zone) through the channel */
const inRange = (r: FunnelReferral, q: FunnelQuery, timeZone: string): boolean => {
  if (q.channel !== 'all' && r.channel !== q.channel) return false;
  const day = localDay(r.receivedAt, timeZone);
  return day >= q.from && day <= q.to;
};

/** the funnel of `referrals` (already read for the range; filtered here again, exactly) */
export const computeFunnel = (
  referrals: readonly FunnelReferral[],
  q: FunnelQuery,
  opts: { timeZone: string; now: Date; truncated?: boolean },
): Funnel => {
  const rows = referrals.filter((r) => inRange(r, q, opts.timeZone)).map(milestones);
  const counts = FUNNEL_STEPS.map((_, i) => rows.filter((m) => m.reachedIndex >= i).length);
  const steps = FUNNEL_STEPS.map((step, i): FunnelRow => {
    const prev = i === 0 ? counts[0]! : counts[i - 1]!;
    const reached = rows.filter((m) => m.reachedIndex >= i);
    const days = (fromStep: FunnelStep) =>
      median(
        reached.flatMap((m) => {
          const a = m[fromStep];
          const b = m[step];
          return a && b ? [Math.max(0, Date.parse(b) - Date.parse(a)) / DAY_MS] : [];
        }),
      );
    const fromPrevious = i === 0 ? undefined : days(FUNNEL_STEPS[i - 1]!);
    const fromReceived = i === 0 ? undefined : days('received');
    return {
      step,
      count: counts[i]!,
      percentOfReceived: percent(counts[i]!, counts[0]!),
      dropOff: prev - counts[i]!,
      dropOffPercent: percent(prev - counts[i]!, prev),
      ...(fromPrevious !== undefined ? { medianDaysFromPrevious: oneDecimal(fromPrevious) } : {}),
      ...(fromReceived !== undefined ? { medianDaysFromReceived: oneDecimal(fromReceived) } : {}),
    };
  });
  return {
    from: q.from,
    to: q.to,
    channel: q.channel,
    timeZone: opts.timeZone,
    steps,
    truncated: !!opts.truncated,
    generatedAt: opts.now.toISOString(),
  };
};

export const CSV_COLUMNS = [
  'from',
  'to',
  'channel',
  'step',
  'count',
  'percent_of_received',
  'drop_off',
  'drop_off_percent',
  'median_days_from_previous',
  'median_days_from_received',
] as const;

/**
 * The funnel as CSV (RFC 4180, CRLF): one row per step, the query on every row so a row copied
 * elsewhere keeps its meaning. Every cell is a number, a date or a fixed word, so no cell can start a
 * spreadsheet formula.
 */
export const funnelCsv = (f: Funnel): string => {
  const num = (x: number | undefined) => (x === undefined ? '' : String(x));
  const lines = [
    CSV_COLUMNS.join(','),
    ...f.steps.map((s) =>
      [
        f.from,
        f.to,
        f.channel,
        s.step,
        s.count,
        s.percentOfReceived,
        s.dropOff,
        s.dropOffPercent,
        num(s.medianDaysFromPrevious),
        num(s.medianDaysFromReceived),
      ].join(','),
    ),
  ];
  return `${lines.join('\r\n')}\r\n`;
};

/** a file name for the CSV that says what it holds */
export const funnelCsvName = (f: Pick<Funnel, 'from' | 'to' | 'channel'>): string =>
  `referral-funnel_${f.from}_to_${f.to}_${f.channel}.csv`;
