import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { now } from '../clock';
import { KEY_ATTRIBUTES, keys } from '../keys';
import { FINAL_STATUSES } from '../schemas/views';
import type { NewEvent, NoticeRecord, ReferralRecord } from './ports';

// the table's items as the DynamoDB adapter writes them (index keys from functions/lib/keys.ts), and
// the client every part of the adapter shares: ./dynamodb-outbox.ts, ./dynamodb-cohorts.ts,
// ./dynamodb-repository.ts (the referral, and the adapter as a whole)

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** META item ← record: the record plus its queue/search index keys (the waitlist queues by waiting time alone) */
export const metaItem = (r: ReferralRecord) => ({
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
export const noticeItem = (n: NoticeRecord) => ({
  ...keys.outbox(n.referralId, n.key),
  ...(n.state === 'pending' || n.state === 'sending' ? keys.due(n.dueAt, n.referralId, n.key) : {}),
  entity: 'notice',
  ...n,
});

/** what a read leaves out of an item: its key attributes and storage bookkeeping */
const STORAGE_ATTRIBUTES = new Set([...KEY_ATTRIBUTES, 'entity', 'expiresAt']);

export const stripKeys = <T>(item: Record<string, unknown>): T =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !STORAGE_ATTRIBUTES.has(k))) as T;

/** the document client and the item writers every part of the adapter uses */
export abstract class DynamoDbTable {
  protected readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    protected readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  protected eventItem(referralId: string, e: NewEvent, suffix: string): TransactItem {
    const at = e.at ?? now().toISOString();
    return {
      Put: {
        TableName: this.table,
        Item: { ...keys.event(referralId, at, suffix), entity: 'event', ...e, at },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  protected noticePut(n: NoticeRecord): TransactItem {
    // at most one notice per (referral, key): a change that would send one twice does not commit
    return { Put: { TableName: this.table, Item: noticeItem(n), ConditionExpression: 'attribute_not_exists(pk)' } };
  }
}
