import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMail } from '../../local/mail';
import { prng } from '../../local/prng';
import { type ChildRuntime, dynamoChildrenOf, isRunning, killHard, processGroup, startChildRuntime, waitUntil } from './child-runtime';
import { Fleet, type FleetFigures } from './referral-fleet';

// Issue 12 item 4: a fleet of referrals (./referral-fleet.ts) driven to their ends while the local
// runtime, started with --persist, is killed with SIGKILL — its whole process group, DynamoDB Local's
// JVM included — at random moments, and started again on the same data each time. Every referral must
// reach its end, every email must arrive exactly once, and no process may outlive a kill or the last
// (graceful) stop. The emails go to an SES emulator in the test's own process (./crash-child.ts): the
// runtime's own mailbox would die with it.

export interface CrashRunOptions {
  referrals: number;
  kills: number;
  seed: number;
  /** how long the fleet works before each kill: a random time in [min, max] ms */
  killAfterMs: [number, number];
  /** how long the fleet may take to finish after the last restart */
  finishMs: number;
  log?: (line: string) => void;
}

export interface CrashRunResult {
  problems: string[];
  figures: FleetFigures;
  kills: Array<{ afterMs: number; stored: number; atEnd: number; waiting: number; jvms: number; runningAfterRestart: number }>;
  seconds: number;
}

export const runCrashes = async (options: CrashRunOptions): Promise<CrashRunResult> => {
  const log = options.log ?? (() => undefined);
  const random = prng(options.seed);
  const t0 = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'iop-crash-run-'));
  const sink = await startMail(0);
  const env = {
    CRASH_MAIL_SINK: sink.url,
    // a minute of workflow time per second: retries and the sweep (every second) fast, SLA timers far off
    TIME_SCALE: '60',
    // what a crash strands (an intake whose start was lost, a decision not handed over) is restarted after 3 s
    STRANDED_AFTER_SECONDS: '3',
    NOTICE_RETRY_BASE_SECONDS: '0.2',
    NOTICE_RETRY_MAX_SECONDS: '0.5',
    // a notice whose sender was killed mid-send is taken over after 5 s (default 120 s)
    NOTICE_LEASE_SECONDS: '5',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  const start = async (): Promise<ChildRuntime> => {
    const rt = await startChildRuntime(['--data-dir', dataDir], env, 90_000, 'test/soak/crash-child.ts');
    started.push(rt);
    return rt;
  };
  const started: ChildRuntime[] = [];
  const targetOf = (rt: ChildRuntime) => ({
    appUrl: rt.appUrl,
    mailUrl: sink.url,
    dynamoUrl: rt.dynamoUrl,
    sfnUrl: /Step Functions\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(rt.output())?.[1],
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:referral',
  });
  const kills: CrashRunResult['kills'] = [];
  let rt: ChildRuntime;
  try {
    rt = await start();
  } catch (error) {
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // intakes arrive over most of the time the kills take (restarts of ~4 s included), and a case
  // worker takes a moment at each gate: every kill finds referrals arriving, waiting, being decided
  // and being told
  const killing = options.kills * ((options.killAfterMs[0] + options.killAfterMs[1]) / 2 + 4000);
  const fleet = new Fleet(targetOf(rt), options.seed, { arrivalSpreadMs: Math.round(killing * 0.8), thinkMs: [200, 2500] });
  try {
    const members = fleet.plan(options.referrals);
    const enrolments = members.filter((m) => m.journey.endsWith('enrol')).length;
    await fleet.addCohorts(Math.ceil(enrolments / 10) + 1, 10);

    for (let k = 0; k < options.kills; k++) {
      const [min, max] = options.killAfterMs;
      const afterMs = Math.round(min + random() * (max - min));
      // the fleet keeps working through the kill: requests in flight then fail and are tried again
      const working = fleet.work(Date.now() + afterMs + 300);
      await new Promise((r) => setTimeout(r, afterMs));
      const stored = fleet.members.filter((m) => m.referralId).length;
      const atEnd = fleet.members.filter((m) => m.done).length;
      const waiting = fleet.members.filter((m) => !m.done && m.last?.pendingStep).length;
      const { jvms } = await killHard(rt);
      await working;
      rt = await start();
      fleet.retarget(targetOf(rt));
      const runningAfterRestart = Number(/Workflows\s+(\d+) running/.exec(rt.output())?.[1] ?? -1);
      kills.push({ afterMs, stored, atEnd, waiting, jvms: jvms.length, runningAfterRestart });
      log(
        `kill ${k + 1} after ${afterMs} ms: ${stored} intakes stored, ${waiting} at a gate, ${atEnd} at their end; restarted with ${runningAfterRestart} workflows running`,
      );
    }

    // the last start: finish, wait for the outbox, check everything
    await fleet.submit(fleet.members, Date.now() + options.finishMs);
    await fleet.drive({ resume: true, deadline: Date.now() + options.finishMs });
    const notices = await fleet.settleOutbox(Date.now() + options.finishMs);
    const { problems, figures } = await fleet.verify(notices);

    // no orphan: a graceful stop leaves nothing of the last runtime either
    const jvms = dynamoChildrenOf(rt.pid);
    process.kill(rt.pid, 'SIGTERM');
    await rt.exited;
    await waitUntil(
      () => jvms.every((p) => !isRunning(p)) && processGroup(rt.pid).length === 0,
      'the last runtime to stop with everything it started',
    );
    return { problems, figures, kills, seconds: Math.round((Date.now() - t0) / 1000) };
  } finally {
    fleet.close();
    for (const c of started) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

export const describeCrashRun = (r: CrashRunResult, seed: number): string => {
  const f = r.figures;
  return [
    `crash run (seed ${seed}): ${f.referrals} referrals, ${r.kills.length} kill -9 in ${r.seconds} s`,
    ...r.kills.map(
      (k, i) =>
        `  kill ${i + 1} after ${k.afterMs} ms: ${k.stored} intakes stored, ${k.waiting} at a gate, ${k.atEnd} at their end, ${k.jvms} JVM gone with it; ${k.runningAfterRestart} workflows running after the restart`,
    ),
    `  journeys ${JSON.stringify(f.byJourney)}; ends ${JSON.stringify(f.ends)}`,
    `  ${f.decisions} decisions, ${f.withdrawals} withdrawals, ${f.resumes} resumes; API answers retried ${JSON.stringify(f.retriedAnswers)}`,
    `  closed referrals whose execution still waits at a gate for its timer (the workflow call after the closing change was killed): ${f.waitingForTimer.length}${f.waitingForTimer.length ? ` (${f.waitingForTimer.join('; ')})` : ''}`,
    `  ${f.notices} notices sent, ${f.emails} emails: ${f.repeated.length} sent twice, their sender killed between SES taking them and the outbox marking them sent (${f.lostClaims.length} claims lost to a kill${f.lostClaims.length ? `: ${f.lostClaims.slice(0, 6).join(', ')}` : ''}); ${f.retriedSends} failed sends retried; problems: ${r.problems.length}`,
  ].join('\n');
};
