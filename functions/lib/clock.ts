/**
 * The one clock of the application: domain rules, schema date checks, services and adapters read
 * the time from here and nowhere else, so a test can pin it.
 *
 * - `now()` is the current instant (a Date).
 * - `pinClock(at)` makes the clock start at `at` and run on from there (real durations, a known
 *   date); `pinClock(at, { frozen: true })` stops it at `at`. `resetClock()` returns to real time.
 *
 * Runs in Lambda, in the local runtime and in the browser (the schemas are shared with the web apps):
 * no Node-only API here.
 */

type Source = () => number;

const real: Source = () => Date.now();
let source: Source = real;
let frozen = false;

/** the current instant */
export const now = (): Date => new Date(source());

/** the current instant in epoch milliseconds */
export const nowMs = (): number => source();

/** pins the clock at `at` (ISO string, epoch ms or Date); it runs on in real time unless frozen */
export const pinClock = (at: string | number | Date, options: { frozen?: boolean } = {}): void => {
  const pinned = new Date(at).getTime();
  if (Number.isNaN(pinned)) throw new Error(`pinClock: not a time: ${String(at)}`);
  frozen = options.frozen ?? false;
  if (frozen) {
    source = () => pinned;
    return;
  }
  const startedAt = real();
  source = () => pinned + (real() - startedAt);
};

/** moves a pinned clock by `ms` (e.g. to pass a deadline in a test) */
export const advanceClock = (ms: number): void => {
  pinClock(source() + ms, { frozen });
};

/** back to the real time */
export const resetClock = (): void => {
  source = real;
  frozen = false;
};
