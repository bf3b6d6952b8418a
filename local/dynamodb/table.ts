/** the table in DynamoDB Local, made from the same key definition the CDK stack reads (functions/lib/keys.ts) */
import { tableDefinition } from '../../functions/lib/keys';
import { type DynamoAnswer, dynamoCall, dynamoError, errorCode } from '../dynamo-api';
import type { DynamoLocal } from './process';

const DYNAMO_START_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the CreateTable request for the shared key definition (the CDK stack reads the same definition) */
const createTableRequest = (tableName: string) => {
  const d = tableDefinition;
  const keyNames = [d.partitionKey, d.sortKey, ...d.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...new Set(keyNames)].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    ...streamSpecification(),
  };
};

/** the table's stream as tableDefinition says (send-notices reads the outbox from it) */
const streamSpecification = (): { StreamSpecification?: { StreamEnabled: true; StreamViewType: string } } => {
  const view = (tableDefinition as { stream?: string }).stream;
  return view ? { StreamSpecification: { StreamEnabled: true, StreamViewType: view } } : {};
};

/** the table's stream ARN; a table kept by --persist from before the stream existed gets it now */
const ensureStream = async (url: string, tableName: string): Promise<string | undefined> => {
  const wanted = streamSpecification().StreamSpecification;
  const describe = async () => {
    const d = await dynamoCall(url, 'DescribeTable', { TableName: tableName });
    if (d.status !== 200) throw dynamoError('DescribeTable', d);
    return d.json.Table as { LatestStreamArn?: string; StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string } };
  };
  let table = await describe();
  if (!wanted) return undefined;
  const current = table.StreamSpecification;
  if (current?.StreamEnabled && current.StreamViewType === wanted.StreamViewType && table.LatestStreamArn) return table.LatestStreamArn;
  if (current?.StreamEnabled) {
    const off = await dynamoCall(url, 'UpdateTable', { TableName: tableName, StreamSpecification: { StreamEnabled: false } });
    if (off.status !== 200) throw dynamoError('UpdateTable', off);
  }
  const on = await dynamoCall(url, 'UpdateTable', { TableName: tableName, StreamSpecification: wanted });
  if (on.status !== 200) throw dynamoError('UpdateTable', on);
  table = await describe();
  if (!table.LatestStreamArn) throw new Error(`DynamoDB Local reports no stream on ${tableName} after enabling it`);
  return table.LatestStreamArn;
};

/**
 * Waits for DynamoDB Local and creates the table (TTL on) as soon as it answers. CreateTable itself
 * is the readiness probe: a cold JVM answers its first calls slowly, so no separate probe is paid
 * for. With --persist an existing table is kept (ResourceInUseException), its TTL and stream checked.
 * Resolves with the table's stream ARN (when tableDefinition asks for a stream).
 */
export const createTableWhenUp = async (ddb: DynamoLocal, tableName: string): Promise<string | undefined> => {
  let spawnError: Error | undefined;
  ddb.child.once('error', (e) => (spawnError = e));
  let dead = false;
  void ddb.exited.then(() => (dead = true));
  const until = Date.now() + DYNAMO_START_TIMEOUT_MS;
  let created: DynamoAnswer;
  for (;;) {
    if (spawnError) {
      const enoent = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(
        enoent
          ? 'DynamoDB Local needs Java 17+, and `java` was not found: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME'
          : `could not start DynamoDB Local: ${spawnError.message}`,
      );
    }
    if (dead) throw new Error(`DynamoDB Local exited during start (code ${ddb.child.exitCode ?? ddb.child.signalCode}):\n${ddb.output()}`);
    if (Date.now() > until) throw new Error(`DynamoDB Local did not answer within ${DYNAMO_START_TIMEOUT_MS / 1000} s:\n${ddb.output()}`);
    try {
      created = await dynamoCall(ddb.url, 'CreateTable', createTableRequest(tableName));
      break;
    } catch {
      // not listening yet (or a probe timed out: the retry then finds the table in use)
    }
    await sleep(25);
  }
  const inUse = created.status === 400 && errorCode(created) === 'ResourceInUseException';
  if (created.status !== 200 && !inUse) throw dynamoError('CreateTable', created);
  let ttlOn = false;
  if (inUse) {
    const ttl = await dynamoCall(ddb.url, 'DescribeTimeToLive', { TableName: tableName });
    if (ttl.status !== 200) throw dynamoError('DescribeTimeToLive', ttl);
    ttlOn = (ttl.json.TimeToLiveDescription as { TimeToLiveStatus?: string } | undefined)?.TimeToLiveStatus === 'ENABLED';
  }
  if (!ttlOn) {
    const update = await dynamoCall(ddb.url, 'UpdateTimeToLive', {
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
    });
    if (update.status !== 200) throw dynamoError('UpdateTimeToLive', update);
  }
  // a new table reports its stream in the CreateTable answer; a kept one is checked
  const fresh = (created.json.TableDescription as { LatestStreamArn?: string } | undefined)?.LatestStreamArn;
  if (!inUse && (fresh || !streamSpecification().StreamSpecification)) return fresh;
  return ensureStream(ddb.url, tableName);
};
