/** Timers that accept any duration: Node's setTimeout fires after 1 ms for delays above 2^31-1 ms. */

const MAX_DELAY_MS = 2 ** 31 - 1;

export interface Cancellable {
  cancel(): void;
}

/**
 * Calls `fn` once `ms` milliseconds have passed, re-arming in chunks of at most 2^31-1 ms so long
 * durations (100 days, 3 years) neither overflow nor fire early. `cancel()` is idempotent.
 */
export class LongTimer implements Cancellable {
  private handle: ReturnType<typeof setTimeout> | undefined;
  private readonly deadline: number;
  private cancelled = false;

  constructor(
    ms: number,
    private readonly fn: () => void,
  ) {
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : MAX_DELAY_MS;
    this.deadline = Date.now() + delay;
    this.arm(delay);
  }

  private arm(delay: number): void {
    this.handle = setTimeout(() => this.tick(), Math.min(Math.max(0, delay), MAX_DELAY_MS));
  }

  private tick(): void {
    if (this.cancelled) return;
    const left = this.deadline - Date.now();
    if (left > 0) {
      this.arm(left);
      return;
    }
    this.cancelled = true;
    this.handle = undefined;
    this.fn();
  }

  cancel(): void {
    this.cancelled = true;
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }
}

/** Resolves after the pending microtasks and I/O callbacks of this turn (the interpreter's event stream is microtask-driven). */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
