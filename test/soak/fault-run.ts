import { startRuntime, type Runtime } from '../../local/runtime';
import type { FaultSpec, FaultStats } from '../../local/faults';
import { Fleet, type FleetFigures, type Journey } from './referral-fleet';

// Issue 12 item 3: referrals driven to their ends while the local runtime's fault switch
// (local/faults.ts) fails and delays the workflow's functions, DynamoDB and SES; then the faults
// stop, and Resume brings every referral that needed attention to its end. Shared by
// test/int/faults.int.test.ts (a few dozen referrals) and test/soak/faults.soak.test.ts (200).

/** "20 % failures and delays": each target fails a fifth of its calls and holds up another fifth */
export const TWENTY_PERCENT = (seed: number): FaultSpec => ({
  seed,
  // half of the failed invocations do their work first (FIS preventExecution=false), half never run
  lambda: { errorPercent: 20, preventExecutionPercent: 50, delayPercent: 20, delayMs: [20, 1500] },
  dynamodb: { errorPercent: 20, delayPercent: 20, delayMs: [5, 250] },
  ses: { errorPercent: 20, delayPercent: 20, delayMs: [20, 500] },
});

export interface FaultRunOptions {
  referrals: number;
  seed: number;
  faults?: FaultSpec;
  /** seats: cohorts of `capacity` until every enrolment has one (a few more fill up on the way) */
  capacity?: number;
  journeys?: readonly Journey[];
  /** how long the referrals may take under faults, and to finish after them (ms) */
  faultPhaseMs: number;
  finishPhaseMs: number;
  log?: (line: string) => void;
}

export interface FaultRunResult {
  problems: string[];
  figures: FleetFigures;
  injected: FaultStats;
  seconds: { faults: number; finish: number; total: number };
}

export const runFaults = async (options: FaultRunOptions): Promise<FaultRunResult> => {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const faults = options.faults ?? TWENTY_PERCENT(options.seed);
  const rt: Runtime = await startRuntime({
    port: 0,
    mailPort: 0,
    quiet: true,
    // retries and sweeps 100× faster; the gates' SLA timers (24 h and more) stay far out of reach
    timeScale: 100,
    faults,
    env: {
      // sweep restarts a referral left at a gate status with no gate open after 3 s (default 120 s),
      // and retries a failed send after ~1 s: recovery within the test's time
      STRANDED_AFTER_SECONDS: '3',
      NOTICE_RETRY_BASE_SECONDS: '0.2',
      NOTICE_RETRY_MAX_SECONDS: '0.5',
      // a notice whose sender failed midway (its table write failed for good) is taken over after
      // 10 s (default 120 s): longer than any send here takes, delays and SDK retries included
      NOTICE_LEASE_SECONDS: '10',
      // the injected failures are the point: the handlers' warnings would bury the test's own output
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  });
  const fleet = new Fleet(
    {
      appUrl: rt.appUrl,
      mailUrl: rt.mailUrl,
      dynamoUrl: rt.dynamoUrl,
      sfnUrl: rt.sfnUrl,
      stateMachineArn: rt.stateMachineArn,
      tableName: rt.tableName,
    },
    options.seed,
  );
  try {
    const members = fleet.plan(options.referrals, options.journeys);
    const enrolments = members.filter((m) => m.journey.endsWith('enrol')).length;
    const capacity = options.capacity ?? 10;
    await fleet.addCohorts(Math.max(1, Math.ceil(enrolments / capacity)) + 1, capacity);

    // under faults: every referral ends, or needs attention with the reason; none stuck
    await fleet.submit(members, Date.now() + options.faultPhaseMs);
    await fleet.drive({ resume: false, deadline: t0 + options.faultPhaseMs });
    const t1 = Date.now();
    log(
      `fault phase: ${Math.round((t1 - t0) / 1000)} s, ${fleet.members.filter((m) => m.last?.status === 'NEEDS_ATTENTION').length} need attention`,
    );

    // the faults stop: Resume brings every NEEDS_ATTENTION to its end; the outbox empties
    rt.faults!.set(undefined);
    await fleet.drive({ resume: true, deadline: t1 + options.finishPhaseMs });
    log(`every referral at its end after ${Math.round((Date.now() - t1) / 1000)} s`);
    const notices = await fleet.settleOutbox(t1 + options.finishPhaseMs);
    const { problems, figures } = await fleet.verify(notices);
    // nothing is killed here: no email may go out twice, not even in the outbox's at-least-once window
    if (figures.repeated.length) problems.push(`emails sent twice: ${figures.repeated.join('; ')}`);
    const t2 = Date.now();
    return {
      problems,
      figures,
      injected: rt.faults!.stats(),
      seconds: { faults: Math.round((t1 - t0) / 1000), finish: Math.round((t2 - t1) / 1000), total: Math.round((t2 - t0) / 1000) },
    };
  } finally {
    fleet.close();
    await rt.stop();
  }
};

/** the run in a few lines, for the test's output and docs/RELIABILITY.md */
export const describeRun = (r: FaultRunResult, seed: number): string => {
  const f = r.figures;
  const i = r.injected;
  return [
    `fault run (seed ${seed}): ${f.referrals} referrals in ${r.seconds.total} s (${r.seconds.faults} s under faults, ${r.seconds.finish} s to finish)`,
    `  injected: functions ${i.lambda.errors} errors (${i.lambda.errorsAfterRun} after running) and ${i.lambda.delays} delays in ${i.lambda.invocations} invocations; DynamoDB ${i.dynamodb.errors} errors, ${i.dynamodb.delays} delays in ${i.dynamodb.requests} requests; SES ${i.ses.errors} errors, ${i.ses.delays} delays in ${i.ses.requests} requests`,
    `  journeys ${JSON.stringify(f.byJourney)}; ends ${JSON.stringify(f.ends)}`,
    `  needed attention: ${f.neededAttention} referrals (${JSON.stringify(f.reasons)}; ${f.recordedTwice} recorded again by a retried RecordFailure), ${f.stops} stops: ${f.resumes} resumed, ${f.withdrawnWhileStopped} withdrawn; API answers retried ${JSON.stringify(f.retriedAnswers)}; cohort full ${f.cohortFull}×`,
    `  ${f.decisions} decisions, ${f.withdrawals} withdrawals, ${f.notices} notices sent = ${f.emails} emails (${f.retriedSends} failed sends retried; ${f.lostClaims.length} claims lost midway${f.lostClaims.length ? `: ${f.lostClaims.slice(0, 5).join(', ')}` : ''}; ${f.repeated.length} sent twice); ${f.rounds} rounds; problems: ${r.problems.length}`,
  ].join('\n');
};
