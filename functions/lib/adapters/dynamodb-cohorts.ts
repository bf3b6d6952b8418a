import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../errors';
import { keys } from '../keys';
import { DynamoDbOutbox } from './dynamodb-outbox';
import { stripKeys } from './dynamodb-table';
import type { CohortRecord, SeatRecord } from './ports';

/** cohorts in the table: the cohort with its unique name, by start date, and its roster (seats are taken by the referral's save) */
export abstract class DynamoDbCohorts extends DynamoDbOutbox {
  async putCohort(cohort: CohortRecord): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...keys.cohort(cohort.cohortId),
                  ...keys.allCohorts(cohort.startDate, cohort.cohortId),
                  entity: 'cohort',
                  ...cohort,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            // the name is unique per start date: claimed in the same transaction, never read first
            {
              Put: {
                TableName: this.table,
                Item: { ...keys.cohortName(cohort.startDate, cohort.name), entity: 'cohort-name', cohortId: cohort.cohortId },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed') {
        throw new ConflictError('A cohort with this name already starts on that date; choose another name', 'CohortNameTaken', {
          cause: err,
        });
      }
      throw err;
    }
  }

  async getCohort(cohortId: string): Promise<CohortRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.cohort(cohortId), ConsistentRead: true }));
    return Item ? stripKeys<CohortRecord>(Item) : undefined;
  }

  async listCohorts(): Promise<CohortRecord[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.allCohortsPk },
        ScanIndexForward: true,
        Limit: 200,
      }),
    );
    return (Items ?? []).map((i) => stripKeys<CohortRecord>(i));
  }

  async cohortsStartingFrom(startDate: string): Promise<CohortRecord[]> {
    const out: CohortRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :from',
          ExpressionAttributeValues: { ':pk': keys.allCohortsPk, ':from': startDate },
          ScanIndexForward: true,
          ExclusiveStartKey,
        }),
      );
      out.push(...(page.Items ?? []).map((i) => stripKeys<CohortRecord>(i)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  async roster(cohortId: string): Promise<SeatRecord[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':pk': keys.cohort(cohortId).pk, ':s': keys.seatPrefix },
      }),
    );
    return (Items ?? []).map((i) => stripKeys<SeatRecord>(i));
  }
}
