/**
 * Start-up as a person meets it: `npm start` (free ports) from the command to the first 200 from
 * GET /api/health, in a fresh process tree each run (npm, the web build, tsx, the runtime, the
 * DynamoDB Local JVM); the median of `runs` after one warm-up run that is not counted (the first
 * start after an install records DynamoDB Local's class cache). Also the runtime's own figure
 * ("ready in … s", from its process start). And `npm test`'s wall time, once, when asked.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, progress, round, sleep } from './lib/util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface StartRun {
  commandToHealthyMs: number;
  runtimeReportedMs: number | null;
  loadAvgAtStart: number;
}

const once = (): Promise<StartRun> =>
  new Promise((resolve, reject) => {
    const load = loadavg()[0]!;
    const t0 = performance.now();
    const child = spawn('npm', ['start', '--', '--port', '0', '--mail-port', '0'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '', MAIL_PORT: '' },
    });
    let out = '';
    let settled = false;
    const finish = async (err?: Error, result?: StartRun) => {
      if (settled) return;
      settled = true;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      // wait for the tree (and the JVM) to go before the next run
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      await sleep(500);
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = setTimeout(() => void finish(new Error(`npm start not healthy after 60 s:\n${out.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const url = /Intake form\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      if (!url || settled) return;
      void (async () => {
        for (;;) {
          const res = await fetch(`${url}/api/health`).catch(() => undefined);
          await res?.arrayBuffer();
          if (res?.status === 200) break;
          await sleep(10);
        }
        const ms = Math.round(performance.now() - t0);
        clearTimeout(timer);
        const reported = /ready in ([\d.]+) s/.exec(out)?.[1];
        await finish(undefined, {
          commandToHealthyMs: ms,
          runtimeReportedMs: reported ? Math.round(Number(reported) * 1000) : null,
          loadAvgAtStart: round(load, 2),
        });
      })();
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('exit', (code) => {
      if (!settled) {
        clearTimeout(timer);
        void finish(new Error(`npm start exited (${code}) before healthy:\n${out.slice(-2000)}`));
      }
    });
  });

export const runStartup = async (opts: { runs: number }) => {
  const warmup = await once();
  progress(`start-up: warm-up run (not counted) ${warmup.commandToHealthyMs} ms`);
  const runs: StartRun[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const r = await once();
    runs.push(r);
    progress(
      `start-up run ${i + 1}/${opts.runs}: npm start → healthy ${r.commandToHealthyMs} ms (runtime says ${r.runtimeReportedMs} ms from its process start), load ${r.loadAvgAtStart}`,
    );
  }
  const med = median(runs.map((r) => r.commandToHealthyMs));
  return {
    runs,
    medianCommandToHealthyMs: med,
    medianRuntimeReportedMs: median(runs.map((r) => r.runtimeReportedMs ?? Number.NaN)),
    goal: { ms: 5000, met: med <= 5000 },
    cpus: cpus().length,
  };
};

export type StartupResult = Awaited<ReturnType<typeof runStartup>>;

/** `npm test` wall time, once (type check, web build, the four jest projects) */
export const runTestTime = async () => {
  progress('npm test: running the whole suite once (a few minutes)…');
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npm', ['test'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const seconds = round((performance.now() - t0) / 1000, 1);
  progress(`npm test: ${seconds} s, exit ${code}`);
  return { seconds, exitCode: code, goal: { seconds: 180, met: seconds <= 180 }, loadAvgAfter: round(loadavg()[0]!, 2) };
};

export type TestTimeResult = Awaited<ReturnType<typeof runTestTime>>;
