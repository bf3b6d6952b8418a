import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import type { NoticeRecord, ReferralRecord } from '../../functions/lib/adapters/ports';
import { FINAL_STATUSES, type ReferralEvent, type Status } from '../../functions/lib/schemas/views';
import { prng } from '../../local/prng';
import { TestApi, type StoredEmail } from '../support/api';
import { cohortBody, evalAccept, intakeBody, REFER_OUT } from '../support/fixtures';

// A fleet of referrals driven to their ends over HTTP, the way staff would, whatever the runtime
// does meanwhile (faults injected, the process killed and started again): the shared engine of the
// fault-injection and crash runs (issue 12 items 3 and 4), fast in `npm test`, long in the soak.
//
// Each referral follows a journey with one right end. The driver goes round the unfinished ones,
// reads each referral's stored item (straight from DynamoDB, never through the faults) and does what
// a case worker would: decide the open gate, withdraw, or (once the faults stop) Resume a
// NEEDS_ATTENTION. An answer it cannot use (5xx, a refused connection while the runtime is down) is
// tried again on the next round; a 409 means "read again". Then `verify` checks the whole table and
// the mailbox:
// - every referral at its journey's end: a final status, or waiting at its first-session gate
//   after ENROLLED (whichever FINAL_STATUSES says: the checks hold with ENROLLED final or a gate);
// - every notice the journey makes true, and no other, sent exactly once: each sent notice's
//   messageId is in the mailbox once, no email about the fleet is in the mailbox without one, every
//   physician email is a DISCLOSURE; one program alert per TASK_FAILED;
// - seats: each cohort's counter = its roster = the referrals holding a seat in it, ≤ capacity;
// - executions (when the Step Functions endpoint is known): none running for a closed referral, one
//   for each referral waiting at a gate.

export type Journey = 'enrol' | 'detox-enrol' | 'review-enrol' | 'not-covered' | 'refer-out' | 'detox-refer-out' | 'withdraw';

export const JOURNEYS: readonly Journey[] = [
  'enrol',
  'detox-enrol',
  'review-enrol',
  'not-covered',
  'refer-out',
  'detox-refer-out',
  'withdraw',
];

const END_OF: Record<Journey, Status> = {
  enrol: 'ENROLLED',
  'detox-enrol': 'ENROLLED',
  'review-enrol': 'ENROLLED',
  'not-covered': 'NOT_COVERED',
  'refer-out': 'REFERRED_OUT',
  'detox-refer-out': 'REFERRED_OUT',
  withdraw: 'WITHDRAWN',
};

/** the outbox keys a journey makes true (patient and physician; consent given, both addresses known) */
const NOTICES_OF: Record<Journey, string[]> = {
  enrol: ['received:patient', 'received:physician', 'accepted:physician', 'enrolled:patient', 'enrolled:physician'],
  'detox-enrol': ['received:patient', 'received:physician', 'accepted:physician', 'enrolled:patient', 'enrolled:physician'],
  'review-enrol': ['received:patient', 'received:physician', 'accepted:physician', 'enrolled:patient', 'enrolled:physician'],
  'not-covered': ['received:patient', 'received:physician', 'closed:patient', 'closed:physician'],
  'refer-out': ['received:patient', 'received:physician', 'closed:patient', 'closed:physician'],
  'detox-refer-out': ['received:patient', 'received:physician', 'accepted:physician', 'closed:patient', 'closed:physician'],
  withdraw: ['received:patient', 'received:physician', 'closed:patient', 'closed:physician'],
};

/**
 * at its end: a final status, or ENROLLED waiting at the first-session gate when ENROLLED is a gate
 * (FINAL_STATUSES read as it is when the test runs)
 */
export const atEnd = (r: Pick<ReferralRecord, 'status' | 'pendingStep' | 'taskToken'>): boolean =>
  FINAL_STATUSES.includes(r.status) || (r.status === 'ENROLLED' && r.pendingStep === 'first-session' && !!r.taskToken);

/** the referral was withdrawn while it needed attention: its last TASK_FAILED came after its last RESUMED, before the WITHDRAWN */
export const withdrawnWhileStopped = (events: Pick<ReferralEvent, 'type'>[]): boolean => {
  const last = (type: string) => events.map((e) => e.type).lastIndexOf(type);
  const failed = last('TASK_FAILED');
  return failed > last('RESUMED') && last('WITHDRAWN') > failed;
};

export interface FleetTarget {
  appUrl: string;
  mailUrl: string;
  dynamoUrl: string;
  /** Step Functions endpoint and state machine: the execution checks run when both are known */
  sfnUrl?: string;
  stateMachineArn?: string;
  tableName?: string;
}

export interface Member {
  journey: Journey;
  tag: string;
  patient: string;
  doctor: string;
  key: string;
  body: ReturnType<typeof intakeBody>;
  referralId?: string;
  reference?: string;
  done: boolean;
  /** the reasons of the NEEDS_ATTENTION it was found in (one per distinct failure) */
  attention: string[];
  resumes: number;
  last?: ReferralRecord;
  /** with a pace: ms after the fleet's first round when the intake arrives */
  arrivesAfter: number;
  /** with a pace: the gate being thought about, and until when */
  thinking?: { gate: string; until: number };
}

/** how fast the people of the fleet act: intakes spread over time, a case worker's thinking time at each gate */
export interface Pace {
  arrivalSpreadMs: number;
  thinkMs: [number, number];
}

export interface FleetFigures {
  referrals: number;
  byJourney: Record<string, number>;
  ends: Record<string, number>;
  /** referrals that needed attention at least once, and the reasons seen (TASK_FAILED events) */
  neededAttention: number;
  reasons: Record<string, number>;
  /** times a referral stopped needing attention (one program alert each), and how those stops ended */
  stops: number;
  resumes: number;
  withdrawnWhileStopped: number;
  /** answers of the API the driver had to try again: 5xx, connection refused or reset */
  retriedAnswers: Record<string, number>;
  cohortFull: number;
  decisions: number;
  withdrawals: number;
  notices: number;
  emails: number;
  /** sends that failed and were tried again (NOTICE_FAILED) */
  retriedSends: number;
  /** notices whose sender stopped midway and whose lease had to run out before another took them */
  lostClaims: string[];
  /** emails that went out twice: their sender stopped after SES took them, before the outbox marked them sent */
  repeated: string[];
  /** closed referrals whose execution still waits at a gate for its timer (the workflow call after the closing change died with the process) */
  waitingForTimer: string[];
  /** TASK_FAILED recorded again by a retried RecordFailure (no second alert) */
  recordedTwice: number;
  rounds: number;
}

const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** a request that got no answer (fetch's errors come from outside jest's realm: no instanceof Error) */
const failed = (res: { status: number } | Error): res is Error => typeof (res as { status?: unknown }).status !== 'number';

/** runs `fn` over `items`, at most `n` at a time */
const pool = async <T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
};

export class Fleet {
  readonly members: Member[] = [];
  readonly cohorts: Array<{ cohortId: string; capacity: number; full: boolean }> = [];
  private api!: TestApi;
  private repo!: DynamoDbReferralRepository;
  private ddb?: DynamoDBClient;
  private target!: FleetTarget;
  private readonly retried: Record<string, number> = {};
  private counts = { cohortFull: 0, decisions: 0, withdrawals: 0, rounds: 0 };
  private readonly random: () => number;
  private epoch?: number;

  constructor(
    target: FleetTarget,
    readonly seed: number,
    private readonly pace?: Pace,
  ) {
    this.random = prng(seed);
    this.retarget(target);
  }

  /** an intake that has arrived (all at once without a pace) */
  private arrived(m: Member): boolean {
    this.epoch ??= Date.now();
    return Date.now() - this.epoch >= m.arrivesAfter;
  }

  /** with a pace, a case worker decides a gate only after thinking about it for a while */
  private thought(m: Member, r: ReferralRecord): boolean {
    if (!this.pace) return true;
    const gate = `${r.pendingStep}@${r.gateOpenedAt}`;
    if (m.thinking?.gate !== gate) {
      const [min, max] = this.pace.thinkMs;
      m.thinking = { gate, until: Date.now() + min + this.random() * (max - min) };
    }
    return Date.now() >= m.thinking.until;
  }

  /** the same fleet against another runtime process (after a restart on the same --persist data) */
  retarget(target: FleetTarget): void {
    this.ddb?.destroy();
    this.target = target;
    this.api = new TestApi(target.appUrl, target.mailUrl);
    this.ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: target.dynamoUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    this.repo = new DynamoDbReferralRepository(this.ddb, target.tableName ?? 'iop-referrals');
  }

  close(): void {
    this.ddb?.destroy();
    this.sfn?.destroy();
    this.ddb = undefined;
  }

  /** an answer worth trying again: the runtime failed it (5xx) or was not there to answer */
  private retry<T extends { status: number }>(what: string, res: T | Error): res is Error {
    if (failed(res) || res.status >= 500) {
      const code = failed(res) ? `${what} ${(res.cause as { code?: string } | undefined)?.code ?? res.name}` : `${what} ${res.status}`;
      this.retried[code] = (this.retried[code] ?? 0) + 1;
      return true;
    }
    return false;
  }

  private async call(method: string, path: string, opts: Parameters<TestApi['call']>[2]) {
    try {
      return await this.api.call(method, path, opts);
    } catch (err) {
      return err as Error;
    }
  }

  /** `n` cohorts of `capacity` seats (evening, starting next Monday); retried while the runtime fails */
  async addCohorts(n: number, capacity: number, deadline = Date.now() + 30_000): Promise<void> {
    for (let i = 0; i < n; i++) {
      const body = cohortBody({ capacity });
      for (;;) {
        const res = await this.call('POST', '/api/staff/cohorts', { body, as: 'sam' });
        if (!this.retry('cohort', res) && res.status === 201) {
          this.cohorts.push({ cohortId: res.json.cohortId as string, capacity, full: false });
          break;
        }
        // a 409 after a 5xx: the first try was stored; the name is taken, so find it by name
        if (!failed(res) && res.status === 409 && res.json?.error === 'CohortNameTaken') {
          const list = await this.call('GET', '/api/staff/cohorts', { as: 'sam' });
          const found =
            !failed(list) &&
            list.status === 200 &&
            (list.json.items as Array<{ cohortId: string; name: string }>).find((c) => c.name === body.name);
          if (found) {
            this.cohorts.push({ cohortId: found.cohortId, capacity, full: false });
            break;
          }
        } else if (!failed(res) && res.status < 500) {
          throw new Error(`creating a cohort answered ${res.status}: ${res.text}`);
        }
        if (Date.now() > deadline) throw new Error('could not create the cohorts in time');
        await sleep(100);
      }
    }
  }

  /** `n` journeys in a seeded mix, each with its own addresses; their intakes are not sent yet */
  plan(n: number, mix: readonly Journey[] = JOURNEYS): Member[] {
    const made: Member[] = [];
    for (let i = 0; i < n; i++) {
      const journey = mix[Math.floor(this.random() * mix.length)]!;
      const tag = `${journey.replace(/-/g, '')}${this.members.length}x${Math.floor(this.random() * 1e9).toString(36)}`;
      const patient = `pt.${tag}@example.org`;
      const doctor = `dr.${tag}@clinic.example`;
      const review = journey === 'not-covered' || journey === 'review-enrol';
      const body = intakeBody({
        lastName: `Fleet${tag.replace(/\d/g, '')}`,
        patient: { email: patient } as never,
        referringPhysician: { name: 'Dr. Lee', npi: '1234567893', email: doctor },
        insurance: { type: 'commercial', payer: 'Acme Health', memberId: review ? `REVIEW-${i}` : `M${1000000 + i}` },
      });
      const arrivesAfter = this.pace ? Math.round(this.random() * this.pace.arrivalSpreadMs) : 0;
      const m: Member = { journey, tag, patient, doctor, key: randomUUID(), body, done: false, attention: [], resumes: 0, arrivesAfter };
      this.members.push(m);
      made.push(m);
    }
    return made;
  }

  /** sends the intakes not stored yet (the same Idempotency-Key on every try: a retry after a 5xx is the same referral) */
  async submit(members: readonly Member[] = this.members, deadline = Date.now() + 60_000, concurrency = 6): Promise<void> {
    await pool(
      members.filter((m) => !m.referralId),
      concurrency,
      async (m) => {
        for (;;) {
          let res: Awaited<ReturnType<TestApi['intake']>> | Error;
          try {
            res = await this.api.intake(m.body, m.key);
          } catch (err) {
            res = err as Error;
          }
          if (!this.retry('intake', res)) {
            if (res.status !== 201) throw new Error(`intake ${m.tag} answered ${res.status}: ${res.text}`);
            m.referralId = res.json.referralId as string;
            m.reference = res.json.reference as string;
            return;
          }
          if (Date.now() > deadline) throw new Error(`intake ${m.tag} was not stored in time`);
          await sleep(50 + this.random() * 100);
        }
      },
    );
  }

  /** one try at storing an intake (the same Idempotency-Key every time) */
  private async submitOnce(m: Member): Promise<void> {
    let res: Awaited<ReturnType<TestApi['intake']>> | Error;
    try {
      res = await this.api.intake(m.body, m.key);
    } catch (err) {
      res = err as Error;
    }
    if (this.retry('intake', res)) return;
    if (res.status !== 201) throw new Error(`intake ${m.tag} answered ${res.status}: ${res.text}`);
    m.referralId = res.json.referralId as string;
    m.reference = res.json.reference as string;
  }

  /**
   * Rounds of work until `stopAt` (the runtime may die meanwhile: what fails is tried on the next
   * round): the intakes not stored yet are sent, every unfinished referral gets a look. Answers
   * whether every referral is at its end.
   */
  async work(stopAt: number, options: { concurrency?: number; pauseMs?: number } = {}): Promise<boolean> {
    for (;;) {
      await pool(
        this.members.filter((m) => !m.referralId && this.arrived(m)),
        options.concurrency ?? 8,
        (m) => this.submitOnce(m),
      );
      await pool(
        this.members.filter((m) => m.referralId && !m.done),
        options.concurrency ?? 8,
        (m) => this.step(m, true),
      );
      this.counts.rounds++;
      if (this.members.every((m) => m.done)) return true;
      if (Date.now() > stopAt) return false;
      await sleep(options.pauseMs ?? 100);
    }
  }

  private cohortFor(): string {
    const open = this.cohorts.find((c) => !c.full);
    if (!open) throw new Error('every cohort of the fleet is full: add cohorts (capacity for every enrolment)');
    return open.cohortId;
  }

  /** the decision a case worker makes at `step` for this journey */
  private decisionFor(m: Member, step: string): unknown {
    switch (step) {
      case 'insurance-review':
        return m.journey === 'not-covered' ? { decision: 'not-covered' } : { decision: 'covered' };
      case 'evaluation':
        return m.journey === 'refer-out' ? REFER_OUT : evalAccept(m.journey === 'detox-enrol' || m.journey === 'detox-refer-out');
      case 'detox-confirmation':
        return m.journey === 'detox-refer-out'
          ? { completed: false, decision: 'refer-out' }
          : { completed: true, completedOn: yesterday() };
      case 'enrollment':
        return { cohortId: this.cohortFor() };
      default:
        throw new Error(`${m.tag} (${m.journey}) waits at ${step}, which its journey never reaches`);
    }
  }

  private sfn?: SFNClient;

  /** the referral's execution waits at its gate (newest history event TaskSubmitted); unknown without a Step Functions endpoint: yes */
  private async parked(r: ReferralRecord): Promise<boolean> {
    if (!this.target.sfnUrl || !this.target.stateMachineArn) return true;
    this.sfn ??= new SFNClient({
      region: 'us-east-1',
      endpoint: this.target.sfnUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const arn = `${this.target.stateMachineArn.replace(':stateMachine:', ':execution:')}:${r.execution ?? r.referralId}`;
    const h = await this.sfn
      .send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 1 }))
      .catch(() => undefined);
    return !h || h.events?.[0]?.type === 'TaskSubmitted';
  }

  /** one look at a referral and what a case worker would do about it now */
  private async step(m: Member, resume: boolean): Promise<void> {
    const r = await this.repo.get(m.referralId!).catch(() => undefined);
    if (!r) return;
    m.last = r;
    if (atEnd(r)) {
      // a gate at the end (ENROLLED) is the end once its task is parked: the gate's function may
      // still fail after storing the token (then RecordFailure stops it, to be resumed)
      m.done = FINAL_STATUSES.includes(r.status) || (await this.parked(r));
      return;
    }
    if (r.status === 'NEEDS_ATTENTION') {
      const reason = r.failure ? `${r.failure.error} at ${r.failure.resumeAt}` : `SLA at ${r.pendingStep}`;
      if (m.attention[m.attention.length - 1] !== `${reason}@${r.failure?.at}`) m.attention.push(`${reason}@${r.failure?.at}`);
      if (!resume || !r.failure) return;
      const res = await this.call('POST', `/api/staff/referrals/${r.referralId}/resume`, { body: { note: 'faults over' }, as: 'casey' });
      if (this.retry('resume', res)) return;
      if (res.status === 200) m.resumes++;
      else if (res.status !== 409) throw new Error(`resume of ${m.tag} answered ${res.status}: ${res.text}`);
      return;
    }
    if (!r.pendingStep || !r.taskToken) return; // in flight: a task runs, a gate opens
    if (!this.thought(m, r)) return;
    if (m.journey === 'withdraw' && r.pendingStep === 'evaluation') {
      const res = await this.call('POST', `/api/staff/referrals/${r.referralId}/withdraw`, {
        body: { reason: 'Asked to stop' },
        as: 'casey',
      });
      if (this.retry('withdraw', res)) return;
      if (res.status === 200) this.counts.withdrawals++;
      else if (res.status !== 409) throw new Error(`withdraw of ${m.tag} answered ${res.status}: ${res.text}`);
      return;
    }
    const body = this.decisionFor(m, r.pendingStep);
    const res = await this.call('POST', `/api/staff/referrals/${r.referralId}/steps/${r.pendingStep}`, { body, as: 'casey' });
    if (this.retry(`decide ${r.pendingStep}`, res)) return;
    if (res.status === 200) {
      this.counts.decisions++;
      return;
    }
    if (res.status === 409 && res.json?.error === 'CohortFull') {
      this.counts.cohortFull++;
      const c = this.cohorts.find((x) => x.cohortId === (body as { cohortId: string }).cohortId);
      if (c) c.full = true;
      return;
    }
    // decided already (an earlier try answered 5xx after it committed), or the gate moved on: read again
    if (res.status === 409) return;
    throw new Error(`deciding ${r.pendingStep} of ${m.tag} (${m.journey}) answered ${res.status}: ${res.text}`);
  }

  /**
   * Goes round the unfinished referrals until each is at its end — or, without `resume`, at its end
   * or in NEEDS_ATTENTION after a task failure (what the faults may leave). Throws past `deadline`,
   * naming every referral that is neither: stuck.
   */
  async drive(options: { resume: boolean; deadline: number; concurrency?: number; pauseMs?: number }): Promise<void> {
    const settled = (m: Member) => m.done || (!options.resume && m.last?.status === 'NEEDS_ATTENTION' && !!m.last.failure);
    for (;;) {
      const open = this.members.filter((m) => m.referralId && !m.done);
      await pool(open, options.concurrency ?? 8, (m) => this.step(m, options.resume));
      this.counts.rounds++;
      if (this.members.every(settled)) return;
      if (Date.now() > options.deadline) {
        const stuck = this.members.filter((m) => !settled(m));
        throw new Error(
          `${stuck.length} referral(s) stuck (neither at their end nor needing attention):\n${stuck
            .slice(0, 20)
            .map(
              (m) =>
                `  ${m.tag} ${m.journey} ${m.referralId}: ${m.last?.status} pending=${m.last?.pendingStep ?? '-'} token=${m.last?.taskToken ? 'yes' : 'no'} failure=${JSON.stringify(m.last?.failure)} updated=${m.last?.updatedAt}`,
            )
            .join('\n')}`,
        );
      }
      await sleep(options.pauseMs ?? 100);
    }
  }

  /** waits until no notice of the fleet is pending or being sent (the sweep retries failed sends) */
  async settleOutbox(deadline: number): Promise<Map<string, NoticeRecord[]>> {
    for (;;) {
      const all = new Map<string, NoticeRecord[]>();
      await pool(this.members, 8, async (m) => {
        all.set(m.referralId!, await this.repo.notices(m.referralId!));
      });
      const open = [...all.values()].flat().filter((n) => n.state === 'pending' || n.state === 'sending');
      if (open.length === 0) return all;
      if (Date.now() > deadline)
        throw new Error(
          `${open.length} notice(s) still unsent: ${open
            .slice(0, 10)
            .map((n) => `${n.referralId} ${n.key} ${n.state} attempts=${n.attempts} due=${n.dueAt} ${n.lastError ?? ''}`)
            .join('; ')}`,
        );
      await sleep(250);
    }
  }

  /**
   * Every check of the module comment; answers the problems found (none: []) and the run's figures.
   */
  async verify(notices: Map<string, NoticeRecord[]>): Promise<{ problems: string[]; figures: FleetFigures }> {
    const problems: string[] = [];
    const final = new Map<string, ReferralRecord>();
    const events = new Map<string, Awaited<ReturnType<DynamoDbReferralRepository['events']>>>();
    await pool(this.members, 8, async (m) => {
      final.set(m.referralId!, (await this.repo.get(m.referralId!))!);
      events.set(m.referralId!, await this.repo.events(m.referralId!));
    });
    const reasons: Record<string, number> = {};

    // ends
    for (const m of this.members) {
      const r = final.get(m.referralId!)!;
      if (!atEnd(r) || r.status !== END_OF[m.journey])
        problems.push(`${m.tag} (${m.journey}) ended ${r.status} (pending ${r.pendingStep ?? '-'}), expected ${END_OF[m.journey]}`);
      const failed = events.get(m.referralId!)!.filter((e) => e.type === 'TASK_FAILED');
      for (const e of failed) reasons[String(e.detail?.error)] = (reasons[String(e.detail?.error)] ?? 0) + 1;
    }

    // notices: the journey's, once each, and one program alert per task failure
    const mailbox = (await this.api.emails()) as StoredEmail[];
    const byId = new Map<string, StoredEmail[]>();
    for (const e of mailbox) byId.set(e.messageId, [...(byId.get(e.messageId) ?? []), e]);
    const references = new Set(this.members.map((m) => m.reference!));
    const addresses = new Set(this.members.flatMap((m) => [m.patient, m.doctor]));
    const ours = mailbox.filter(
      (e) => e.destination.to.some((t) => addresses.has(t)) || [...references].some((ref) => e.subject.includes(ref)),
    );
    let sentCount = 0;
    /** notices claimed more often than their sends failed: a sender that stopped midway (its lease ran out) */
    const lostClaims: string[] = [];
    /** the emails of notices with a lost claim, each as often as it may have gone out before (recipient | subject) */
    const mayRepeat = new Map<string, number>();
    const sentIds = new Set<string>();
    const mailKey = (e: StoredEmail) => `${e.destination.to.join(',')} | ${e.subject}`;
    let retriedSends = 0;
    let recordedTwice = 0;
    let stoppedThenWithdrawn = 0;
    let stops = 0;
    for (const m of this.members) {
      const ns = notices.get(m.referralId!) ?? [];
      const r = final.get(m.referralId!)!;
      const ev = events.get(m.referralId!)!;
      const unsettled = ns.filter((n) => n.state !== 'sent');
      if (unsettled.length) problems.push(`${m.tag}: notices not sent: ${unsettled.map((n) => `${n.key}=${n.state}`).join(', ')}`);
      const people = ns
        .filter((n) => n.audience !== 'program')
        .map((n) => n.key)
        .sort();
      const expected = [...NOTICES_OF[m.journey]].sort();
      if (JSON.stringify(people) !== JSON.stringify(expected))
        problems.push(`${m.tag} (${m.journey}, ${r.status}): notices ${people.join(',')} ≠ expected ${expected.join(',')}`);
      // each time it needed attention: one alert to the program, then one Resume — or the withdrawal
      // that ended it there (a case worker who opened it at its gate withdrew it after a task failed
      // behind the page). A RecordFailure retried after it committed records its TASK_FAILED again,
      // but tells nobody twice
      const alerts = ns.filter((n) => n.audience === 'program' && n.notice === 'failure').length;
      stops += alerts;
      const failures = ev.filter((e) => e.type === 'TASK_FAILED').length;
      const resumed = ev.filter((e) => e.type === 'RESUMED').length;
      const closedStopped = withdrawnWhileStopped(ev) ? 1 : 0;
      stoppedThenWithdrawn += closedStopped;
      if (alerts !== resumed + closedStopped || failures < resumed + closedStopped)
        problems.push(
          `${m.tag}: ${resumed} resume(s)${closedStopped ? ' and a withdrawal' : ''} after ${failures} TASK_FAILED event(s) and ${alerts} program alert(s)`,
        );
      recordedTwice += failures - resumed - closedStopped;
      for (const n of ns.filter((x) => x.state === 'sent')) {
        sentCount++;
        sentIds.add(n.messageId ?? '');
        const found = byId.get(n.messageId ?? '') ?? [];
        if (found.length !== 1)
          problems.push(`${m.tag}: notice ${n.key} (messageId ${n.messageId}) is in the mailbox ${found.length} times`);
        const tries = ev.filter(
          (e) => e.type === 'NOTICE_FAILED' && e.detail?.milestone === n.milestone && e.detail?.audience === n.audience,
        ).length;
        retriedSends += tries;
        // a claim that neither ended in "sent" nor in a recorded failure: its sender stopped midway
        // (killed, or its table write failed for good) — perhaps after SES had taken the email
        const lost = n.attempts - tries - 1;
        if (lost > 0) {
          lostClaims.push(`${n.key} (${n.attempts} claims, ${tries} failed sends)`);
          if (found[0]) mayRepeat.set(mailKey(found[0]), (mayRepeat.get(mailKey(found[0])) ?? 0) + lost);
        }
      }
    }
    // every email about the fleet is a sent notice's (its messageId), or a copy of one whose sender
    // stopped between SES taking it and the outbox marking it sent: the outbox's at-least-once window
    const repeated: string[] = [];
    for (const e of ours.filter((x) => !sentIds.has(x.messageId))) {
      const left = mayRepeat.get(mailKey(e)) ?? 0;
      if (left > 0) {
        mayRepeat.set(mailKey(e), left - 1);
        repeated.push(mailKey(e));
      } else {
        problems.push(`an email no sent notice accounts for: ${mailKey(e)}`);
      }
    }
    for (const m of this.members) {
      const disclosures = (events.get(m.referralId!) ?? []).filter((e) => e.type === 'DISCLOSURE').length;
      const toDoctor = ours.filter((e) => e.destination.to.includes(m.doctor) && sentIds.has(e.messageId)).length;
      if (disclosures !== toDoctor)
        problems.push(`${m.tag}: ${toDoctor} physician email(s) of sent notices, ${disclosures} DISCLOSURE event(s)`);
    }

    // seats: counter = roster = the referrals holding one, never over capacity
    const holding = new Map<string, string[]>();
    for (const r of final.values()) {
      if (r.cohortId && !r.seatReleasedAt && (r.status === 'ENROLLED' || r.status === 'STARTED'))
        holding.set(r.cohortId, [...(holding.get(r.cohortId) ?? []), r.referralId]);
    }
    const seated = new Map<string, number>();
    for (const c of this.cohorts) {
      const cohort = await this.repo.getCohort(c.cohortId);
      const roster = await this.repo.roster(c.cohortId);
      const ids = roster.map((s) => s.referralId).sort();
      for (const id of ids) seated.set(id, (seated.get(id) ?? 0) + 1);
      const want = (holding.get(c.cohortId) ?? []).sort();
      if (!cohort || cohort.seats !== ids.length || cohort.seats > cohort.capacity || JSON.stringify(ids) !== JSON.stringify(want)) {
        problems.push(
          `cohort ${c.cohortId}: counter ${cohort?.seats}/${cohort?.capacity}, roster ${ids.length}, referrals holding a seat ${want.length}`,
        );
      }
    }
    for (const [id, n] of seated) if (n > 1) problems.push(`referral ${id} holds ${n} seats`);

    // executions: a running one for each referral at a gate, none for a closed one
    const waitingForTimer: string[] = [];
    if (this.target.sfnUrl && this.target.stateMachineArn) {
      const sfn = new SFNClient({
        region: 'us-east-1',
        endpoint: this.target.sfnUrl,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        const mismatches = async () => {
          const running = new Set<string>();
          let nextToken: string | undefined;
          do {
            const page = await sfn.send(
              new ListExecutionsCommand({
                stateMachineArn: this.target.stateMachineArn,
                statusFilter: 'RUNNING',
                maxResults: 1000,
                nextToken,
              }),
            );
            for (const e of page.executions ?? []) running.add(e.name!);
            nextToken = page.nextToken;
          } while (nextToken);
          return this.members.flatMap((m) => {
            const r = final.get(m.referralId!)!;
            const mine = [...running].filter((name) => name === r.referralId || name.startsWith(`${r.referralId}-r`)).sort();
            const wanted = FINAL_STATUSES.includes(r.status) ? [] : [r.execution ?? r.referralId];
            return JSON.stringify(mine) === JSON.stringify(wanted) ? [] : [{ m, r, mine, wanted }];
          });
        };
        // a closed referral's execution may still be on its way to Close: a few seconds' grace
        let wrong = await mismatches();
        for (let i = 0; i < 30 && wrong.length; i++) {
          await sleep(500);
          wrong = await mismatches();
        }
        for (const { m, r, mine, wanted } of wrong) {
          const where = await Promise.all(
            mine.map(async (name) => {
              const arn = `${this.target.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${name}`;
              const h = await sfn
                .send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 4 }))
                .catch(() => undefined);
              const events = h?.events ?? [];
              return {
                name,
                parked: events[0]?.type === 'TaskSubmitted',
                at: `${name} at ${events.map((e) => `${e.type}${e.stateEnteredEventDetails?.name ? `(${e.stateEnteredEventDetails.name})` : ''}`).join(' < ')}`,
              };
            }),
          );
          // the workflow call after a closing change (SendTaskSuccess after a closing decision,
          // StopExecution after a withdrawal) died with the process: the referral is at its end, its
          // execution waits at that gate until the gate's timer ends it (escalate: ReferralClosed → Close)
          if (FINAL_STATUSES.includes(r.status) && mine.length === 1 && where[0]!.parked) {
            waitingForTimer.push(`${m.tag} (${r.status}): ${where[0]!.at}`);
            continue;
          }
          problems.push(
            `${m.tag} (${r.status}): running executions ${where.map((w) => w.at).join('; ') || 'none'}, expected ${wanted.join(',') || 'none'}`,
          );
        }
      } finally {
        sfn.destroy();
      }
    }

    const count = (xs: string[]) =>
      xs.reduce<Record<string, number>>((o, x) => {
        o[x] = (o[x] ?? 0) + 1;
        return o;
      }, {});
    const figures: FleetFigures = {
      referrals: this.members.length,
      byJourney: count(this.members.map((m) => m.journey)),
      ends: count([...final.values()].map((r) => r.status)),
      neededAttention: this.members.filter((m) => (events.get(m.referralId!) ?? []).some((e) => e.type === 'TASK_FAILED')).length,
      reasons,
      stops,
      resumes: this.members.reduce((n, m) => n + m.resumes, 0),
      withdrawnWhileStopped: stoppedThenWithdrawn,
      retriedAnswers: { ...this.retried },
      cohortFull: this.counts.cohortFull,
      decisions: this.counts.decisions,
      withdrawals: this.counts.withdrawals,
      notices: sentCount,
      emails: ours.length,
      retriedSends,
      lostClaims,
      repeated,
      waitingForTimer,
      recordedTwice,
      rounds: this.counts.rounds,
    };
    return { problems, figures };
  }
}
