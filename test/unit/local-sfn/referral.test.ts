import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
// The project's own statemachines/referral.asl.json on the emulator, with fake handlers, through the SDK.
import { readFileSync } from 'node:fs';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
  type DescribeExecutionOutput,
} from '@aws-sdk/client-sfn';
import { serve, waitFor } from './support';
import { LocalStepFunctions } from '../../../local/sfn/local-step-functions';

const FAKE_ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ Next: string }>;
}
let definition: { States: Record<string, AslState> };

function referralDefinition(): { States: Record<string, AslState> } {
  const text = readFileSync(new URL('../../../statemachines/referral.asl.json', import.meta.url), 'utf8');
  const substituted = text.replace(/\$\{(\w+)FunctionArn\}/g, (_, name: string) => FAKE_ARN(name));
  expect(substituted).not.toContain('${');
  return JSON.parse(substituted) as { States: Record<string, AslState> };
}

/** The file is the real workflow and evolves: check every step of the visited path is a transition it declares. */
function expectLegalPath(path: string[]): void {
  for (let i = 1; i < path.length; i++) {
    const from = definition.States[path[i - 1]!]!;
    const targets = [from.Next, from.Default, ...(from.Choices ?? []).map((c) => c.Next), ...(from.Catch ?? []).map((c) => c.Next)];
    expect({ from: path[i - 1], to: targets.includes(path[i]) ? path[i] : `(not declared) ${path[i]}` }).toEqual({
      from: path[i - 1],
      to: path[i],
    });
  }
}

const tasksOf = (path: string[]) => path.filter((name) => definition.States[name]!.Type === 'Task');

type Payload = Record<string, unknown>;
const calls: Array<{ function: string; payload: Payload }> = [];
let checkResult: Payload;
let escalateResult: Payload;

const fakes: Record<string, (payload: Payload) => Promise<unknown>> = {
  CheckInsurance: async () => checkResult,
  OpenGate: async () => ({ stored: true }),
  Escalate: async () => escalateResult,
};

let sfn: LocalStepFunctions;
let client: SFNClient;
let close: () => Promise<void>;
let stateMachineArn: string;

beforeAll(async () => {
  sfn = new LocalStepFunctions({
    timeScale: 20, // gate timers of 2 s fire after 100 ms
    resolveFunction: (arn) => {
      const name = arn.split(':').at(-1)!;
      const fake = fakes[name];
      if (!fake) throw new Error(`no fake for ${arn}`);
      return async (payload) => {
        calls.push({ function: name, payload: payload as Payload });
        return fake(payload as Payload);
      };
    },
  });
  definition = referralDefinition();
  stateMachineArn = sfn.createStateMachine('referral', definition);
  ({ client, close } = await serve(sfn));
});

afterAll(async () => {
  await close();
});

beforeEach(() => {
  calls.length = 0;
});

const gateCalls = () => calls.filter((c) => c.function === 'OpenGate');

async function gate(n: number): Promise<Payload> {
  await waitFor(() => gateCalls().length >= n, `gate #${n}`);
  return gateCalls()[n - 1]!.payload;
}

async function settled(executionArn: string): Promise<DescribeExecutionOutput> {
  return waitFor(async () => {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING' ? undefined : out;
  }, 'the referral execution to finish');
}

async function enteredStates(executionArn: string): Promise<string[]> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events!.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name!);
}

describe('statemachines/referral.asl.json on the local emulator', () => {
  test('happy path: check → evaluation gate → enrollment gate → ENROLLED → first-session gate → STARTED → Close (Succeed)', async () => {
    checkResult = { next: 'EVALUATION', timeoutSeconds: 60 };
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'R-100', input: JSON.stringify({ referralId: 'R-100' }) }),
    );

    const evaluation = await gate(1);
    expect(calls[0]).toEqual({ function: 'CheckInsurance', payload: { referralId: 'R-100' } });
    expect(evaluation).toMatchObject({ referralId: 'R-100', status: 'EVALUATION' });
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(evaluation.taskToken),
        output: JSON.stringify({ next: 'ENROLLMENT', timeoutSeconds: 60 }),
      }),
    );

    const enrollment = await gate(2);
    expect(enrollment).toMatchObject({ referralId: 'R-100', status: 'ENROLLMENT' });
    expect(enrollment.taskToken).not.toBe(evaluation.taskToken);
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(enrollment.taskToken),
        output: JSON.stringify({ next: 'ENROLLED', timeoutSeconds: 60 }),
      }),
    );

    // enrolled is a gate now: it waits for the first session
    const firstSession = await gate(3);
    expect(firstSession).toMatchObject({ referralId: 'R-100', status: 'ENROLLED', timeoutSeconds: 60 });
    await client.send(
      new SendTaskSuccessCommand({ taskToken: String(firstSession.taskToken), output: JSON.stringify({ next: 'STARTED' }) }),
    );

    const done = await settled(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ referralId: 'R-100', route: { next: 'STARTED' } });
    expect(calls.at(-1)?.function).toBe('OpenGate');
    const path = await enteredStates(executionArn!);
    expect(tasksOf(path)).toEqual(['CheckInsurance', 'Evaluation', 'Enrollment', 'FirstSession']);
    expect(path.slice(0, 2)).toEqual(['Start', 'CheckInsurance']);
    expect(path.at(-1)).toBe('Close');
    expectLegalPath(path);
  });

  test('SLA breach: the gate timer (TimeoutSecondsPath) fires, RecordBreach escalates and the gate reopens with a fresh token', async () => {
    checkResult = { next: 'EVALUATION', timeoutSeconds: 2 };
    escalateResult = { next: 'EVALUATION', timeoutSeconds: 600 };
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ referralId: 'R-200' }) }),
    );

    const first = await gate(1);
    const second = await gate(2); // reopened after the 100 ms (scaled) breach
    expect(calls.find((c) => c.function === 'Escalate')?.payload).toEqual({ referralId: 'R-200', kind: 'breach', status: 'EVALUATION' });
    expect(second.taskToken).not.toBe(first.taskToken);
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: String(first.taskToken), output: JSON.stringify({ next: 'REFERRED_OUT' }) })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
    await client.send(
      new SendTaskSuccessCommand({ taskToken: String(second.taskToken), output: JSON.stringify({ next: 'REFERRED_OUT' }) }),
    );

    const done = await settled(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output.timeout.Error).toBe('States.Timeout');
    expect(output.route).toEqual({ next: 'REFERRED_OUT' });
    const path = await enteredStates(executionArn!);
    expect(tasksOf(path)).toEqual(['CheckInsurance', 'Evaluation', 'RecordBreach', 'Evaluation']);
    expect(path.at(-1)).toBe('Close');
    expectLegalPath(path);
  });
});

describe('statemachines/referral.asl.json: the waitlist and the first session on the local emulator', () => {
  test('waitlisted → weekly review (timer → Escalate → the same gate reopens) → a seat → first session missed, retried → NO_SHOW closes', async () => {
    checkResult = { next: 'EVALUATION', timeoutSeconds: 60 };
    escalateResult = { next: 'WAITLISTED', timeoutSeconds: 600 };
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ referralId: 'R-500' }) }),
    );
    const evaluation = await gate(1);
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(evaluation.taskToken),
        output: JSON.stringify({ next: 'ENROLLMENT', timeoutSeconds: 60 }),
      }),
    );

    const enrollment = await gate(2);
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(enrollment.taskToken),
        output: JSON.stringify({ next: 'WAITLISTED', timeoutSeconds: 2 }),
      }),
    );
    const waitlist = await gate(3);
    expect(waitlist).toMatchObject({ referralId: 'R-500', status: 'WAITLISTED', timeoutSeconds: 2 });
    // the 2 s review timer (100 ms scaled) fires: the review reminder, then the same gate again
    const reviewed = await gate(4);
    expect(calls.find((c) => c.function === 'Escalate')?.payload).toEqual({ referralId: 'R-500', kind: 'breach', status: 'WAITLISTED' });
    expect(reviewed).toMatchObject({ status: 'WAITLISTED', timeoutSeconds: 600 });
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(reviewed.taskToken),
        output: JSON.stringify({ next: 'ENROLLED', timeoutSeconds: 600 }),
      }),
    );

    const first = await gate(5);
    expect(first).toMatchObject({ status: 'ENROLLED', timeoutSeconds: 600 });
    await client.send(
      new SendTaskSuccessCommand({ taskToken: String(first.taskToken), output: JSON.stringify({ next: 'ENROLLED', timeoutSeconds: 900 }) }),
    );
    const retried = await gate(6);
    expect(retried).toMatchObject({ status: 'ENROLLED', timeoutSeconds: 900 });
    expect(retried.taskToken).not.toBe(first.taskToken);
    await client.send(new SendTaskSuccessCommand({ taskToken: String(retried.taskToken), output: JSON.stringify({ next: 'NO_SHOW' }) }));

    const done = await settled(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    const path = await enteredStates(executionArn!);
    expect(tasksOf(path)).toEqual([
      'CheckInsurance',
      'Evaluation',
      'Enrollment',
      'Waitlist',
      'RecordBreach',
      'Waitlist',
      'FirstSession',
      'FirstSession',
    ]);
    expect(path.at(-1)).toBe('Close');
    expectLegalPath(path);
  });

  test.each([
    ['WAITLISTED', 'Waitlist'],
    ['ENROLLED', 'FirstSession'],
  ])('a resumed execution at %s enters the %s gate', async (status, state) => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: `R-600-${status}-r1`,
        input: JSON.stringify({ referralId: 'R-600', route: { next: status, timeoutSeconds: 60 } }),
      }),
    );

    const opened = await gate(1);
    expect(opened).toMatchObject({ referralId: 'R-600', status, timeoutSeconds: 60 });
    await client.send(
      new SendTaskSuccessCommand({
        taskToken: String(opened.taskToken),
        output: JSON.stringify(status === 'ENROLLED' ? { next: 'STARTED' } : { next: 'ENROLLED', timeoutSeconds: 60 }),
      }),
    );
    if (status === 'WAITLISTED') {
      const next = await gate(2);
      await client.send(new SendTaskSuccessCommand({ taskToken: String(next.taskToken), output: JSON.stringify({ next: 'STARTED' }) }));
    }
    expect((await settled(executionArn!)).status).toBe('SUCCEEDED');
    expect((await enteredStates(executionArn!)).slice(0, 3)).toEqual(['Start', 'Resume', state]);
  });
});

describe('statemachines/referral.asl.json: resumed and closed executions on the local emulator', () => {
  test('a resumed execution ({ referralId, route }) enters at its gate, without the insurance check', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'R-300-r1',
        input: JSON.stringify({ referralId: 'R-300', route: { next: 'DETOX', timeoutSeconds: 60 } }),
      }),
    );

    const detox = await gate(1);
    expect(detox).toMatchObject({ referralId: 'R-300', status: 'DETOX', timeoutSeconds: 60 });
    expect(calls.map((c) => c.function)).toEqual(['OpenGate']);
    await client.send(new SendTaskSuccessCommand({ taskToken: String(detox.taskToken), output: JSON.stringify({ next: 'REFERRED_OUT' }) }));
    expect((await settled(executionArn!)).status).toBe('SUCCEEDED');
    expect((await enteredStates(executionArn!)).slice(0, 3)).toEqual(['Start', 'Resume', 'Detox']);
  });

  test('a task that finds its referral closed (ReferralClosed) ends the execution at Close, without retries', async () => {
    checkResult = { next: 'EVALUATION', timeoutSeconds: 60 };
    fakes.CheckInsurance = async () => {
      throw Object.assign(new Error('closed'), { name: 'ReferralClosed' });
    };
    try {
      const { executionArn } = await client.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ referralId: 'R-400' }) }),
      );
      const done = await settled(executionArn!);
      expect(done.status).toBe('SUCCEEDED');
      expect(calls.filter((c) => c.function === 'CheckInsurance')).toHaveLength(1);
      expect((await enteredStates(executionArn!)).at(-1)).toBe('Close');
    } finally {
      fakes.CheckInsurance = async () => checkResult;
    }
  });
});
