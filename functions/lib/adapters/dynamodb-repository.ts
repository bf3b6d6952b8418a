import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type QueryCommandInput, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { nowMs } from '../clock';
import { REFERENCE_RE } from '../domain/reference';
import { CohortFullError, ConflictError } from '../errors';
import { keys, META } from '../keys';
import type { Intake } from '../schemas/intake';
import type { ReferralEvent, Status } from '../schemas/views';
import { DynamoDbCohorts } from './dynamodb-cohorts';
import { metaItem, stripKeys, type TransactItem } from './dynamodb-table';
import type {
  IdempotencyRecord,
  NewEvent,
  NoticeRecord,
  Page,
  ReferralRecord,
  ReferralRepository,
  SeatRecord,
  SeatReservation,
} from './ports';

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** a conditional write lost to another writer: the services read again and decide again (retryOnConflict) */
const referralChanged = (cause: unknown) =>
  new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause });

/**
 * DynamoDB behind the repository port; every status change is one transaction. Built in layers by
 * concern: the items and client (./dynamodb-table.ts), the outbox (./dynamodb-outbox.ts), cohorts
 * (./dynamodb-cohorts.ts), and here the referral, its intake, timeline, queues and idempotency.
 */
export class DynamoDbReferralRepository extends DynamoDbCohorts implements ReferralRepository {
  async create(
    referral: ReferralRecord,
    intake: Intake,
    event: NewEvent,
    notices: NoticeRecord[],
    idem?: IdempotencyRecord,
  ): Promise<void> {
    const items: TransactItem[] = [
      { Put: { TableName: this.table, Item: metaItem(referral), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: this.table, Item: { ...keys.intake(referral.referralId), entity: 'intake', intake } } },
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.reference(referral.reference), entity: 'reference', referralId: referral.referralId },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      this.eventItem(referral.referralId, event, `${referral.version}.0`),
    ];
    if (idem) {
      items.push({
        Put: {
          TableName: this.table,
          Item: {
            ...keys.idempotency(idem.key),
            entity: 'idempotency',
            ...idem,
            expiresAt: Math.floor(nowMs() / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
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
        if (idem && reasons[4]?.Code === 'ConditionalCheckFailed')
          throw new ConflictError('Idempotency key already used', 'IdempotencyKeyInUse', { cause: err });
        if (reasons[2]?.Code === 'ConditionalCheckFailed')
          throw new ConflictError('Reference collision', 'ReferenceCollision', { cause: err });
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
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
          ExpressionAttributeValues: { ':pk': keys.referral(referralId).pk, ':e': keys.eventPrefix },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) out.push(stripKeys<ReferralEvent>(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // notice events have fixed keys (EVENT#notice#...), so order the timeline by time
    return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  async save(
    next: ReferralRecord,
    events: NewEvent[],
    options: { seat?: SeatReservation; notices?: NoticeRecord[]; cancelNotices?: NoticeRecord[]; intake?: Intake } = {},
  ): Promise<void> {
    const { seat, notices = [], cancelNotices = [], intake } = options;
    if (!events.length && !seat && !notices.length && !cancelNotices.length && !intake) {
      // no status change (e.g. a gate's token): one conditional put, half the cost of a transaction
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: metaItem(next),
            ConditionExpression: 'version = :prev',
            ExpressionAttributeValues: { ':prev': next.version - 1 },
          }),
        );
        return;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) throw referralChanged(err);
        throw err;
      }
    }
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: metaItem(next),
          ConditionExpression: 'version = :prev',
          ExpressionAttributeValues: { ':prev': next.version - 1 },
        },
      },
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
            Item: {
              ...keys.seat(seat.cohortId, next.referralId),
              entity: 'seat',
              referralId: next.referralId,
              reference: next.reference,
              displayName: next.displayName,
              enrolledAt: next.updatedAt,
            } satisfies Record<string, unknown> & SeatRecord,
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      );
    }
    items.push(...notices.map((n) => this.noticePut(n)));
    // the intake corrected with this change (a re-check): guarded by META's version, like the rest
    if (intake)
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...keys.intake(next.referralId), entity: 'intake', intake },
          ConditionExpression: 'attribute_exists(pk)',
        },
      });
    // pending notices this change makes untrue (a consent revocation): cancelled only while still pending
    const cancelIndex = items.length;
    items.push(
      ...cancelNotices.map(
        (n): TransactItem => ({
          Update: {
            TableName: this.table,
            Key: keys.outbox(n.referralId, n.key),
            UpdateExpression: 'SET #state = :cancelled REMOVE gsi1pk, gsi1sk',
            ConditionExpression: '#state = :pending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':cancelled': 'cancelled', ':pending': 'pending' },
          },
        }),
      ),
    );
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') throw referralChanged(err);
        // a sender claimed one of the notices meanwhile: read again and decide on what is there now
        if (reasons.slice(cancelIndex).some((r) => r.Code === 'ConditionalCheckFailed'))
          throw new ConflictError('A notice was claimed meanwhile; reload and try again', 'Conflict', { cause: err });
        if (seat?.release && reasons.slice(seatIndex, seatIndex + 2).some((r) => r.Code === 'ConditionalCheckFailed')) {
          // the counter and the roster disagree with this referral holding a seat: nothing was written
          throw Object.assign(new Error('the seat to release is not held'), { name: 'SeatNotHeld', cause: err });
        }
        if (seat && reasons[seatIndex]?.Code === 'ConditionalCheckFailed') throw new CohortFullError();
        if (reasons.some((r) => r.Code === 'TransactionConflict')) throw referralChanged(err);
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
      ? {
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.queuePk(query.status) },
          ScanIndexForward: true,
        }
      : {
          TableName: this.table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.allReferralsPk },
          ScanIndexForward: false,
        };
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
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.queuePk(status) },
          Select: 'COUNT',
          ExclusiveStartKey,
        }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  async listByOwner(username: string, query: { startKey?: Record<string, string>; limit: number }): Promise<Page<ReferralRecord>> {
    return this.queryPage({
      IndexName: 'gsi3',
      KeyConditionExpression: 'gsi3pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.ownerPk(username) },
      Limit: query.limit,
      ExclusiveStartKey: query.startKey,
    });
  }

  async receivedBetween(
    range: { from: string; to: string },
    page: { limit: number; startKey?: Record<string, string> },
  ): Promise<Page<ReferralRecord>> {
    return this.queryPage({
      IndexName: 'gsi2',
      // gsi2sk is <receivedAt>#<id>: '~' sorts after every id, so `to` itself is included
      KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.allReferralsPk, ':from': range.from, ':to': `${range.to}~` },
      Limit: page.limit,
      ExclusiveStartKey: page.startKey,
    });
  }

  /** one page of referrals from an index, in its order (ascending) */
  private async queryPage(input: Omit<QueryCommandInput, 'TableName' | 'ScanIndexForward'>): Promise<Page<ReferralRecord>> {
    const { Items, LastEvaluatedKey } = await this.doc.send(new QueryCommand({ TableName: this.table, ScanIndexForward: true, ...input }));
    return {
      items: (Items ?? []).map((i) => stripKeys<ReferralRecord>(i)),
      ...(LastEvaluatedKey ? { lastKey: LastEvaluatedKey as Record<string, string> } : {}),
    };
  }

  async appendEvent(referralId: string, event: NewEvent & { at: string }, suffix: string): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          // the referral exists (an audit event of nothing is refused) and is left as it is
          { ConditionCheck: { TableName: this.table, Key: keys.referral(referralId), ConditionExpression: 'attribute_exists(pk)' } },
          this.eventItem(referralId, event, suffix),
        ],
      }),
    );
  }

  async ping(): Promise<void> {
    await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: 'HEALTH', sk: META } }));
  }
}
