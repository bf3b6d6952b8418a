import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
// Plain Lambda tasks, lambda:invoke, Retry/Catch, timeouts, Wait scaling, history and API errors (class API).
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import { INTERPRETER_TIMEOUT_CAP_SECONDS, prepareDefinition } from '../../../local/sfn/definition';
import { hasInterpreterTimeoutClass } from '../../../local/sfn/interpreter';
import { LocalStepFunctions, SfnServiceError, type LocalFunctionHandler } from '../../../local/sfn/local-step-functions';
import { fixture, sleep, waitFor } from './support';

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

// 1000x faster: Retry IntervalSeconds 2 → 2 ms, TimeoutSeconds 100 → 100 ms, Wait 100 s → 100 ms
const TIME_SCALE = 1000;

const handlers = new Map<string, LocalFunctionHandler>();
const calls: Array<{ function: string; payload: unknown }> = [];
let sfn: LocalStepFunctions;
let tasksArn: string;
let timeoutArn: string;
let gateArn: string;

beforeAll(() => {
  sfn = new LocalStepFunctions({
    timeScale: TIME_SCALE,
    resolveFunction: (name) => {
      const short = name.split(':').at(-1)!;
      const handler = handlers.get(short);
      if (!handler) throw new Error(`no fake for ${name}`);
      return async (payload) => {
        calls.push({ function: short, payload });
        return handler(payload);
      };
    },
  });
  tasksArn = sfn.createStateMachine('lambda-tasks', fixture('lambda-tasks.asl.json'));
  timeoutArn = sfn.createStateMachine('lambda-timeout', fixture('lambda-timeout.asl.json'));
  gateArn = sfn.createStateMachine('callback-gate', fixture('callback-gate.asl.json'));
});

afterAll(() => sfn.close());

beforeEach(() => {
  handlers.clear();
  calls.length = 0;
  handlers.set('Check', async () => ({ ok: true }));
  handlers.set('Notify', async () => ({ notified: true }));
  handlers.set('OpenGate', async () => null);
});

async function run(
  stateMachineArn: string,
  input: object,
  name?: string,
): Promise<{ executionArn: string; done: DescribeExecutionOutput }> {
  const { executionArn } = await sfn.startExecution({ stateMachineArn, input: JSON.stringify(input), name });
  const done = await waitFor(async () => {
    const out = await sfn.describeExecution({ executionArn });
    return out.status === 'RUNNING' ? undefined : out;
  }, 'the execution to finish');
  return { executionArn, done };
}

const callsTo = (fn: string) => calls.filter((c) => c.function === fn);

describe('plain Lambda ARN tasks and lambda:invoke', () => {
  test('an error named Custom.Error thrown by the handler is routed by a Catch on Custom.Error', async () => {
    handlers.set('Check', async () => {
      throw named('Custom.Error', 'insurer said no');
    });
    const { done } = await run(tasksArn, { id: 'a', pauseSeconds: 0 });
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!);
    expect(output.failure.Error).toBe('Custom.Error');
    expect(JSON.parse(output.failure.Cause)).toMatchObject({ errorType: 'Custom.Error', errorMessage: 'insurer said no' });
    expect(callsTo('Check')).toHaveLength(1); // Custom.Error is not in the retrier
    expect(callsTo('Notify')).toHaveLength(0);
  });

  test('Retry (IntervalSeconds, BackoffRate, MaxDelaySeconds, JitterStrategy FULL) retries a matching error and counts attempts', async () => {
    let failures = 2;
    handlers.set('Check', async () => {
      if (failures-- > 0) throw named('Transient.Error', 'try again');
      return { ok: true };
    });
    const { executionArn, done } = await run(tasksArn, { id: 'b', pauseSeconds: 0 });
    expect(done.status).toBe('SUCCEEDED');
    expect(callsTo('Check')).toHaveLength(3);
    expect(callsTo('Check').every((c) => JSON.stringify(c.payload) === '{"id":"b"}')).toBe(true);
    const { events } = await sfn.getExecutionHistory({ executionArn });
    expect(events.filter((e) => e.type === 'LambdaFunctionScheduled')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'LambdaFunctionFailed').map((e) => e.lambdaFunctionFailedEventDetails?.error)).toEqual([
      'Transient.Error',
      'Transient.Error',
    ]);
    expect(events.filter((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'Check')).toHaveLength(1);
  });

  test('Retry gives up after MaxAttempts and the execution fails with the error name', async () => {
    handlers.set('Check', async () => {
      throw named('Transient.Error', 'still down');
    });
    const { done } = await run(tasksArn, { id: 'c', pauseSeconds: 0 });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Transient.Error');
    expect(JSON.parse(done.cause!)).toMatchObject({ errorMessage: 'still down' });
    expect(callsTo('Check')).toHaveLength(4); // 1 + MaxAttempts 3
  });

  test('lambda:invoke calls FunctionName with Payload and wraps the result as { Payload, StatusCode: 200 }', async () => {
    handlers.set('Notify', async (payload) => ({ notified: true, echo: payload }));
    const { done } = await run(tasksArn, { id: 'd', pauseSeconds: 0 });
    expect(done.status).toBe('SUCCEEDED');
    expect(callsTo('Notify')).toEqual([{ function: 'Notify', payload: { id: 'd' } }]);
    expect(JSON.parse(done.output!).notify).toEqual({ notified: true, status: 200 });
  });

  test('a function the resolver does not know fails the task with Lambda.ResourceNotFoundException', async () => {
    handlers.delete('Notify');
    const { done } = await run(tasksArn, { id: 'e', pauseSeconds: 0 });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Lambda.ResourceNotFoundException');
  });

  test('TimeoutSeconds on a plain task is enforced (unscaled: it bounds a run, not a wait) and States.TaskFailed does not retry the timeout', async () => {
    expect(await hasInterpreterTimeoutClass()).toBe(true);
    // a function that never returns: only the timeout can end the task (a timer never fires early,
    // so the lower bound holds however loaded the machine is; scaled, it would be 1 ms)
    handlers.set('Slow', () => new Promise(() => undefined));
    const began = Date.now();
    const { executionArn, done } = await run(timeoutArn, { id: 'f' });
    const elapsed = Date.now() - began;
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).timeout.Error).toBe('States.Timeout');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(callsTo('Slow')).toHaveLength(1);
    const { events } = await sfn.getExecutionHistory({ executionArn });
    expect(events.map((e) => e.type)).toContain('LambdaFunctionTimedOut');
  });
});

describe('nested states and the interpreter copy', () => {
  test('tasks inside Parallel branches and Map item processors go through resolveFunction', async () => {
    handlers.set('Check', async () => 'branch');
    handlers.set('Notify', async (payload) => ({ seen: payload }));
    const arn = sfn.createStateMachine('nested', fixture('nested.asl.json'));
    const { executionArn, done } = await run(arn, { items: ['a', 'b', 'c'] });
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual([
      'branch',
      [{ seen: { item: 'a', index: 0 } }, { seen: { item: 'b', index: 1 } }, { seen: { item: 'c', index: 2 } }],
    ]);
    expect(callsTo('Notify')).toHaveLength(3);
    const { events } = await sfn.getExecutionHistory({ executionArn });
    const entered = events.filter((e) => e.type?.endsWith('StateEntered')).map((e) => `${e.type}:${e.stateEnteredEventDetails?.name}`);
    expect(entered.sort()).toEqual(
      [
        'ParallelStateEntered:Fan',
        'TaskStateEntered:BranchTask',
        'MapStateEntered:Each',
        'TaskStateEntered:ItemTask',
        'TaskStateEntered:ItemTask',
        'TaskStateEntered:ItemTask',
      ].sort(),
    );
    expect(events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(3);
  });

  test('a failed Parallel branch cancels a callback parked in its sibling: the token answers TaskTimedOut', async () => {
    const tokens: string[] = [];
    handlers.set('OpenGate', async (payload) => {
      tokens.push(String((payload as { taskToken: string }).taskToken));
      return null;
    });
    handlers.set('Check', async () => {
      await sleep(20);
      throw named('Boom', 'branch failed');
    });
    const arn = sfn.createStateMachine('parallel-abandon', fixture('parallel-abandon.asl.json'));
    const { done } = await run(arn, {});
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).failure.Error).toBe('Boom');
    expect(tokens).toHaveLength(1);
    await expect(sfn.sendTaskSuccess({ taskToken: tokens[0]!, output: '{}' })).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  test('hands the interpreter capped task timeouts and scaled retries, never its 60 s default', () => {
    const prepared = prepareDefinition(fixture('lambda-tasks.asl.json'), 4);
    const states = (prepared.definition as unknown as { States: Record<string, Record<string, unknown>> }).States;
    for (const name of ['Check', 'Invoke', 'Pause']) {
      expect(states[name]!.Type).toBe('Task');
      expect(states[name]!.TimeoutSeconds).toBe(INTERPRETER_TIMEOUT_CAP_SECONDS);
      expect(INTERPRETER_TIMEOUT_CAP_SECONDS * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    }
    expect(states.Check!.Retry).toEqual([expect.objectContaining({ IntervalSeconds: 0.5, MaxDelaySeconds: 7.5, JitterStrategy: 'FULL' })]);
    expect(prepared.stateTypes.get('Pause')).toBe('Wait');
    expect(prepared.tasks.get('Pause')?.kind).toBe('wait');
  });
});

describe('Wait states and history', () => {
  test('a Wait (SecondsPath 100 s) is divided by timeScale', async () => {
    // unscaled it would last 100 s and waitFor would give up; scaled it lasts at least 100 ms
    const { executionArn } = await sfn.startExecution({ stateMachineArn: tasksArn, input: JSON.stringify({ id: 'g', pauseSeconds: 100 }) });
    const done = await waitFor(async () => {
      const out = await sfn.describeExecution({ executionArn });
      return out.status === 'RUNNING' ? undefined : out;
    }, 'the wait to end');
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate!.getTime() - done.startDate!.getTime()).toBeGreaterThanOrEqual(95);
  });

  test('GetExecutionHistory has one *StateEntered per state visited, AWS event types, paging and reverse order', async () => {
    const { executionArn, done } = await run(tasksArn, { id: 'h', pauseSeconds: 1 });
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      id: 'h',
      pauseSeconds: 1,
      check: { ok: true },
      notify: { notified: true, status: 200 },
      tag: 'done',
    });

    const { events, nextToken } = await sfn.getExecutionHistory({ executionArn });
    expect(nextToken).toBeUndefined();
    const entered = events.filter((e) => e.type?.endsWith('StateEntered'));
    // Check → Route → Invoke → Pause → Tag → Done: 6 transitions
    expect(entered.map((e) => `${e.type}:${e.stateEnteredEventDetails?.name}`)).toEqual([
      'TaskStateEntered:Check',
      'ChoiceStateEntered:Route',
      'TaskStateEntered:Invoke',
      'WaitStateEntered:Pause',
      'PassStateEntered:Tag',
      'SucceedStateEntered:Done',
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'PassStateEntered',
      'PassStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.previousEventId)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.timestamp instanceof Date)).toBe(true);
    expect(JSON.parse(entered[0]!.stateEnteredEventDetails!.input!)).toEqual({ id: 'h', pauseSeconds: 1 });
    expect(JSON.parse(events.find((e) => e.type === 'WaitStateExited')!.stateExitedEventDetails!.output!)).toMatchObject({ id: 'h' });

    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await sfn.getExecutionHistory({ executionArn, maxResults: 7, nextToken: token });
      expect(page.events.length).toBeLessThanOrEqual(7);
      pages.push(...page.events.map((e) => String(e.type)));
      token = page.nextToken;
    } while (token);
    expect(pages).toEqual(events.map((e) => e.type));

    const reversed = await sfn.getExecutionHistory({ executionArn, reverseOrder: true, maxResults: 1 });
    expect(reversed.events[0]!.type).toBe('ExecutionSucceeded');
    const bare = await sfn.getExecutionHistory({ executionArn, includeExecutionData: false });
    expect(bare.events[1]!.stateEnteredEventDetails).toEqual({ name: 'Check', inputDetails: { truncated: false } });
    await expect(sfn.getExecutionHistory({ executionArn, nextToken: 'garbage' })).rejects.toMatchObject({ name: 'InvalidToken' });
  });
});

describe('API errors', () => {
  test('ExecutionAlreadyExists on the same name with a different input; same name and input while running returns the execution', async () => {
    const first = await sfn.startExecution({ stateMachineArn: gateArn, name: 'referral-1', input: '{"timeoutSeconds":600}' });
    const same = await sfn.startExecution({ stateMachineArn: gateArn, name: 'referral-1', input: '{"timeoutSeconds":600}' });
    expect(same.executionArn).toBe(first.executionArn);
    expect(same.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:callback-gate:referral-1');
    await expect(
      sfn.startExecution({ stateMachineArn: gateArn, name: 'referral-1', input: '{"timeoutSeconds":60}' }),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    await sfn.stopExecution({ executionArn: first.executionArn });
    // closed: even the same input is refused now
    await expect(
      sfn.startExecution({ stateMachineArn: gateArn, name: 'referral-1', input: '{"timeoutSeconds":600}' }),
    ).rejects.toBeInstanceOf(SfnServiceError);
  });

  test('unknown state machine / execution, malformed ARN, bad input and bad names use the AWS error codes', async () => {
    const missingMachine = 'arn:aws:states:us-east-1:000000000000:stateMachine:nope';
    await expect(sfn.startExecution({ stateMachineArn: missingMachine })).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(
      sfn.describeExecution({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:lambda-tasks:nope' }),
    ).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    });
    await expect(sfn.describeExecution({ executionArn: 'nope' })).rejects.toMatchObject({ name: 'InvalidArn' });
    await expect(sfn.startExecution({ stateMachineArn: tasksArn, input: '{oops' })).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    await expect(sfn.startExecution({ stateMachineArn: tasksArn, name: 'has space' })).rejects.toMatchObject({ name: 'InvalidName' });
  });

  test('refuses what the interpreter would silently mis-run: JSONata, Assign, other integrations', () => {
    const base = fixture('lambda-tasks.asl.json');
    const withAssign = structuredClone(base) as { States: Record<string, Record<string, unknown>> };
    withAssign.States.Tag!.Assign = { x: 1 };
    expect(() => sfn.createStateMachine('assign', withAssign)).toThrow(expect.objectContaining({ name: 'InvalidDefinition' }));
    expect(() => sfn.createStateMachine('jsonata', { ...base, QueryLanguage: 'JSONata' })).toThrow(
      expect.objectContaining({ name: 'InvalidDefinition' }),
    );
    const sqs = structuredClone(base) as { States: Record<string, Record<string, unknown>> };
    sqs.States.Invoke!.Resource = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
    expect(() => sfn.createStateMachine('sqs', sqs)).toThrow(/not supported locally/);
    expect(() => sfn.createStateMachine('broken', { StartAt: 'X', States: {} })).toThrow(
      expect.objectContaining({ name: 'InvalidDefinition' }),
    );
  });

  test('close() aborts running executions', async () => {
    const local = new LocalStepFunctions({ timeScale: TIME_SCALE, resolveFunction: () => async () => null });
    const arn = local.createStateMachine('callback-gate', fixture('callback-gate.asl.json'));
    const { executionArn } = await local.startExecution({ stateMachineArn: arn, input: '{"referralId":"z","timeoutSeconds":600000}' });
    await waitFor(
      async () => (await local.getExecutionHistory({ executionArn })).events.some((e) => e.type === 'TaskSubmitted'),
      'the gate to park',
    );
    local.close();
    const out = await local.describeExecution({ executionArn });
    expect(out.status).toBe('ABORTED');
    await expect(local.startExecution({ stateMachineArn: arn })).rejects.toBeInstanceOf(SfnServiceError);
  });
});
