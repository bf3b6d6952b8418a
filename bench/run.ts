/**
 * `npm run bench` — where the time goes, against baselines run in the same run (issue 15).
 *
 *   npm run bench [-- --quick] [--n 10000] [--only intake,lifecycle,cost,cold,startup] [--tests] [--label name]
 *
 * 1 intake under load (autocannon; fixed rates and saturation; a bare node:http + PutItem baseline;
 *   the saturated run profiled), 2 lifecycle at scale (N referrals through every branch), 3 cost per
 *   1,000 referrals per branch from 2's counts and the template's fixed monthly cost, 4 cold start of
 *   every function, 5 `npm start` to healthy (and `npm test`'s wall time with --tests).
 * Progress goes to stderr; results to bench/results/<date>.json, charts beside it
 * (<date>-latency.svg, <date>-lifecycle.svg, <date>-memory.svg) and the table in bench/README.md.
 * Measures; asserts nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runColdStart, type ColdStartResult } from './cold-start';
import { runCost, type CostResult } from './cost';
import { runIntakeLoad, type IntakeLoadResult } from './intake-load';
import { runLifecycle, type LifecycleResult } from './lifecycle';
import { runStartup, runTestTime, type StartupResult, type TestTimeResult } from './startup';
import { PRICES_AS_OF } from './prices';
import { lineChart } from './lib/svg';
import { machineCpuMs, progress, round } from './lib/util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench', 'results');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    only: { type: 'string' },
    tests: { type: 'boolean', default: false },
    /** a side run: results/<date>-<label>.json and its charts; the README table is left alone */
    label: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (args.help) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--n 10000] [--only intake,lifecycle,cost,cold,startup] [--tests] [--label name]\n',
  );
  process.exit(0);
}
const parts = new Set((args.only ?? 'intake,lifecycle,cost,cold,startup').split(',').map((s) => s.trim()));
if (args.tests) parts.add('tests');
const quick = args.quick!;
const n = Number(args.n ?? (quick ? 40 : 1000));

interface Results {
  date: string;
  measuredAt: string;
  quick: boolean;
  machine: Record<string, unknown>;
  notes: string[];
  intake?: IntakeLoadResult;
  lifecycle?: Omit<LifecycleResult, 'rss' | 'throughput'> & { rss: Omit<LifecycleResult['rss'], 'samples'> };
  cost?: CostResult;
  coldStart?: ColdStartResult;
  startup?: StartupResult;
  testTime?: TestTimeResult;
  /** the machine's CPU not used by the benchmark's processes while it ran, as a share (other work) */
  machineBusyCores?: number;
}

const main = async () => {
  const now = new Date();
  const date = `${now.toISOString().slice(0, 10)}${args.label ? `-${args.label.replace(/[^\w.-]/g, '')}` : ''}`;
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${date}.json`);
  // parts not run this time keep their figures from an earlier run of the same day
  const earlier: Partial<Results> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Results>) : {};
  const results: Results = {
    ...earlier,
    date,
    measuredAt: now.toISOString(),
    quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAvgAtStart: round(loadavg()[0]!, 2),
    },
    notes: [
      'absolute times on a shared 2-core machine vary with what else runs: compare the ratios to the baselines measured in the same run',
      "latency percentiles are autocannon's, corrected for coordinated omission at fixed rates",
    ],
  };
  const m0 = await machineCpuMs();
  const t0 = performance.now();
  progress(`bench: ${[...parts].join(', ')}${quick ? ' (quick)' : ''}, lifecycle N=${n}; results → bench/results/${date}.json`);

  // profiles (~1 MB each) are kept out of the repository: open them in Chrome DevTools → Performance
  const profiles = join(ROOT, 'node_modules', '.cache', 'iop-bench');
  mkdirSync(profiles, { recursive: true });
  if (parts.has('intake')) {
    results.intake = await runIntakeLoad({ quick, profileFile: join(profiles, `${date}-intake-saturation.cpuprofile`) });
    writeFileSync(join(RESULTS, `${date}-latency.svg`), latencyChart(results.intake));
  }
  if (parts.has('lifecycle') || parts.has('cost')) {
    const lc = await runLifecycle({ n, profileFile: join(profiles, `${date}-lifecycle.cpuprofile`) });
    const { rss, throughput, ...rest } = lc;
    const { samples, ...rssSummary } = rss;
    results.lifecycle = { ...rest, rss: rssSummary };
    writeFileSync(join(RESULTS, `${date}-lifecycle.svg`), lifecycleChart(lc));
    writeFileSync(join(RESULTS, `${date}-memory.svg`), memoryChart(lc));
    writeFileSync(join(RESULTS, `${date}-lifecycle-samples.json`), `${JSON.stringify({ rss: samples, throughput })}\n`);
    progress("cost: pricing the lifecycle's counts; the fixed part from the synthesized template");
    results.cost = runCost(lc);
  }
  if (parts.has('cold')) results.coldStart = await runColdStart({ runs: quick ? 1 : 10 });
  if (parts.has('startup')) results.startup = await runStartup({ runs: quick ? 1 : 5 });
  if (parts.has('tests')) results.testTime = await runTestTime();

  const m1 = await machineCpuMs();
  results.machineBusyCores = round((m1.busy - m0.busy) / (performance.now() - t0), 2);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  if (!args.label) updateReadme(results);
  progress(`bench: done in ${round((performance.now() - t0) / 1000)} s → bench/results/${date}.json, bench/README.md`);
};

// ---- charts -----------------------------------------------------------------------------------

const latencyChart = (r: IntakeLoadResult) => {
  const sys = r.phases.filter((p) => p.target === 'system');
  const base = r.phases.filter((p) => p.target === 'baseline');
  const x = (p: (typeof sys)[number]) => (p.rate === 'saturation' ? p.reqPerSec : p.rate);
  return lineChart({
    title: 'Intake latency over load (POST /api/referrals)',
    xLabel: 'offered load, req/s (log; saturation: the rate achieved)',
    yLabel: 'latency, ms (log)',
    logY: true,
    logX: true,
    series: [
      { name: 'system p50', color: '#1f77b4', points: sys.map((p) => [x(p), p.p50Ms]) },
      { name: 'system p99', color: '#d62728', points: sys.map((p) => [x(p), p.p99Ms]) },
      { name: 'goal: p99 ≤ 50 ms at 20 req/s', color: '#999', markers: true, points: [[20, 50]] },
      {
        name: 'HTTP path only p50 / p99',
        color: '#9467bd',
        markers: true,
        points: r.phases
          .filter((p) => p.target === 'system-http-only')
          .flatMap(
            (p) =>
              [
                [p.reqPerSec, p.p50Ms],
                [p.reqPerSec, p.p99Ms],
              ] as Array<[number, number]>,
          ),
      },
      { name: 'baseline p50 (node:http + PutItem)', color: '#2ca02c', markers: true, points: base.map((p) => [x(p), p.p50Ms]) },
      { name: 'baseline p99', color: '#ff7f0e', markers: true, points: base.map((p) => [x(p), p.p99Ms]) },
    ],
  });
};

const lifecycleChart = (lc: LifecycleResult) =>
  lineChart({
    title: `Lifecycle: ${lc.n} referrals through the workflow`,
    xLabel: 'seconds since the first intake',
    yLabel: 'cumulative count',
    series: [
      { name: 'intakes submitted', color: '#1f77b4', points: lc.throughput.map((s) => [s.t, s.submitted]) },
      { name: 'staff decisions', color: '#ff7f0e', points: lc.throughput.map((s) => [s.t, s.decisions]) },
      { name: 'referrals closed by a decision', color: '#2ca02c', points: lc.throughput.map((s) => [s.t, s.done]) },
      { name: 'emails sent by the outbox', color: '#9467bd', dashed: true, points: lc.throughput.map((s) => [s.t, s.emails]) },
    ],
  });

const memoryChart = (lc: LifecycleResult) =>
  lineChart({
    title: `Memory during the lifecycle run (${lc.n} referrals)`,
    xLabel: 'seconds since the first intake',
    yLabel: 'RSS, MB',
    series: [
      { name: 'Node (runtime + driver)', color: '#1f77b4', points: lc.rss.samples.map((s) => [s.t, s.nodeMb]) },
      { name: 'DynamoDB Local JVM', color: '#ff7f0e', points: lc.rss.samples.map((s) => [s.t, s.jvmMb]) },
      { name: 'sum', color: '#555', dashed: true, points: lc.rss.samples.map((s) => [s.t, s.nodeMb + s.jvmMb]) },
    ],
  });

// ---- README table -----------------------------------------------------------------------------

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const updateReadme = (r: Results) => {
  const path = join(ROOT, 'bench', 'README.md');
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return;
  const yes = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**not met**');
  const rows: string[] = [
    `Run of ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (quick)' : ''}: ${r.machine.cpus} cores, Node ${r.machine.node}; results in [results/${r.date}.json](results/${r.date}.json).`,
    '',
    '| figure | measured | baseline / goal | ratio or verdict |',
    '|---|---:|---:|---|',
  ];
  const i = r.intake;
  if (i) {
    const p = (phase: string, target = 'system') => i.phases.find((x) => x.phase === phase && x.target === target);
    for (const phase of ['1/s', '5/s', '20/s']) {
      const x = p(phase);
      if (x)
        rows.push(
          `| intake at ${phase}: p50 / p99 | ${x.p50Ms} / ${x.p99Ms} ms (${x.reqPerSec} req/s) | ${phase === '20/s' ? `p99 ≤ 50 ms; baseline at 20/s: ${p('20/s', 'baseline') ? `${p('20/s', 'baseline')!.p50Ms} / ${p('20/s', 'baseline')!.p99Ms} ms` : 'not run'}` : ''} | ${phase === '20/s' ? yes(i.goals.p99At20Ms.met) : ''} |`,
        );
    }
    const s = p('saturation')!;
    const b = p('saturation', 'baseline')!;
    rows.push(
      `| intake at saturation (${i.connections} connections): req/s, p50 / p99 | ${s.reqPerSec} req/s, ${s.p50Ms} / ${s.p99Ms} ms | baseline ${b.reqPerSec} req/s, ${b.p50Ms} / ${b.p99Ms} ms; goal ≥ 25% | ${round(i.ratios.saturationReqPerSecVsBaseline * 100, 1)}% of the baseline: ${yes(i.goals.saturationShareOfBaseline.met)} |`,
    );
    const h = p('saturation', 'system-http-only');
    if (h)
      rows.push(
        `| intake at saturation, HTTP path only (workflow tasks and emails held) | ${h.reqPerSec} req/s, ${h.p50Ms} / ${h.p99Ms} ms | baseline ${b.reqPerSec} req/s | ${round((i.ratios.httpPathOnlyReqPerSecVsBaseline ?? 0) * 100, 1)}% of the baseline; the workflow's tasks and emails: ${round((i.ratios.workflowShareOfCpuPerIntake ?? 0) * 100)}% of the CPU per intake (${round((i.ratios.workflowShareOfCapacity ?? 0) * 100)}% of the saturated req/s) |`,
      );
    rows.push(
      `| CPU per intake (server + JVM) | ${i.bound.cpuMsPerIntakeDuringLoad} ms during the load + ${i.bound.cpuMsPerIntakeAfterLoad} ms after it (workflow backlog, ${i.bound.backlogSeconds} s) | baseline ${round(b.cpu.serverMsPerRequest + b.cpu.jvmMsPerRequest, 2)} ms | ${i.ratios.serverPlusJvmCpuPerRequestVsBaseline}× |`,
    );
    if (i.profile)
      rows.push(
        `| top costs at saturation (main thread, self time) | ${i.profile.groups
          .slice(0, 5)
          .map((g) => `${g.group} ${g.pctOfBusy}%`)
          .join('; ')} | | |`,
      );
  }
  const l = r.lifecycle;
  if (l) {
    rows.push(
      `| lifecycle: ${l.n} referrals, wall time | ${l.wallSeconds} s (${l.referralsPerSecond} referrals/s) | 10,000 in ≤ 300 s needs 33.3/s | ${l.referralsPerSecond >= 33.3 ? 'met' : `**not met**: 10,000 would take ~${Math.round(10_000 / l.referralsPerSecond / 60)} min`} |`,
    );
    rows.push(
      `| lifecycle: the outbox after the last referral was final | ${l.outboxAfterWall.emails} emails still to send, ${l.outboxAfterWall.seconds} s more | | |`,
    );
    rows.push(`| lifecycle: transitions / emails per referral (mix) | ${l.all.transitions} / ${l.all.emails} | | |`);
    rows.push(
      `| lifecycle: not in the expected final status | ${l.notInExpectedFinalStatus} | 0 | ${l.notInExpectedFinalStatus === 0 ? 'met' : '**not met**'} |`,
    );
    rows.push(
      `| lifecycle: RSS once warm (Node + JVM), min → max | ${l.rss.warmMinMb} → ${l.rss.warmMaxMb} MB (Node ${l.rss.nodeFirstWarmMb} → ${l.rss.nodeLastMb} MB) | flat | see the memory chart |`,
    );
    rows.push(`| lifecycle: CPU per referral | Node ${l.cpu.nodeMsPerReferral} ms + JVM ${l.cpu.jvmMsPerReferral} ms | | |`);
    if (l.profile)
      rows.push(
        `| lifecycle: top costs (Node main thread, self time) | ${l.profile.groups
          .slice(0, 6)
          .map((g) => `${g.group} ${g.pctOfBusy}%`)
          .join('; ')} | | |`,
      );
  }
  const c = r.cost;
  if (c) {
    const parts = (u: Record<string, number>) =>
      `Step Functions $${u.stepFunctions}, SES $${u.ses}, DynamoDB $${u.dynamodb}, Lambda $${u.lambda}, API $${u.api}, logs $${u.logs}`;
    rows.push(
      `| cost per 1,000 referrals (the run's mix), prices of ${c.pricesAsOf} | $${c.mix.usdPer1000.total}: ${parts(c.mix.usdPer1000)} | straightforward design $${c.straightforward.usdPer1000.total} (issue: ≈ $0.83): ${parts(c.straightforward.usdPer1000)} | ${round(c.mix.usdPer1000.total! / c.straightforward.usdPer1000.total!, 2)}× |`,
    );
    for (const [plan, b] of Object.entries(c.byBranch))
      rows.push(
        `| — branch ${plan} (→ ${b.final}) | $${b.usdPer1000.total} (${b.perReferral.stateTransitions} transitions, ${b.perReferral.emails} emails) | | |`,
      );
    rows.push(
      `| fixed monthly (template's resources) | $${c.fixedMonthly.totalUsd} | at 1,000 referrals a month: $${c.perMonth.at1000Referrals}; at 10,000: $${c.perMonth.at10000Referrals} | |`,
    );
  }
  const cs = r.coldStart;
  if (cs) {
    const ext = cs.rows.filter((x) => x.variant === 'sdk-external');
    const bun = cs.rows.filter((x) => x.variant === 'sdk-bundled');
    const range = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
    rows.push(
      `| cold start: bundle, SDK external | ${range(ext.map((x) => x.bundleKiB))} KiB | ≤ 150 KB | ${cs.goals.sdkExternalKiB.over.length ? `**not met** by ${cs.goals.sdkExternalKiB.over.length} of ${ext.length}` : 'met'} |`,
    );
    rows.push(
      `| cold start: import (median of ${cs.runs}), SDK external / bundled | ${range(ext.map((x) => x.importMs ?? Number.NaN))} / ${range(bun.map((x) => x.importMs ?? Number.NaN))} ms | ≤ 60 ms | ${cs.goals.importMs.overBundled.length ? `**not met** by ${cs.goals.importMs.overBundled.length} of ${bun.length} (bundled)` : 'met'} |`,
    );
    rows.push(`| cold start: first invoke, SDK bundled | ${range(bun.map((x) => x.firstInvokeMs ?? Number.NaN))} ms | | |`);
  }
  const su = r.startup;
  if (su)
    rows.push(
      `| \`npm start\` → healthy (median of ${su.runs.length}) | ${su.medianCommandToHealthyMs} ms (runtime's own: ${su.medianRuntimeReportedMs} ms) | ≤ 5,000 ms | ${yes(su.goal.met)} |`,
    );
  const tt = r.testTime;
  if (tt) rows.push(`| \`npm test\` wall time | ${tt.seconds} s (exit ${tt.exitCode}) | ≤ 180 s | ${yes(tt.goal.met)} |`);
  rows.push(
    '',
    `Charts: [latency over load](results/${r.date}-latency.svg), [lifecycle throughput](results/${r.date}-lifecycle.svg), [memory over time](results/${r.date}-memory.svg). Prices as of ${PRICES_AS_OF} (bench/prices.ts).`,
  );
  writeFileSync(path, `${text.slice(0, a + START.length)}\n${rows.join('\n')}\n${text.slice(b)}`);
};

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
