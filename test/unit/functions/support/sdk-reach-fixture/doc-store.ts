import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from './ports';

// ...its adapter: load is called through the port, remove never is
export class DocStore implements Store {
  constructor(private readonly doc: DynamoDBDocumentClient) {}

  async load(id: string): Promise<unknown> {
    return (await this.doc.send(new GetCommand({ TableName: 't', Key: { id } }))).Item;
  }

  async remove(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: 't', Key: { id } }));
  }
}

/** exported, never called: its command is not reachable */
export const overwrite = (doc: DynamoDBDocumentClient) => doc.send(new PutCommand({ TableName: 't', Item: {} }));
