/**
 * What the emulator keeps per state machine and per execution, shared by its modules: the service
 * (./local-step-functions), the task runner (./tasks), the history (./history) and persistence
 * (./store, ./resume).
 */
import type { ExecutionStatus, HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { PreparedDefinition } from './definition';
import { uncatchableError } from './errors';
import type { RunHandle, StateMachine } from './interpreter';
import { LongTimer, type Cancellable } from './timers';

export interface MachineRecord {
  arn: string;
  name: string;
  /** the definition as given (DescribeStateMachine returns it) */
  source: string;
  createdAt: Date;
  prepared: PreparedDefinition;
  interpreter: StateMachine;
  /** names of the top-level states (the positions an execution can be resumed at) */
  topLevel: Set<string>;
}

/** how a task attempt ended, kept so a resumed execution does not do it again */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string; cause: string; timeout?: boolean };

/**
 * The top-level task an execution is in, as far as a restart needs it: a callback task's token (and
 * whether its function already returned), due times as epoch ms, and the outcome once settled.
 */
export type CurrentTask =
  | {
      kind: 'callback';
      state: string;
      token: string;
      /** the invoked function returned (the token is stored wherever it puts it) */
      submitted: boolean;
      timeoutAt?: number;
      heartbeatMs?: number;
      heartbeatAt?: number;
      outcome?: Outcome;
    }
  | { kind: 'wait'; state: string; dueAt: number; outcome?: Outcome }
  | { kind: 'function'; state: string; outcome?: Outcome };

export interface ExecutionRecord {
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
  /** the top-level state the execution is in, with its raw input (where a restart continues) */
  position?: { state: string; input: unknown };
  current?: CurrentTask;
  /** the execution's TimeoutSeconds as an epoch ms */
  deadlineAt?: number;
  /** a restarted execution: the first StateEntered of this state is already in the history */
  skipEntered?: string;
  /** a restarted execution: the first attempt of this task continues it */
  resumeTask?: CurrentTask;
  /** nothing runs for it any more (finished, or its emulator closed): no new attempt may start */
  halted?: boolean;
}

export interface TokenRecord {
  token: string;
  execution: ExecutionRecord;
  /** missing only for a restored token whose task is being resumed (a moment at start) */
  attempt?: TaskAttempt;
  status: 'open' | 'closed' | 'timedOut';
  heartbeatMs?: number;
  heartbeat?: LongTimer;
}

/** One attempt of one Task: a promise the interpreter awaits, settled once, with its own timers. */
export class TaskAttempt {
  readonly promise: Promise<unknown>;
  settled = false;
  /** for a top-level task: the execution's `current`, which records the outcome */
  current?: CurrentTask;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (error: unknown) => void;
  private readonly timers: Cancellable[] = [];
  private readonly onSettle: Array<() => void> = [];

  constructor(
    private readonly execution: ExecutionRecord,
    readonly stateName: string,
    readonly ancestors: string[],
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

/** the terminal event's details, as AWS words them */
export const endingDetails = (
  eventType: HistoryEventType,
  fields: { output?: string; error?: string; cause?: string },
): Partial<HistoryEvent> => {
  if (eventType === 'ExecutionSucceeded')
    return { executionSucceededEventDetails: { output: fields.output, outputDetails: { truncated: false } } };
  if (eventType === 'ExecutionFailed') return { executionFailedEventDetails: { error: fields.error, cause: fields.cause } };
  if (eventType === 'ExecutionAborted') return { executionAbortedEventDetails: { error: fields.error, cause: fields.cause } };
  if (eventType === 'ExecutionTimedOut') return { executionTimedOutEventDetails: { error: fields.error, cause: fields.cause } };
  return {};
};

/** stops everything that runs for an execution: timers, heartbeats, attempts, the interpreter */
export const haltExecution = (execution: ExecutionRecord): void => {
  execution.halted = true;
  for (const timer of execution.timers) timer.cancel();
  execution.timers.clear();
  for (const record of execution.tokens) record.heartbeat?.cancel();
  for (const attempt of [...execution.attempts])
    attempt.fail(uncatchableError('States.Runtime', `execution ${execution.status.toLowerCase()}`));
  execution.run?.abort(); // a no-op once the interpreter has finished on its own
};

/** a failed Parallel/Map abandons its branches: the attempts still running inside it are cancelled, their tokens time out */
export const abandonBranches = (execution: ExecutionRecord, stateName: string): void => {
  for (const attempt of [...execution.attempts]) {
    if (!attempt.ancestors.includes(stateName)) continue;
    for (const record of execution.tokens) if (record.attempt === attempt && record.status === 'open') record.status = 'timedOut';
    attempt.fail(uncatchableError('States.Runtime', `branch of ${stateName} abandoned`));
  }
};

export function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

export function cloneJson(value: unknown): unknown {
  return JSON.parse(json(value));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
