import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { Deps } from '../../functions/lib/adapters';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import { PayerSimulator } from '../../functions/lib/adapters/payer-simulator';
import type { Actor, ReferralRepository, Workflow } from '../../functions/lib/adapters/ports';
import { config } from '../../functions/lib/config';
import type { Route } from '../../functions/lib/domain/workflow';
import { ConflictError } from '../../functions/lib/errors';
import { tableDefinition } from '../../functions/lib/keys';
import { createCohort } from '../../functions/lib/services/views';
import { decideStep, submitIntake, withdraw } from '../../functions/lib/services/referrals';
import { checkInsurance, openGate } from '../../functions/lib/services/workflow-tasks';
import { IntakeSchema } from '../../functions/lib/schemas/intake';
import { cohortBody, EVAL_ACCEPT, intakeBody } from '../support/fixtures';

// Races explored with fast-check's scheduler (issue 12 item 2). The application services of
// functions/lib/services run in this process against DynamoDB Local (the real conditional writes),
// and every repository call of the racing requests waits for the scheduler: fast-check chooses which
// request's next read or write goes first, one at a time, each running to completion before the next
// is released. So a run is one interleaving of the requests' read-decide-write steps, and a failure
// prints it (and its seed). The workflow port is a model of Step Functions' task tokens: each token
// resumes once; a second SendTaskSuccess fails as AWS's does.
//
// Properties:
// - seats: k enrolments at once into a cohort of c < k seats → exactly c succeed, the rest are
//   CohortFull; the counter and the roster say c;
// - one gate, everything at once: the gate opening (or already open), the same decision twice, and
//   0–2 withdrawals → at most one decision (exactly one without a withdrawal), at most one withdrawal
//   succeeds (exactly one when any is sent), the status follows, every notice is true (an acceptance
//   only if the decision committed, closing notices only with the withdrawal) and the workflow is
//   resumed exactly once with the decision when no withdrawal came.

const SYSTEM: Actor = { kind: 'system' };
const STAFF: Actor = { kind: 'staff', username: 'casey', sub: 'casey-sub' };

/** Step Functions' task tokens as the services see them: a token resumes once */
class TokenModel implements Workflow {
  readonly resumed: Array<{ token: string; route: Route }> = [];
  readonly stopped: string[] = [];
  readonly started: string[] = [];
  private readonly used = new Set<string>();
  async start(referralId: string): Promise<'started' | 'exists'> {
    this.started.push(referralId);
    return 'started';
  }
  async resume(token: string, route: Route): Promise<void> {
    if (this.used.has(token)) throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
    this.used.add(token);
    this.resumed.push({ token, route });
  }
  async stop(execution: string): Promise<void> {
    this.stopped.push(execution);
  }
  async running(): Promise<boolean> {
    return true;
  }
  async ping(): Promise<void> {}
}

export interface RaceTarget {
  /** the runtime's DynamoDB Local: the races get a table of their own there, so sweep never sees their referrals */
  dynamoUrl: string;
}

/** a table like the runtime's (tableDefinition), without a stream, for one property; dropped afterwards */
const raceTable = async (target: RaceTarget) => {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: target.dynamoUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const d = tableDefinition;
  const name = `iop-races-${randomUUID().slice(0, 8)}`;
  const keyNames = [...new Set([d.partitionKey, d.sortKey, ...d.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])])];
  const schema = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keyNames.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: schema(d.partitionKey, d.sortKey),
      GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
        IndexName: g.indexName,
        KeySchema: schema(g.partitionKey, g.sortKey),
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  return {
    repo: new DynamoDbReferralRepository(client, name),
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
      client.destroy();
    },
  };
};

/** the repository with every call held until fast-check's scheduler releases it, one call at a time */
class Held {
  inflight = 0;
  /** every referral version the racers saved, in order */
  readonly saved: Array<Parameters<ReferralRepository['save']>[0]> = [];
  constructor(private readonly s: fc.Scheduler) {}
  wrap(repo: ReferralRepository): ReferralRepository {
    return new Proxy(repo, {
      get: (target, prop) => {
        const value = (target as unknown as Record<PropertyKey, unknown>)[prop];
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await this.s.schedule(
            Promise.resolve(),
            `${String(prop)}(${args.map((a) => (typeof a === 'string' ? a.slice(0, 8) : typeof a)).join(', ')})`,
          );
          this.inflight++;
          try {
            const out = await (value as (...a: unknown[]) => unknown).apply(target, args);
            if (prop === 'save') this.saved.push(args[0] as Parameters<ReferralRepository['save']>[0]);
            return out;
          } finally {
            this.inflight--;
          }
        };
      },
    }) as ReferralRepository;
  }

  /** releases held calls one at a time until every racer has settled */
  async run<T>(racers: Array<() => Promise<T>>): Promise<Array<PromiseSettledResult<T>>> {
    let done = false;
    const all = Promise.allSettled(racers.map((r) => r())).finally(() => {
      done = true;
    });
    while (!done) {
      if (this.inflight === 0 && this.s.count() > 0) {
        await this.s.waitNext(1);
        // let the released call start (and count itself in flight) before choosing the next
        await new Promise((r) => setImmediate(r));
      } else {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    return all;
  }
}

const deps = (repo: ReferralRepository, workflow: Workflow): Deps => ({
  config: config(),
  repo,
  workflow,
  eligibility: new PayerSimulator(),
  now: () => new Date(),
  mailer: {
    send: async () => {
      throw new Error('the races send no email');
    },
  },
});

/** a referral at its evaluation gate, its gate opened (token `tok`) or still opening */
const atEvaluation = async (d: Deps, open: boolean) => {
  const intake = IntakeSchema.parse(intakeBody({ patient: { email: `pt.${randomUUID().slice(0, 8)}@example.org` } as never }));
  const { response } = await submitIntake(d, intake, { channel: 'web', actor: { kind: 'patient' } });
  const referralId = response.referralId;
  await checkInsurance(d, referralId);
  const token = `tok-${randomUUID()}`;
  if (open) await openGate(d, { referralId, status: 'EVALUATION', taskToken: token, timeoutSeconds: 3600 });
  return { referralId, token };
};

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'fulfilled'
    ? 'ok'
    : r.reason instanceof ConflictError
      ? r.reason.code
      : `${(r.reason as Error).name}: ${(r.reason as Error).message}`;

export interface RaceOptions {
  numRuns: number;
  seed?: number;
}

/** property: k enrolments at once into c < k seats → exactly c */
export const seatRace = async (target: RaceTarget, options: RaceOptions): Promise<void> => {
  const { repo, drop } = await raceTable(target);
  try {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 4 }), async (s, capacity, extra) => {
        // Prepare: k referrals at their enrolment gate, a cohort of `capacity`
        const model = new TokenModel();
        const plain = deps(repo, model);
        const cohort = await createCohort(plain, cohortBody({ capacity, name: `Race ${randomUUID().slice(0, 8)}` }) as never, SYSTEM);
        const ids = await Promise.all(
          Array.from({ length: capacity + extra }, async () => {
            const { referralId } = await atEvaluation(plain, true);
            await decideStep(plain, referralId, 'evaluation', EVAL_ACCEPT, STAFF);
            await openGate(plain, { referralId, status: 'ENROLLMENT', taskToken: `enrol-${referralId}`, timeoutSeconds: 3600 });
            return referralId;
          }),
        );

        // Act: every enrolment at once, interleaved as the scheduler says
        const held = new Held(s);
        const raced = deps(held.wrap(repo), model);
        const results = await held.run(ids.map((id) => () => decideStep(raced, id, 'enrollment', { cohortId: cohort.cohortId }, STAFF)));

        // Assess
        const codes = results.map(codeOf);
        const roster = await repo.roster(cohort.cohortId);
        const stored = await repo.getCohort(cohort.cohortId);
        const winners = ids.filter((_, i) => codes[i] === 'ok').sort();
        const ok =
          codes.filter((c) => c === 'ok').length === capacity &&
          codes.every((c) => c === 'ok' || c === 'CohortFull') &&
          stored?.seats === capacity &&
          JSON.stringify(roster.map((x) => x.referralId).sort()) === JSON.stringify(winners);
        if (!ok)
          throw new Error(
            `capacity ${capacity}, ${ids.length} enrolments: ${codes.join(', ')}; counter ${stored?.seats}, roster ${roster.length}`,
          );
      }),
      { numRuns: options.numRuns, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
    );
  } finally {
    await drop();
  }
};

/** property: a gate opening or open, the same decision twice and 0–2 withdrawals at once → one consistent outcome, only true notices */
export const gateRace = async (target: RaceTarget, options: RaceOptions): Promise<Record<string, number>> => {
  const { repo, drop } = await raceTable(target);
  /** the outcomes the interleavings reached, to show the races were really run both ways */
  const seen: Record<string, number> = {};
  try {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.boolean(), fc.integer({ min: 0, max: 2 }), async (s, openBefore, withdrawals) => {
        // Prepare
        const model = new TokenModel();
        const { referralId, token } = await atEvaluation(deps(repo, model), openBefore);

        // Act: the gate opening (unless open already), two identical decisions, the withdrawals
        const held = new Held(s);
        const raced = deps(held.wrap(repo), model);
        const racers: Array<() => Promise<unknown>> = [
          ...(openBefore ? [] : [() => openGate(raced, { referralId, status: 'EVALUATION', taskToken: token, timeoutSeconds: 3600 })]),
          () => decideStep(raced, referralId, 'evaluation', EVAL_ACCEPT, STAFF),
          () => decideStep(raced, referralId, 'evaluation', EVAL_ACCEPT, { kind: 'staff', username: 'sam', sub: 'sam-sub' }),
          ...Array.from({ length: withdrawals }, () => () => withdraw(raced, referralId, 'Asked to stop', STAFF)),
        ];
        const results = await held.run(racers);

        // Assess
        const codes = results.map(codeOf);
        const gate = openBefore ? [] : codes.slice(0, 1);
        const decisions = codes.slice(gate.length, gate.length + 2);
        const withdrawn = codes.slice(gate.length + 2);
        const r = (await repo.get(referralId))!;
        const keys = (await repo.notices(referralId)).map((n) => n.key).sort();
        const events = await repo.events(referralId);
        const decided = decisions.filter((c) => c === 'ok').length;
        const problems: string[] = [];
        if (gate.length && !['ok', 'ReferralClosed: WITHDRAWN'].includes(gate[0]!) && !gate[0]!.startsWith('ReferralClosed'))
          problems.push(`the gate opening failed: ${gate[0]}`);
        if (decided > 1 || (withdrawals === 0 && decided !== 1)) problems.push(`${decided} decisions succeeded`);
        if (decisions.some((c) => c !== 'ok' && c !== 'NotPending')) problems.push(`a decision failed otherwise: ${decisions.join(', ')}`);
        if (withdrawals && withdrawn.filter((c) => c === 'ok').length !== 1) problems.push(`withdrawals: ${withdrawn.join(', ')}`);
        if (withdrawn.some((c) => c !== 'ok' && c !== 'AlreadyClosed'))
          problems.push(`a withdrawal failed otherwise: ${withdrawn.join(', ')}`);
        const status = withdrawals ? 'WITHDRAWN' : 'ENROLLMENT';
        if (r.status !== status) problems.push(`status ${r.status}, expected ${status}`);
        const expected = [
          'received:patient',
          'received:physician',
          ...(decided ? ['accepted:physician'] : []),
          ...(withdrawals ? ['closed:patient', 'closed:physician'] : []),
        ].sort();
        if (JSON.stringify(keys) !== JSON.stringify(expected)) problems.push(`notices ${keys.join(',')} ≠ ${expected.join(',')}`);
        if (events.filter((e) => e.type === 'STEP_DECIDED').length !== decided) problems.push('STEP_DECIDED events ≠ decisions');
        if (events.filter((e) => e.type === 'WITHDRAWN').length !== (withdrawals ? 1 : 0)) problems.push('WITHDRAWN events ≠ withdrawals');
        // the workflow: the decision handed over exactly once (by the decision, or by the gate as it opened)
        const resumes = model.resumed.filter((x) => x.token === token);
        if (!withdrawals && (resumes.length !== 1 || resumes[0]!.route.next !== 'ENROLLMENT'))
          problems.push(`resumed ${JSON.stringify(resumes)}`);
        if (withdrawals && resumes.length > 1) problems.push(`resumed ${resumes.length} times`);
        if (!withdrawals && (r.unapplied?.length ?? 0) > 0) problems.push(`a decision left unapplied: ${JSON.stringify(r.unapplied)}`);
        if (problems.length)
          throw new Error(
            `${openBefore ? 'open gate' : 'gate opening'}, ${withdrawals} withdrawal(s) → ${codes.join(', ')}: ${problems.join('; ')}`,
          );
        // the decision resumed the open gate itself (saved with its hand-over), or was saved as unapplied
        // while the gate opened and the gate applied it
        const atOpenGate = held.saved.some((x) => x.handover?.step === 'evaluation');
        const outcome = !decided
          ? 'withdrawn before any decision'
          : `decided ${atOpenGate ? 'at the open gate' : 'while the gate opened, applied by it'}${withdrawals ? ', then withdrawn' : ''}`;
        seen[outcome] = (seen[outcome] ?? 0) + 1;
      }),
      { numRuns: options.numRuns, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
    );
    return seen;
  } finally {
    await drop();
  }
};
