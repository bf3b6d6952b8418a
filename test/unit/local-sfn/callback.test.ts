import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
// Callback (.waitForTaskToken) emulation, driven through the real @aws-sdk/client-sfn against the HTTP listener.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  type DescribeExecutionOutput,
} from '@aws-sdk/client-sfn';
import { fixture, serve, sleep, waitFor } from './support';
import { LocalStepFunctions } from '../../../local/sfn/local-step-functions';

interface GateCall {
  function: string;
  payload: Record<string, unknown>;
}

// 10x faster: HeartbeatSeconds 2 → 200 ms, TimeoutSecondsPath 3 → 300 ms
const TIME_SCALE = 10;

let sfn: LocalStepFunctions;
let client: SFNClient;
let close: () => Promise<void>;
let gateCalls: GateCall[];
let gateError: Error | undefined;
let gateArn: string;
let heartbeatArn: string;

beforeAll(async () => {
  sfn = new LocalStepFunctions({
    timeScale: TIME_SCALE,
    resolveFunction: (name) => async (payload) => {
      if (!name.endsWith('OpenGate')) throw new Error(`unexpected function ${name}`);
      gateCalls.push({ function: name, payload: payload as Record<string, unknown> });
      if (gateError) throw gateError;
      return { opened: true };
    },
  });
  gateArn = sfn.createStateMachine('callback-gate', fixture('callback-gate.asl.json'));
  heartbeatArn = sfn.createStateMachine('heartbeat-gate', fixture('heartbeat-gate.asl.json'));
  ({ client, close } = await serve(sfn));
});

afterAll(async () => {
  await close();
});

beforeEach(() => {
  gateCalls = [];
  gateError = undefined;
});

async function start(stateMachineArn: string, input: object): Promise<string> {
  const out = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return out.executionArn!;
}

async function describe_(executionArn: string): Promise<DescribeExecutionOutput> {
  return client.send(new DescribeExecutionCommand({ executionArn }));
}

async function settled(executionArn: string): Promise<DescribeExecutionOutput> {
  return waitFor(async () => {
    const out = await describe_(executionArn);
    return out.status === 'RUNNING' ? undefined : out;
  }, `execution ${executionArn} to finish`);
}

async function nextToken(count = 1): Promise<string> {
  await waitFor(() => gateCalls.length >= count, `gate call #${count}`);
  return String(gateCalls[count - 1]!.payload.taskToken);
}

async function historyTypes(executionArn: string): Promise<string[]> {
  const out = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (out.events ?? []).map((e) => String(e.type));
}

describe('callback tasks (lambda:invoke.waitForTaskToken) over the SDK', () => {
  test('approve: parks, hands a token to the function, SendTaskSuccess output becomes the result; a second SendTaskSuccess is TaskDoesNotExist', async () => {
    const executionArn = await start(gateArn, { referralId: 'R-1', timeoutSeconds: 600 });
    const token = await nextToken();

    expect(gateCalls[0]!.function).toBe('arn:aws:lambda:us-east-1:000000000000:function:OpenGate');
    expect(gateCalls[0]!.payload.referralId).toBe('R-1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    await waitFor(async () => (await historyTypes(executionArn)).includes('TaskSubmitted'), 'the gate to park');
    expect((await describe_(executionArn)).status).toBe('RUNNING');

    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ next: 'ENROLLMENT', timeoutSeconds: 60 }) }));
    const done = await settled(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      referralId: 'R-1',
      timeoutSeconds: 600,
      decision: { next: 'ENROLLMENT', timeoutSeconds: 60 },
    });
    expect(done.stopDate).toBeInstanceOf(Date);

    const again = client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    await expect(again).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(again).rejects.toMatchObject({ name: 'TaskDoesNotExist' });

    const types = await historyTypes(executionArn);
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  test('SendTaskFailure with error Referral.Rejected is routed by the Catch on that name', async () => {
    const executionArn = await start(gateArn, { referralId: 'R-2', timeoutSeconds: 600 });
    const token = await nextToken();
    await client.send(new SendTaskFailureCommand({ taskToken: token, error: 'Referral.Rejected', cause: 'not eligible' }));

    const done = await settled(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output.rejection).toEqual({ Error: 'Referral.Rejected', Cause: 'not eligible' });
    expect(output.decision).toBeUndefined();
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    const entered = history.events!.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual(['Gate', 'Rejected']);
    expect(history.events!.find((e) => e.type === 'TaskFailed')?.taskFailedEventDetails).toMatchObject({
      error: 'Referral.Rejected',
      cause: 'not eligible',
    });
  });

  test('an error thrown by the invoked function fails the task with its name (Catch matches it)', async () => {
    gateError = Object.assign(new Error('cannot open'), { name: 'Referral.Rejected' });
    const executionArn = await start(gateArn, { referralId: 'R-3', timeoutSeconds: 600 });
    const done = await settled(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const rejection = JSON.parse(done.output!).rejection;
    expect(rejection.Error).toBe('Referral.Rejected');
    expect(JSON.parse(rejection.Cause)).toMatchObject({ errorType: 'Referral.Rejected', errorMessage: 'cannot open' });
    // the token handed to the failed function is dead
    const token = await nextToken();
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskDoesNotExist);
  });

  test('TimeoutSecondsPath elapses → States.Timeout is caught; the stale token answers TaskTimedOut', async () => {
    const began = Date.now();
    const executionArn = await start(gateArn, { referralId: 'R-4', timeoutSeconds: 3 }); // 3 s / 10 = 300 ms
    const token = await nextToken();
    const done = await settled(executionArn);
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).timeout.Error).toBe('States.Timeout');
    expect(await historyTypes(executionArn)).toContain('TaskTimedOut');
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  test('no heartbeat within HeartbeatSeconds → States.HeartbeatTimeout, caught by a Catch on States.Timeout', async () => {
    const executionArn = await start(heartbeatArn, {});
    await nextToken();
    const done = await settled(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output.timeout.Error).toBe('States.HeartbeatTimeout');
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(history.events!.find((e) => e.type === 'TaskTimedOut')?.taskTimedOutEventDetails?.error).toBe('States.HeartbeatTimeout');
    expect(history.events!.filter((e) => e.type === 'PassStateEntered').map((e) => e.stateEnteredEventDetails?.name)).toEqual(['TimedOut']);
  });

  test('heartbeats in time keep the task alive well past HeartbeatSeconds', async () => {
    // its own emulator at timeScale 2: a 1 s heartbeat period, so only a stall of a whole second
    // between two heartbeats (sent every 50 ms) could end the task early on a loaded machine
    const calls: string[] = [];
    const slow = new LocalStepFunctions({
      timeScale: 2,
      resolveFunction: () => async (payload) => void calls.push(String((payload as { taskToken: string }).taskToken)),
    });
    const served = await serve(slow);
    try {
      const arn = slow.createStateMachine('heartbeat-gate', fixture('heartbeat-gate.asl.json'));
      const { executionArn } = await served.client.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }));
      await waitFor(() => calls.length === 1, 'the gate call');
      const began = Date.now();
      while (Date.now() - began < 1600) {
        await served.client.send(new SendTaskHeartbeatCommand({ taskToken: calls[0]! }));
        await sleep(50);
      }
      expect((await served.client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
      await served.client.send(new SendTaskSuccessCommand({ taskToken: calls[0]!, output: JSON.stringify({ ok: true }) }));
      const done = await waitFor(async () => {
        const out = await served.client.send(new DescribeExecutionCommand({ executionArn }));
        return out.status === 'RUNNING' ? undefined : out;
      }, 'the execution to finish');
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output!)).toEqual({ decision: { ok: true } });
    } finally {
      await served.close();
    }
  });

  test('StopExecution with a pending token → ABORTED; SendTaskSuccess afterwards → TaskTimedOut', async () => {
    const executionArn = await start(gateArn, { referralId: 'R-5', timeoutSeconds: 600 });
    const token = await nextToken();
    const stopped = await client.send(new StopExecutionCommand({ executionArn, error: 'Staff.Cancelled', cause: 'duplicate referral' }));
    expect(stopped.stopDate).toBeInstanceOf(Date);

    const done = await describe_(executionArn);
    expect(done.status).toBe('ABORTED');
    expect(done.error).toBe('Staff.Cancelled');
    expect(done.cause).toBe('duplicate referral');
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toBeInstanceOf(TaskTimedOut);

    const types = await waitFor(async () => {
      const all = await historyTypes(executionArn);
      return all.includes('ExecutionAborted') ? all : undefined;
    }, 'the abort in the history');
    expect(types.at(-1)).toBe('ExecutionAborted');
    expect(types.filter((t) => t.startsWith('Execution'))).toEqual(['ExecutionStarted', 'ExecutionAborted']);
  });

  test('a malformed token is InvalidToken; an unknown well-formed one TaskDoesNotExist', async () => {
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'not a token', output: '{}' }))).rejects.toBeInstanceOf(InvalidToken);
    await expect(client.send(new SendTaskFailureCommand({ taskToken: 'A'.repeat(160) }))).rejects.toBeInstanceOf(TaskDoesNotExist);
  });
});

describe('long task timeouts', () => {
  test('a TimeoutSeconds of 100 days (4.32e9 ms at timeScale 2) neither overflows nor fires early', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const calls: Array<Record<string, unknown>> = [];
    const slow = new LocalStepFunctions({
      timeScale: 2,
      resolveFunction: () => async (payload) => {
        calls.push(payload as Record<string, unknown>);
        return null;
      },
    });
    try {
      const arn = slow.createStateMachine('long-timeout', fixture('long-timeout.asl.json'));
      const { executionArn } = await slow.startExecution({ stateMachineArn: arn, input: '{"x":1}' });
      await waitFor(() => calls.length === 1, 'the gate call');
      await sleep(150);
      expect((await slow.describeExecution({ executionArn })).status).toBe('RUNNING');

      // the token was placed inside a States.Format string
      const match = /^token=([A-Za-z0-9_-]+)$/.exec(String(calls[0]!.token));
      expect(match).not.toBeNull();
      await slow.sendTaskSuccess({ taskToken: match![1]!, output: '{"approved":true}' });
      const done = await waitFor(async () => {
        const out = await slow.describeExecution({ executionArn });
        return out.status === 'RUNNING' ? undefined : out;
      }, 'the execution to finish');
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output!)).toEqual({ approved: true });
      await sleep(10);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
      slow.close();
    }
  });
});
