/**
 * Intake under load: autocannon against POST /api/referrals (a distinct body and idempotency key
 * per request) at fixed rates and at saturation, and in the same run a bare node:http server doing
 * one PutItem per request on the same DynamoDB Local (a table of its own). Each server runs in its
 * own process (bench/load-server.ts); the load generator runs here. The saturated run of the
 * system is profiled (V8 sampling profiler of the server's main thread → .cpuprofile).
 *
 * Fixed rates use autocannon's overallRate with its coordinated-omission correction (a late
 * request counts from when it should have been sent). CPU time of the server process, the
 * DynamoDB Local JVM, this process and the whole machine is read from /proc for each phase.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { intakeBody } from '../test/support/fixtures';
import { summariseProfile, type ProfileSummary } from './lib/profile';
import { cpuMs, machineCpuMs, progress, round, sleep } from './lib/util';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Server {
  child: ChildProcess;
  url: string;
  info: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: the load generator's JSON answers, read field by field
  ask: (cmd: string, extra?: Record<string, unknown>) => Promise<any>;
}

const startServer = (args: string[]): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = fork(join(HERE, 'load-server.ts'), args, {
      execArgv: ['--import', 'tsx', '--no-warnings'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    let seq = 0;
    const pending = new Map<number, (v: unknown) => void>();
    child.on('message', (m: { id: number; value: unknown }) => pending.get(m.id)?.(m.value));
    const ask = (cmd: string, extra: Record<string, unknown> = {}) =>
      new Promise((r) => {
        const id = ++seq;
        pending.set(id, r);
        child.send({ id, cmd, ...extra });
      });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        const info = JSON.parse(line.slice(6)) as Record<string, unknown>;
        resolve({ child, url: info.url as string, info, ask });
      }
    });
    child.on('exit', (code) => reject(new Error(`load server ${args[0]} exited (${code})`)));
  });

let serial = 0;
/** a distinct intake: its own name, email and member ID; the idempotency key is set per request */
const nextBody = (): string => {
  const i = ++serial;
  return JSON.stringify(
    intakeBody({
      lastName: `Load${i}`,
      patient: { email: `load.${i}@example.org` } as never,
      insurance: { type: 'commercial', payer: 'Acme Health', memberId: `M${2_000_000 + i}` } as never,
    }),
  );
};

/** the one request of every phase: POST /api/referrals, each with a body and an Idempotency-Key of its own */
const intakeRequests = (): NonNullable<Parameters<typeof autocannon>[0]['requests']> => [
  {
    method: 'POST',
    path: '/api/referrals',
    setupRequest: (req) => ({
      ...req,
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: nextBody(),
    }),
  },
];

/** a warm-up at 5 req/s, not reported: the handlers' first requests, JIT */
const warmUp = (server: Server, seconds: number) =>
  autocannon({ url: server.url, connections: 2, duration: seconds, overallRate: 5, requests: intakeRequests() });

export interface PhaseResult {
  phase: string;
  target: 'system' | 'system-http-only' | 'baseline';
  rate: number | 'saturation';
  connections: number;
  seconds: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  cpu: {
    serverMs: number;
    jvmMs: number;
    loadGeneratorMs: number;
    machineBusyMs: number;
    otherMs: number;
    serverMsPerRequest: number;
    jvmMsPerRequest: number;
    coresBusy: number;
  };
}

const load = async (
  server: Server,
  jvmPid: number,
  target: PhaseResult['target'],
  phase: string,
  rate: number | 'saturation',
  seconds: number,
  connections: number,
): Promise<PhaseResult> => {
  const c0 = {
    server: (await server.ask('cpu')) as number,
    jvm: await cpuMs(jvmPid),
    me: process.cpuUsage(),
    machine: await machineCpuMs(),
  };
  const t0 = performance.now();
  const result = await autocannon({
    url: server.url,
    connections: rate === 'saturation' ? connections : Math.max(2, Math.min(connections, Math.ceil(rate / 2))),
    duration: seconds,
    ...(rate === 'saturation' ? {} : { overallRate: rate }),
    timeout: 30,
    requests: intakeRequests(),
  });
  const elapsed = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(c0.me);
  const serverMs = ((await server.ask('cpu')) as number) - c0.server;
  const jvmMs = (await cpuMs(jvmPid)) - c0.jvm;
  const m = await machineCpuMs();
  const machineBusyMs = m.busy - c0.machine.busy;
  const loadGeneratorMs = Math.round((me.user + me.system) / 1000);
  const ok = result.requests.total - result.non2xx;
  const r: PhaseResult = {
    phase,
    target,
    rate,
    connections: result.connections,
    seconds: round(elapsed, 1),
    requests: result.requests.total,
    reqPerSec: round(ok / elapsed, 1),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpu: {
      serverMs,
      jvmMs,
      loadGeneratorMs,
      machineBusyMs,
      otherMs: Math.max(0, machineBusyMs - serverMs - jvmMs - loadGeneratorMs),
      serverMsPerRequest: round(serverMs / Math.max(1, ok), 2),
      jvmMsPerRequest: round(jvmMs / Math.max(1, ok), 2),
      coresBusy: round(machineBusyMs / 1000 / elapsed, 2),
    },
  };
  progress(
    `intake ${target} ${phase}: ${r.reqPerSec} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (${r.non2xx} non-2xx, ${r.errors} errors; server ${r.cpu.serverMsPerRequest} + JVM ${r.cpu.jvmMsPerRequest} ms CPU a request)`,
  );
  return r;
};

/** waits until the server's backlog (workflow tasks, notices) is done: its CPU under 10% for 2 s */
const drain = async (server: Server, jvmPid: number, maxSeconds: number): Promise<{ seconds: number; serverMs: number; jvmMs: number }> => {
  const t0 = performance.now();
  const s0 = (await server.ask('cpu')) as number;
  const j0 = await cpuMs(jvmPid);
  let quiet = 0;
  let last = s0;
  while (quiet < 2 && performance.now() - t0 < maxSeconds * 1000) {
    await sleep(1000);
    const now = (await server.ask('cpu')) as number;
    quiet = now - last < 100 ? quiet + 1 : 0;
    last = now;
  }
  return { seconds: round((performance.now() - t0) / 1000 - 2, 1), serverMs: last - s0, jvmMs: (await cpuMs(jvmPid)) - j0 };
};

export interface IntakeLoadOptions {
  quick: boolean;
  /** where the saturated run's .cpuprofile goes */
  profileFile: string;
}

export const runIntakeLoad = async (opts: IntakeLoadOptions) => {
  const fixedSeconds = opts.quick ? 5 : 60;
  const satSeconds = opts.quick ? 5 : 30;
  const connections = 8;
  progress('intake: starting the local runtime (its own process)');
  const system = await startServer(['system']);
  const jvmPid = system.info.dynamoPid as number;
  const phases: PhaseResult[] = [];
  let profile: ProfileSummary | undefined;
  let drained: Awaited<ReturnType<typeof drain>> | undefined;
  let baselineServer: Server | undefined;
  try {
    await warmUp(system, opts.quick ? 2 : 5);
    await drain(system, jvmPid, 30);
    for (const rate of [1, 5, 20]) {
      progress(`intake system: ${rate} req/s for ${fixedSeconds} s`);
      phases.push(await load(system, jvmPid, 'system', `${rate}/s`, rate, fixedSeconds, connections));
      await drain(system, jvmPid, 60);
    }
    progress(`intake system: saturation, ${connections} connections for ${satSeconds} s, profiled`);
    await system.ask('profile-start');
    phases.push(await load(system, jvmPid, 'system', 'saturation', 'saturation', satSeconds, connections));
    progress('intake system: the workflow backlog after the load (tasks, notices)…');
    drained = await drain(system, jvmPid, 180);
    await system.ask('profile-stop', { file: opts.profileFile });
    profile = summariseProfile(opts.profileFile);
    progress(
      `intake system: backlog done ${drained.seconds} s after the load; top costs: ${profile.groups
        .slice(0, 4)
        .map((g) => `${g.group} ${g.pctOfBusy}%`)
        .join(', ')}`,
    );

    progress('intake baseline: bare node:http + one PutItem on the same DynamoDB Local');
    baselineServer = await startServer(['baseline', system.info.dynamoUrl as string, 'bench-baseline']);
    await autocannon({
      url: baselineServer.url,
      connections: 2,
      duration: 2,
      requests: [{ method: 'POST', path: '/api/referrals', body: nextBody() }],
    });
    if (!opts.quick) phases.push(await load(baselineServer, jvmPid, 'baseline', '20/s', 20, fixedSeconds, connections));
    phases.push(await load(baselineServer, jvmPid, 'baseline', 'saturation', 'saturation', satSeconds, connections));
  } finally {
    if (baselineServer) await baselineServer.ask('stop');
    await system.ask('stop');
  }
  // the same saturation with the workflow's tasks and the emails held: what the HTTP path alone sustains
  progress('intake system, HTTP path only (workflow tasks and emails held): saturation');
  const httpOnly = await startServer(['system-http-only']);
  try {
    await warmUp(httpOnly, opts.quick ? 2 : 5);
    phases.push(
      await load(httpOnly, httpOnly.info.dynamoPid as number, 'system-http-only', 'saturation', 'saturation', satSeconds, connections),
    );
  } finally {
    await httpOnly.ask('stop');
  }
  const sys = (p: string) => phases.find((x) => x.target === 'system' && x.phase === p)!;
  const base = (p: string) => phases.find((x) => x.target === 'baseline' && x.phase === p);
  const sat = sys('saturation');
  const bsat = base('saturation')!;
  const hsat = phases.find((x) => x.target === 'system-http-only' && x.phase === 'saturation');
  const perRequestCpu = sat.cpu.serverMsPerRequest + sat.cpu.jvmMsPerRequest;
  const backlogCpuPerRequest = drained ? round((drained.serverMs + drained.jvmMs) / Math.max(1, sat.requests), 2) : 0;
  return {
    connections,
    fixedSeconds,
    saturationSeconds: satSeconds,
    phases,
    ratios: {
      saturationReqPerSecVsBaseline: round(sat.reqPerSec / bsat.reqPerSec, 3),
      saturationP50VsBaseline: round(sat.p50Ms / bsat.p50Ms, 1),
      p99At20VsBaselineAt20: base('20/s') ? round(sys('20/s').p99Ms / base('20/s')!.p99Ms, 1) : null,
      httpPathOnlyReqPerSecVsBaseline: hsat ? round(hsat.reqPerSec / bsat.reqPerSec, 3) : null,
      /** share of the system's saturated throughput lost to the workflow's tasks and emails on the same cores */
      workflowShareOfCapacity: hsat ? round(1 - sat.reqPerSec / hsat.reqPerSec, 2) : null,
      /** the same from CPU (robust to other work on the machine): 1 − HTTP-path CPU ÷ (CPU during + after the load), per intake */
      workflowShareOfCpuPerIntake: hsat
        ? round(1 - (hsat.cpu.serverMsPerRequest + hsat.cpu.jvmMsPerRequest) / (perRequestCpu + backlogCpuPerRequest), 2)
        : null,
      serverPlusJvmCpuPerRequestVsBaseline: round(perRequestCpu / (bsat.cpu.serverMsPerRequest + bsat.cpu.jvmMsPerRequest), 1),
    },
    goals: {
      p99At20Ms: { goal: 50, measured: sys('20/s').p99Ms, met: sys('20/s').p99Ms <= 50 },
      saturationShareOfBaseline: {
        goal: 0.25,
        measured: round(sat.reqPerSec / bsat.reqPerSec, 3),
        met: sat.reqPerSec / bsat.reqPerSec >= 0.25,
      },
    },
    bound: {
      /** CPU (server process + JVM) spent per accepted intake while the load ran, and after it for the workflow's backlog */
      cpuMsPerIntakeDuringLoad: round(perRequestCpu, 2),
      cpuMsPerIntakeAfterLoad: backlogCpuPerRequest,
      backlogSeconds: drained?.seconds ?? null,
      coresBusyAtSaturation: sat.cpu.coresBusy,
      loadGeneratorCpuShare: round(sat.cpu.loadGeneratorMs / Math.max(1, sat.cpu.machineBusyMs), 2),
      otherWorkOnMachineShare: round(sat.cpu.otherMs / Math.max(1, sat.cpu.machineBusyMs), 2),
    },
    profile,
  };
};

export type IntakeLoadResult = Awaited<ReturnType<typeof runIntakeLoad>>;
