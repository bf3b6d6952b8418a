import { afterEach, describe, expect, test } from '@jest/globals';
import { MIN_INTERVAL_MS, Schedule } from '../../../local/triggers/schedule';

// the local emulation of an EventBridge Scheduler rate

const schedules: Schedule[] = [];
afterEach(async () => {
  await Promise.all(schedules.splice(0).map((s) => s.stop()));
});

const waitFor = async (ok: () => boolean, what: string, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const make = (
  everySeconds: number,
  timeScale: number,
  invoke: (e: unknown) => Promise<unknown>,
  log: (l: string) => void = () => undefined,
) => {
  const s = new Schedule({ name: 'sweep', everySeconds, timeScale, region: 'us-east-1', accountId: '000000000000', invoke, log });
  schedules.push(s);
  return s;
};

describe('Schedule', () => {
  test('the interval is everySeconds / timeScale, never under 0.5 s', () => {
    expect(make(60, 1, async () => null).intervalMs).toBe(60_000);
    expect(make(60, 60, async () => null).intervalMs).toBe(1000);
    expect(make(60, 3600, async () => null).intervalMs).toBe(MIN_INTERVAL_MS);
  });

  test('runs once as soon as it starts, without waiting for its rate', async () => {
    // Prepare: an hourly rate
    let runs = 0;
    const s = make(3600, 1, async () => ++runs);

    // Act
    s.start();

    // Assess: the run can only be the start-up one
    await waitFor(() => runs === 1, 'the start-up run');
  });

  test('then runs on its rate, never two runs at once', async () => {
    // Prepare: each run takes a while; the rate is the 0.5 s floor
    let running = 0;
    let overlap = false;
    let runs = 0;
    const s = make(1, 1000, async () => {
      overlap ||= running > 0;
      running++;
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return ++runs;
    });

    // Act
    s.start();

    // Assess
    await waitFor(() => runs >= 3, 'two scheduled runs');
    expect(overlap).toBe(false);
  });

  test('runNow waits for a run in flight, then runs and resolves with the result or rejects with the error', async () => {
    // Prepare
    const events: Array<Record<string, unknown>> = [];
    let fail = false;
    const s = make(3600, 1, async (e) => {
      events.push(e as Record<string, unknown>);
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw Object.assign(new Error('nope'), { name: 'SweepFailed' });
      return events.length;
    });
    s.start();

    // Act
    const result = await s.runNow();
    fail = true;
    const failure = s.runNow();

    // Assess
    expect(result).toBe(2);
    await expect(failure).rejects.toMatchObject({ name: 'SweepFailed' });
    expect(events[1]).toMatchObject({
      source: 'aws.scheduler',
      'detail-type': 'Scheduled Event',
      detail: {},
      resources: ['arn:aws:scheduler:us-east-1:000000000000:schedule/default/sweep'],
    });
  });

  test('a failing scheduled run is logged by error name and does not stop the schedule', async () => {
    const lines: string[] = [];
    let runs = 0;
    const s = make(
      1,
      1000,
      async () => {
        runs++;
        throw Object.assign(new Error('patient Alex Rivera'), { name: 'SweepFailed' });
      },
      (l) => lines.push(l),
    );
    s.start();
    await waitFor(() => runs >= 2, 'a second run');
    expect(lines[0]).toBe('schedule → sweep: failed (SweepFailed)');
    expect(lines.join('\n')).not.toContain('Alex');
  });
});
