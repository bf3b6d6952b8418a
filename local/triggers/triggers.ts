/**
 * The catalog's `triggers` (functions/catalog.ts `Trigger`), emulated with the event shapes AWS uses:
 * `table-stream` by one StreamPoller on the table's stream, `schedule` by one Schedule per function.
 * Functions without a handler are skipped by the caller (the runtime warns about them).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { FunctionSpec } from '../../functions/catalog';
import { dynamoCall } from '../dynamo-api';
import { compileFilter } from './filter';
import { Schedule } from './schedule';
import { StreamPoller, type StreamConsumer } from './stream';

export interface TriggerOptions {
  /** catalog functions that have a handler */
  functions: readonly FunctionSpec[];
  invoke: (name: string, event: unknown) => Promise<unknown>;
  dynamoUrl: string;
  /** the table's stream; required when a function has a table-stream trigger */
  streamArn?: string;
  timeScale: number;
  region: string;
  accountId: string;
  log: (line: string) => void;
}

export interface Triggers {
  /** starts the schedules: each runs once now, then on its rate */
  startSchedules(): void;
  /** runs a scheduled function now (after a run in flight) and resolves with its result */
  runScheduled(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

/** compiles every trigger (a bad filter throws here), and starts reading the stream from LATEST */
export const startTriggers = async (options: TriggerOptions): Promise<Triggers> => {
  const consumers: StreamConsumer[] = [];
  const schedules = new Map<string, Schedule>();
  for (const spec of options.functions) {
    for (const trigger of spec.triggers ?? []) {
      if (trigger.kind === 'table-stream') {
        const matches = compileFilter(trigger.filter);
        consumers.push({
          name: spec.name,
          batchSize: trigger.batchSize,
          matches: (record: DynamoDBRecord) => matches(record),
          invoke: (event) => options.invoke(spec.name, event),
        });
      } else {
        schedules.set(
          spec.name,
          new Schedule({
            name: spec.name,
            everySeconds: trigger.everySeconds,
            timeScale: options.timeScale,
            region: options.region,
            accountId: options.accountId,
            invoke: (event) => options.invoke(spec.name, event),
            log: options.log,
          }),
        );
      }
    }
  }
  let poller: StreamPoller | undefined;
  if (consumers.length) {
    const streamArn = options.streamArn;
    if (!streamArn)
      throw new Error(
        `${consumers.map((c) => c.name).join(', ')}: a table-stream trigger needs the table's stream (tableDefinition.stream)`,
      );
    poller = new StreamPoller({
      call: (operation, body) => dynamoCall(options.dynamoUrl, operation, body, 'streams', options.region),
      streamArn,
      region: options.region,
      consumers,
      log: options.log,
    });
    await poller.start();
  }
  let started = false;
  return {
    startSchedules: () => {
      if (started) return;
      started = true;
      for (const s of schedules.values()) s.start();
    },
    runScheduled: (name) => {
      const schedule = schedules.get(name);
      if (!schedule) return Promise.reject(new Error(`no scheduled function ${name} (no schedule trigger, or no handler)`));
      return schedule.runNow();
    },
    stop: async () => {
      await Promise.all([poller?.stop(), ...[...schedules.values()].map((s) => s.stop())]);
    },
  };
};
