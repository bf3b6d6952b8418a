import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { SFN } from '@aws-sdk/client-sfn';
import { DocStore } from './doc-store';
import type { Store } from './ports';

// a handler that loads through the port, pages a query and starts an execution through the
// aggregated client (a method, not a command class)

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const deps = (): { store: Store } => ({ store: new DocStore(doc) });

const start = (id: string) => new SFN({}).startExecution({ stateMachineArn: 'arn', name: id });

export const handler = async (event: { id: string }) => {
  const item = await deps().store.load(event.id);
  for await (const page of paginateQuery({ client: doc }, { TableName: 't', KeyConditionExpression: 'id = :id' })) void page;
  await start(event.id);
  return item;
};
