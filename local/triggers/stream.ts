/**
 * The table's DynamoDB stream as Lambda's event source mapping delivers it, for the catalog's
 * `table-stream` triggers: DynamoDB Local's stream is polled (DynamoDB Streams API, every ~100 ms),
 * records are turned into the Lambda event shape, filtered per consumer, and handed over in batches
 * of at most `batchSize` as a `DynamoDBStreamEvent`.
 *
 * - Start: every shard open at start is read from LATEST, so what was written before start is not
 *   replayed (a scheduled sweep picks up what was left pending). Shards that appear later (DynamoDB
 *   rolls shards over) are read from TRIM_HORIZON, each after its parent is drained.
 * - One batch at a time per consumer, in stream order. A batch whose invocation throws is retried
 *   (backoff) a few times, then dropped with a log line; `{ batchItemFailures }` re-queues just those
 *   records (by sequence number) for a later batch, a few times. An identifier that is not in the
 *   batch fails the whole batch, as on AWS.
 * - Log lines carry function names, counts and error names only (records may hold PHI).
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type DynamoAnswer, errorCode } from '../dynamo-api';

export interface StreamConsumer {
  /** the function's name (for logs) */
  name: string;
  matches: (record: DynamoDBRecord) => boolean;
  batchSize: number;
  invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
}

export interface StreamPollerOptions {
  /** one DynamoDB Streams call (operation, body) */
  call: (operation: string, body: object) => Promise<DynamoAnswer>;
  streamArn: string;
  /** region written into the records and their eventSourceARN */
  region: string;
  consumers: StreamConsumer[];
  log: (line: string) => void;
  /** default 100 */
  pollMs?: number;
  /** retries of a failed batch / of a reported record; default 3 */
  retries?: number;
  /** first retry delay, doubled each time; default 200 */
  backoffMs?: number;
}

interface ShardState {
  id: string;
  parent?: string;
  iterator?: string;
  lastSequence?: string;
}

interface Queued {
  record: DynamoDBRecord;
  /** failed deliveries so far */
  failures: number;
  notBefore: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class Delivery {
  private queue: Queued[] = [];
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  stopped = false;

  constructor(
    private readonly consumer: StreamConsumer,
    private readonly retries: number,
    private readonly backoffMs: number,
    private readonly log: (line: string) => void,
  ) {}

  push(records: DynamoDBRecord[]): void {
    const now = Date.now();
    for (const record of records) if (this.consumer.matches(record)) this.queue.push({ record, failures: 0, notBefore: now });
    this.kick();
  }

  /** resolves once the batch in flight (if any) is done */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private kick(): void {
    if (this.running || this.stopped || this.queue.length === 0) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      this.armForLater();
    });
  }

  /** re-queued records wait for their time */
  private armForLater(): void {
    clearTimeout(this.timer);
    if (this.stopped || this.queue.length === 0) return;
    const wait = Math.max(0, Math.min(...this.queue.map((q) => q.notBefore)) - Date.now());
    this.timer = setTimeout(() => this.kick(), wait);
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const now = Date.now();
      const batch = this.queue.filter((q) => q.notBefore <= now).slice(0, this.consumer.batchSize);
      if (batch.length === 0) return;
      this.queue = this.queue.filter((q) => !batch.includes(q));
      await this.deliver(batch);
    }
  }

  private async deliver(batch: Queued[]): Promise<void> {
    const name = this.consumer.name;
    for (let attempt = 0; ; attempt++) {
      let result: unknown;
      try {
        result = await this.consumer.invoke({ Records: batch.map((q) => q.record) });
      } catch (error) {
        if (attempt < this.retries && !this.stopped) {
          await sleep(this.backoffMs * 2 ** attempt);
          continue;
        }
        this.log(
          `stream → ${name}: a batch of ${batch.length} failed ${attempt + 1} times (${(error as Error)?.name ?? 'Error'}); dropped`,
        );
        return;
      }
      const failed = failuresOf(result, batch);
      if (failed === 'all') {
        if (attempt < this.retries && !this.stopped) {
          await sleep(this.backoffMs * 2 ** attempt);
          continue;
        }
        this.log(`stream → ${name}: a batch of ${batch.length} reported an unknown item ${attempt + 1} times; dropped`);
        return;
      }
      for (const q of failed) {
        q.failures++;
        if (q.failures > this.retries) {
          this.log(`stream → ${name}: a record failed ${q.failures} times; dropped`);
          continue;
        }
        q.notBefore = Date.now() + this.backoffMs * 2 ** (q.failures - 1);
        this.queue.push(q);
      }
      return;
    }
  }
}

/** the records a handler reported as failed; 'all' when it named something not in the batch */
const failuresOf = (result: unknown, batch: Queued[]): Queued[] | 'all' => {
  const reported = (result as Partial<DynamoDBBatchResponse> | null)?.batchItemFailures;
  if (!Array.isArray(reported) || reported.length === 0) return [];
  const bySequence = new Map(batch.map((q) => [q.record.dynamodb?.SequenceNumber, q]));
  const failed = new Set<Queued>();
  for (const item of reported) {
    const q = bySequence.get((item as { itemIdentifier?: string } | null)?.itemIdentifier);
    if (!q) return 'all';
    failed.add(q);
  }
  return batch.filter((q) => failed.has(q));
};

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  /** shards seen (read, or closed before start) */
  private readonly known = new Set<string>();
  private readonly deliveries: Delivery[];
  private readonly eventSourceArn: string;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private ticks = 0;
  private stopped = false;
  private lastError = '';

  constructor(private readonly options: StreamPollerOptions) {
    const retries = options.retries ?? 3;
    const backoffMs = options.backoffMs ?? 200;
    this.deliveries = options.consumers.map((c) => new Delivery(c, retries, backoffMs, options.log));
    // DynamoDB Local names its region "ddblocal"; Lambda's records carry the real one
    this.eventSourceArn = options.streamArn.replace(/^arn:aws:dynamodb:[^:]*:/, `arn:aws:dynamodb:${options.region}:`);
  }

  /** reads every open shard from LATEST; resolves once nothing written from now on can be missed */
  async start(): Promise<void> {
    for (const shard of await this.listShards()) {
      this.known.add(shard.ShardId);
      if (shard.SequenceNumberRange?.EndingSequenceNumber) continue; // closed: its records are old
      const state: ShardState = { id: shard.ShardId, parent: shard.ParentShardId };
      state.iterator = await this.iterator(state.id, 'LATEST');
      this.shards.set(state.id, state);
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all(this.deliveries.map((d) => d.drain()));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.options.pollMs ?? 100);
  }

  private async poll(): Promise<void> {
    try {
      // new shards about once a second, and at once when one closed
      let closed = false;
      for (const shard of [...this.shards.values()]) {
        if (this.stopped) return;
        closed = (await this.read(shard)) || closed;
      }
      if (closed || ++this.ticks % 10 === 0) await this.discover();
      this.lastError = '';
    } catch (error) {
      // DynamoDB Local going away at stop, or a hiccup: try again next tick, say so once
      const text = (error as Error)?.message ?? String(error);
      if (!this.stopped && text !== this.lastError) this.options.log(`stream poller: ${text}`);
      this.lastError = text;
    }
  }

  /** one GetRecords on a shard; true when the shard is closed and drained */
  private async read(shard: ShardState): Promise<boolean> {
    if (!shard.iterator) {
      shard.iterator = shard.lastSequence
        ? await this.iterator(shard.id, 'AFTER_SEQUENCE_NUMBER', shard.lastSequence)
        : await this.iterator(shard.id, 'TRIM_HORIZON');
    }
    const answer = await this.options.call('GetRecords', { ShardIterator: shard.iterator, Limit: 1000 });
    if (answer.status !== 200) {
      const code = errorCode(answer);
      if (code === 'ExpiredIteratorException' || code === 'TrimmedDataAccessException') {
        shard.iterator = undefined; // fetched again next tick
        if (code === 'TrimmedDataAccessException') shard.lastSequence = undefined;
        return false;
      }
      if (code === 'ResourceNotFoundException') {
        this.shards.delete(shard.id);
        return true;
      }
      throw new Error(`GetRecords answered ${answer.status} ${code}`);
    }
    const records = (answer.json.Records as DynamoDBRecord[] | undefined) ?? [];
    if (records.length) {
      shard.lastSequence = records.at(-1)!.dynamodb?.SequenceNumber;
      const shaped = records.map((r) => this.shape(r));
      for (const d of this.deliveries) d.push(shaped);
    }
    const next = answer.json.NextShardIterator as string | undefined;
    if (!next) {
      this.shards.delete(shard.id);
      return true;
    }
    shard.iterator = next;
    return false;
  }

  /** shards that appeared since: read from their start, once their parent is drained */
  private async discover(): Promise<void> {
    for (const shard of await this.listShards()) {
      if (this.known.has(shard.ShardId)) continue;
      if (shard.ParentShardId && this.shards.has(shard.ParentShardId)) continue; // parent still being read
      this.known.add(shard.ShardId);
      this.shards.set(shard.ShardId, { id: shard.ShardId, parent: shard.ParentShardId });
    }
  }

  private async listShards(): Promise<
    Array<{ ShardId: string; ParentShardId?: string; SequenceNumberRange?: { EndingSequenceNumber?: string } }>
  > {
    const shards: Array<{ ShardId: string; ParentShardId?: string; SequenceNumberRange?: { EndingSequenceNumber?: string } }> = [];
    let start: string | undefined;
    do {
      const answer = await this.options.call('DescribeStream', {
        StreamArn: this.options.streamArn,
        ...(start ? { ExclusiveStartShardId: start } : {}),
      });
      if (answer.status !== 200) throw new Error(`DescribeStream answered ${answer.status} ${errorCode(answer)}`);
      const description = answer.json.StreamDescription as { Shards?: typeof shards; LastEvaluatedShardId?: string } | undefined;
      shards.push(...(description?.Shards ?? []));
      start = description?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async iterator(shardId: string, type: 'LATEST' | 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER', sequence?: string): Promise<string> {
    const answer = await this.options.call('GetShardIterator', {
      StreamArn: this.options.streamArn,
      ShardId: shardId,
      ShardIteratorType: type,
      ...(sequence ? { SequenceNumber: sequence } : {}),
    });
    const iterator = answer.json.ShardIterator;
    if (answer.status !== 200 || typeof iterator !== 'string')
      throw new Error(`GetShardIterator answered ${answer.status} ${errorCode(answer)}`);
    return iterator;
  }

  /** a record as Lambda hands it over: the real region and the stream's ARN */
  private shape(record: DynamoDBRecord): DynamoDBRecord {
    return { ...record, awsRegion: this.options.region, eventSource: 'aws:dynamodb', eventSourceARN: this.eventSourceArn };
  }
}
