import { randomUUID } from 'node:crypto';
import type {
  CohortRecord,
  IdempotencyRecord,
  NewEvent,
  NoticeRecord,
  Page,
  ReferralRecord,
  ReferralRepository,
  SeatRecord,
  SeatReservation,
} from '../../../../functions/lib/adapters/ports';
import { now } from '../../../../functions/lib/clock';
import { CohortFullError, ConflictError } from '../../../../functions/lib/errors';
import type { Intake } from '../../../../functions/lib/schemas/intake';
import type { ReferralEvent, Status } from '../../../../functions/lib/schemas/views';

// the repository port in memory, for service tests: the same promises as the DynamoDB adapter (a
// save on condition of the version read, the seat counter's guard, a notice once per key, a claim
// with a lease), checked before anything is written so a refused change leaves nothing behind. The
// adapter's own SDK-level tests stay in test/unit/functions/adapters/.

const clone = <T>(v: T): T => structuredClone(v);
const page = <T>(all: T[], limit: number, startKey?: Record<string, string>): Page<T> => {
  const from = startKey ? Number(startKey.offset) : 0;
  const items = all.slice(from, from + limit);
  return { items, ...(from + limit < all.length ? { lastKey: { offset: String(from + limit) } } : {}) };
};
const urgentThenOldest = (a: ReferralRecord, b: ReferralRecord) =>
  Number(b.urgent) - Number(a.urgent) || a.receivedAt.localeCompare(b.receivedAt);

export class MemoryRepository implements ReferralRepository {
  readonly referrals = new Map<string, ReferralRecord>();
  readonly intakes = new Map<string, Intake>();
  readonly timeline = new Map<string, ReferralEvent[]>();
  /** by `<referralId> <key>` */
  readonly outbox = new Map<string, NoticeRecord>();
  readonly cohorts = new Map<string, CohortRecord>();
  /** by cohort id, then referral id */
  readonly seats = new Map<string, Map<string, SeatRecord>>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly references = new Map<string, string>();
  private readonly cohortNames = new Set<string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  private addEvents(referralId: string, events: NewEvent[], at: string): void {
    const list = this.timeline.get(referralId) ?? [];
    list.push(...events.map((e) => clone({ ...e, at: e.at ?? at }) as ReferralEvent));
    this.timeline.set(referralId, list);
  }

  private putNotices(notices: NoticeRecord[]): void {
    for (const n of notices) this.outbox.set(`${n.referralId} ${n.key}`, clone(n));
  }

  async create(
    referral: ReferralRecord,
    intake: Intake,
    event: NewEvent,
    notices: NoticeRecord[],
    idem?: IdempotencyRecord,
  ): Promise<void> {
    if (this.referrals.has(referral.referralId)) throw new ConflictError('Referral exists', 'Conflict');
    if (idem && this.idempotency.has(idem.key)) throw new ConflictError('Idempotency key already used', 'IdempotencyKeyInUse');
    if (this.references.has(referral.reference)) throw new ConflictError('Reference collision', 'ReferenceCollision');
    if (notices.some((n) => this.outbox.has(`${n.referralId} ${n.key}`))) throw new ConflictError('Notice exists', 'Conflict');
    this.referrals.set(referral.referralId, clone(referral));
    this.intakes.set(referral.referralId, clone(intake));
    this.references.set(referral.reference, referral.referralId);
    if (idem) this.idempotency.set(idem.key, clone(idem));
    this.addEvents(referral.referralId, [event], referral.updatedAt);
    this.putNotices(notices);
  }

  async getIdempotency(key: string) {
    return clone(this.idempotency.get(key));
  }

  async get(referralId: string) {
    return clone(this.referrals.get(referralId));
  }

  async getIntake(referralId: string) {
    return clone(this.intakes.get(referralId));
  }

  async findByReference(reference: string) {
    const id = this.references.get(reference);
    return id ? this.get(id) : undefined;
  }

  async events(referralId: string) {
    return clone([...(this.timeline.get(referralId) ?? [])].sort((a, b) => a.at.localeCompare(b.at)));
  }

  async save(
    next: ReferralRecord,
    events: NewEvent[],
    options: { seat?: SeatReservation; notices?: NoticeRecord[]; cancelNotices?: NoticeRecord[]; intake?: Intake } = {},
  ): Promise<void> {
    const { seat, notices = [], cancelNotices = [], intake } = options;
    // every condition first, as one transaction would check them
    if (this.referrals.get(next.referralId)?.version !== next.version - 1)
      throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict');
    if (cancelNotices.some((n) => this.outbox.get(`${n.referralId} ${n.key}`)?.state !== 'pending'))
      throw new ConflictError('A notice was claimed meanwhile; reload and try again', 'Conflict');
    if (notices.some((n) => this.outbox.has(`${n.referralId} ${n.key}`))) throw new ConflictError('Notice exists', 'Conflict');
    const cohort = seat ? this.cohorts.get(seat.cohortId) : undefined;
    const roster = seat ? (this.seats.get(seat.cohortId) ?? new Map<string, SeatRecord>()) : undefined;
    if (seat?.release && (!cohort || cohort.seats <= 0 || !roster?.has(next.referralId)))
      throw Object.assign(new Error('the seat to release is not held'), { name: 'SeatNotHeld' });
    if (seat && !seat.release && (!cohort || cohort.seats >= cohort.capacity)) throw new CohortFullError();
    // then every write
    this.referrals.set(next.referralId, clone(next));
    this.addEvents(next.referralId, events, next.updatedAt);
    if (seat && cohort && roster) {
      cohort.seats += seat.release ? -1 : 1;
      if (seat.release) roster.delete(next.referralId);
      else
        roster.set(next.referralId, {
          referralId: next.referralId,
          reference: next.reference,
          displayName: next.displayName,
          enrolledAt: next.updatedAt,
        });
      this.seats.set(seat.cohortId, roster);
    }
    this.putNotices(notices);
    if (intake) this.intakes.set(next.referralId, clone(intake));
    for (const n of cancelNotices) this.outbox.get(`${n.referralId} ${n.key}`)!.state = 'cancelled';
  }

  async listByOwner(username: string, query: { startKey?: Record<string, string>; limit: number }) {
    const open = [...this.referrals.values()].filter(
      (r) =>
        r.assignedTo?.username === username &&
        !['STARTED', 'REFERRED_OUT', 'NOT_COVERED', 'WITHDRAWN', 'EXPIRED', 'NO_SHOW'].includes(r.status),
    );
    return clone(page(open.sort(urgentThenOldest), query.limit, query.startKey));
  }

  async list(query: { status?: Status; q?: string; startKey?: Record<string, string>; limit: number }) {
    const q = query.q?.trim().toLowerCase();
    const all = [...this.referrals.values()]
      .filter((r) => (!query.status || r.status === query.status) && (!q || r.searchName.startsWith(q) || r.reference.toLowerCase() === q))
      .sort(query.status ? urgentThenOldest : (a, b) => b.receivedAt.localeCompare(a.receivedAt));
    return clone(page(all, query.limit, query.startKey));
  }

  async countByStatus(status: Status) {
    return [...this.referrals.values()].filter((r) => r.status === status).length;
  }

  async receivedBetween(range: { from: string; to: string }, p: { limit: number; startKey?: Record<string, string> }) {
    const all = [...this.referrals.values()]
      .filter((r) => r.receivedAt >= range.from && r.receivedAt <= range.to)
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    return clone(page(all, p.limit, p.startKey));
  }

  async appendEvent(referralId: string, event: NewEvent & { at: string }, _suffix: string) {
    if (!this.referrals.has(referralId)) throw Object.assign(new Error('no such referral'), { name: 'TransactionCanceledException' });
    this.addEvents(referralId, [event], event.at);
  }

  async claimNotice(referralId: string, key: string, now: string, leaseUntil: string) {
    const n = this.outbox.get(`${referralId} ${key}`);
    if (!n || (n.state !== 'pending' && n.state !== 'sending') || n.dueAt > now) return undefined;
    Object.assign(n, { state: 'sending', dueAt: leaseUntil, attempts: n.attempts + 1 });
    return clone(n);
  }

  /** the claimed notice's new state, while the claim still holds, with its event */
  private settle(claimed: NoticeRecord, change: Partial<NoticeRecord>, event: NewEvent): void {
    const n = this.outbox.get(`${claimed.referralId} ${claimed.key}`);
    if (n?.state !== 'sending' || n.dueAt !== claimed.dueAt)
      throw new ConflictError('The notice was claimed by another sender', 'NoticeClaimLost');
    Object.assign(n, change);
    this.addEvents(claimed.referralId, [event], this.now().toISOString());
  }

  async noticeSent(n: NoticeRecord, messageId: string, event: NewEvent) {
    this.settle(n, { state: 'sent', messageId }, event);
  }

  async noticeFailed(n: NoticeRecord, error: string, retryAt: string | undefined, event: NewEvent) {
    this.settle(n, retryAt ? { state: 'pending', dueAt: retryAt, lastError: error } : { state: 'failed', lastError: error }, event);
  }

  async noticeCancelled(n: NoticeRecord, event: NewEvent) {
    this.settle(n, { state: 'cancelled' }, event);
  }

  async dueNotices(now: string, limit: number) {
    return [...this.outbox.values()]
      .filter((n) => (n.state === 'pending' || n.state === 'sending') && n.dueAt <= now)
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt))
      .slice(0, limit)
      .map((n) => ({ referralId: n.referralId, key: n.key }));
  }

  async notices(referralId: string) {
    return clone([...this.outbox.values()].filter((n) => n.referralId === referralId));
  }

  async enqueue(notices: NoticeRecord[]) {
    this.putNotices(notices.filter((n) => !this.outbox.has(`${n.referralId} ${n.key}`)));
  }

  async putCohort(cohort: CohortRecord) {
    const name = `${cohort.startDate} ${cohort.name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase()}`;
    if (this.cohortNames.has(name))
      throw new ConflictError('A cohort with this name already starts on that date; choose another name', 'CohortNameTaken');
    if (this.cohorts.has(cohort.cohortId)) throw new ConflictError('Cohort exists', 'Conflict');
    this.cohortNames.add(name);
    this.cohorts.set(cohort.cohortId, clone(cohort));
  }

  async getCohort(cohortId: string) {
    return clone(this.cohorts.get(cohortId));
  }

  async listCohorts() {
    return clone([...this.cohorts.values()].sort((a, b) => a.startDate.localeCompare(b.startDate)));
  }

  async cohortsStartingFrom(startDate: string) {
    return (await this.listCohorts()).filter((c) => c.startDate >= startDate);
  }

  async roster(cohortId: string) {
    return clone([...(this.seats.get(cohortId)?.values() ?? [])]);
  }

  async ping() {}

  /** a cohort with `seats` taken, stored as a supervisor would create it (test data) */
  addCohort(c: Omit<CohortRecord, 'cohortId' | 'createdAt' | 'createdBy'> & { cohortId?: string }): CohortRecord {
    const cohort: CohortRecord = {
      cohortId: randomUUID(),
      createdAt: this.now().toISOString(),
      createdBy: { kind: 'staff', username: 'sam' },
      ...c,
    };
    this.cohorts.set(cohort.cohortId, clone(cohort));
    return cohort;
  }
}

/**
 * A write that loses a race, once: the repository's next save first lets another writer commit the
 * referral one version on (as read then, stamped now(), with `change` on top, and no event), so that
 * save is refused as stale the way DynamoDB's condition would refuse it. Later saves go through as usual.
 */
export function raceOnce(repo: MemoryRepository, referralId: string, change: Partial<ReferralRecord> = {}): void {
  const save = repo.save.bind(repo);
  let raced = false;
  repo.save = async (next, events, options) => {
    if (!raced) {
      raced = true;
      const current = (await repo.get(referralId))!;
      await save({ ...current, version: current.version + 1, updatedAt: now().toISOString(), ...change }, []);
    }
    return save(next, events, options);
  };
}
