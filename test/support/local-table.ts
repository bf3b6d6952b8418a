import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';

/** the referral repository over a local runtime's DynamoDB Local table: what a test reads that HTTP does not show (the outbox's notices) */
export const localRepository = (rt: { dynamoUrl: string; tableName: string }): DynamoDbReferralRepository =>
  new DynamoDbReferralRepository(
    new DynamoDBClient({ region: 'us-east-1', endpoint: rt.dynamoUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    rt.tableName,
  );
