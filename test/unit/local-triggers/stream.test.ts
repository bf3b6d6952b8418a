import { afterEach, describe, expect, test } from '@jest/globals';
import type { DynamoDBRecord } from 'aws-lambda';
import type { DynamoAnswer } from '../../../local/dynamo-api';
import { StreamPoller } from '../../../local/triggers/stream';

// the stream poller against a fake DynamoDB Streams API: where it starts, shard roll-over, errors

interface FakeShard {
  id: string;
  parent?: string;
  records: DynamoDBRecord[];
  closed: boolean;
}

/** a stream whose shards the test appends to, closes and rolls over */
class FakeStream {
  shards: FakeShard[] = [];
  private seq = 0;
  failNext = 0;

  shard(id: string, parent?: string): FakeShard {
    const s: FakeShard = { id, parent, records: [], closed: false };
    this.shards.push(s);
    return s;
  }

  put(shard: FakeShard, pk: string): void {
    const SequenceNumber = String(++this.seq).padStart(21, '0');
    shard.records.push({
      eventID: `e${this.seq}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: { Keys: { pk: { S: pk } }, NewImage: { pk: { S: pk } }, SequenceNumber, StreamViewType: 'NEW_IMAGE' },
    });
  }

  call = async (operation: string, body: any): Promise<DynamoAnswer> => {
    if (this.failNext > 0) {
      this.failNext--;
      return { status: 500, json: { __type: 'com.amazonaws.dynamodb#InternalServerError' } };
    }
    if (operation === 'DescribeStream') {
      return {
        status: 200,
        json: {
          StreamDescription: {
            Shards: this.shards.map((s) => ({
              ShardId: s.id,
              ParentShardId: s.parent,
              SequenceNumberRange: s.closed ? { EndingSequenceNumber: '9' } : {},
            })),
          },
        },
      };
    }
    if (operation === 'GetShardIterator') {
      const s = this.shards.find((x) => x.id === body.ShardId)!;
      const at =
        body.ShardIteratorType === 'LATEST'
          ? s.records.length
          : body.ShardIteratorType === 'TRIM_HORIZON'
            ? 0
            : s.records.findIndex((r) => r.dynamodb!.SequenceNumber === body.SequenceNumber) + 1;
      return { status: 200, json: { ShardIterator: `${s.id}|${at}` } };
    }
    if (operation === 'GetRecords') {
      const [id, at] = String(body.ShardIterator).split('|') as [string, string];
      const s = this.shards.find((x) => x.id === id)!;
      const records = s.records.slice(Number(at));
      const next = Number(at) + records.length;
      const drainedAndClosed = s.closed && next >= s.records.length;
      return { status: 200, json: { Records: records, ...(drainedAndClosed ? {} : { NextShardIterator: `${id}|${next}` }) } };
    }
    return { status: 400, json: { __type: 'UnknownOperationException' } };
  };
}

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

const waitFor = async (ok: () => boolean, what: string, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const start = async (stream: FakeStream, log: string[] = []) => {
  const seen: DynamoDBRecord[] = [];
  const poller = new StreamPoller({
    call: stream.call,
    streamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-01-01T00:00:00.000',
    region: 'us-east-1',
    consumers: [{ name: 'send-notices', batchSize: 10, matches: () => true, invoke: async (e) => void seen.push(...e.Records) }],
    log: (l) => log.push(l),
    pollMs: 10,
  });
  pollers.push(poller);
  await poller.start();
  const pks = () => seen.map((r) => r.dynamodb!.NewImage!.pk!.S);
  return { seen, pks };
};

describe('StreamPoller', () => {
  test('starts at LATEST: records written before start are not delivered, later ones are, with the real region and ARN', async () => {
    // Prepare
    const stream = new FakeStream();
    const open = stream.shard('s1');
    stream.put(open, 'before');

    // Act
    const { seen, pks } = await start(stream);
    stream.put(open, 'after');

    // Assess
    await waitFor(() => pks().includes('after'), 'the record written after start');
    expect(pks()).toEqual(['after']);
    expect(seen[0]).toMatchObject({
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000',
    });
  });

  test('a shard that closes is drained, then its child is read from its first record, in order', async () => {
    // Prepare
    const stream = new FakeStream();
    const parent = stream.shard('s1');
    const { pks } = await start(stream);

    // Act: records in the parent, the parent closes, the child gets records
    stream.put(parent, 'p1');
    stream.put(parent, 'p2');
    parent.closed = true;
    const child = stream.shard('s2', 's1');
    stream.put(child, 'c1');
    stream.put(child, 'c2');

    // Assess
    await waitFor(() => pks().length >= 4, 'four records');
    expect(pks()).toEqual(['p1', 'p2', 'c1', 'c2']);
  });

  test('shards closed before start are not replayed; a shard created later is read from its start', async () => {
    const stream = new FakeStream();
    const old = stream.shard('s0');
    stream.put(old, 'old');
    old.closed = true;
    const { pks } = await start(stream);
    const later = stream.shard('s9');
    stream.put(later, 'new');
    await waitFor(() => pks().includes('new'), 'the record of the new shard');
    expect(pks()).toEqual(['new']);
  });

  test('a failing Streams call is logged once and polling goes on', async () => {
    const stream = new FakeStream();
    const shard = stream.shard('s1');
    const log: string[] = [];
    const { pks } = await start(stream, log);
    stream.failNext = 5;
    stream.put(shard, 'x');
    await waitFor(() => pks().includes('x'), 'the record after the failures');
    expect(log).toEqual(['stream poller: GetRecords answered 500 InternalServerError']);
  });
});
