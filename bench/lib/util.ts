import { readFile } from 'node:fs/promises';

// small helpers shared by the benchmark parts (measure, never assert)

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const median = (xs: number[]): number => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** VmRSS of a process in MB (0 when it is gone) */
export const rssMb = async (pid: number | 'self'): Promise<number> => {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    return round(Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
};

/** utime + stime of a process, ms (Linux: 100 ticks a second) */
export const cpuMs = async (pid: number | 'self'): Promise<number> => {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
};

/** the machine's busy CPU time (all cores, all processes), ms: what else ran besides us */
export const machineCpuMs = async (): Promise<{ busy: number; total: number }> => {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) * 10, total: total * 10 };
};

/** progress lines on stderr, each with the time since the run started */
const t0 = performance.now();
export const progress = (line: string): void => {
  const s = Math.round((performance.now() - t0) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`);
};

/** runs `fn` over `items` with at most `limit` at a time */
export const pool = async <T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
};

/** a counting semaphore */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
  get busy(): number {
    return this.active + this.waiting.length;
  }
}
