/**
 * Lifecycle at scale: N referrals through the whole workflow on the local runtime, decided by a
 * script that reads each referral's pendingStep from the staff work queues (as a case worker
 * would) and decides it by the referral's planned branch. Whatever gates exist when it runs are
 * followed: an unknown step is reported, not guessed.
 *
 * Gates that wait on calendar time (the first session, a seat on the waitlist, the detox limit)
 * are passed the way the integration tests pass them: the application's clock
 * (functions/lib/clock.ts) is pinned at the start and moved forward, never back, at barriers where
 * every referral is parked at such a gate or done:
 *   run → (all parked) seats for the waitlisted → (all enrolled) clock past every first session →
 *   first-session decisions (attended, missed: retry / close, withdraw) and the expired detox →
 *   (retries parked) clock past the next sessions → their decisions → all final.
 * Two settings make the timer branches reachable in minutes: URGENT_FIRST_CONTACT_HOURS (an urgent
 * referral's first gate breaches after ~7 s, twice → NEEDS_ATTENTION) and DETOX_MAX_DAYS = 0.5.
 *
 * Counts what AWS bills (state transitions, Lambda invocations, DynamoDB units through a counting
 * proxy, emails) per referral and per branch, samples RSS (Node + the DynamoDB Local JVM) every
 * second, and checks each referral's final status against its plan. Measures; asserts nothing.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { advanceClock, nowMs, pinClock, resetClock } from '../functions/lib/clock';
import type { ReferralDetail, ReferralSummary, Status } from '../functions/lib/schemas/views';
import { startRuntime } from '../local/runtime';
import { cohortBody, intakeBody } from '../test/support/fixtures';
import { summariseProfile, type ProfileSummary } from './lib/profile';
import { DynamoCounter, SesCounter, type Units } from './lib/proxies';
import { cpuMs, Limiter, machineCpuMs, pool, progress, rssMb, round, sleep } from './lib/util';

// ---- the branches --------------------------------------------------------------------------------

export const PLANS = {
  /** covered → evaluation accept (no detox) → enrollment → attended → STARTED */
  started: { weight: 30, final: 'STARTED' },
  'self-pay': { weight: 4, final: 'STARTED' },
  /** payer answer unclear → insurance review: covered → … STARTED */
  'review-covered': { weight: 4, final: 'STARTED' },
  /** inactive coverage → insurance review: not covered */
  'not-covered': { weight: 5, final: 'NOT_COVERED' },
  detox: { weight: 10, final: 'STARTED' },
  'detox-extend': { weight: 4, final: 'STARTED' },
  'detox-refer-out': { weight: 3, final: 'REFERRED_OUT' },
  /** detox not confirmed within DETOX_MAX_DAYS: the gate's timer expires it */
  'detox-expired': { weight: 2, final: 'EXPIRED' },
  'refer-out': { weight: 10, final: 'REFERRED_OUT' },
  /** withdrawn by staff at the evaluation gate */
  withdrawn: { weight: 4, final: 'WITHDRAWN' },
  /** withdrawn after enrolment, before the first session (the seat goes back) */
  'withdrawn-enrolled': { weight: 2, final: 'WITHDRAWN' },
  /** morning track with no morning seat → waitlist → a seat appears → … STARTED */
  waitlist: { weight: 4, final: 'STARTED' },
  'retry-started': { weight: 5, final: 'STARTED' },
  'no-show': { weight: 5, final: 'NO_SHOW' },
  'retry-no-show': { weight: 3, final: 'NO_SHOW' },
  /** urgent (crisis screen): the short first-contact timer breaches once, then evaluated → … STARTED */
  'urgent-breach': { weight: 3, final: 'STARTED' },
  /** urgent and left: breached twice → NEEDS_ATTENTION, then evaluated → refer out */
  'needs-attention': { weight: 2, final: 'REFERRED_OUT' },
} as const satisfies Record<string, { weight: number; final: Status }>;
export type Plan = keyof typeof PLANS;

/** plan of the i-th referral: every 100 referrals hold each plan by its weight, interleaved */
const CYCLE: Plan[] = (() => {
  const flat = (Object.keys(PLANS) as Plan[]).flatMap((p) => Array<Plan>(PLANS[p].weight).fill(p));
  return flat.map((_, i) => flat[(i * 37) % flat.length]!);
})();
const planOf = (i: number): Plan => CYCLE[i % CYCLE.length]!;

type Phase = 'run' | 'waitlist' | 'first-session' | 'second-session' | 'done';

interface Ref {
  id: string;
  i: number;
  plan: Plan;
  decided: Record<string, number>;
  /** performance.now() when the driver's last action on it returned */
  actedAt: number;
  /** left the running phase: parked at a calendar gate or final */
  left: boolean;
  lastAction?: string;
}

const EVAL = (accept: boolean, detoxRequired = false) =>
  accept
    ? { dimensions: { d1: 1, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 }, recommendedLevel: '2.1', detoxRequired, decision: 'accept' }
    : {
        dimensions: { d1: 1, d2: 1, d3: 3, d4: 3, d5: 3, d6: 2 },
        recommendedLevel: '3.5',
        decision: 'refer-out',
        referOutTo: 'Residential program',
      };

type Action =
  | { kind: 'decide'; step: string; body: unknown; leaves?: boolean }
  | { kind: 'withdraw'; leaves?: boolean }
  | { kind: 'wait'; parked?: boolean }
  | { kind: 'unknown' };

/** true when the action closes the referral (the expired detox closes by its timer instead) */
const endsIt = (a: Action): boolean => {
  if (a.kind === 'withdraw') return true;
  if (a.kind !== 'decide') return false;
  const b = a.body as Record<string, unknown>;
  return b.decision === 'not-covered' || b.decision === 'refer-out' || b.attended === true || b.next === 'close';
};

const today = () => new Date(nowMs()).toISOString().slice(0, 10);

/** what a case worker does for this referral at its open gate, in this phase */
const decide = (r: Ref, s: ReferralSummary, phase: Phase, seatFor: (r: Ref) => string | undefined, detail?: ReferralDetail): Action => {
  const step = s.pendingStep!;
  const n = r.decided[step] ?? 0;
  const p = r.plan;
  switch (step) {
    case 'insurance-review':
      return { kind: 'decide', step, body: { decision: p === 'not-covered' ? 'not-covered' : 'covered' }, leaves: p === 'not-covered' };
    case 'evaluation':
      if (p === 'withdrawn') return { kind: 'withdraw', leaves: true };
      if (p === 'urgent-breach' && !((detail?.breaches ?? 0) >= 1 || detail?.events.some((e) => e.type === 'SLA_BREACHED')))
        return { kind: 'wait' };
      if (p === 'needs-attention' && s.status !== 'NEEDS_ATTENTION') return { kind: 'wait' };
      if (p === 'refer-out' || p === 'needs-attention') return { kind: 'decide', step, body: EVAL(false), leaves: true };
      return { kind: 'decide', step, body: EVAL(true, p.startsWith('detox')) };
    case 'detox-confirmation':
      if (p === 'detox-expired') {
        // left until the clock passed DETOX_MAX_DAYS; then an extension meets the limit: the timer expires it
        if (phase === 'run' || phase === 'waitlist') return { kind: 'wait', parked: true };
        return n === 0 ? { kind: 'decide', step, body: { completed: false, decision: 'extend' } } : { kind: 'wait' };
      }
      if (p === 'detox-refer-out') return { kind: 'decide', step, body: { completed: false, decision: 'refer-out' }, leaves: true };
      if (p === 'detox-extend' && n === 0) return { kind: 'decide', step, body: { completed: false, decision: 'extend' } };
      return { kind: 'decide', step, body: { completed: true, completedOn: today() } };
    case 'enrollment': {
      if (p === 'waitlist') return { kind: 'decide', step, body: { waitlist: true }, leaves: true };
      const cohortId = seatFor(r);
      return cohortId ? { kind: 'decide', step, body: { cohortId }, leaves: true } : { kind: 'unknown' };
    }
    case 'waitlist': {
      if (phase === 'run') return { kind: 'wait', parked: true };
      const cohortId = seatFor(r);
      return cohortId ? { kind: 'decide', step, body: { cohortId } } : { kind: 'unknown' };
    }
    case 'first-session': {
      const at = s.firstSession?.at;
      if (phase === 'run' || phase === 'waitlist' || !at || Date.parse(at) > nowMs()) return { kind: 'wait', parked: true };
      if (p === 'withdrawn-enrolled') return { kind: 'withdraw' };
      const attended = { kind: 'decide' as const, step, body: { attended: true, on: at.slice(0, 10) } };
      if (p === 'no-show') return { kind: 'decide', step, body: { attended: false, next: 'close' } };
      if (p === 'retry-started') return n === 0 ? { kind: 'decide', step, body: { attended: false, next: 'retry' } } : attended;
      if (p === 'retry-no-show') return { kind: 'decide', step, body: { attended: false, next: n === 0 ? 'retry' : 'close' } };
      return attended;
    }
    default:
      return { kind: 'unknown' };
  }
};

const intakeFor = (i: number, plan: Plan, tag: string) => {
  const insurance =
    plan === 'self-pay'
      ? { type: 'self-pay' as const }
      : plan === 'review-covered'
        ? { type: 'commercial' as const, payer: 'Acme Health', memberId: `REVIEW${i}` }
        : plan === 'not-covered'
          ? { type: 'commercial' as const, payer: 'Acme Health', memberId: `INACTIVE${i}` }
          : { type: 'commercial' as const, payer: 'Acme Health', memberId: `M${1_000_000 + i}` };
  const urgent = plan === 'urgent-breach' || plan === 'needs-attention';
  return intakeBody({
    lastName: `Bench${i}`,
    patient: { email: `pt.${tag}.${i}@example.org`, preferredLanguage: i % 5 === 0 ? 'es' : 'en' } as never,
    screening: { selfHarmThoughtsPastMonth: urgent, suicideAttemptPastThreeMonths: false },
    insurance: insurance as never,
    schedulePreference: plan === 'waitlist' ? 'morning' : 'evening',
    referringPhysician: {
      name: 'Dr. Dana Lee',
      npi: '1234567893',
      email: `dr.${tag}.${i}@clinic.example`,
      practice: 'Main St Clinic',
    } as never,
  });
};

// ---- the run -------------------------------------------------------------------------------------

export interface LifecycleOptions {
  n: number;
  /** referrals in the running phase at once */
  window?: number;
  /** parallel staff requests */
  concurrency?: number;
  /** profile this process's main thread while the referrals run (V8 sampling profiler) into this file */
  profileFile?: string;
}

const PASSIVE: Status[] = ['RECEIVED', 'INSURANCE_CHECK'];

export const runLifecycle = async (opts: LifecycleOptions) => {
  const N = opts.n;
  const WINDOW = opts.window ?? 100;
  const tag = Date.now().toString(36);
  const ddb = new DynamoCounter();
  const ses = new SesCounter();
  const ddbUrl = await ddb.listen();
  const sesUrl = await ses.listen();
  ddb.counting = false;
  pinClock(Date.now());
  const rt = await startRuntime({
    port: 0,
    mailPort: 0,
    quiet: true,
    env: ({ dynamoUrl, mailUrl }) => {
      ddb.target = dynamoUrl;
      ses.target = mailUrl;
      return {
        AWS_ENDPOINT_URL_DYNAMODB: ddbUrl,
        AWS_ENDPOINT_URL_SESV2: sesUrl,
        DETOX_MAX_DAYS: '0.5',
        URGENT_FIRST_CONTACT_HOURS: '0.002',
      };
    },
  });
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: rt.sfnUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tokens: Record<string, string> = {};
  const login = async (username: string) => {
    const res = await fetch(`${rt.appUrl}/local/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: process.env.LOCAL_DEMO_PASSWORD ?? 'demo' }),
    });
    tokens[username] = ((await res.json()) as { accessToken: string }).accessToken;
  };
  await login('casey');
  await login('sam');
  const call = async (method: string, path: string, body?: unknown, as = 'casey', headers: Record<string, string> = {}) => {
    const res = await fetch(`${rt.appUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(as ? { authorization: `Bearer ${tokens[as]}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  // ---- cohorts: enough evening seats for every enrolment (10 a cohort) ----
  const plans = Array.from({ length: N }, (_, i) => planOf(i));
  const enrolling = plans.filter(
    (p) => !['not-covered', 'detox-refer-out', 'detox-expired', 'refer-out', 'withdrawn', 'needs-attention', 'waitlist'].includes(p),
  ).length;
  const eveningCohorts: string[] = [];
  const mkCohort = async (o: Record<string, unknown>) => {
    const res = await call(
      'POST',
      '/api/staff/cohorts',
      cohortBody({ name: `Bench ${tag} ${eveningCohorts.length}-${Math.random().toString(36).slice(2, 7)}`, ...o }),
      'sam',
    );
    if (res.status !== 201 && res.status !== 200) throw new Error(`cohort: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json.cohortId as string;
  };
  progress(`lifecycle: ${N} referrals, ${Math.ceil(enrolling / 10)} cohorts to create`);
  await pool(Array.from({ length: Math.ceil((enrolling * 1.05) / 10) + 1 }), 4, async () => {
    eveningCohorts.push(await mkCohort({}));
  });
  const morningCohorts: string[] = [];
  let seatsTaken = 0;
  let morningTaken = 0;
  const seatFor = (r: Ref): string | undefined =>
    r.plan === 'waitlist' ? morningCohorts[Math.floor(morningTaken++ / 10)] : eveningCohorts[Math.floor(seatsTaken++ / 10)];

  // ---- sampling ----
  const t0 = performance.now();
  const rss: Array<{ t: number; nodeMb: number; jvmMb: number }> = [];
  const throughput: Array<{ t: number; submitted: number; decisions: number; done: number; emails: number }> = [];
  let submitted = 0;
  let decisionsMade = 0;
  let done = 0;
  // the SES emulator keeps every email it gets (a local mailbox, not the product's memory): emptied
  // every 5 s, the proxy in front of it counts them
  const mailbox = setInterval(() => {
    void fetch(`${rt.mailUrl}/clear-store`, { method: 'POST' })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }, 5000);
  const sampler = setInterval(() => {
    void Promise.all([rssMb('self'), rssMb(rt.dynamoPid)]).then(([nodeMb, jvmMb]) => {
      const t = round((performance.now() - t0) / 1000, 1);
      rss.push({ t, nodeMb, jvmMb });
      throughput.push({ t, submitted, decisions: decisionsMade, done, emails: ses.emails });
    });
  }, 1000);
  const cpu0 = { node: process.cpuUsage(), jvm: await cpuMs(rt.dynamoPid), machine: await machineCpuMs() };

  const refs = new Map<string, Ref>();
  const unknown: Array<{ plan: Plan; step?: string; status: string }> = [];
  const errors: Record<string, number> = {};
  const inflight = new Set<string>();
  const limiter = new Limiter(opts.concurrency ?? 8);
  const apiByRef = new Map<string, number>();
  const noteApi = (id: string, n = 1) => apiByRef.set(id, (apiByRef.get(id) ?? 0) + n);
  let phase: Phase = 'run';
  let running = 0;
  ddb.counting = true;

  const submitOne = async (i: number) => {
    const plan = plans[i]!;
    for (let attempt = 0; ; attempt++) {
      const res = await call('POST', '/api/referrals', intakeFor(i, plan, tag), '', { 'idempotency-key': `${tag}-${i}` });
      if (res.status === 201 || res.status === 200) {
        const id = res.json.referralId as string;
        refs.set(id, { id, i, plan, decided: {}, actedAt: 0, left: false });
        noteApi(id);
        return;
      }
      errors[`intake ${res.status}`] = (errors[`intake ${res.status}`] ?? 0) + 1;
      if (attempt > 5) throw new Error(`intake ${i}: ${res.status}`);
      await sleep(100);
    }
  };

  const act = (r: Ref, a: Action) => {
    inflight.add(r.id);
    void limiter.run(async () => {
      try {
        const res =
          a.kind === 'withdraw'
            ? await call('POST', `/api/staff/referrals/${r.id}/withdraw`, { reason: 'Bench: the person chose another program' })
            : await call('POST', `/api/staff/referrals/${r.id}/steps/${(a as { step: string }).step}`, (a as { body: unknown }).body);
        noteApi(r.id);
        if (res.status === 200) {
          decisionsMade++;
          const step = a.kind === 'withdraw' ? 'withdraw' : (a as { step: string }).step;
          r.decided[step] = (r.decided[step] ?? 0) + 1;
          r.lastAction = step;
          if (endsIt(a)) done++;
          if ((a as { leaves?: boolean }).leaves && !r.left) {
            r.left = true;
            running--;
          }
        } else if (res.status !== 409) {
          const key =
            `${a.kind === 'withdraw' ? 'withdraw' : (a as { step: string }).step} ${res.status} ${res.json?.code ?? res.json?.message ?? ''}`.slice(
              0,
              120,
            );
          errors[key] = (errors[key] ?? 0) + 1;
        }
      } finally {
        r.actedAt = performance.now();
        inflight.delete(r.id);
      }
    });
  };

  /** every item of a queue (status), all pages */
  const queue = async (status: Status): Promise<ReferralSummary[]> => {
    const items: ReferralSummary[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(
        'GET',
        `/api/staff/referrals?status=${status}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (res.status !== 200) throw new Error(`queue ${status}: ${res.status}`);
      items.push(...(res.json.items as ReferralSummary[]).filter((s) => refs.has(s.referralId)));
      cursor = res.json.nextCursor;
    } while (cursor);
    return items;
  };

  const polled: Record<Phase, Status[]> = {
    run: ['INSURANCE_REVIEW', 'EVALUATION', 'DETOX', 'ENROLLMENT', 'NEEDS_ATTENTION'],
    waitlist: ['WAITLISTED'],
    'first-session': ['ENROLLED', 'DETOX'],
    'second-session': ['ENROLLED', 'DETOX'],
    done: [],
  };
  const finals = new Set<Status>(['STARTED', 'REFERRED_OUT', 'NOT_COVERED', 'WITHDRAWN', 'EXPIRED', 'NO_SHOW']);
  const details = new Map<string, number>();

  /** one pass over the phase's queues: decide what is open; true when nothing is left to do in this phase */
  const pass = async (): Promise<boolean> => {
    const listedAt = performance.now();
    const statuses = [...polled[phase], ...(phase === 'run' ? PASSIVE : [])];
    const lists = await Promise.all(statuses.map((s) => queue(s)));
    let open = 0;
    for (const s of lists.flat()) {
      const r = refs.get(s.referralId)!;
      if (PASSIVE.includes(s.status)) {
        open++;
        continue;
      }
      if (inflight.has(r.id) || r.actedAt > listedAt) {
        open++;
        continue;
      }
      if (!s.pendingStep) {
        open++; // between a decision and its next gate
        continue;
      }
      let detail: ReferralDetail | undefined;
      if (r.plan === 'urgent-breach' && s.pendingStep === 'evaluation' && !r.decided.evaluation) {
        // the case worker opens it once it shows a breach: an SLA badge; checked at most every 500 ms
        const last = details.get(r.id) ?? 0;
        if (performance.now() - last < 500) {
          open++;
          continue;
        }
        details.set(r.id, performance.now());
        const res = await call('GET', `/api/staff/referrals/${r.id}`);
        detail = res.json as ReferralDetail;
      }
      const a = decide(r, s, phase, seatFor, detail);
      if (a.kind === 'unknown') {
        unknown.push({ plan: r.plan, step: s.pendingStep, status: s.status });
        if (!r.left) {
          r.left = true;
          running--;
        }
        continue;
      }
      if (a.kind === 'wait') {
        if (a.parked) {
          if (!r.left) {
            r.left = true;
            running--;
          }
        } else open++;
        continue;
      }
      open++;
      acted++;
      act(r, a);
    }
    return open === 0 && inflight.size === 0;
  };
  let acted = 0;

  progress(`lifecycle: driving ${N} referrals (window ${WINDOW})`);
  const session = opts.profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
  }
  const started = performance.now();
  let nextIntake = 0;
  const submitting = new Set<Promise<void>>();
  let lastReport = 0;
  let phaseStarted = performance.now();
  const phaseTimes: Record<string, number> = {};
  const jumps: Array<{ phase: Phase; toIso: string; byHours: number }> = [];
  const jumpPast = async () => {
    // the clock moves past every first session still waiting (one hour in), never back
    const enrolled = await queue('ENROLLED');
    const latest = Math.max(...enrolled.map((s) => (s.firstSession ? Date.parse(s.firstSession.at) : 0)), nowMs());
    const by = latest + 3_600_000 - nowMs();
    if (by > 0) advanceClock(by);
    // and past the detox limit of those left at the detox gate
    const detoxLeft = 0.5 * 86_400_000 + 60_000;
    if (jumps.length === 0 && by < detoxLeft) advanceClock(detoxLeft - Math.max(by, 0));
    jumps.push({
      phase,
      toIso: new Date(nowMs()).toISOString(),
      byHours: round((Math.max(by, 0) + (jumps.length === 0 && by < detoxLeft ? detoxLeft - Math.max(by, 0) : 0)) / 3_600_000, 1),
    });
  };

  for (;;) {
    // intakes: keep WINDOW referrals in the running phase
    while (phase === 'run' && nextIntake < N && running < WINDOW) {
      const i = nextIntake++;
      running++;
      const p = submitOne(i).then(() => {
        submitted++;
        submitting.delete(p);
      });
      submitting.add(p);
    }
    acted = 0;
    const idle = await pass();
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(
        `lifecycle [${phase}]: ${submitted}/${N} submitted, ${decisionsMade} decisions, ${running} running, ${inflight.size} in flight, RSS ${rss.at(-1)?.nodeMb ?? 0}+${rss.at(-1)?.jvmMb ?? 0} MB`,
      );
    }
    if (idle && submitting.size === 0 && (phase !== 'run' || nextIntake >= N)) {
      phaseTimes[phase] = round((performance.now() - phaseStarted) / 1000, 1);
      phaseStarted = performance.now();
      if (phase === 'run') {
        phase = 'waitlist';
        const waiting = plans.filter((p) => p === 'waitlist').length;
        for (let k = 0; k < Math.ceil(waiting / 10); k++) {
          morningCohorts.push(
            await mkCohort({
              track: 'morning',
              name: `Bench ${tag} morning ${k}`,
              sessions: [
                { weekday: 'MO', start: '09:00', minutes: 180 },
                { weekday: 'WE', start: '09:00', minutes: 180 },
                { weekday: 'TH', start: '09:00', minutes: 180 },
              ],
            }),
          );
        }
        progress(`lifecycle: all parked; ${morningCohorts.length} morning cohort(s) opened for ${waiting} waitlisted`);
      } else if (phase === 'waitlist') {
        // every enrolment's first-session gate must be open before the clock moves
        const enrolled = await queue('ENROLLED');
        if (enrolled.some((s) => !s.pendingStep)) {
          await sleep(50);
          continue;
        }
        phase = 'first-session';
        await jumpPast();
        progress(`lifecycle: clock moved ${jumps.at(-1)!.byHours} h to ${jumps.at(-1)!.toIso}: first sessions`);
      } else if (phase === 'first-session') {
        const enrolled = await queue('ENROLLED');
        if (enrolled.some((s) => !s.pendingStep)) {
          await sleep(50);
          continue;
        }
        phase = 'second-session';
        await jumpPast();
        progress(`lifecycle: clock moved ${jumps.at(-1)!.byHours} h to ${jumps.at(-1)!.toIso}: second sessions`);
      } else {
        phase = 'done';
        break;
      }
      continue;
    }
    // a case worker's queue is re-read when nothing could be done (100 ms): the driver's polling is
    // the bench's own load on the same cores, kept small
    if (acted === 0 && submitting.size === 0) await sleep(100);
    else if (inflight.size >= (opts.concurrency ?? 8)) await sleep(5);
  }

  // all decided: wait until every referral is final (timers: the expired detox) and the outbox is drained
  const finalCount = async () => {
    let k = 0;
    for (const s of finals) k += (await queue(s)).length;
    return k;
  };
  const finalUntil = performance.now() + 120_000;
  let lastSaid = 0;
  for (;;) {
    done = await finalCount();
    if (done >= refs.size || performance.now() > finalUntil) break;
    if (performance.now() - lastSaid > 5000) {
      lastSaid = performance.now();
      progress(`lifecycle: ${done}/${refs.size} final, waiting for the rest (timers)`);
    }
    await sleep(500);
  }
  const wallMs = performance.now() - started;
  let profile: ProfileSummary | undefined;
  if (session) {
    const { profile: p } = await session.post('Profiler.stop');
    writeFileSync(opts.profileFile!, JSON.stringify(p));
    session.disconnect();
    profile = summariseProfile(opts.profileFile!);
  }
  // the outbox: notices are sent from the stream after the commits; wait until no email came for 3 s
  const emailsAtWallEnd = ses.emails;
  let lastEmails = -1;
  let lastEmailAt = performance.now();
  while (performance.now() - lastEmailAt < 3000) {
    if (ses.emails !== lastEmails) {
      lastEmails = ses.emails;
      lastEmailAt = performance.now();
    }
    if (performance.now() - lastSaid > 5000) {
      lastSaid = performance.now();
      progress(`lifecycle: all final; the outbox is still sending (${ses.emails} emails so far)`);
    }
    await sleep(250);
  }
  const noticeDrainSeconds = round((lastEmailAt - started - wallMs) / 1000, 1);
  const cpu1 = { node: process.cpuUsage(cpu0.node), jvm: await cpuMs(rt.dynamoPid), machine: await machineCpuMs() };
  clearInterval(sampler);
  clearInterval(mailbox);
  ddb.counting = false;
  progress(`lifecycle: ${done}/${N} final in ${round(wallMs / 1000)} s; checking each referral and its execution`);

  // ---- verification and counts (not timed) ----
  const arnOf = (name: string) => `${rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const perRef: Array<{
    plan: Plan;
    status: Status;
    expected: Status;
    transitions: number;
    tasks: number;
    emails: number;
    emailsByAudience: Record<string, number>;
    historyBytes: number;
    api: number;
    units: Units;
  }> = [];
  await pool([...refs.values()], 8, async (r) => {
    const d = (await call('GET', `/api/staff/referrals/${r.id}`)).json as ReferralDetail;
    const names = [r.id, ...Array.from({ length: d.events.filter((e) => e.type === 'RESUMED').length }, (_, k) => `${r.id}-r${k + 1}`)];
    let transitions = 0;
    let tasks = 0;
    let historyBytes = 0;
    for (const name of names) {
      const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arnOf(name), maxResults: 1000 }));
      const ev = h.events ?? [];
      transitions += ev.filter((e) => e.type?.endsWith('StateEntered')).length;
      tasks += ev.filter((e) => e.type === 'TaskScheduled' || e.type === 'LambdaFunctionScheduled').length;
      historyBytes += JSON.stringify(ev).length;
    }
    const sent = d.events.filter((e) => e.type === 'NOTICE_SENT' || e.type === 'DISCLOSURE');
    const emailsByAudience: Record<string, number> = {};
    for (const e of sent) {
      const a = e.type === 'DISCLOSURE' ? 'physician' : String(e.detail?.audience ?? 'other');
      emailsByAudience[a] = (emailsByAudience[a] ?? 0) + 1;
    }
    perRef.push({
      plan: r.plan,
      status: d.status,
      expected: PLANS[r.plan].final,
      transitions,
      tasks,
      emails: sent.length,
      emailsByAudience,
      historyBytes,
      api: apiByRef.get(r.id) ?? 0,
      units: ddb.byReferral.get(r.id) ?? { read: 0, write: 0, calls: 0 },
    });
  });
  // what one staff detail read costs in DynamoDB (the console's reads are modelled: 2 per decision)
  ddb.counting = true;
  const probe = [...refs.keys()].slice(0, 20);
  const before = probe.map((id) => ({ ...(ddb.byReferral.get(id) ?? { read: 0, write: 0, calls: 0 }) }));
  for (const id of probe) await call('GET', `/api/staff/referrals/${id}`);
  const detailReadRru = probe.reduce((s, id, k) => s + ((ddb.byReferral.get(id)?.read ?? 0) - before[k]!.read), 0) / probe.length;
  ddb.counting = false;

  sfn.destroy();
  await rt.stop();
  resetClock();
  ddb.close();
  ses.close();

  const wrong = perRef.filter((x) => x.status !== x.expected);
  const summarise = (xs: typeof perRef) => {
    const avg = (f: (x: (typeof perRef)[number]) => number) => round(xs.reduce((s, x) => s + f(x), 0) / Math.max(1, xs.length), 2);
    const decisions = avg((x) => x.api - 1);
    return {
      referrals: xs.length,
      expected: xs[0]?.expected,
      wrong: xs.filter((x) => x.status !== x.expected).length,
      transitions: avg((x) => x.transitions),
      workflowTasks: avg((x) => x.tasks),
      emails: avg((x) => x.emails),
      apiCallsMade: avg((x) => x.api),
      staffDecisions: decisions,
      dynamoWriteUnits: avg((x) => x.units.write),
      dynamoReadUnits: avg((x) => x.units.read),
      executionHistoryKb: avg((x) => x.historyBytes / 1024),
    };
  };
  const byPlan: Record<string, ReturnType<typeof summarise>> = {};
  for (const plan of Object.keys(PLANS) as Plan[]) {
    const xs = perRef.filter((x) => x.plan === plan);
    if (xs.length) byPlan[plan] = summarise(xs);
  }
  const wrongByPlan: Record<string, Record<string, number>> = {};
  for (const w of wrong) (wrongByPlan[w.plan] ??= {})[w.status] = (wrongByPlan[w.plan]![w.status] ?? 0) + 1;
  const cpuNodeMs = (cpu1.node.user + cpu1.node.system) / 1000;
  const cpuJvmMs = cpu1.jvm - cpu0.jvm;
  const machineBusyMs = cpu1.machine.busy - cpu0.machine.busy;
  const warm = rss.filter((s) => s.t >= Math.min(30, (rss.at(-1)?.t ?? 0) / 3));
  return {
    n: N,
    window: WINDOW,
    wallSeconds: round(wallMs / 1000, 1),
    /** after the last referral was final, how long the outbox kept sending (and how many emails were still to go) */
    outboxAfterWall: { seconds: noticeDrainSeconds, emails: ses.emails - emailsAtWallEnd },
    referralsPerSecond: round(N / (wallMs / 1000), 1),
    phaseSeconds: phaseTimes,
    clockJumps: jumps,
    notInExpectedFinalStatus: wrong.length,
    wrongByPlan,
    unknownGates: unknown.slice(0, 20),
    errors,
    all: summarise(perRef),
    byPlan,
    emailsSentToSes: ses.emails,
    emailMbSentToSes: round(ses.bytes / 2 ** 20, 1),
    emailKbPerEmail: round(ses.bytes / Math.max(1, ses.emails) / 1024, 1),
    dynamo: {
      unattributedPerReferral: {
        read: round(ddb.unattributed.read / N, 2),
        write: round(ddb.unattributed.write / N, 2),
        calls: round(ddb.unattributed.calls / N, 2),
      },
      byOperationPerReferral: Object.fromEntries(
        Object.entries(ddb.byOperation).map(([k, v]) => [
          k,
          { calls: round(v.calls / N, 2), read: round(v.read / N, 2), write: round(v.write / N, 2) },
        ]),
      ),
      detailReadRru: round(detailReadRru, 2),
    },
    cpu: {
      nodeMs: Math.round(cpuNodeMs),
      jvmMs: cpuJvmMs,
      machineBusyMs,
      otherMs: Math.max(0, Math.round(machineBusyMs - cpuNodeMs - cpuJvmMs)),
      nodeMsPerReferral: round(cpuNodeMs / N, 1),
      jvmMsPerReferral: round(cpuJvmMs / N, 1),
    },
    rss: {
      samples: rss,
      warmFromSecond: warm[0]?.t ?? 0,
      warmMinMb: round(Math.min(...warm.map((s) => s.nodeMb + s.jvmMb))),
      warmMaxMb: round(Math.max(...warm.map((s) => s.nodeMb + s.jvmMb))),
      nodeFirstWarmMb: warm[0]?.nodeMb ?? 0,
      nodeLastMb: rss.at(-1)?.nodeMb ?? 0,
    },
    throughput,
    /** the bench process's main thread while the referrals ran: the runtime's handlers and emulators, and the driver */
    profile,
  };
};

export type LifecycleResult = Awaited<ReturnType<typeof runLifecycle>>;
