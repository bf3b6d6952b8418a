import { ConditionalCheckFailedException, type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand,
  type QueryCommandInput, TransactWriteCommand, type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { CohortFullError, ConflictError } from '../errors';
import { keys, META } from '../keys';
import { now, nowMs } from '../clock';
import { REFERENCE_RE } from '../domain/reference';
import type { Intake } from '../schemas/intake';
import { FINAL_STATUSES, type ReferralEvent, type Status } from '../schemas/views';
import type {
  CohortRecord, IdempotencyRecord, NewEvent, NoticeRecord, Page, ReferralRecord, ReferralRepository, SeatRecord, SeatReservation,
} from './ports';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** META item ← record: the record plus its queue/search index keys (the waitlist queues by waiting time alone) */
const metaItem = (r: ReferralRecord) => ({
  ...keys.referral(r.referralId),
  ...(r.status === 'WAITLISTED' && r.waitlist
    ? keys.queue(r.status, false, r.waitlist.since, r.referralId)
    : keys.queue(r.status, r.urgent, r.receivedAt, r.referralId)),
  ...keys.allReferrals(r.receivedAt, r.referralId),
  // "My referrals": indexed only while assigned and open, so a closing write drops it from the caseload
  ...(r.assignedTo && !FINAL_STATUSES.includes(r.status) ? keys.owner(r.assignedTo.username, r.urgent, r.receivedAt, r.referralId) : {}),
  entity: 'referral',
  ...r,
});

/** NOTICE item ← record: due-index keys only while it waits (pending) or is leased (sending) */
const noticeItem = (n: NoticeRecord) => ({
  ...keys.outbox(n.referralId, n.key),
  ...(n.state === 'pending' || n.state === 'sending' ? keys.due(n.dueAt, n.referralId, n.key) : {}),
  entity: 'notice',
  ...n,
});

const stripKeys = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, gsi3pk: _f, gsi3sk: _g, entity: _t, expiresAt: _e, ...rest } = item;
  return rest as T;
};

/** DynamoDB behind the ReferralRepository port; every status change is one transaction */
export class DynamoDbReferralRepository implements ReferralRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, private readonly table: string) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private eventItem(referralId: string, e: NewEvent, suffix: string): TransactItem {
    const at = e.at ?? now().toISOString();
    return { Put: { TableName: this.table, Item: { ...keys.event(referralId, at, suffix), entity: 'event', ...e, at }, ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  private noticePut(n: NoticeRecord): TransactItem {
    // at most one notice per (referral, key): a change that would send one twice does not commit
    return { Put: { TableName: this.table, Item: noticeItem(n), ConditionExpression: 'attribute_not_exists(pk)' } };
  }

  async create(referral: ReferralRecord, intake: Intake, event: NewEvent, notices: NoticeRecord[], idem?: IdempotencyRecord): Promise<void> {
    const items: TransactItem[] = [
      { Put: { TableName: this.table, Item: metaItem(referral), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: this.table, Item: { ...keys.intake(referral.referralId), entity: 'intake', intake } } },
      { Put: { TableName: this.table, Item: { ...keys.reference(referral.reference), entity: 'reference', referralId: referral.referralId }, ConditionExpression: 'attribute_not_exists(pk)' } },
      this.eventItem(referral.referralId, event, `${referral.version}.0`),
    ];
    if (idem) {
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...keys.idempotency(idem.key), entity: 'idempotency', ...idem, expiresAt: Math.floor(nowMs() / 1000) + IDEMPOTENCY_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    items.push(...notices.map((n) => this.noticePut(n)));
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        if (idem && reasons[4]?.Code === 'ConditionalCheckFailed') throw new ConflictError('Idempotency key already used', 'IdempotencyKeyInUse', { cause: err });
        if (reasons[2]?.Code === 'ConditionalCheckFailed') throw new ConflictError('Reference collision', 'ReferenceCollision', { cause: err });
      }
      throw err;
    }
  }

  async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.idempotency(key), ConsistentRead: true }));
    return Item ? stripKeys<IdempotencyRecord>(Item) : undefined;
  }

  async get(referralId: string): Promise<ReferralRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.referral(referralId), ConsistentRead: true }));
    return Item ? stripKeys<ReferralRecord>(Item) : undefined;
  }

  async getIntake(referralId: string): Promise<Intake | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.intake(referralId) }));
    return Item?.intake as Intake | undefined;
  }

  async findByReference(reference: string): Promise<ReferralRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.reference(reference) }));
    return Item ? this.get(String(Item.referralId)) : undefined;
  }

  async events(referralId: string): Promise<ReferralEvent[]> {
    const out: ReferralEvent[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': keys.referral(referralId).pk, ':e': keys.eventPrefix },
        ExclusiveStartKey,
      }));
      for (const item of page.Items ?? []) out.push(stripKeys<ReferralEvent>(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // notice events have fixed keys (EVENT#notice#...), so order the timeline by time
    return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  async save(next: ReferralRecord, events: NewEvent[], options: { seat?: SeatReservation; notices?: NoticeRecord[]; cancelNotices?: NoticeRecord[] } = {}): Promise<void> {
    const { seat, notices = [], cancelNotices = [] } = options;
    if (!events.length && !seat && !notices.length && !cancelNotices.length) {
      // no status change (e.g. a gate's token): one conditional put, half the cost of a transaction
      try {
        await this.doc.send(new PutCommand({ TableName: this.table, Item: metaItem(next), ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': next.version - 1 } }));
        return;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause: err });
        throw err;
      }
    }
    const items: TransactItem[] = [
      { Put: { TableName: this.table, Item: metaItem(next), ConditionExpression: 'version = :prev', ExpressionAttributeValues: { ':prev': next.version - 1 } } },
      ...events.map((e, i) => this.eventItem(next.referralId, e, `${next.version}.${i}`)),
    ];
    const seatIndex = items.length;
    if (seat?.release) {
      // the seat goes back with the change that frees it (no-show, withdrawal before the start)
      items.push(
        {
          Update: {
            TableName: this.table,
            Key: keys.cohort(seat.cohortId),
            UpdateExpression: 'SET seats = seats - :one',
            ConditionExpression: 'attribute_exists(pk) AND seats > :zero',
            ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
          },
        },
        { Delete: { TableName: this.table, Key: keys.seat(seat.cohortId, next.referralId), ConditionExpression: 'attribute_exists(pk)' } },
      );
    } else if (seat) {
      items.push(
        {
          Update: {
            TableName: this.table,
            Key: keys.cohort(seat.cohortId),
            UpdateExpression: 'SET seats = seats + :one',
            // "capacity" is a DynamoDB reserved word
            ConditionExpression: 'attribute_exists(pk) AND seats < #capacity',
            ExpressionAttributeNames: { '#capacity': 'capacity' },
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: { ...keys.seat(seat.cohortId, next.referralId), entity: 'seat', referralId: next.referralId, reference: next.reference, displayName: next.displayName, enrolledAt: next.updatedAt } satisfies Record<string, unknown> & SeatRecord,
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      );
    }
    items.push(...notices.map((n) => this.noticePut(n)));
    // pending notices this change makes untrue (a consent revocation): cancelled only while still pending
    const cancelIndex = items.length;
    items.push(...cancelNotices.map((n): TransactItem => ({
      Update: {
        TableName: this.table, Key: keys.outbox(n.referralId, n.key),
        UpdateExpression: 'SET #state = :cancelled REMOVE gsi1pk, gsi1sk',
        ConditionExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':cancelled': 'cancelled', ':pending': 'pending' },
      },
    })));
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause: err });
        // a sender claimed one of the notices meanwhile: read again and decide on what is there now
        if (reasons.slice(cancelIndex).some((r) => r.Code === 'ConditionalCheckFailed')) throw new ConflictError('A notice was claimed meanwhile; reload and try again', 'Conflict', { cause: err });
        if (seat?.release && reasons.slice(seatIndex, seatIndex + 2).some((r) => r.Code === 'ConditionalCheckFailed')) {
          // the counter and the roster disagree with this referral holding a seat: nothing was written
          throw Object.assign(new Error('the seat to release is not held'), { name: 'SeatNotHeld', cause: err });
        }
        if (seat && reasons[seatIndex]?.Code === 'ConditionalCheckFailed') throw new CohortFullError();
        if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause: err });
      }
      throw err;
    }
  }

  async list(query: { status?: Status; q?: string; startKey?: Record<string, string>; limit: number }): Promise<Page<ReferralRecord>> {
    const q = query.q?.trim();
    if (q && REFERENCE_RE.test(q.toUpperCase())) {
      const r = await this.findByReference(q.toUpperCase());
      return { items: r && (!query.status || r.status === query.status) ? [r] : [] };
    }
    const base: QueryCommandInput = query.status
      ? { TableName: this.table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': keys.queuePk(query.status) }, ScanIndexForward: true }
      : { TableName: this.table, IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': keys.allReferralsPk }, ScanIndexForward: false };
    if (q) {
      base.FilterExpression = 'begins_with(searchName, :q)';
      base.ExpressionAttributeValues = { ...base.ExpressionAttributeValues, ':q': q.toLowerCase() };
    }
    const items: ReferralRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined = query.startKey;
    // a filter can leave pages short: read on, but a bounded number of pages per request
    for (let pages = 0; pages < 10 && items.length < query.limit; pages++) {
      const page = await this.doc.send(new QueryCommand({ ...base, Limit: query.limit - items.length, ExclusiveStartKey }));
      items.push(...(page.Items ?? []).map((i) => stripKeys<ReferralRecord>(i)));
      ExclusiveStartKey = page.LastEvaluatedKey;
      if (!ExclusiveStartKey) break;
    }
    return { items, ...(ExclusiveStartKey ? { lastKey: ExclusiveStartKey as Record<string, string> } : {}) };
  }

  async countByStatus(status: Status): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.queuePk(status) }, Select: 'COUNT', ExclusiveStartKey,
      }));
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  async claimNotice(referralId: string, key: string, now: string, leaseUntil: string): Promise<NoticeRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(new UpdateCommand({
        TableName: this.table, Key: keys.outbox(referralId, key),
        UpdateExpression: 'SET #state = :sending, dueAt = :lease, gsi1sk = :sk ADD attempts :one',
        // due: waiting and its time has come, or claimed by a sender whose lease ran out (it died)
        ConditionExpression: '#state IN (:pending, :sending) AND dueAt <= :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sending': 'sending', ':pending': 'pending', ':lease': leaseUntil, ':now': now, ':one': 1,
          ':sk': keys.due(leaseUntil, referralId, key).gsi1sk,
        },
        ReturnValues: 'ALL_NEW',
      }));
      return Attributes ? stripKeys<NoticeRecord>(Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** one transaction: the claimed notice's new state (only while this claim holds) and its event */
  private async settleNotice(n: NoticeRecord, update: { set: string; values: Record<string, unknown>; remove?: string }, event: Omit<TransactItem, 'ConditionCheck'>): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table, Key: keys.outbox(n.referralId, n.key),
              UpdateExpression: `SET ${update.set}${update.remove ? ` REMOVE ${update.remove}` : ''}`,
              ConditionExpression: '#state = :claimed AND dueAt = :lease',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':claimed': 'sending', ':lease': n.dueAt, ...update.values },
            },
          },
          event,
        ],
      }));
    } catch (err) {
      // the lease ran out meanwhile and another sender took the notice over: it settles it
      if (err instanceof TransactionCanceledException) throw new ConflictError('The notice was claimed by another sender', 'NoticeClaimLost', { cause: err });
      throw err;
    }
  }

  async noticeSent(n: NoticeRecord, messageId: string, event: NewEvent): Promise<void> {
    const at = event.at ?? now().toISOString();
    await this.settleNotice(
      n,
      { set: '#state = :sent, messageId = :id, sentAt = :at', values: { ':sent': 'sent', ':id': messageId, ':at': at }, remove: 'gsi1pk, gsi1sk' },
      // the timeline event has the notice's fixed key: one event per notice, however often it is tried
      { Put: { TableName: this.table, Item: { ...keys.notice(n.referralId, n.key), entity: 'event', ...event, at }, ConditionExpression: 'attribute_not_exists(pk)' } },
    );
  }

  async noticeFailed(n: NoticeRecord, error: string, retryAt: string | undefined, event: NewEvent): Promise<void> {
    const update = retryAt
      ? { set: '#state = :pending, dueAt = :due, gsi1sk = :sk, lastError = :err', values: { ':pending': 'pending', ':due': retryAt, ':sk': keys.due(retryAt, n.referralId, n.key).gsi1sk, ':err': error } }
      : { set: '#state = :failed, lastError = :err', values: { ':failed': 'failed', ':err': error }, remove: 'gsi1pk, gsi1sk' };
    await this.settleNotice(n, update, this.eventItem(n.referralId, event, `notice.${n.key}.${n.attempts}`));
  }

  async noticeCancelled(n: NoticeRecord, event: NewEvent): Promise<void> {
    await this.settleNotice(n, { set: '#state = :cancelled', values: { ':cancelled': 'cancelled' }, remove: 'gsi1pk, gsi1sk' }, this.eventItem(n.referralId, event, `notice.${n.key}.cancelled`));
  }

  async dueNotices(at: string, limit: number): Promise<Array<Pick<NoticeRecord, 'referralId' | 'key'>>> {
    const { Items } = await this.doc.send(new QueryCommand({
      TableName: this.table, IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :now',
      // '#' sorts before every character of an ISO time, '~' after: everything due up to `at`
      ExpressionAttributeValues: { ':pk': keys.duePk, ':now': `${at}~` },
      ProjectionExpression: 'referralId, #key', ExpressionAttributeNames: { '#key': 'key' },
      Limit: limit,
    }));
    return (Items ?? []).map((i) => ({ referralId: String(i.referralId), key: String(i.key) }));
  }

  async notices(referralId: string): Promise<NoticeRecord[]> {
    const { Items } = await this.doc.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
      ExpressionAttributeValues: { ':pk': keys.referral(referralId).pk, ':n': keys.outboxPrefix },
    }));
    return (Items ?? []).map((i) => stripKeys<NoticeRecord>(i));
  }

  async enqueue(notices: NoticeRecord[]): Promise<void> {
    for (const n of notices) {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: noticeItem(n), ConditionExpression: 'attribute_not_exists(pk)' })).catch((err) => {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      });
    }
  }

  async putCohort(cohort: CohortRecord): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: { ...keys.cohort(cohort.cohortId), ...keys.allCohorts(cohort.startDate, cohort.cohortId), entity: 'cohort', ...cohort },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          // the name is unique per start date: claimed in the same transaction, never read first
          { Put: { TableName: this.table, Item: { ...keys.cohortName(cohort.startDate, cohort.name), entity: 'cohort-name', cohortId: cohort.cohortId }, ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }));
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed') {
        throw new ConflictError('A cohort with this name already starts on that date; choose another name', 'CohortNameTaken', { cause: err });
      }
      throw err;
    }
  }

  async listByOwner(username: string, query: { startKey?: Record<string, string>; limit: number }): Promise<Page<ReferralRecord>> {
    const { Items, LastEvaluatedKey } = await this.doc.send(new QueryCommand({
      TableName: this.table, IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.ownerPk(username) }, ScanIndexForward: true, Limit: query.limit, ExclusiveStartKey: query.startKey,
    }));
    return { items: (Items ?? []).map((i) => stripKeys<ReferralRecord>(i)), ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey as Record<string, string> } : {}) };
  }

  async getCohort(cohortId: string): Promise<CohortRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.cohort(cohortId), ConsistentRead: true }));
    return Item ? stripKeys<CohortRecord>(Item) : undefined;
  }

  async listCohorts(): Promise<CohortRecord[]> {
    const { Items } = await this.doc.send(new QueryCommand({
      TableName: this.table, IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.allCohortsPk }, ScanIndexForward: true, Limit: 200,
    }));
    return (Items ?? []).map((i) => stripKeys<CohortRecord>(i));
  }

  async cohortsStartingFrom(startDate: string): Promise<CohortRecord[]> {
    const out: CohortRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.table, IndexName: 'gsi2', KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :from',
        ExpressionAttributeValues: { ':pk': keys.allCohortsPk, ':from': startDate }, ScanIndexForward: true, ExclusiveStartKey,
      }));
      out.push(...(page.Items ?? []).map((i) => stripKeys<CohortRecord>(i)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  async receivedBetween(range: { from: string; to: string }, page: { limit: number; startKey?: Record<string, string> }): Promise<Page<ReferralRecord>> {
    const { Items, LastEvaluatedKey } = await this.doc.send(new QueryCommand({
      TableName: this.table, IndexName: 'gsi2',
      // gsi2sk is <receivedAt>#<id>: '~' sorts after every id, so `to` itself is included
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.allReferralsPk, ':from': range.from, ':to': `${range.to}~` },
      ScanIndexForward: true, Limit: page.limit, ExclusiveStartKey: page.startKey,
    }));
    return { items: (Items ?? []).map((i) => stripKeys<ReferralRecord>(i)), ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey as Record<string, string> } : {}) };
  }

  async appendEvent(referralId: string, event: NewEvent & { at: string }, suffix: string): Promise<void> {
    await this.doc.send(new TransactWriteCommand({
      TransactItems: [
        // the referral exists (an audit event of nothing is refused) and is left as it is
        { ConditionCheck: { TableName: this.table, Key: keys.referral(referralId), ConditionExpression: 'attribute_exists(pk)' } },
        this.eventItem(referralId, event, suffix),
      ],
    }));
  }

  async roster(cohortId: string): Promise<SeatRecord[]> {
    const { Items } = await this.doc.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': keys.cohort(cohortId).pk, ':s': keys.seatPrefix },
    }));
    return (Items ?? []).map((i) => stripKeys<SeatRecord>(i));
  }

  async ping(): Promise<void> {
    await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: 'HEALTH', sk: META } }));
  }
}
