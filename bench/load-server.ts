/**
 * A server for the intake load benchmark, in its own process (the load generator runs in the
 * parent): `system` is the local runtime (startRuntime: gateway, handlers, workflow, stream and
 * schedule triggers, SES emulator, DynamoDB Local); `baseline` is a bare node:http server that does
 * one PutItem per POST on the DynamoDB Local given in argv (the system's own JVM, in a table of its own).
 *
 * Prints `READY <json>` on stdout; over IPC answers `cpu` (this process's CPU time, ms),
 * `profile-start` / `profile-stop <file>` (the V8 sampling profiler of the main thread, the one
 * `--cpu-prof` uses, written as a .cpuprofile) and `stop`.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';

type Msg = { id: number; cmd: 'cpu' | 'profile-start' | 'profile-stop' | 'stop'; file?: string };

const mode = process.argv[2];
let stop: () => Promise<void> = async () => undefined;
const session = new Session();
session.connect();

const reply = (id: number, value: unknown) => process.send!({ id, value });

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case 'cpu': {
        const u = process.cpuUsage();
        return reply(m.id, Math.round((u.user + u.system) / 1000));
      }
      case 'profile-start':
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 1000 });
        await session.post('Profiler.start');
        return reply(m.id, true);
      case 'profile-stop': {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(m.file!, JSON.stringify(profile));
        return reply(m.id, m.file);
      }
      case 'stop':
        await stop();
        reply(m.id, true);
        setTimeout(() => process.exit(0), 50);
    }
  })();
});

if (mode === 'system' || mode === 'system-http-only') {
  const { startRuntime } = await import('../local/runtime');
  // http-only: the workflow's first task never answers and notices are taken without sending, so
  // only the HTTP path runs (the intake's transaction, StartExecution, the stream read) — the
  // difference to `system` is what the workflow's own tasks and the emails cost on the same cores
  const handlers =
    mode === 'system-http-only'
      ? { 'check-insurance': () => new Promise<never>(() => undefined), 'send-notices': async () => ({ batchItemFailures: [] }) }
      : undefined;
  const rt = await startRuntime({ port: 0, mailPort: 0, quiet: true, ...(handlers ? { handlers } : {}) });
  stop = () => rt.stop();
  process.stdout.write(
    `READY ${JSON.stringify({ url: rt.appUrl, dynamoUrl: rt.dynamoUrl, dynamoPid: rt.dynamoPid, tableName: rt.tableName, mailUrl: rt.mailUrl })}\n`,
  );
} else if (mode === 'baseline') {
  const [dynamoUrl, tableName] = [process.argv[3]!, process.argv[4]!];
  const { CreateTableCommand, DynamoDBClient, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
  const db = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // a table of its own on the same JVM: no stream, so the system's stream reader does not see these writes
  await db
    .send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    )
    .catch((e: Error) => {
      if (e.name !== 'ResourceInUseException') throw e;
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = randomUUID();
      db.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: `BASELINE#${id}` }, sk: { S: 'META' }, body: { S: Buffer.concat(chunks).toString('utf8') } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ).then(
        () => {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id }));
        },
        () => {
          res.writeHead(500).end();
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stop = async () => {
    server.close();
    server.closeAllConnections();
    db.destroy();
  };
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
} else {
  process.stderr.write('usage: load-server.ts system | system-http-only | baseline <dynamoUrl> <table>\n');
  process.exit(2);
}
