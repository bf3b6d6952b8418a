import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from './ports';

// implements the port too, but the handler does not import it: not in its bundle
export class ScanStore implements Store {
  constructor(private readonly doc: DynamoDBDocumentClient) {}

  async load(): Promise<unknown> {
    return (await this.doc.send(new ScanCommand({ TableName: 't' }))).Items;
  }

  async remove(): Promise<void> {}
}
