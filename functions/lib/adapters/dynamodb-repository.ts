import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand,
  type QueryCommandInput, TransactWriteCommand, type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { CohortFullError, ConflictError, ValidationError } from '../errors';
import { keys, META } from '../keys';
import { now, nowMs } from '../clock';
import { REFERENCE_RE } from '../domain/reference';
import type { Intake } from '../schemas/intake';
import type { ReferralEvent, Status } from '../schemas/views';
import type {
  CohortRecord, IdempotencyRecord, NewEvent, Page, ReferralRecord, ReferralRepository, SeatRecord, SeatReservation,
} from './ports';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

const encodeCursor = (k: Record<string, unknown> | undefined) => (k ? Buffer.from(JSON.stringify(k)).toString('base64url') : undefined);
const decodeCursor = (c: string | undefined): Record<string, unknown> | undefined => {
  if (!c) return undefined;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    // only the key attributes this table's indexes have, all strings: a forged cursor never reaches DynamoDB
    const allowed = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']);
    if (v && typeof v === 'object' && typeof v.pk === 'string' && typeof v.sk === 'string'
      && Object.entries(v).every(([k, x]) => allowed.has(k) && typeof x === 'string' && x.length < 512)) return v;
  } catch {
    // fall through
  }
  throw new ValidationError('That page cursor is not valid; start from the first page', { cursor: ['Not a cursor this API gave out'] });
};

/** META item ← record: the record plus its queue/search index keys */
const metaItem = (r: ReferralRecord) => ({
  ...keys.referral(r.referralId),
  ...keys.queue(r.status, r.urgent, r.receivedAt, r.referralId),
  ...keys.allReferrals(r.receivedAt, r.referralId),
  entity: 'referral',
  ...r,
});

const stripKeys = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, entity: _t, expiresAt: _e, ...rest } = item;
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

  async create(referral: ReferralRecord, intake: Intake, event: NewEvent, idem?: IdempotencyRecord): Promise<void> {
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
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        if (reasons[4]?.Code === 'ConditionalCheckFailed') throw new ConflictError('Idempotency key already used', 'IdempotencyKeyInUse', { cause: err });
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
      for (const item of page.Items ?? []) {
        if (item.state === 'pending') continue; // a notice being sent is not a disclosure yet
        const { state: _s, ...event } = stripKeys<ReferralEvent & { state?: string }>(item);
        out.push(event);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // notice events have fixed keys (EVENT#notice#...), so order the timeline by time
    return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  async save(next: ReferralRecord, events: NewEvent[], seat?: SeatReservation): Promise<void> {
    if (!events.length && !seat) {
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
    if (seat) {
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
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause: err });
        if (seat && reasons[seatIndex]?.Code === 'ConditionalCheckFailed') throw new CohortFullError();
        if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new ConflictError('The referral changed meanwhile; reload and try again', 'Conflict', { cause: err });
      }
      throw err;
    }
  }

  async list(query: { status?: Status; q?: string; cursor?: string; limit: number }): Promise<Page<ReferralRecord>> {
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
    let ExclusiveStartKey = decodeCursor(query.cursor);
    // a filter can leave pages short: read on, but a bounded number of pages per request
    for (let pages = 0; pages < 10 && items.length < query.limit; pages++) {
      const page = await this.doc.send(new QueryCommand({ ...base, Limit: query.limit - items.length, ExclusiveStartKey }));
      items.push(...(page.Items ?? []).map((i) => stripKeys<ReferralRecord>(i)));
      ExclusiveStartKey = page.LastEvaluatedKey;
      if (!ExclusiveStartKey) break;
    }
    return { items, nextCursor: encodeCursor(ExclusiveStartKey) };
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

  async claimNotice(referralId: string, noticeKey: string, event: NewEvent): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table,
        Item: { ...keys.notice(referralId, noticeKey), entity: 'event', ...event, at: event.at ?? now().toISOString(), state: 'pending' },
        // a pending claim is one whose send may have failed midway: at-least-once, so claim again
        ConditionExpression: 'attribute_not_exists(pk) OR #state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      }));
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async noticeSent(referralId: string, noticeKey: string, messageId: string): Promise<void> {
    await this.doc.send(new UpdateCommand({
      TableName: this.table, Key: keys.notice(referralId, noticeKey),
      UpdateExpression: 'SET #state = :sent, messageId = :id', ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':sent': 'sent', ':id': messageId },
    }));
  }

  async releaseNotice(referralId: string, noticeKey: string): Promise<void> {
    await this.doc.send(new DeleteCommand({
      TableName: this.table, Key: keys.notice(referralId, noticeKey),
      ConditionExpression: '#state = :pending', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':pending': 'pending' },
    })).catch((err) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
  }

  async putCohort(cohort: CohortRecord): Promise<void> {
    await this.doc.send(new PutCommand({
      TableName: this.table,
      Item: { ...keys.cohort(cohort.cohortId), ...keys.allCohorts(cohort.startDate, cohort.cohortId), entity: 'cohort', ...cohort },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
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
