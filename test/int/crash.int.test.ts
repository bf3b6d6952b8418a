import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbReferralRepository } from '../../functions/lib/adapters/dynamodb-repository';
import { startDynamoLocal } from '../../local/dynamodb/dynamodb-local';
import { startTransactionBarrier } from '../../local/durable-transactions';
import { freePort } from '../../local/net';
import { TestApi } from '../support/api';
import { cohortBody, intakeBody } from '../support/fixtures';
import { type ChildRuntime, dynamoChildrenOf, isRunning, startChildRuntime, waitUntil } from '../soak/child-runtime';

// the local runtime killed the hard way: `local/start.ts` in a child process, SIGKILLed.
// 1. no orphan: killing the Node process alone (not its group) takes the DynamoDB Local JVM with it.
// 2. kill -9 of the whole process group with referrals at every gate (and one intake in flight), then
//    a start on the same --persist data: every workflow continues, each referral reaches its end with
//    decisions, and each enrolment's schedule email arrives exactly once.
// 3. DynamoDB Local answers a transaction a moment before it is on disk; with --persist the runtime
//    answers the handlers only once it is (local/durable-transactions.ts).
// Kills at random moments of a run of many referrals: crash-random.int.test.ts and the soak.

const START_TIMEOUT = 90_000;

const started: ChildRuntime[] = [];
afterAll(() => {
  // whatever a failed test left: the group of each child it started
  for (const c of started) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('no orphan', () => {
  test.each(['setpriv', 'watchdog'])(
    'kill -9 of the Node process alone (%s): the DynamoDB Local JVM goes too',
    async (guard) => {
      // Prepare
      const rt = await startChildRuntime([], { LOCAL_ORPHAN_GUARD: guard });
      started.push(rt);
      const [jvm] = dynamoChildrenOf(rt.pid);
      expect(jvm).toEqual(expect.any(Number));

      // Act: SIGKILL to the Node process only, not its group
      process.kill(rt.pid, 'SIGKILL');
      await rt.exited;

      // Assess
      await waitUntil(() => !isRunning(jvm!), `the JVM (pid ${jvm}) to be gone`);
    },
    START_TIMEOUT,
  );
});

describe('kill -9 and restart with --persist', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iop-crash-test-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const args = ['--persist', '--data-dir', dataDir];
  // a minute of workflow time per second: SLA timers stay far away, sweep runs every second
  const env = { TIME_SCALE: '60' };
  const EVAL = (detoxRequired: boolean, decision = 'accept') => ({
    dimensions: { d1: 2, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 },
    recommendedLevel: '2.1',
    detoxRequired,
    decision,
    ...(decision === 'refer-out' ? { referOutTo: 'Residential program' } : {}),
  });

  interface Case {
    name: string;
    patient: string;
    referralId: string;
    reference: string;
    /** the gate it waits at when the process is killed (undefined: in flight) */
    gate?: string;
    end: string;
  }

  test(
    'every referral continues after the crash, reaches its end, and each schedule email arrives exactly once',
    async () => {
      // Prepare: referrals at every gate, and one intake whose workflow is in flight when the kill comes
      const first = await startChildRuntime(args, env);
      started.push(first);
      let api = new TestApi(first.appUrl, first.mailUrl);
      const { cohortId } = (await api.call('POST', '/api/staff/cohorts', { body: cohortBody(), as: 'sam' })).json as { cohortId: string };
      const intake = async (name: string, over: Parameters<typeof intakeBody>[0] = {}) => {
        const tag = `${name}${Math.random().toString(36).slice(2, 7)}`;
        const patient = `pt.${tag}@example.org`;
        const res = await api.intake(intakeBody({ ...over, patient: { email: patient } as never }));
        expect(res.status).toBe(201);
        return { name, patient, referralId: res.json.referralId as string, reference: res.json.reference as string };
      };
      const cases: Case[] = [];
      const review = await intake('review', { insurance: { type: 'commercial', payer: 'Acme', memberId: 'REVIEW-1' } });
      cases.push({ ...review, gate: 'insurance-review', end: 'NOT_COVERED' });
      const evaluation = await intake('evaluation');
      cases.push({ ...evaluation, gate: 'evaluation', end: 'ENROLLED' });
      const detox = await intake('detox');
      await api.waitForGate(detox.referralId, 'evaluation');
      expect((await api.decide(detox.referralId, 'evaluation', EVAL(true))).status).toBe(200);
      cases.push({ ...detox, gate: 'detox-confirmation', end: 'ENROLLED' });
      const enrollment = await intake('enrollment');
      await api.waitForGate(enrollment.referralId, 'evaluation');
      expect((await api.decide(enrollment.referralId, 'evaluation', EVAL(false))).status).toBe(200);
      cases.push({ ...enrollment, gate: 'enrollment', end: 'ENROLLED' });
      for (const c of cases) await api.waitForGate(c.referralId, c.gate!);
      const inFlight = await intake('inflight');
      cases.push({ ...inFlight, end: 'REFERRED_OUT' });

      // Act: kill -9 of the whole process group, at once
      const [jvm] = dynamoChildrenOf(first.pid);
      process.kill(-first.pid, 'SIGKILL');
      await first.exited;
      await waitUntil(() => !isRunning(jvm!), `the JVM (pid ${jvm}) to be gone`);

      // Act: start again on the same data; drive every referral to its end
      const second = await startChildRuntime(args, env);
      started.push(second);
      expect(second.output()).toMatch(/Workflows restored from .*: \d+ continuing/);
      api = new TestApi(second.appUrl, second.mailUrl);
      const drive: Record<string, (id: string) => Promise<void>> = {
        review: async (id) => {
          await api.waitForGate(id, 'insurance-review');
          expect((await api.decide(id, 'insurance-review', { decision: 'not-covered' })).status).toBe(200);
        },
        evaluation: async (id) => {
          await api.waitForGate(id, 'evaluation');
          expect((await api.decide(id, 'evaluation', EVAL(false))).status).toBe(200);
          await api.waitForGate(id, 'enrollment');
          expect((await api.decide(id, 'enrollment', { cohortId })).status).toBe(200);
        },
        detox: async (id) => {
          await api.waitForGate(id, 'detox-confirmation');
          expect(
            (await api.decide(id, 'detox-confirmation', { completed: true, completedOn: new Date().toISOString().slice(0, 10) })).status,
          ).toBe(200);
          await api.waitForGate(id, 'enrollment');
          expect((await api.decide(id, 'enrollment', { cohortId })).status).toBe(200);
        },
        enrollment: async (id) => {
          await api.waitForGate(id, 'enrollment');
          expect((await api.decide(id, 'enrollment', { cohortId })).status).toBe(200);
        },
        inflight: async (id) => {
          await api.waitForGate(id, 'evaluation', 60_000);
          expect((await api.decide(id, 'evaluation', EVAL(false, 'refer-out'))).status).toBe(200);
        },
      };
      for (const c of cases) await drive[c.name]!(c.referralId);

      // Assess: every referral at its end
      const ends: Record<string, string> = {};
      for (const c of cases) ends[c.name] = (await api.waitFor(c.referralId, (r) => r.status === c.end, 30_000)).status;
      expect(ends).toEqual(Object.fromEntries(cases.map((c) => [c.name, c.end])));

      // Assess: one schedule email per enrolment, counted once its notice is sent (a sent notice is never
      // claimed again). Notices a sender held when the process died wait for their lease to run out
      // (functions/lib/services/notices.ts NOTICE_LEASE_MS, real time): not waited for here.
      const outbox = new DynamoDbReferralRepository(
        new DynamoDBClient({
          region: 'us-east-1',
          endpoint: second.dynamoUrl,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
        'iop-referrals',
      );
      for (const c of cases.filter((x) => x.end === 'ENROLLED')) {
        let states = '';
        await waitUntil(
          async () => {
            const notices = await outbox.notices(c.referralId);
            states = JSON.stringify(notices.map((n) => [n.key, n.state, n.attempts]));
            return notices.some((n) => n.key === 'enrolled:patient' && n.state === 'sent');
          },
          `the schedule notice of ${c.name} to be sent`,
          30_000,
        ).catch((e: Error) => {
          throw new Error(`${e.message}: ${states}`);
        });
        const schedules = (await api.emailsTo(c.patient)).filter((m) => m.subject === `Your group schedule (${c.reference})`);
        expect({ name: c.name, schedules: schedules.length }).toEqual({ name: c.name, schedules: 1 });
      }
    },
    5 * START_TIMEOUT,
  );
});

describe('DynamoDB Local under kill -9', () => {
  test(
    'twenty transactions answered through the --persist barrier, the JVM killed the moment the last is answered: all twenty are there after a restart',
    async () => {
      // Prepare: DynamoDB Local on files, the runtime's barrier in front of it
      const dir = mkdtempSync(join(tmpdir(), 'iop-barrier-test-'));
      const port = await freePort();
      const quiet = {
        cwd: dir,
        dbPath: dir,
        port,
        tableName: 'iop-referrals',
        stopping: () => false,
        mark: () => undefined,
        say: () => undefined,
        printErr: () => undefined,
      };
      let dynamo = startDynamoLocal(quiet);
      const barrier = await startTransactionBarrier(`http://127.0.0.1:${port}`);
      const client = (endpoint: string) =>
        new DynamoDBClient({
          region: 'us-east-1',
          endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        });
      const through = client(barrier.url);
      const direct = client(`http://127.0.0.1:${port}`);
      try {
        await dynamo.tableReady;
        const put = (pk: string, sk: string) => ({ Put: { TableName: 'iop-referrals', Item: { pk: { S: pk }, sk: { S: sk } } } });

        // Act: each transaction answered, then kill -9 of the JVM at once; a new JVM on the same files
        for (let i = 0; i < 20; i++)
          await through.send(new TransactWriteItemsCommand({ TransactItems: [put(`probe-${i}`, 'A'), put(`probe-${i}`, 'B')] }));
        const jvm = dynamo.current();
        jvm.child.kill('SIGKILL');
        await jvm.exited;
        dynamo = startDynamoLocal(quiet);
        await dynamo.tableReady;

        // Assess (without the barrier the last one was lost on every such kill)
        const missing: string[] = [];
        for (let i = 0; i < 20; i++) {
          for (const sk of ['A', 'B']) {
            const { Item } = await direct.send(
              new GetItemCommand({ TableName: 'iop-referrals', Key: { pk: { S: `probe-${i}` }, sk: { S: sk } } }),
            );
            if (!Item) missing.push(`probe-${i}/${sk}`);
          }
        }
        expect(missing).toEqual([]);
      } finally {
        through.destroy();
        direct.destroy();
        await barrier.close();
        await dynamo.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    START_TIMEOUT,
  );
});
