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
 *
 * Known gaps (honestly):
 * - JSONata, `Assign`/variables, `Arguments`/`Output` are rejected (`InvalidDefinition`): the
 *   interpreter does not evaluate them. Only Lambda resources are supported (no other service
 *   integrations, no `.sync`, no activities, no Distributed Map features).
 * - The Context object has `Execution.{Id,Name,Input,StartTime,RoleArn}`, `StateMachine.{Id,Name}`,
 *   `Task.Token` and `Map.Item`; `$$.State.*` is missing.
 * - A single task attempt can last at most 2147483 s (~24.8 days) of real time: past that the
 *   interpreter's own (capped) timer raises `States.Timeout`. Use `timeScale` for longer SLAs.
 * - History: AWS event types and details, one `*StateEntered` per state visited (AWS also bills each
 *   retry as a transition; its history, like this one, has no extra `*StateEntered` for retries).
 *   `previousEventId` is simply the previous event; inside Parallel/Map the relative order of branch
 *   events is approximate; there are no `*StateAborted` events and `MapStateStarted` has no `length`.
 * - When a Parallel/Map fails, callback tasks still parked in its other branches are cancelled
 *   (their tokens answer `TaskTimedOut`) but no event is written for them.
 * - SendTaskFailure without `error` fails the task with an empty error name (matched by
 *   `States.ALL`/`States.TaskFailed` only). Express workflows, redrive, versions/aliases, tags,
 *   map runs, activities and IAM are not emulated; everything lives in memory.
 * - If the interpreter's internal `States.Timeout` class cannot be recovered (a future interpreter
 *   version), `States.TaskFailed` in Retry/Catch also matches timeouts.
 */
import './polyfill';
import { randomBytes, randomUUID } from 'node:crypto';
import { types } from 'node:util';
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
import { prepareDefinition, HEARTBEAT_KEY, INPUT_KEY, PARAMS_KEY, TIMEOUT_KEY, WAIT_KEY, type PreparedDefinition, type TaskPlan } from './definition';
import { SfnServiceError, taskError, uncatchableError } from './errors';
import { StateMachine, statesTimeoutError, warmUpInterpreter, type InterpreterEvent, type RunHandle, type TaskHandlers } from './interpreter';
import { LongTimer, nextMacrotask, type Cancellable } from './timers';

export { SfnServiceError, isSfnServiceError, type SfnErrorCode } from './errors';

/** An in-process Lambda handler: receives the payload, resolves with the result. */
export type LocalFunctionHandler = (payload: unknown) => Promise<unknown>;

export interface LocalStepFunctionsLogger {
  info(msg: string, data?: object): void;
  error(msg: string, data?: object): void;
}

export interface LocalStepFunctionsOptions {
  /** default us-east-1 */
  region?: string;
  /** default 000000000000 */
  accountId?: string;
  /** resolves a Lambda function ARN or name (as written after definition substitution) to an in-process handler */
  resolveFunction: (functionArnOrName: string) => LocalFunctionHandler;
  /** divides every Wait duration, TimeoutSeconds/TimeoutSecondsPath, HeartbeatSeconds and Retry interval; default 1 */
  timeScale?: number;
  logger?: LocalStepFunctionsLogger;
}

export interface StartExecutionParams {
  stateMachineArn: string;
  name?: string;
  /** JSON text, default "{}" */
  input?: string;
}

export interface SendTaskSuccessParams {
  taskToken: string;
  /** JSON text */
  output: string;
}

export interface SendTaskFailureParams {
  taskToken: string;
  error?: string;
  cause?: string;
}

export interface SendTaskHeartbeatParams {
  taskToken: string;
}

export interface DescribeExecutionParams {
  executionArn: string;
}

export interface GetExecutionHistoryParams {
  executionArn: string;
  maxResults?: number;
  nextToken?: string;
  reverseOrder?: boolean;
  includeExecutionData?: boolean;
}

export interface ListExecutionsParams {
  stateMachineArn: string;
  statusFilter?: ExecutionStatus;
  maxResults?: number;
  nextToken?: string;
}

export interface StopExecutionParams {
  executionArn: string;
  error?: string;
  cause?: string;
}

interface MachineRecord {
  arn: string;
  name: string;
  /** the definition as given (DescribeStateMachine returns it) */
  source: string;
  createdAt: Date;
  prepared: PreparedDefinition;
  interpreter: StateMachine;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  machine: MachineRecord;
  input: string;
  startDate: Date;
  stopDate?: Date;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
  run?: RunHandle;
  attempts: Set<TaskAttempt>;
  timers: Set<Cancellable>;
  tokens: Set<TokenRecord>;
}

interface TokenRecord {
  token: string;
  execution: ExecutionRecord;
  attempt: TaskAttempt;
  status: 'open' | 'closed' | 'timedOut';
  heartbeatMs?: number;
  heartbeat?: LongTimer;
}

/** One attempt of one Task: a promise the interpreter awaits, settled once, with its own timers. */
class TaskAttempt {
  readonly promise: Promise<unknown>;
  settled = false;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (error: unknown) => void;
  private readonly timers: Cancellable[] = [];
  private readonly onSettle: Array<() => void> = [];

  constructor(
    private readonly execution: ExecutionRecord,
    readonly plan: TaskPlan,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    execution.attempts.add(this);
  }

  after(ms: number, fn: () => void): void {
    this.timers.push(new LongTimer(ms, fn));
  }

  finally(fn: () => void): void {
    this.onSettle.push(fn);
  }

  succeed(value: unknown): void {
    if (this.finish()) this.resolveFn(value);
  }

  fail(error: Error | Promise<Error>): void {
    if (this.finish()) void Promise.resolve(error).then((e) => this.rejectFn(e));
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    for (const timer of this.timers) timer.cancel();
    this.execution.attempts.delete(this);
    for (const fn of this.onSettle) fn();
    return true;
  }
}

const TOKEN_BYTES = 120;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{160}$/;
const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const MAX_INPUT_BYTES = 256 * 1024;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

function cloneJson(value: unknown): unknown {
  return JSON.parse(json(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces the `$$.Task.Token` placeholder wherever it ended up (also inside States.Format strings). */
function replaceDeep(value: unknown, placeholder: string, token: string): unknown {
  if (typeof value === 'string') return value.includes(placeholder) ? value.split(placeholder).join(token) : value;
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, placeholder, token));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, placeholder, token)]));
  }
  return value;
}

/** A failed Lambda invocation as Step Functions reports it: Error = errorType, Cause = the Lambda error JSON. */
function lambdaError(error: unknown): Error {
  const fields = isObject(error) || types.isNativeError(error) ? (error as { name?: unknown; message?: unknown; stack?: unknown }) : {};
  const errorType = typeof fields.name === 'string' && fields.name !== '' ? fields.name : 'Error';
  const errorMessage = typeof fields.message === 'string' ? fields.message : String(error);
  const trace = typeof fields.stack === 'string' ? fields.stack.split('\n') : [];
  return taskError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

function encodePageToken(offset: number): string {
  return Buffer.from(`page:${offset}`).toString('base64url');
}

function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const match = /^page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!match?.[1]) throw new SfnServiceError('InvalidToken', 'Invalid pagination token');
  return Number(match[1]);
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return DEFAULT_PAGE;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > MAX_PAGE) {
    throw new SfnServiceError('ValidationException', `maxResults must be an integer between 0 and ${MAX_PAGE}`);
  }
  return maxResults;
}

export class LocalStepFunctions {
  readonly region: string;
  readonly accountId: string;
  private readonly timeScale: number;
  private readonly resolveFunction: (functionArnOrName: string) => LocalFunctionHandler;
  private readonly logger?: LocalStepFunctionsLogger;
  private readonly machines = new Map<string, MachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly tokenPlaceholder = `__localSfnTaskToken_${randomUUID()}`;
  private closed = false;

  constructor(options: LocalStepFunctionsOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.timeScale = options.timeScale ?? 1;
    if (!(Number.isFinite(this.timeScale) && this.timeScale > 0)) {
      throw new RangeError(`timeScale must be a positive number, got ${String(options.timeScale)}`);
    }
    if (typeof options.resolveFunction !== 'function') throw new TypeError('resolveFunction is required');
    this.resolveFunction = options.resolveFunction;
    this.logger = options.logger;
    warmUpInterpreter();
  }

  /**
   * Registers (or replaces: running executions keep their definition) a state machine and returns its
   * ARN. `definition` is the ASL object after definition substitution. Throws `InvalidDefinition`/`InvalidName`.
   */
  createStateMachine(name: string, definition: object): string {
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new SfnServiceError('InvalidName', `Invalid State Machine Name: '${String(name)}'`);
    }
    const prepared = prepareDefinition(definition, this.timeScale);
    const interpreter = new StateMachine(prepared.definition, { validationOptions: { noValidate: true } });
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    this.machines.set(arn, { arn, name, source: JSON.stringify(definition), createdAt: new Date(), prepared, interpreter });
    this.logger?.info('state machine created', { stateMachineArn: arn });
    return arn;
  }

  async startExecution(params: StartExecutionParams): Promise<StartExecutionOutput & { executionArn: string; startDate: Date }> {
    if (this.closed) throw new SfnServiceError('ServiceUnavailable', 'LocalStepFunctions is closed');
    const machine = this.getMachine(params.stateMachineArn);
    const name = params.name ?? randomUUID();
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new SfnServiceError('InvalidName', `Invalid Name: '${String(name)}'`);
    }
    const input = params.input ?? '{}';
    let parsed: unknown;
    try {
      if (typeof input !== 'string') throw new Error('input must be a string');
      if (Buffer.byteLength(input) > MAX_INPUT_BYTES) throw new Error('input is larger than 256 KiB');
      parsed = JSON.parse(input);
    } catch (error) {
      throw new SfnServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
    }
    const arn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: existing.arn, startDate: existing.startDate };
      }
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }

    const execution: ExecutionRecord = {
      arn,
      name,
      machine,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      events: [],
      attempts: new Set(),
      timers: new Set(),
      tokens: new Set(),
    };
    this.executions.set(arn, execution);
    const roleArn = `arn:aws:iam::${this.accountId}:role/local-step-functions`;
    this.record(execution, 'ExecutionStarted', {
      executionStartedEventDetails: { input, inputDetails: { truncated: false }, roleArn },
    });

    const handlers: TaskHandlers = {};
    for (const [stateName, plan] of machine.prepared.tasks) {
      handlers[stateName] = (stateInput) => this.runTask(execution, plan, stateInput) as ReturnType<TaskHandlers[string]>;
    }
    const run = machine.interpreter.run(parsed as Parameters<StateMachine['run']>[0], {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: { Id: arn, Name: name, RoleArn: roleArn },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: this.tokenPlaceholder },
      },
    });
    execution.run = run;
    run.result.catch(() => undefined); // outcome is taken from the event stream
    void this.consume(execution, run.eventLogs);

    const limit = machine.prepared.executionTimeoutSeconds;
    if (limit !== undefined) {
      execution.timers.add(new LongTimer(this.ms(limit), () => void this.timeOutExecution(execution, limit)));
    }
    this.logger?.info('execution started', { executionArn: arn });
    return { executionArn: arn, startDate: execution.startDate };
  }

  async sendTaskSuccess(params: SendTaskSuccessParams): Promise<Record<string, never>> {
    const record = this.openToken(params.taskToken);
    let value: unknown;
    try {
      if (typeof params.output !== 'string') throw new Error('output must be a string');
      value = JSON.parse(params.output);
    } catch (error) {
      throw new SfnServiceError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
    }
    this.record(record.execution, 'TaskSucceeded', {
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: params.output,
        outputDetails: { truncated: false },
      },
    });
    record.status = 'closed';
    record.attempt.succeed(value);
    return {};
  }

  async sendTaskFailure(params: SendTaskFailureParams): Promise<Record<string, never>> {
    const record = this.openToken(params.taskToken);
    const error = params.error ?? '';
    const cause = params.cause ?? '';
    this.record(record.execution, 'TaskFailed', {
      taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause },
    });
    record.status = 'closed';
    record.attempt.fail(taskError(error, cause));
    return {};
  }

  async sendTaskHeartbeat(params: SendTaskHeartbeatParams): Promise<Record<string, never>> {
    const record = this.openToken(params.taskToken);
    if (record.heartbeatMs !== undefined) this.armHeartbeat(record);
    return {};
  }

  async describeExecution(params: DescribeExecutionParams): Promise<DescribeExecutionOutput> {
    const execution = this.getExecution(params.executionArn);
    const out: DescribeExecutionOutput = {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      input: execution.input,
      inputDetails: { included: true },
      redriveCount: 0,
    };
    if (execution.stopDate) out.stopDate = execution.stopDate;
    if (execution.output !== undefined) {
      out.output = execution.output;
      out.outputDetails = { included: true };
    }
    if (execution.error !== undefined) out.error = execution.error;
    if (execution.cause !== undefined) out.cause = execution.cause;
    return out;
  }

  async getExecutionHistory(params: GetExecutionHistoryParams): Promise<GetExecutionHistoryOutput & { events: HistoryEvent[] }> {
    const execution = this.getExecution(params.executionArn);
    const size = pageSize(params.maxResults);
    const offset = decodePageToken(params.nextToken);
    const ordered = params.reverseOrder ? [...execution.events].reverse() : execution.events;
    const page = ordered.slice(offset, offset + size);
    const includeData = params.includeExecutionData ?? true;
    const events = page.map((event) => copyEvent(event, includeData));
    const out: GetExecutionHistoryOutput & { events: HistoryEvent[] } = { events };
    if (offset + size < ordered.length) out.nextToken = encodePageToken(offset + size);
    return out;
  }

  /** DescribeStateMachine: a Standard machine, ACTIVE, with the definition it was created from */
  async describeStateMachine(params: { stateMachineArn: string }) {
    const machine = this.getMachine(params.stateMachineArn);
    return {
      stateMachineArn: machine.arn, name: machine.name, status: 'ACTIVE' as const, definition: machine.source,
      type: 'STANDARD' as const, creationDate: machine.createdAt, roleArn: `arn:aws:iam::${this.accountId}:role/local-step-functions`,
    };
  }

  async listExecutions(params: ListExecutionsParams): Promise<ListExecutionsOutput & { executions: ExecutionListItem[] }> {
    const machine = this.getMachine(params.stateMachineArn);
    const size = pageSize(params.maxResults);
    const offset = decodePageToken(params.nextToken);
    const all = [...this.executions.values()]
      .filter((e) => e.machine.arn === machine.arn && (!params.statusFilter || e.status === params.statusFilter))
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
    const executions = all.slice(offset, offset + size).map((e) => {
      const item: ExecutionListItem = {
        executionArn: e.arn,
        stateMachineArn: machine.arn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        redriveCount: 0,
      };
      if (e.stopDate) item.stopDate = e.stopDate;
      return item;
    });
    const out: ListExecutionsOutput & { executions: ExecutionListItem[] } = { executions };
    if (offset + size < all.length) out.nextToken = encodePageToken(offset + size);
    return out;
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

  /** Aborts every running execution and clears every timer; later StartExecution calls fail. */
  close(): void {
    this.closed = true;
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

  private getMachine(arn: string): MachineRecord {
    if (typeof arn !== 'string' || !STATE_MACHINE_ARN.test(arn)) {
      throw new SfnServiceError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    }
    const machine = this.machines.get(arn);
    if (!machine) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private getExecution(arn: string): ExecutionRecord {
    if (typeof arn !== 'string' || !EXECUTION_ARN.test(arn)) {
      throw new SfnServiceError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    }
    const execution = this.executions.get(arn);
    if (!execution) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  private openToken(token: string): TokenRecord {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
      throw new SfnServiceError('InvalidToken', 'Invalid Token: the task token is malformed');
    }
    const record = this.tokens.get(token);
    if (!record || record.status === 'closed') {
      throw new SfnServiceError('TaskDoesNotExist', 'Task Does Not Exist: no open task has this token');
    }
    if (record.status === 'timedOut') throw new SfnServiceError('TaskTimedOut', 'Task Timed Out: the task or its execution is closed');
    return record;
  }

  /** Appends an AWS-shaped history event (ignored once the execution is closed). */
  private record(execution: ExecutionRecord, type: HistoryEventType, details: Partial<HistoryEvent> = {}, force = false): void {
    if (execution.status !== 'RUNNING' && !force) return;
    const id = execution.events.length + 1;
    execution.events.push({ ...details, id, previousEventId: id - 1, timestamp: new Date(), type });
  }

  /** Closes an execution once: terminal event, status, tokens → TaskTimedOut, attempts and timers cancelled, interpreter aborted. */
  private finish(
    execution: ExecutionRecord,
    status: Exclude<ExecutionStatus, 'RUNNING' | 'PENDING_REDRIVE'>,
    eventType: HistoryEventType,
    fields: { output?: string; error?: string; cause?: string },
  ): void {
    if (execution.status !== 'RUNNING') return;
    const details: Partial<HistoryEvent> = {};
    if (eventType === 'ExecutionSucceeded') details.executionSucceededEventDetails = { output: fields.output, outputDetails: { truncated: false } };
    if (eventType === 'ExecutionFailed') details.executionFailedEventDetails = { error: fields.error, cause: fields.cause };
    if (eventType === 'ExecutionAborted') details.executionAbortedEventDetails = { error: fields.error, cause: fields.cause };
    if (eventType === 'ExecutionTimedOut') details.executionTimedOutEventDetails = { error: fields.error, cause: fields.cause };
    this.record(execution, eventType, details, true);
    execution.status = status;
    execution.stopDate = new Date();
    if (fields.output !== undefined) execution.output = fields.output;
    if (fields.error !== undefined) execution.error = fields.error;
    if (fields.cause !== undefined) execution.cause = fields.cause;
    for (const timer of execution.timers) timer.cancel();
    execution.timers.clear();
    for (const record of execution.tokens) {
      if (record.status === 'open') record.status = 'timedOut';
      record.heartbeat?.cancel();
    }
    for (const attempt of [...execution.attempts]) attempt.fail(uncatchableError('States.Runtime', `execution ${status.toLowerCase()}`));
    execution.run?.abort(); // a no-op once the interpreter has finished on its own
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
        if (execution.status === 'RUNNING') this.translate(execution, event);
      }
    } catch (error) {
      this.logger?.error('event stream failed', { executionArn: execution.arn, error: String(error) });
      this.finish(execution, 'FAILED', 'ExecutionFailed', { error: 'States.Runtime', cause: String(error) });
    }
  }

  private translate(execution: ExecutionRecord, event: InterpreterEvent): void {
    const types = execution.machine.prepared.stateTypes;
    switch (event.type) {
      case 'StateEntered': {
        const type = types.get(event.state.name) ?? event.state.type;
        this.record(execution, `${type}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: { name: event.state.name, input: json(event.state.input), inputDetails: { truncated: false } },
        });
        if (type === 'Parallel') this.record(execution, 'ParallelStateStarted');
        if (type === 'Map') this.record(execution, 'MapStateStarted');
        break;
      }
      case 'StateExited': {
        const type = types.get(event.state.name) ?? event.state.type;
        if (type === 'Parallel') this.record(execution, 'ParallelStateSucceeded');
        if (type === 'Map') this.record(execution, 'MapStateSucceeded');
        this.record(execution, `${type}StateExited` as HistoryEventType, {
          stateExitedEventDetails: { name: event.state.name, output: json(event.state.output), outputDetails: { truncated: false } },
        });
        break;
      }
      case 'StateFailed': {
        const type = types.get(event.state.name) ?? event.state.type;
        if (type === 'Parallel' || type === 'Map') {
          this.record(execution, type === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed');
          this.cancelNested(execution, event.state.name);
        }
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details = { name: event.parentState.name, index: event.index };
        if (event.type === 'MapIterationStarted') this.record(execution, event.type, { mapIterationStartedEventDetails: details });
        if (event.type === 'MapIterationSucceeded') this.record(execution, event.type, { mapIterationSucceededEventDetails: details });
        if (event.type === 'MapIterationFailed') this.record(execution, event.type, { mapIterationFailedEventDetails: details });
        break;
      }
      case 'ExecutionSucceeded':
        this.finish(execution, 'SUCCEEDED', 'ExecutionSucceeded', { output: json(event.output) });
        break;
      case 'ExecutionFailed':
        this.finish(execution, 'FAILED', 'ExecutionFailed', {
          error: event.Error,
          cause: typeof event.Cause === 'string' ? event.Cause : json(event.Cause),
        });
        break;
      default:
        break; // ExecutionStarted is recorded by startExecution; aborts/timeouts by finish()
    }
  }

  /** A failed Parallel/Map abandons its branches: cancel the attempts still running inside it. */
  private cancelNested(execution: ExecutionRecord, stateName: string): void {
    for (const attempt of [...execution.attempts]) {
      if (!attempt.plan.ancestors.includes(stateName)) continue;
      for (const record of execution.tokens) if (record.attempt === attempt && record.status === 'open') record.status = 'timedOut';
      attempt.fail(uncatchableError('States.Runtime', `branch of ${stateName} abandoned`));
    }
  }

  // --- tasks -----------------------------------------------------------------------------------

  private async runTask(execution: ExecutionRecord, plan: TaskPlan, rawInput: unknown): Promise<unknown> {
    const stopped = () => uncatchableError('States.Runtime', 'execution is no longer running');
    if (execution.status !== 'RUNNING') throw stopped();
    await nextMacrotask(); // the interpreter's StateEntered for this state must reach the history first
    if (execution.status !== 'RUNNING') throw stopped();
    const input = isObject(rawInput) ? rawInput : {};
    if (plan.kind === 'wait') return this.runWait(execution, plan, input);

    const parameters = input[PARAMS_KEY];
    const timeoutSeconds = plan.timeoutFromPath ? this.pathSeconds(plan, 'TimeoutSecondsPath', input[TIMEOUT_KEY]) : plan.timeoutSeconds;
    const heartbeatSeconds = plan.heartbeatFromPath ? this.pathSeconds(plan, 'HeartbeatSecondsPath', input[HEARTBEAT_KEY]) : plan.heartbeatSeconds;
    if (plan.kind === 'callback') return this.runCallbackTask(execution, plan, parameters, timeoutSeconds, heartbeatSeconds);
    return this.runFunctionTask(execution, plan, parameters, timeoutSeconds);
  }

  private pathSeconds(plan: TaskPlan, field: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw uncatchableError('States.Runtime', `state ${plan.stateName}: ${field} must point to a positive integer, got ${json(value)}`);
    }
    return value;
  }

  private lambdaTarget(plan: TaskPlan, parameters: unknown): { functionName: string; payload: unknown } {
    if (plan.kind === 'function') return { functionName: plan.resource, payload: parameters };
    const functionName = isObject(parameters) ? parameters.FunctionName : undefined;
    if (typeof functionName !== 'string' || functionName === '') {
      throw uncatchableError('States.Runtime', `state ${plan.stateName}: Parameters.FunctionName must be a non-empty string`);
    }
    const payload = isObject(parameters) && 'Payload' in parameters ? parameters.Payload : {};
    return { functionName, payload };
  }

  /** Calls the in-process handler like Lambda would: JSON in, JSON out, errors as Lambda errors. */
  private async invoke(functionName: string, payload: unknown): Promise<unknown> {
    let handler: LocalFunctionHandler;
    try {
      handler = this.resolveFunction(functionName);
      if (typeof handler !== 'function') throw new Error(`no handler for ${functionName}`);
    } catch (error) {
      const message = `Function not found: ${functionName} (${(error as Error).message ?? String(error)})`;
      throw taskError('Lambda.ResourceNotFoundException', JSON.stringify({ errorType: 'ResourceNotFoundException', errorMessage: message }));
    }
    let result: unknown;
    try {
      result = await handler(cloneJson(payload));
    } catch (error) {
      throw lambdaError(error);
    }
    try {
      return cloneJson(result);
    } catch (error) {
      throw taskError('Runtime.MarshalError', JSON.stringify({ errorType: 'Runtime.MarshalError', errorMessage: String(error) }));
    }
  }

  private runFunctionTask(execution: ExecutionRecord, plan: TaskPlan, parameters: unknown, timeoutSeconds: number | undefined): Promise<unknown> {
    const { functionName, payload } = this.lambdaTarget(plan, parameters);
    const integration = plan.kind === 'lambda-invoke';
    const attempt = new TaskAttempt(execution, plan);
    if (integration) {
      this.record(execution, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: this.region,
          parameters: json(parameters),
          timeoutInSeconds: timeoutSeconds,
        },
      });
      this.record(execution, 'TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' } });
    } else {
      this.record(execution, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: {
          resource: plan.resource,
          input: json(payload),
          inputDetails: { truncated: false },
          timeoutInSeconds: timeoutSeconds,
        },
      });
      this.record(execution, 'LambdaFunctionStarted');
    }
    if (timeoutSeconds !== undefined) {
      // a function's run time is not a wait: TIME_SCALE leaves it as written
      attempt.after(timeoutSeconds * 1000, () => {
        const cause = `the task ran longer than its TimeoutSeconds (${timeoutSeconds})`;
        if (integration) {
          this.record(execution, 'TaskTimedOut', {
            taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout', cause },
          });
        } else {
          this.record(execution, 'LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout', cause } });
        }
        attempt.fail(statesTimeoutError('States.Timeout', cause));
      });
    }
    this.invoke(functionName, payload).then(
      (result) => {
        if (attempt.settled) return;
        const output = integration ? { Payload: result, StatusCode: 200 } : result;
        if (integration) {
          this.record(execution, 'TaskSucceeded', {
            taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: json(output), outputDetails: { truncated: false } },
          });
        } else {
          this.record(execution, 'LambdaFunctionSucceeded', {
            lambdaFunctionSucceededEventDetails: { output: json(output), outputDetails: { truncated: false } },
          });
        }
        attempt.succeed(output);
      },
      (error: Error) => {
        if (attempt.settled) return;
        if (integration) {
          this.record(execution, 'TaskFailed', {
            taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: error.name, cause: error.message },
          });
        } else {
          this.record(execution, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: error.name, cause: error.message } });
        }
        attempt.fail(error);
      },
    );
    return attempt.promise;
  }

  private runCallbackTask(
    execution: ExecutionRecord,
    plan: TaskPlan,
    parameters: unknown,
    timeoutSeconds: number | undefined,
    heartbeatSeconds: number | undefined,
  ): Promise<unknown> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const resolved = replaceDeep(parameters, this.tokenPlaceholder, token);
    const { functionName, payload } = this.lambdaTarget(plan, resolved);
    const attempt = new TaskAttempt(execution, plan);
    const record: TokenRecord = { token, execution, attempt, status: 'open' };
    this.tokens.set(token, record);
    execution.tokens.add(record);
    attempt.finally(() => {
      if (record.status === 'open') record.status = 'closed';
      record.heartbeat?.cancel();
    });

    const resource = 'invoke.waitForTaskToken';
    this.record(execution, 'TaskScheduled', {
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource,
        region: this.region,
        parameters: json(resolved),
        timeoutInSeconds: timeoutSeconds,
        heartbeatInSeconds: heartbeatSeconds,
      },
    });
    this.record(execution, 'TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource } });
    if (timeoutSeconds !== undefined) {
      attempt.after(this.ms(timeoutSeconds), () =>
        this.timeOutTask(record, 'States.Timeout', `the task ran longer than its TimeoutSeconds (${timeoutSeconds})`),
      );
    }
    if (heartbeatSeconds !== undefined) {
      record.heartbeatMs = this.ms(heartbeatSeconds);
      this.armHeartbeat(record, heartbeatSeconds);
    }
    this.invoke(functionName, payload).then(
      (result) => {
        if (attempt.settled) return;
        this.record(execution, 'TaskSubmitted', {
          taskSubmittedEventDetails: { resourceType: 'lambda', resource, output: json({ Payload: result, StatusCode: 200 }), outputDetails: { truncated: false } },
        });
      },
      (error: Error) => {
        if (attempt.settled) return;
        this.record(execution, 'TaskFailed', {
          taskFailedEventDetails: { resourceType: 'lambda', resource, error: error.name, cause: error.message },
        });
        attempt.fail(error);
      },
    );
    return attempt.promise;
  }

  private armHeartbeat(record: TokenRecord, seconds?: number): void {
    record.heartbeat?.cancel();
    if (record.heartbeatMs === undefined) return;
    const label = seconds ?? (record.heartbeatMs * this.timeScale) / 1000;
    record.heartbeat = new LongTimer(record.heartbeatMs, () =>
      this.timeOutTask(record, 'States.HeartbeatTimeout', `no heartbeat within HeartbeatSeconds (${label})`),
    );
  }

  private timeOutTask(record: TokenRecord, error: 'States.Timeout' | 'States.HeartbeatTimeout', cause: string): void {
    if (record.attempt.settled || record.status !== 'open') return;
    record.status = 'timedOut';
    this.record(record.execution, 'TaskTimedOut', {
      taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause },
    });
    record.attempt.fail(statesTimeoutError(error, cause));
  }

  private runWait(execution: ExecutionRecord, plan: TaskPlan, input: Record<string, unknown>): Promise<unknown> {
    const spec = isObject(input[WAIT_KEY]) ? input[WAIT_KEY] : {};
    let ms: number;
    if ('seconds' in spec) {
      const seconds = spec.seconds;
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw uncatchableError('States.Runtime', `state ${plan.stateName}: wait seconds must be a non-negative integer, got ${json(seconds)}`);
      }
      ms = this.ms(seconds);
    } else {
      const at = typeof spec.timestamp === 'string' ? Date.parse(spec.timestamp) : Number.NaN;
      if (Number.isNaN(at)) {
        throw uncatchableError('States.Runtime', `state ${plan.stateName}: wait timestamp must be an RFC 3339 timestamp, got ${json(spec.timestamp)}`);
      }
      ms = Math.max(0, at - Date.now()) / this.timeScale;
    }
    const attempt = new TaskAttempt(execution, plan);
    const passthrough = input[INPUT_KEY];
    attempt.after(ms, () => attempt.succeed(passthrough));
    return attempt.promise;
  }
}

/** A detached copy of a history event; without execution data, details lose `input`/`output`/`parameters`. */
function copyEvent(event: HistoryEvent, includeData: boolean): HistoryEvent {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (types.isDate(value)) {
      copy[key] = new Date(value.getTime());
    } else if (isObject(value)) {
      const details = cloneJson(value) as Record<string, unknown>;
      if (!includeData && key.endsWith('EventDetails')) {
        delete details.input;
        delete details.output;
        delete details.parameters;
      }
      copy[key] = details;
    } else {
      copy[key] = value;
    }
  }
  return copy as unknown as HistoryEvent;
}
