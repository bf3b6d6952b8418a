/**
 * LocalStepFunctions — an in-process emulation of AWS Step Functions (Standard workflows) for the local
 * runtime and the tests, built around the `aws-local-stepfunctions` ASL interpreter.
 *
 * What is emulated, and how:
 * - State machines and executions with the AWS API shapes: StartExecution (idempotent for the same
 *   name and input while running, `ExecutionAlreadyExists` otherwise), DescribeExecution,
 *   GetExecutionHistory (AWS event types and `*EventDetails`, paging, reverse order,
 *   `includeExecutionData`), ListExecutions, StopExecution, SendTaskSuccess/Failure/Heartbeat,
 *   DescribeStateMachine.
 *   Errors are `SfnServiceError`s whose `name` is the AWS error code; `./http` speaks the AWS JSON 1.0
 *   protocol so `@aws-sdk/client-sfn` works unchanged.
 * - The interpreter walks the states (Pass, Choice, Task, Parallel, Map, Succeed, Fail, paths,
 *   intrinsic functions, Retry incl. `MaxDelaySeconds`/`JitterStrategy: FULL`, Catch). Every Task runs
 *   through its `taskResourceLocalHandlers` override (keyed by state name; names are unique across
 *   nested branches): Lambda function ARNs and `arn:aws:states:::lambda:invoke` call
 *   `resolveFunction(name)(payload)` in-process (`lambda:invoke` results are wrapped as
 *   `{ Payload, StatusCode: 200 }`); a thrown error fails the task with `Error` = the error's `name`
 *   and `Cause` = `{"errorType","errorMessage","trace"}` like Lambda, so Retry/Catch match on the name.
 * - Callback tasks (`arn:aws:states:::lambda:invoke.waitForTaskToken`, which the interpreter lacks):
 *   each attempt mints a fresh random URL-safe token, puts it where `$$.Task.Token` is referenced,
 *   invokes `Parameters.FunctionName` with `Parameters.Payload`, and parks until SendTaskSuccess
 *   (output JSON becomes the result) or SendTaskFailure (task fails with the given error name and cause).
 *   `HeartbeatSeconds(Path)` → `States.HeartbeatTimeout` (also matched by `States.Timeout`),
 *   `TimeoutSeconds(Path)` → `States.Timeout`; tokens of timed-out tasks and of stopped/closed
 *   executions answer `TaskTimedOut`, completed or unknown ones `TaskDoesNotExist`.
 * - Timeouts and waits are enforced here, not by the interpreter (whose task timeout defaults to 60 s
 *   and overflows above 2^31 ms): the interpreter gets `TimeoutSeconds: 2147483` on every Task and the
 *   emulator arms chunked timers of any length. Wait states are turned into emulator-run tasks, so
 *   `Seconds`, `SecondsPath`, `Timestamp` and `TimestampPath` all work and scale.
 * - `timeScale` divides every wait: Wait durations (for timestamps: the time left), callback-task
 *   and heartbeat timeouts, Retry intervals and `MaxDelaySeconds` (written scaled into the
 *   interpreter's copy of the definition, so backoff and full jitter still apply), and the
 *   execution's top-level `TimeoutSeconds`. A plain Lambda task's `TimeoutSeconds` bounds how long a
 *   function runs, not a wait, so it is not scaled.
 * - Definitions are validated with the interpreter's asl-validator (ARNs and paths checked) and
 *   refused with `InvalidDefinition`; `createStateMachine` with an existing name replaces the definition.
 * - Executions live in memory, or, with a `store` (./store), on disk as well: every change is written
 *   before it is acknowledged, `close()` then leaves running executions as they are, and `restore()`
 *   (after the state machines are created again) brings them all back and continues the unfinished
 *   ones where they were (./resume): a parked callback task with the same token and the time it had
 *   left, a Wait with its due time, a Lambda task run again.
 *
 * Modules: ./tasks runs the tasks, ./tokens keeps the callback tokens, ./history writes the history,
 * ./definition prepares the copy the interpreter runs, ./execution holds an execution's records and
 * how one ends, ./validate checks requests, ./store and ./resume keep executions across restarts.
 *
 * Known gaps (what is not emulated, honestly): ./README.md.
 */
import './polyfill';
import { randomUUID } from 'node:crypto';
import type {
  DescribeExecutionOutput,
  ExecutionListItem,
  ExecutionStatus,
  GetExecutionHistoryOutput,
  HistoryEvent,
  HistoryEventType,
  ListExecutionsOutput,
  StartExecutionOutput,
  StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import type {
  DescribeExecutionParams,
  GetExecutionHistoryParams,
  ListExecutionsParams,
  LocalStepFunctionsLogger,
  LocalStepFunctionsOptions,
  SendTaskFailureParams,
  SendTaskHeartbeatParams,
  SendTaskSuccessParams,
  StartExecutionParams,
  StopExecutionParams,
} from './api';
import { ACCOUNT_ID, REGION } from '../constants';
import { prepareDefinition } from './definition';
import { SfnServiceError, taskError } from './errors';
import { abandonBranches, endingDetails, type ExecutionRecord, haltExecution, type MachineRecord } from './execution';
import { appendEvent, describe, historyPage, listPage, translate, type HistorySink } from './history';
import { StateMachine, warmUpInterpreter, type InterpreterEvent, type TaskHandlers } from './interpreter';
import { restoreExecution, resumedInterpreter } from './resume';
import type { ExecutionStore } from './store';
import { TaskRunner } from './tasks';
import { LongTimer, nextMacrotask } from './timers';
import { TaskTokens } from './tokens';
import { checkArn, checkName, parseExecutionInput } from './validate';

export { SfnServiceError } from './errors';
export type { LocalFunctionHandler } from './tasks';
export type * from './api';

export class LocalStepFunctions {
  readonly region: string;
  readonly accountId: string;
  private readonly timeScale: number;
  private readonly logger?: LocalStepFunctionsLogger;
  private readonly store?: ExecutionStore;
  private readonly machines = new Map<string, MachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly tokens = new TaskTokens();
  private readonly runner: TaskRunner;
  private readonly sink: HistorySink;
  private closed = false;
  private persistFailed = false;

  constructor(options: LocalStepFunctionsOptions) {
    this.region = options.region ?? REGION;
    this.accountId = options.accountId ?? ACCOUNT_ID;
    this.timeScale = options.timeScale ?? 1;
    if (!(Number.isFinite(this.timeScale) && this.timeScale > 0)) {
      throw new RangeError(`timeScale must be a positive number, got ${String(options.timeScale)}`);
    }
    if (typeof options.resolveFunction !== 'function') throw new TypeError('resolveFunction is required');
    this.logger = options.logger;
    this.store = options.store;
    this.runner = new TaskRunner({
      region: this.region,
      timeScale: this.timeScale,
      tokenPlaceholder: this.tokens.placeholder,
      tokens: this.tokens.byToken,
      resolveFunction: options.resolveFunction,
      record: (execution, type, details) => this.record(execution, type, details),
      append: (execution, type, details) => this.append(execution, type, details),
      persist: (execution) => this.persist(execution),
    });
    this.sink = {
      record: (execution, type, details) => this.record(execution, type, details),
      succeed: (execution, output) => this.finish(execution, 'SUCCEEDED', 'ExecutionSucceeded', { output }),
      fail: (execution, error, cause) => this.finish(execution, 'FAILED', 'ExecutionFailed', { error, cause }),
      cancelNested: abandonBranches,
    };
    warmUpInterpreter();
  }

  /**
   * Registers (or replaces: running executions keep their definition) a state machine and returns its
   * ARN. `definition` is the ASL object after definition substitution. Throws `InvalidDefinition`/`InvalidName`.
   */
  createStateMachine(name: string, definition: object): string {
    checkName(name, 'State Machine Name');
    const prepared = prepareDefinition(definition, this.timeScale);
    const interpreter = new StateMachine(prepared.definition, { validationOptions: { noValidate: true } });
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    const topLevel = new Set(Object.keys((definition as { States: object }).States));
    this.machines.set(arn, { arn, name, source: JSON.stringify(definition), createdAt: new Date(), prepared, interpreter, topLevel });
    this.logger?.info('state machine created', { stateMachineArn: arn });
    return arn;
  }

  async startExecution(params: StartExecutionParams): Promise<StartExecutionOutput & { executionArn: string; startDate: Date }> {
    if (this.closed) throw new SfnServiceError('ServiceUnavailable', 'LocalStepFunctions is closed');
    const machine = this.getMachine(params.stateMachineArn);
    const name = checkName(params.name ?? randomUUID(), 'Name');
    const input = params.input ?? '{}';
    const parsed = parseExecutionInput(input);
    const arn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: existing.arn, startDate: existing.startDate };
      }
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }

    const startDate = new Date();
    const limit = machine.prepared.executionTimeoutSeconds;
    const execution: ExecutionRecord = {
      arn,
      name,
      machine,
      input,
      startDate,
      status: 'RUNNING',
      events: [],
      attempts: new Set(),
      timers: new Set(),
      tokens: new Set(),
      deadlineAt: limit === undefined ? undefined : startDate.getTime() + this.ms(limit),
    };
    this.executions.set(arn, execution);
    this.record(execution, 'ExecutionStarted', {
      executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn: this.roleArn() },
    });
    this.launch(execution, machine.interpreter, parsed);
    this.logger?.info('execution started', { executionArn: arn });
    return { executionArn: arn, startDate };
  }

  /**
   * Brings back every execution of the store (call it once the state machines are created again):
   * finished ones for Describe/History/List, unfinished ones continue where they were. Returns counts.
   */
  restore(): { resumed: number; finished: number } {
    const counts = { resumed: 0, finished: 0 };
    if (!this.store || this.closed) return counts;
    for (const stored of this.store.loadAll()) {
      const machine = this.machines.get(stored.stateMachineArn);
      if (this.executions.has(stored.arn)) continue;
      if (!machine) {
        this.logger?.error('stored execution of an unknown state machine left as it is', { executionArn: stored.arn });
        continue;
      }
      const { execution, tokens } = restoreExecution(stored, machine);
      this.executions.set(execution.arn, execution);
      for (const t of tokens) this.tokens.byToken.set(t.token, t);
      if (execution.status !== 'RUNNING') {
        counts.finished++;
        continue;
      }
      counts.resumed++;
      const position = execution.position;
      if (position && !machine.topLevel.has(position.state)) {
        this.finish(execution, 'FAILED', 'ExecutionFailed', {
          error: 'States.Runtime',
          cause: `state ${position.state} is no longer in the definition`,
        });
        continue;
      }
      this.launch(execution, position ? resumedInterpreter(machine, position) : machine.interpreter, JSON.parse(execution.input));
      this.logger?.info('execution resumed', { executionArn: execution.arn, state: position?.state ?? '(start)' });
    }
    return counts;
  }

  async sendTaskSuccess(params: SendTaskSuccessParams): Promise<Record<string, never>> {
    this.tokens.open(params.taskToken);
    let value: unknown;
    try {
      if (typeof params.output !== 'string') throw new Error('output must be a string');
      value = JSON.parse(params.output);
    } catch (error) {
      throw new SfnServiceError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
    }
    const record = await this.tokens.parked(params.taskToken);
    record.status = 'closed';
    this.runner.settle(record.attempt, { ok: true, value }, () =>
      this.record(record.execution, 'TaskSucceeded', {
        taskSucceededEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          output: params.output,
          outputDetails: { truncated: false },
        },
      }),
    );
    return {};
  }

  async sendTaskFailure(params: SendTaskFailureParams): Promise<Record<string, never>> {
    const record = await this.tokens.parked(params.taskToken);
    const error = params.error ?? '';
    const cause = params.cause ?? '';
    record.status = 'closed';
    this.runner.settle(
      record.attempt,
      { ok: false, error, cause },
      () =>
        this.record(record.execution, 'TaskFailed', {
          taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause },
        }),
      taskError(error, cause),
    );
    return {};
  }

  async sendTaskHeartbeat(params: SendTaskHeartbeatParams): Promise<Record<string, never>> {
    const record = await this.tokens.parked(params.taskToken);
    if (record.heartbeatMs !== undefined) {
      this.runner.armHeartbeat(record);
      this.persist(record.execution);
    }
    return {};
  }

  async describeExecution(params: DescribeExecutionParams): Promise<DescribeExecutionOutput> {
    return describe(this.getExecution(params.executionArn));
  }

  async getExecutionHistory(params: GetExecutionHistoryParams): Promise<GetExecutionHistoryOutput & { events: HistoryEvent[] }> {
    return historyPage(this.getExecution(params.executionArn), params);
  }

  /** DescribeStateMachine: a Standard machine, ACTIVE, with the definition it was created from */
  async describeStateMachine(params: { stateMachineArn: string }) {
    const machine = this.getMachine(params.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE' as const,
      definition: machine.source,
      type: 'STANDARD' as const,
      creationDate: machine.createdAt,
      roleArn: this.roleArn(),
    };
  }

  async listExecutions(params: ListExecutionsParams): Promise<ListExecutionsOutput & { executions: ExecutionListItem[] }> {
    const machine = this.getMachine(params.stateMachineArn);
    return listPage(
      [...this.executions.values()].filter((e) => e.machine.arn === machine.arn),
      params,
    );
  }

  /** Aborts a running execution (no-op on a closed one). Its pending task tokens then answer `TaskTimedOut`. */
  async stopExecution(params: StopExecutionParams): Promise<StopExecutionOutput & { stopDate: Date }> {
    const execution = this.getExecution(params.executionArn);
    if (execution.status === 'RUNNING') {
      await nextMacrotask(); // let the history catch up with the interpreter first
      this.finish(execution, 'ABORTED', 'ExecutionAborted', { error: params.error, cause: params.cause });
    }
    return { stopDate: execution.stopDate ?? new Date() };
  }

  /** closed with a store: running executions stay as they are on disk, nothing more is written */
  private get suspended(): boolean {
    return this.closed && this.store !== undefined;
  }

  /**
   * Clears every timer; later StartExecution calls fail. In memory, running executions are aborted;
   * with a store they are left running on disk, for `restore()` in the next process.
   */
  close(): void {
    this.closed = true;
    if (this.suspended) {
      for (const execution of this.executions.values()) {
        if (execution.status === 'RUNNING') haltExecution(execution);
      }
      return;
    }
    for (const execution of this.executions.values()) {
      this.finish(execution, 'ABORTED', 'ExecutionAborted', {
        error: 'LocalStepFunctions.Closed',
        cause: 'the local Step Functions service was closed',
      });
    }
  }

  // ---------------------------------------------------------------------------------------------

  private ms(seconds: number): number {
    return (seconds * 1000) / this.timeScale;
  }

  private roleArn(): string {
    return `arn:aws:iam::${this.accountId}:role/local-step-functions`;
  }

  /** runs (or, restored, continues) an execution on `interpreter` and follows its events */
  private launch(execution: ExecutionRecord, interpreter: StateMachine, input: unknown): void {
    const machine = execution.machine;
    const handlers: TaskHandlers = {};
    for (const [stateName, plan] of machine.prepared.tasks) {
      handlers[stateName] = (stateInput) => this.runner.runTask(execution, plan, stateInput) as ReturnType<TaskHandlers[string]>;
    }
    const run = interpreter.run(input as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: { Id: execution.arn, Name: execution.name, RoleArn: this.roleArn() },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: this.tokens.placeholder },
      },
    });
    execution.run = run;
    run.result.catch(() => undefined); // outcome is taken from the event stream
    void this.consume(execution, run.eventLogs);
    const limit = machine.prepared.executionTimeoutSeconds;
    if (execution.deadlineAt !== undefined && limit !== undefined) {
      const left = Math.max(0, execution.deadlineAt - Date.now());
      execution.timers.add(new LongTimer(left, () => void this.timeOutExecution(execution, limit)));
    }
  }

  private getMachine(arn: string): MachineRecord {
    checkArn('stateMachine', arn);
    const machine = this.machines.get(arn);
    if (!machine) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private getExecution(arn: string): ExecutionRecord {
    checkArn('execution', arn);
    const execution = this.executions.get(arn);
    if (!execution) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  /** Appends an AWS-shaped history event and saves the execution (ignored once it is closed). */
  private record(execution: ExecutionRecord, type: HistoryEventType, details: Partial<HistoryEvent> = {}): void {
    if (this.append(execution, type, details)) this.persist(execution);
  }

  /** Appends an AWS-shaped history event without saving (the next record saves it); false once the execution is closed. */
  private append(execution: ExecutionRecord, type: HistoryEventType, details: Partial<HistoryEvent> = {}): boolean {
    if (execution.status !== 'RUNNING' || this.suspended) return false;
    appendEvent(execution, type, details);
    return true;
  }

  /** Writes the execution to the store, if there is one (after every change). */
  private persist(execution: ExecutionRecord): void {
    if (!this.store || this.suspended) return;
    try {
      this.store.save(execution);
    } catch (error) {
      if (!this.persistFailed) this.logger?.error('could not save an execution', { executionArn: execution.arn, error: String(error) });
      this.persistFailed = true;
    }
  }

  /** Closes an execution once: terminal event, status, tokens → TaskTimedOut, attempts and timers cancelled, interpreter aborted. */
  private finish(
    execution: ExecutionRecord,
    status: Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>,
    eventType: HistoryEventType,
    fields: { output?: string; error?: string; cause?: string },
  ): void {
    if (execution.status !== 'RUNNING' || this.suspended) return;
    appendEvent(execution, eventType, endingDetails(eventType, fields));
    execution.status = status;
    execution.stopDate = new Date();
    if (fields.output !== undefined) execution.output = fields.output;
    if (fields.error !== undefined) execution.error = fields.error;
    if (fields.cause !== undefined) execution.cause = fields.cause;
    execution.current = undefined;
    for (const record of execution.tokens) if (record.status === 'open') record.status = 'timedOut';
    this.persist(execution);
    haltExecution(execution);
    this.logger?.info('execution finished', { executionArn: execution.arn, status });
  }

  private async timeOutExecution(execution: ExecutionRecord, seconds: number): Promise<void> {
    await nextMacrotask();
    this.finish(execution, 'TIMED_OUT', 'ExecutionTimedOut', {
      error: 'States.Timeout',
      cause: `the execution ran longer than its TimeoutSeconds (${seconds})`,
    });
  }

  /** Turns the interpreter's event stream into AWS history events and the terminal status. */
  private async consume(execution: ExecutionRecord, events: AsyncGenerator<InterpreterEvent>): Promise<void> {
    try {
      for await (const event of events) {
        if (execution.status === 'RUNNING' && !this.suspended) translate(execution, event, this.sink);
      }
    } catch (error) {
      this.logger?.error('event stream failed', { executionArn: execution.arn, error: String(error) });
      this.finish(execution, 'FAILED', 'ExecutionFailed', { error: 'States.Runtime', cause: String(error) });
    }
  }
}
