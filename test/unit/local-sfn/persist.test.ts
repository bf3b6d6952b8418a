// Executions on disk (the runtime's --persist): a stop at any moment, then restore() in a new emulator.
// "Killed" = the store directory copied at that instant (every change is written synchronously, so the
// copy is what a kill -9 would leave), then the old emulator closed and a new one started on the copy.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import { LocalStepFunctions, type LocalFunctionHandler } from '../../../local/sfn/local-step-functions';
import { ExecutionStore, type StoredExecution } from '../../../local/sfn/store';
import { fixture, waitFor } from './support';

const FN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** a gate that passes the execution's input along, then a Lambda task that reads $$.Execution.Input */
const gateThenTask = {
  StartAt: 'Gate',
  States: {
    Gate: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: FN('OpenGate'), Payload: { 'referralId.$': '$.referralId', 'taskToken.$': '$$.Task.Token' } },
      TimeoutSecondsPath: '$.timeoutSeconds',
      ResultPath: '$.decision',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'TimedOut' }],
      Next: 'After',
    },
    After: {
      Type: 'Task',
      Resource: FN('After'),
      Parameters: { 'original.$': '$$.Execution.Input', 'decision.$': '$.decision' },
      ResultPath: '$.after',
      End: true,
    },
    TimedOut: { Type: 'Pass', End: true },
  },
};

type Calls = Array<{ fn: string; payload: any }>;
const defaults: Record<string, LocalFunctionHandler> = { Notify: async () => ({ notified: true }) };

const dirs: string[] = [];
const emulators: LocalStepFunctions[] = [];
afterEach(() => {
  for (const e of emulators.splice(0)) e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sfn-store-'));
  dirs.push(d);
  return d;
};

/** an emulator on `dir` with the three machines; `behave` decides what each fake function does */
const emulator = (dir: string, calls: Calls, behave: Record<string, LocalFunctionHandler> = {}) => {
  const sfn = new LocalStepFunctions({
    timeScale: 1000,
    store: new ExecutionStore(dir),
    resolveFunction: (name) => {
      const short = name.split(':').at(-1)!;
      return async (payload) => {
        calls.push({ fn: short, payload });
        return (behave[short] ?? defaults[short] ?? (async () => ({ ok: true })))(payload);
      };
    },
  });
  emulators.push(sfn);
  return {
    sfn,
    gate: sfn.createStateMachine('gate', gateThenTask),
    tasks: sfn.createStateMachine('tasks', fixture('lambda-tasks.asl.json')),
  };
};

/** what a kill -9 leaves at this instant: a copy of the directory (the old emulator is closed) */
const killedCopy = (dir: string, old: LocalStepFunctions): string => {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  old.close();
  return copy;
};

/** edits the one stored execution of a directory */
const editStored = (dir: string, edit: (s: StoredExecution) => void) => {
  const [file] = readdirSync(dir).filter((n) => n.endsWith('.json'));
  const stored = JSON.parse(readFileSync(join(dir, file!), 'utf8')) as StoredExecution;
  edit(stored);
  writeFileSync(join(dir, file!), JSON.stringify(stored));
};

const finished = (sfn: LocalStepFunctions, executionArn: string) =>
  waitFor(
    async () => {
      const out: DescribeExecutionOutput = await sfn.describeExecution({ executionArn });
      return out.status === 'RUNNING' ? undefined : out;
    },
    'the execution to finish',
    15_000,
  );

const history = async (sfn: LocalStepFunctions, executionArn: string) =>
  (await sfn.getExecutionHistory({ executionArn, maxResults: 1000 })).events;

let dir: string;
let calls: Calls;
beforeEach(() => {
  dir = tempDir();
  calls = [];
});

describe('a parked callback task', () => {
  test('continues after a kill with the same token: its function is not invoked again, the history goes on', async () => {
    // Prepare: parked at the gate, its function returned (TaskSubmitted)
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      name: 'r-1',
      input: '{"referralId":"r-1","timeoutSeconds":3600}',
    });
    await waitFor(async () => (await history(first.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'the gate to be submitted');
    const token = calls[0]!.payload.taskToken as string;
    const before = await history(first.sfn, executionArn);

    // Act: killed; a new emulator restores; the decision arrives with the token handed out before
    const copy = killedCopy(dir, first.sfn);
    const second = emulator(copy, calls);
    const restored = second.sfn.restore();
    await second.sfn.sendTaskSuccess({ taskToken: token, output: '{"next":"ENROLLMENT"}' });
    const done = await finished(second.sfn, executionArn);

    // Assess
    expect(restored).toEqual({ resumed: 1, finished: 0 });
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['OpenGate', 'After']);
    expect(calls[1]!.payload).toEqual({ original: { referralId: 'r-1', timeoutSeconds: 3600 }, decision: { next: 'ENROLLMENT' } });
    const events = await history(second.sfn, executionArn);
    expect(events.slice(0, before.length)).toEqual(before);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  test('a token whose function had not returned yet: the function is invoked again with the same token', async () => {
    // Prepare: the gate's function hangs in the first run
    const first = emulator(dir, calls, { OpenGate: () => new Promise(() => undefined) });
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      input: '{"referralId":"r-2","timeoutSeconds":3600}',
    });
    await waitFor(() => calls.length === 1, 'the gate call');

    // Act
    const second = emulator(killedCopy(dir, first.sfn), calls);
    second.sfn.restore();
    await waitFor(() => calls.length === 2, 'the gate call again');
    await waitFor(async () => (await history(second.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'TaskSubmitted');
    await second.sfn.sendTaskSuccess({ taskToken: calls[1]!.payload.taskToken, output: '{}' });

    // Assess
    expect(calls[1]!.payload.taskToken).toBe(calls[0]!.payload.taskToken);
    expect((await finished(second.sfn, executionArn)).status).toBe('SUCCEEDED');
  });

  test('keeps the time it had left: a due time passed while stopped times out at once (a fresh timeout would be an hour)', async () => {
    // Prepare: an hour-long gate (3600 s at timeScale 1000 = 3.6 s fresh), stopped, its due time then passes
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      input: '{"referralId":"r-3","timeoutSeconds":3600000}',
    });
    await waitFor(async () => (await history(first.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'the gate');
    const copy = killedCopy(dir, first.sfn);
    let dueAt = 0;
    editStored(copy, (s) => {
      expect(s.current).toMatchObject({ kind: 'callback', state: 'Gate', submitted: true, timeoutAt: expect.any(Number) });
      dueAt = (s.current as { timeoutAt: number }).timeoutAt;
      (s.current as { timeoutAt: number }).timeoutAt = Date.now() - 1;
    });

    // Act
    const second = emulator(copy, calls);
    second.sfn.restore();
    const done = await finished(second.sfn, executionArn);

    // Assess: an hour-long timeout (3600000 s / 1000) was due in about an hour
    expect(dueAt - Date.now()).toBeGreaterThan(3_000_000);
    expect(JSON.parse(done.output!).timeout.Error).toBe('States.Timeout');
    await expect(second.sfn.sendTaskSuccess({ taskToken: calls[0]!.payload.taskToken, output: '{}' })).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  test('a decision taken before the kill is not lost: the gate is not reopened, the execution goes on with it', async () => {
    // Prepare: parked; then the stored state as it is between SendTaskSuccess and the next state
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      input: '{"referralId":"r-4","timeoutSeconds":3600}',
    });
    await waitFor(async () => (await history(first.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'the gate');
    const copy = killedCopy(dir, first.sfn);
    editStored(copy, (s) => {
      (s.current as { outcome?: unknown }).outcome = { ok: true, value: { next: 'DETOX' } };
      s.tokens = s.tokens.map((t) => ({ ...t, status: 'closed' }));
    });

    // Act
    const second = emulator(copy, calls);
    second.sfn.restore();
    const done = await finished(second.sfn, executionArn);

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['OpenGate', 'After']);
    expect(calls[1]!.payload.decision).toEqual({ next: 'DETOX' });
    await expect(second.sfn.sendTaskSuccess({ taskToken: calls[0]!.payload.taskToken, output: '{}' })).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
  });

  test('a graceful close leaves the execution running on disk (not ABORTED)', async () => {
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      input: '{"referralId":"r-5","timeoutSeconds":3600}',
    });
    await waitFor(async () => (await history(first.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'the gate');
    first.sfn.close();
    const second = emulator(dir, calls);
    expect(second.sfn.restore()).toEqual({ resumed: 1, finished: 0 });
    expect((await second.sfn.describeExecution({ executionArn })).status).toBe('RUNNING');
    expect((await history(second.sfn, executionArn)).map((e) => e.type)).not.toContain('ExecutionAborted');
  });
});

describe('Lambda tasks and Wait states', () => {
  test('a Lambda task that was running when killed runs again', async () => {
    // Prepare: Check hangs in the first run
    const first = emulator(dir, calls, { Check: () => new Promise(() => undefined) });
    const { executionArn } = await first.sfn.startExecution({ stateMachineArn: first.tasks, input: '{"id":"x","pauseSeconds":0}' });
    await waitFor(() => calls.length === 1, 'the first Check call');

    // Act
    const second = emulator(killedCopy(dir, first.sfn), calls);
    second.sfn.restore();
    const done = await finished(second.sfn, executionArn);

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toEqual(['Check', 'Check', 'Notify']);
    const entered = (await history(second.sfn, executionArn))
      .filter((e) => e.type?.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual(['Check', 'Route', 'Invoke', 'Pause', 'Tag', 'Done']);
  });

  test('a Wait keeps its due time: due while stopped, it ends at once; not due yet, it keeps waiting', async () => {
    // Prepare: a 1000-hour wait (an hour of real time at timeScale 1000), in two executions
    const first = emulator(dir, calls);
    const a = await first.sfn.startExecution({ stateMachineArn: first.tasks, name: 'wait-a', input: '{"id":"a","pauseSeconds":3600000}' });
    const b = await first.sfn.startExecution({ stateMachineArn: first.tasks, name: 'wait-b', input: '{"id":"b","pauseSeconds":3600000}' });
    const stored = () =>
      readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as StoredExecution);
    await waitFor(() => stored().filter((s) => s.current?.kind === 'wait').length === 2, 'both Waits on disk');
    expect([a.executionArn, b.executionArn]).toHaveLength(2);
    const copy = killedCopy(dir, first.sfn);
    for (const name of readdirSync(copy).filter((n) => n.endsWith('.json'))) {
      const stored = JSON.parse(readFileSync(join(copy, name), 'utf8')) as StoredExecution;
      expect(stored.current).toMatchObject({ kind: 'wait', state: 'Pause', dueAt: expect.any(Number) });
      if (stored.name === 'wait-a') (stored.current as { dueAt: number }).dueAt = Date.now() - 1;
      writeFileSync(join(copy, name), JSON.stringify(stored));
    }

    // Act
    const second = emulator(copy, calls);
    second.sfn.restore();

    // Assess: a ends, b still waits
    expect((await finished(second.sfn, a.executionArn)).status).toBe('SUCCEEDED');
    expect((await second.sfn.describeExecution({ executionArn: b.executionArn })).status).toBe('RUNNING');
  });
});

describe('the store', () => {
  test('finished executions come back for Describe and History; their name cannot start another', async () => {
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.tasks,
      name: 'done-1',
      input: '{"id":"d","pauseSeconds":0}',
    });
    await finished(first.sfn, executionArn);
    const before = await history(first.sfn, executionArn);
    first.sfn.close();

    const second = emulator(dir, calls);
    expect(second.sfn.restore()).toEqual({ resumed: 0, finished: 1 });
    expect((await second.sfn.describeExecution({ executionArn })).status).toBe('SUCCEEDED');
    expect(await history(second.sfn, executionArn)).toEqual(before);
    await expect(second.sfn.startExecution({ stateMachineArn: second.tasks, name: 'done-1', input: '{}' })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
  });

  test('a write cut short by a kill (a leftover temporary file) is ignored; an unreadable file is set aside', async () => {
    // Prepare: a parked execution, plus a torn temporary file and a torn execution file
    const first = emulator(dir, calls);
    const { executionArn } = await first.sfn.startExecution({
      stateMachineArn: first.gate,
      input: '{"referralId":"r-6","timeoutSeconds":3600}',
    });
    await waitFor(async () => (await history(first.sfn, executionArn)).some((e) => e.type === 'TaskSubmitted'), 'the gate');
    const copy = killedCopy(dir, first.sfn);
    const [file] = readdirSync(copy);
    writeFileSync(join(copy, `${file}.4242.tmp`), '{"format":1,"arn":"arn:aws:sta');
    writeFileSync(join(copy, 'ffff.json'), '{"format":1,');
    const logged: string[] = [];

    // Act
    const sfn = new LocalStepFunctions({
      store: new ExecutionStore(copy, (l) => logged.push(l)),
      timeScale: 1000,
      resolveFunction: () => async () => null,
    });
    emulators.push(sfn);
    sfn.createStateMachine('gate', gateThenTask);
    const restored = sfn.restore();

    // Assess
    expect(restored).toEqual({ resumed: 1, finished: 0 });
    expect(readdirSync(copy).sort()).toEqual([file, 'ffff.json.unreadable'].sort());
    expect(logged).toEqual([expect.stringContaining('ffff.json could not be read')]);
  });

  test('without a store nothing is written and restore() brings back nothing', async () => {
    const sfn = new LocalStepFunctions({ resolveFunction: () => async () => null });
    emulators.push(sfn);
    sfn.createStateMachine('gate', gateThenTask);
    expect(sfn.restore()).toEqual({ resumed: 0, finished: 0 });
  });
});
