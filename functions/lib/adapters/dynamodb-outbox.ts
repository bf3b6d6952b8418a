import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { now } from '../clock';
import { ConflictError } from '../errors';
import { keys } from '../keys';
import { DynamoDbTable, noticeItem, stripKeys, type TransactItem } from './dynamodb-table';
import type { NewEvent, NoticeRecord } from './ports';

/** the outbox in the table: NOTICE items claimed with a lease, settled with their timeline event */
export abstract class DynamoDbOutbox extends DynamoDbTable {
  async claimNotice(referralId: string, key: string, now: string, leaseUntil: string): Promise<NoticeRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.outbox(referralId, key),
          UpdateExpression: 'SET #state = :sending, dueAt = :lease, gsi1sk = :sk ADD attempts :one',
          // due: waiting and its time has come, or claimed by a sender whose lease ran out (it died)
          ConditionExpression: '#state IN (:pending, :sending) AND dueAt <= :now',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':pending': 'pending',
            ':lease': leaseUntil,
            ':now': now,
            ':one': 1,
            ':sk': keys.due(leaseUntil, referralId, key).gsi1sk,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? stripKeys<NoticeRecord>(Attributes) : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** one transaction: the claimed notice's new state (only while this claim holds) and its event */
  private async settleNotice(
    n: NoticeRecord,
    update: { set: string; values: Record<string, unknown>; remove?: string },
    event: Omit<TransactItem, 'ConditionCheck'>,
  ): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.outbox(n.referralId, n.key),
                UpdateExpression: `SET ${update.set}${update.remove ? ` REMOVE ${update.remove}` : ''}`,
                ConditionExpression: '#state = :claimed AND dueAt = :lease',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':claimed': 'sending', ':lease': n.dueAt, ...update.values },
              },
            },
            event,
          ],
        }),
      );
    } catch (err) {
      // the lease ran out meanwhile and another sender took the notice over: it settles it
      if (err instanceof TransactionCanceledException)
        throw new ConflictError('The notice was claimed by another sender', 'NoticeClaimLost', { cause: err });
      throw err;
    }
  }

  async noticeSent(n: NoticeRecord, messageId: string, event: NewEvent): Promise<void> {
    const at = event.at ?? now().toISOString();
    await this.settleNotice(
      n,
      {
        set: '#state = :sent, messageId = :id, sentAt = :at',
        values: { ':sent': 'sent', ':id': messageId, ':at': at },
        remove: 'gsi1pk, gsi1sk',
      },
      // the timeline event has the notice's fixed key: one event per notice, however often it is tried
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.notice(n.referralId, n.key), entity: 'event', ...event, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    );
  }

  async noticeFailed(n: NoticeRecord, error: string, retryAt: string | undefined, event: NewEvent): Promise<void> {
    const update = retryAt
      ? {
          set: '#state = :pending, dueAt = :due, gsi1sk = :sk, lastError = :err',
          values: { ':pending': 'pending', ':due': retryAt, ':sk': keys.due(retryAt, n.referralId, n.key).gsi1sk, ':err': error },
        }
      : { set: '#state = :failed, lastError = :err', values: { ':failed': 'failed', ':err': error }, remove: 'gsi1pk, gsi1sk' };
    await this.settleNotice(n, update, this.eventItem(n.referralId, event, `notice.${n.key}.${n.attempts}`));
  }

  async noticeCancelled(n: NoticeRecord, event: NewEvent): Promise<void> {
    await this.settleNotice(
      n,
      { set: '#state = :cancelled', values: { ':cancelled': 'cancelled' }, remove: 'gsi1pk, gsi1sk' },
      this.eventItem(n.referralId, event, `notice.${n.key}.cancelled`),
    );
  }

  async dueNotices(at: string, limit: number): Promise<Array<Pick<NoticeRecord, 'referralId' | 'key'>>> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk <= :now',
        // '#' sorts before every character of an ISO time, '~' after: everything due up to `at`
        ExpressionAttributeValues: { ':pk': keys.duePk, ':now': `${at}~` },
        ProjectionExpression: 'referralId, #key',
        ExpressionAttributeNames: { '#key': 'key' },
        Limit: limit,
      }),
    );
    return (Items ?? []).map((i) => ({ referralId: String(i.referralId), key: String(i.key) }));
  }

  async notices(referralId: string): Promise<NoticeRecord[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
        ExpressionAttributeValues: { ':pk': keys.referral(referralId).pk, ':n': keys.outboxPrefix },
      }),
    );
    return (Items ?? []).map((i) => stripKeys<NoticeRecord>(i));
  }

  async enqueue(notices: NoticeRecord[]): Promise<void> {
    for (const n of notices) {
      await this.doc
        .send(new PutCommand({ TableName: this.table, Item: noticeItem(n), ConditionExpression: 'attribute_not_exists(pk)' }))
        .catch((err) => {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        });
    }
  }
}
