import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { getDeps } from '#lib/adapters/index';
import { sesMailer } from '#lib/adapters/ses-mailer';
import { logger } from '#lib/logger';
import { observability } from '#lib/observability';
import { deliverNotice } from '#lib/services/notices';

// the outbox's sender: the table stream hands it each NOTICE item a committed change wrote (the
// event source mapping filters INSERTs of entity 'notice'). A failed send is recorded on the notice
// and retried by sweep, so only a table failure fails a record (reported as a partial batch failure).

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(observability())
  .handler(async (event) => {
    const deps = getDeps({ mailer: sesMailer });
    const batchItemFailures: DynamoDBBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      const referralId = image?.referralId?.S;
      const key = image?.key?.S;
      if (image?.entity?.S !== 'notice' || !referralId || !key) continue;
      logger.resetKeys();
      logger.appendKeys({ referralId });
      try {
        await deliverNotice(deps, referralId, key);
      } catch (err) {
        logger.error('notice delivery failed', { noticeKey: key, errorName: (err as Error).name });
        batchItemFailures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '' });
      }
    }
    return { batchItemFailures };
  });
