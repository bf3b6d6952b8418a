/**
 * The catalog's `schedule` triggers: an EventBridge Scheduler rate, emulated as a ScheduledEvent every
 * `everySeconds / timeScale` seconds (never more often than every 0.5 s), plus one run as soon as the
 * runtime is ready. Runs of one schedule never overlap: a tick that finds a run in flight is skipped.
 * `runNow()` (tests) waits for a run in flight, then runs once more and returns what the handler did.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

export const MIN_INTERVAL_MS = 500;

export interface ScheduleOptions {
  /** the function's name (schedule name and logs) */
  name: string;
  everySeconds: number;
  timeScale: number;
  region: string;
  accountId: string;
  invoke: (event: ScheduledEvent) => Promise<unknown>;
  log: (line: string) => void;
}

export class Schedule {
  readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<unknown>;
  private stopped = false;

  constructor(private readonly options: ScheduleOptions) {
    if (!(options.everySeconds > 0)) throw new Error(`schedule of ${options.name}: everySeconds must be positive`);
    this.intervalMs = Math.max(MIN_INTERVAL_MS, (options.everySeconds * 1000) / options.timeScale);
  }

  /** the first run now, then one per interval */
  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  /** runs the function now (after a run in flight) and resolves with its result, or rejects with its error */
  async runNow(): Promise<unknown> {
    if (this.stopped) throw new Error(`schedule of ${this.options.name} is stopped`);
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    return this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.inFlight?.catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    try {
      await this.run();
    } catch (error) {
      this.options.log(`schedule → ${this.options.name}: failed (${(error as Error)?.name ?? 'Error'})`);
    }
  }

  private run(): Promise<unknown> {
    const { name, region, accountId } = this.options;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      account: accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:scheduler:${region}:${accountId}:schedule/default/${name}`],
      detail: {},
    };
    const run = this.options.invoke(event);
    const tracked = run.finally(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    this.inFlight = tracked;
    return tracked;
  }
}
