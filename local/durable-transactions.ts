/**
 * With --persist, an acknowledged transaction must survive kill -9 (issue 12 item 4). DynamoDB Local
 * answers TransactWriteItems a few milliseconds before its SQLite commit is done: killed in between,
 * it comes back without a transaction its caller was told had succeeded (measured with this
 * repository's DynamoDB Local: of 20 transactions, the last was lost on every immediate kill of the
 * JVM; none was lost when any request followed it and was answered, or when the kill came 10 ms
 * later; PutItem and UpdateItem are durable when answered).
 *
 * So with --persist the handlers reach DynamoDB Local through this proxy. It passes every request
 * through as it is, except that it answers a successful TransactWriteItems only after DynamoDB Local
 * has answered one more request: a GetItem of a key that does not exist, in the first table the
 * transaction names. DynamoDB Local serves it after the transaction's commit, so what the caller is
 * told happened is on disk. Costs one small request per transaction; not used without --persist.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tableDefinition } from '../functions/lib/keys';
import { HOST } from './constants';
import { dynamoCall } from './dynamo-api';
import { closeServer, listen } from './net';

const TRANSACT_WRITE = 'DynamoDB_20120810.TransactWriteItems';

/** the first table a TransactWriteItems body names (its items are Put, Update, Delete or ConditionCheck) */
const tableOf = (body: Buffer): string | undefined => {
  try {
    const items =
      (JSON.parse(body.toString('utf8')) as { TransactItems?: Array<Record<string, { TableName?: string }>> }).TransactItems ?? [];
    for (const item of items) for (const op of Object.values(item)) if (op?.TableName) return op.TableName;
  } catch {
    // not JSON: DynamoDB Local answers it with an error, nothing to wait for
  }
  return undefined;
};

const readAll = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

export interface TransactionBarrier {
  url: string;
  close(): Promise<void>;
}

/** the proxy in front of DynamoDB Local at `target` (see the module comment) */
export const startTransactionBarrier = async (target: string): Promise<TransactionBarrier> => {
  const server: Server = createServer((req, res) => {
    const to = new URL(req.url ?? '/', target);
    const forward = (onAnswer: (answer: IncomingMessage) => void) => {
      const upstream = request(to, { method: req.method, headers: { ...req.headers, host: to.host } }, onAnswer);
      upstream.on('error', () => res.destroy());
      return upstream;
    };
    const passThrough = (answer: IncomingMessage) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    };
    if (req.headers['x-amz-target'] !== TRANSACT_WRITE) {
      // any other request passes straight through
      req.pipe(forward(passThrough));
      return;
    }
    void (async () => {
      const body = await readAll(req);
      const upstream = forward((answer) => {
        if (answer.statusCode !== 200) return passThrough(answer);
        void readAll(answer).then(
          async (payload) => {
            const table = tableOf(body);
            // the commit is done once DynamoDB Local has answered the next request
            if (table)
              await dynamoCall(target, 'GetItem', {
                TableName: table,
                Key: { [tableDefinition.partitionKey]: { S: '#durability-barrier' }, [tableDefinition.sortKey]: { S: '#' } },
              }).catch(() => undefined);
            res.writeHead(200, answer.headers);
            res.end(payload);
          },
          () => res.destroy(),
        );
      });
      upstream.end(body);
    })().catch(() => res.destroy());
  });
  server.keepAliveTimeout = 5000;
  const port = await listen(server, 0, 'transaction barrier');
  return { url: `http://${HOST}:${port}`, close: () => closeServer(server) };
};
