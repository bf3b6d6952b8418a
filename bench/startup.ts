/**
 * Startup benchmark of the local runtime (measures, asserts nothing):
 *   tsx bench/startup.ts [runs=5]  →  bench/results/startup.json
 *
 * One warm-up run (not counted), then each run is a fresh Node process (cold module loading, as with `npm start`), which starts the
 * runtime on free ports, waits for `GET /api/health` = 200, pushes one intake through to the
 * evaluation gate (handlers, workflow, DynamoDB, SES all exercised), then stops. Reported per run:
 * - callToHealthyMs: startRuntime() call → first 200 from /api/health
 * - processToHealthyMs: process start → first 200 (includes loading the runtime's modules)
 * - peakRssMb: peak of (Node RSS + DynamoDB Local JVM RSS), sampled every 25 ms, and each process's
 *   own high-water mark (VmHWM)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

interface RunResult {
  callToHealthyMs: number;
  processToHealthyMs: number;
  peakRssMb: number;
  nodeHwmMb: number;
  javaHwmMb: number;
  flowMs: number;
  /** CPU time spent until healthy: load-independent, unlike the wall-clock times */
  nodeCpuMsToHealthy: number;
  javaCpuMsToHealthy: number;
  /** 1-minute load average when the run started (the machine may be shared) */
  loadAvgAtStart: number;
}

const statusKb = async (pid: number | 'self', field: 'VmRSS' | 'VmHWM'): Promise<number> => {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
};

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** utime + stime of a process, in ms (Linux clock ticks are 10 ms) */
const cpuMsOf = async (pid: number): Promise<number> => {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
};

/** one measured run, inside its own process */
const child = async (): Promise<void> => {
  const { startRuntime } = await import('../local/runtime');
  const { TestApi } = await import('../test/support/api');
  const { intakeBody } = await import('../test/support/fixtures');

  let javaPid = 0;
  let peakKb = 0;
  const sampler = setInterval(() => {
    void Promise.all([statusKb('self', 'VmRSS'), javaPid ? statusKb(javaPid, 'VmRSS') : Promise.resolve(0)]).then(([n, j]) => {
      peakKb = Math.max(peakKb, n + j);
    });
  }, 25);

  const loadAtStart = loadavg()[0]!;
  const tCall = performance.now();
  const rt = await startRuntime({ port: 0, mailPort: 0, quiet: true });
  javaPid = rt.dynamoPid;
  for (;;) {
    const res = await fetch(`${rt.appUrl}/api/health`);
    await res.arrayBuffer();
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const healthy = performance.now();
  const cpu = process.cpuUsage();
  const nodeCpuMsToHealthy = Math.round((cpu.user + cpu.system) / 1000);
  const javaCpuMsToHealthy = await cpuMsOf(javaPid);

  const api = new TestApi(rt.appUrl, rt.mailUrl);
  const created = await api.intake(intakeBody());
  await api.waitForGate((created.json as { referralId: string }).referralId, 'evaluation');
  await api.waitForEmails('alex@example.org', 1);
  const flowMs = Math.round(performance.now() - healthy);
  await new Promise((r) => setTimeout(r, 100)); // a last sample
  clearInterval(sampler);

  const result: RunResult = {
    callToHealthyMs: Math.round(healthy - tCall),
    processToHealthyMs: Math.round(healthy), // performance.now() counts from process start
    peakRssMb: mb(peakKb),
    nodeHwmMb: mb(await statusKb('self', 'VmHWM')),
    javaHwmMb: mb(await statusKb(javaPid, 'VmHWM')),
    flowMs,
    nodeCpuMsToHealthy,
    javaCpuMsToHealthy,
    loadAvgAtStart: Math.round(loadAtStart * 100) / 100,
  };
  await rt.stop();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 10) / 10;
};

const runOnce = (): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', SELF, '--child'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.on('error', reject);
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`run failed (exit ${code}):\n${out}`));
      resolve(JSON.parse(line.slice('RESULT '.length)) as RunResult);
    });
  });

const parent = async (): Promise<void> => {
  const runs = Number(process.argv[2] ?? 5);
  // not counted: after a fresh install it records DynamoDB Local's class-data archive (see local/runtime.ts)
  const warmup = await runOnce();
  process.stdout.write(`warm-up run (not counted): healthy ${warmup.callToHealthyMs} ms after startRuntime()\n`);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnce();
    results.push(r);
    process.stdout.write(
      `run ${i + 1}/${runs}: healthy ${r.callToHealthyMs} ms after startRuntime() (${r.processToHealthyMs} ms after process start), ` +
        `CPU node ${r.nodeCpuMsToHealthy} ms + JVM ${r.javaCpuMsToHealthy} ms, peak RSS ${r.peakRssMb} MB, load ${r.loadAvgAtStart}\n`,
    );
  }
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const java = `${version.stderr ?? ''}${version.stdout ?? ''}`.split('\n')[0]?.trim() || 'unknown';
  const summary = {
    benchmark: 'local runtime startup',
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
    runs,
    median: {
      callToHealthyMs: median(results.map((r) => r.callToHealthyMs)),
      processToHealthyMs: median(results.map((r) => r.processToHealthyMs)),
      peakRssMb: median(results.map((r) => r.peakRssMb)),
      nodeCpuMsToHealthy: median(results.map((r) => r.nodeCpuMsToHealthy)),
      javaCpuMsToHealthy: median(results.map((r) => r.javaCpuMsToHealthy)),
      loadAvgAtStart: median(results.map((r) => r.loadAvgAtStart)),
    },
    max: {
      callToHealthyMs: Math.max(...results.map((r) => r.callToHealthyMs)),
      peakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
    },
    notes: [
      'peakRssMb: the highest sampled sum of the Node process and the DynamoDB Local JVM, up to one intake reaching the evaluation gate',
      'each run is a fresh process; the machine may be shared with other work (see loadAvgAtStart): wall-clock times vary with it, CPU times much less',
      'a warm-up run comes first and is not counted: the very first start after an install records the class-data archive of DynamoDB Local (~1 s slower, and a ~3 s stop, once)',
    ],
    java,
    warmupRun: warmup,
    results,
  };
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(ROOT, 'bench', 'results', 'startup.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(
    `median: healthy ${summary.median.callToHealthyMs} ms after startRuntime(), ${summary.median.processToHealthyMs} ms after process start; peak RSS ${summary.median.peakRssMb} MB (Node + JVM)\n` +
      'written to bench/results/startup.json\n',
  );
};

if (process.argv.includes('--child')) {
  child().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
} else {
  parent().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  });
}
