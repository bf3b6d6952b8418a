/**
 * Runs the Task states of the emulator (see ./local-step-functions for what is emulated): plain Lambda
 * tasks and `lambda:invoke`, callback tasks (`lambda:invoke.waitForTaskToken`: mint a token, invoke,
 * park until SendTask*), and Wait states (turned into emulator-run tasks by ./definition), with their
 * timeouts and heartbeats.
 *
 * A top-level attempt keeps `execution.current` up to date (token, due times, outcome) so a restarted
 * execution (./resume) continues it: a callback task re-parks with the same token and the time it had
 * left (its function is invoked again only when it had not returned), a Wait keeps its due time, a
 * Lambda task runs again, and an attempt that had already settled hands its outcome to the interpreter
 * without running again.
 */
import { randomBytes } from 'node:crypto';
import { types } from 'node:util';
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { HEARTBEAT_KEY, INPUT_KEY, PARAMS_KEY, TIMEOUT_KEY, WAIT_KEY, type TaskPlan } from './definition';
import { taskError, uncatchableError } from './errors';
import {
  cloneJson,
  isObject,
  json,
  TaskAttempt,
  type CurrentTask,
  type ExecutionRecord,
  type Outcome,
  type TokenRecord,
} from './execution';
import { statesTimeoutError } from './interpreter';
import { LongTimer, nextMacrotask } from './timers';

/** An in-process Lambda handler: receives the payload, resolves with the result. */
export type LocalFunctionHandler = (payload: unknown) => Promise<unknown>;

const TOKEN_BYTES = 120;

/** what the task runner needs from the service */
export interface TaskHost {
  region: string;
  timeScale: number;
  tokenPlaceholder: string;
  tokens: Map<string, TokenRecord>;
  resolveFunction: (functionArnOrName: string) => LocalFunctionHandler;
  record(execution: ExecutionRecord, type: HistoryEventType, details?: Partial<HistoryEvent>): void;
  /** as record, without saving: for an event another record follows at once */
  append(execution: ExecutionRecord, type: HistoryEventType, details?: Partial<HistoryEvent>): void;
  persist(execution: ExecutionRecord): void;
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

/** the error an outcome stands for, of the class the interpreter expects (timeouts are not TaskFailed) */
function errorOf(outcome: Extract<Outcome, { ok: false }>): Error | Promise<Error> {
  return outcome.timeout ? statesTimeoutError(outcome.error, outcome.cause) : taskError(outcome.error, outcome.cause);
}

export class TaskRunner {
  constructor(private readonly host: TaskHost) {}

  async runTask(execution: ExecutionRecord, plan: TaskPlan, rawInput: unknown): Promise<unknown> {
    const stopped = () => uncatchableError('States.Runtime', 'execution is no longer running');
    if (execution.status !== 'RUNNING' || execution.halted) throw stopped();
    const resumed = this.takeResumed(execution, plan);
    // the interpreter's StateEntered for this state must reach the history first (a resumed one is there)
    if (!resumed) await nextMacrotask();
    if (execution.status !== 'RUNNING' || execution.halted) throw stopped();
    if (resumed?.outcome) {
      // it had settled before the restart: hand over the same outcome, run nothing again
      execution.current = resumed;
      if (resumed.outcome.ok) return resumed.outcome.value;
      throw await errorOf(resumed.outcome);
    }
    const input = isObject(rawInput) ? rawInput : {};
    if (plan.kind === 'wait') return this.runWait(execution, plan, input, resumed?.kind === 'wait' ? resumed : undefined);

    const parameters = input[PARAMS_KEY];
    const timeoutSeconds = plan.timeoutFromPath ? this.pathSeconds(plan, 'TimeoutSecondsPath', input[TIMEOUT_KEY]) : plan.timeoutSeconds;
    const heartbeatSeconds = plan.heartbeatFromPath
      ? this.pathSeconds(plan, 'HeartbeatSecondsPath', input[HEARTBEAT_KEY])
      : plan.heartbeatSeconds;
    if (plan.kind === 'callback') {
      return this.runCallbackTask(
        execution,
        plan,
        parameters,
        timeoutSeconds,
        heartbeatSeconds,
        resumed?.kind === 'callback' ? resumed : undefined,
      );
    }
    return this.runFunctionTask(execution, plan, parameters, timeoutSeconds);
  }

  /** settles an attempt, keeping the outcome on a top-level one first (the event that follows persists it) */
  settle(attempt: TaskAttempt, outcome: Outcome, events: () => void, error?: Error | Promise<Error>): void {
    if (attempt.settled) return;
    if (attempt.current) attempt.current.outcome = outcome;
    events();
    if (outcome.ok) attempt.succeed(outcome.value);
    else attempt.fail(error ?? errorOf(outcome));
  }

  /** re-arms a callback task's heartbeat timer (SendTaskHeartbeat, or a restart with the time left) */
  armHeartbeat(record: TokenRecord, firstMs?: number): void {
    record.heartbeat?.cancel();
    if (record.heartbeatMs === undefined) return;
    const ms = firstMs ?? record.heartbeatMs;
    const current = record.attempt?.current;
    if (current?.kind === 'callback') current.heartbeatAt = Date.now() + ms;
    const label = (record.heartbeatMs * this.host.timeScale) / 1000;
    record.heartbeat = new LongTimer(ms, () =>
      this.timeOutTask(record, 'States.HeartbeatTimeout', `no heartbeat within HeartbeatSeconds (${label})`),
    );
  }

  /** the saved task a restarted execution continues, once, for its own top-level state */
  private takeResumed(execution: ExecutionRecord, plan: TaskPlan): CurrentTask | undefined {
    const saved = execution.resumeTask;
    if (!saved || saved.state !== plan.stateName || plan.ancestors.length) return undefined;
    execution.resumeTask = undefined;
    return saved;
  }

  private newAttempt(execution: ExecutionRecord, plan: TaskPlan, current: CurrentTask): TaskAttempt {
    const attempt = new TaskAttempt(execution, plan.stateName, plan.ancestors);
    if (plan.ancestors.length === 0) {
      attempt.current = current;
      execution.current = current;
    }
    return attempt;
  }

  private ms(seconds: number): number {
    return (seconds * 1000) / this.host.timeScale;
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
      handler = this.host.resolveFunction(functionName);
      if (typeof handler !== 'function') throw new Error(`no handler for ${functionName}`);
    } catch (error) {
      const message = `Function not found: ${functionName} (${(error as Error).message ?? String(error)})`;
      throw taskError(
        'Lambda.ResourceNotFoundException',
        JSON.stringify({ errorType: 'ResourceNotFoundException', errorMessage: message }),
      );
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

  private runFunctionTask(
    execution: ExecutionRecord,
    plan: TaskPlan,
    parameters: unknown,
    timeoutSeconds: number | undefined,
  ): Promise<unknown> {
    const { record, append } = this.host;
    const { functionName, payload } = this.lambdaTarget(plan, parameters);
    const integration = plan.kind === 'lambda-invoke';
    const attempt = this.newAttempt(execution, plan, { kind: 'function', state: plan.stateName });
    if (integration) {
      append(execution, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: this.host.region,
          parameters: json(parameters),
          timeoutInSeconds: timeoutSeconds,
        },
      });
      record(execution, 'TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' } });
    } else {
      append(execution, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: {
          resource: plan.resource,
          input: json(payload),
          inputDetails: { truncated: false },
          timeoutInSeconds: timeoutSeconds,
        },
      });
      record(execution, 'LambdaFunctionStarted');
    }
    if (timeoutSeconds !== undefined) {
      // a function's run time is not a wait: TIME_SCALE leaves it as written
      attempt.after(timeoutSeconds * 1000, () => {
        const cause = `the task ran longer than its TimeoutSeconds (${timeoutSeconds})`;
        this.settle(attempt, { ok: false, error: 'States.Timeout', cause, timeout: true }, () => {
          if (integration) {
            record(execution, 'TaskTimedOut', {
              taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout', cause },
            });
          } else {
            record(execution, 'LambdaFunctionTimedOut', { lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout', cause } });
          }
        });
      });
    }
    this.invoke(functionName, payload).then(
      (result) => {
        const output = integration ? { Payload: result, StatusCode: 200 } : result;
        this.settle(attempt, { ok: true, value: output }, () => {
          if (integration) {
            record(execution, 'TaskSucceeded', {
              taskSucceededEventDetails: {
                resourceType: 'lambda',
                resource: 'invoke',
                output: json(output),
                outputDetails: { truncated: false },
              },
            });
          } else {
            record(execution, 'LambdaFunctionSucceeded', {
              lambdaFunctionSucceededEventDetails: { output: json(output), outputDetails: { truncated: false } },
            });
          }
        });
      },
      (error: Error) => {
        this.settle(
          attempt,
          { ok: false, error: error.name, cause: error.message },
          () => {
            if (integration) {
              record(execution, 'TaskFailed', {
                taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: error.name, cause: error.message },
              });
            } else {
              record(execution, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: error.name, cause: error.message } });
            }
          },
          error,
        );
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
    resumed: Extract<CurrentTask, { kind: 'callback' }> | undefined,
  ): Promise<unknown> {
    const { record, append, tokens } = this.host;
    const resource = 'invoke.waitForTaskToken';
    const token = resumed?.token ?? randomBytes(TOKEN_BYTES).toString('base64url');
    const resolved = replaceDeep(parameters, this.host.tokenPlaceholder, token);
    const { functionName, payload } = this.lambdaTarget(plan, resolved);
    const current = resumed ?? { kind: 'callback', state: plan.stateName, token, submitted: false };
    const attempt = this.newAttempt(execution, plan, current);
    // a restored token is registered already (so SendTask* calls find it while this starts)
    const tokenRecord: TokenRecord = tokens.get(token) ?? { token, execution, status: 'open' };
    tokenRecord.attempt = attempt;
    tokens.set(token, tokenRecord);
    execution.tokens.add(tokenRecord);
    attempt.finally(() => {
      if (tokenRecord.status === 'open') tokenRecord.status = 'closed';
      tokenRecord.heartbeat?.cancel();
    });

    const timeoutMs = resumed
      ? resumed.timeoutAt === undefined
        ? undefined
        : Math.max(0, resumed.timeoutAt - Date.now())
      : timeoutSeconds === undefined
        ? undefined
        : this.ms(timeoutSeconds);
    if (!resumed) {
      if (timeoutMs !== undefined) current.timeoutAt = Date.now() + timeoutMs;
      if (heartbeatSeconds !== undefined) current.heartbeatMs = this.ms(heartbeatSeconds);
    }
    tokenRecord.heartbeatMs = current.heartbeatMs;
    if (current.heartbeatMs !== undefined)
      this.armHeartbeat(tokenRecord, resumed?.heartbeatAt === undefined ? undefined : Math.max(0, resumed.heartbeatAt - Date.now()));
    if (timeoutMs !== undefined) {
      const label = timeoutSeconds ?? '';
      attempt.after(timeoutMs, () =>
        this.timeOutTask(tokenRecord, 'States.Timeout', `the task ran longer than its TimeoutSeconds (${label})`),
      );
    }
    if (!resumed) {
      // the token is kept with this event (a restart re-parks it); saved with TaskStarted
      append(execution, 'TaskScheduled', {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource,
          region: this.host.region,
          parameters: json(resolved),
          timeoutInSeconds: timeoutSeconds,
          heartbeatInSeconds: heartbeatSeconds,
        },
      });
      record(execution, 'TaskStarted', { taskStartedEventDetails: { resourceType: 'lambda', resource } });
    } else {
      this.host.persist(execution);
      // its function had returned before the restart: wherever it put the token, it is there
      if (resumed.submitted) return attempt.promise;
    }
    this.invoke(functionName, payload).then(
      (result) => {
        if (attempt.settled) return;
        current.submitted = true;
        record(execution, 'TaskSubmitted', {
          taskSubmittedEventDetails: {
            resourceType: 'lambda',
            resource,
            output: json({ Payload: result, StatusCode: 200 }),
            outputDetails: { truncated: false },
          },
        });
      },
      (error: Error) => {
        if (attempt.settled) return;
        tokenRecord.status = 'closed';
        this.settle(
          attempt,
          { ok: false, error: error.name, cause: error.message },
          () =>
            record(execution, 'TaskFailed', {
              taskFailedEventDetails: { resourceType: 'lambda', resource, error: error.name, cause: error.message },
            }),
          error,
        );
      },
    );
    return attempt.promise;
  }

  private timeOutTask(record: TokenRecord, error: 'States.Timeout' | 'States.HeartbeatTimeout', cause: string): void {
    const attempt = record.attempt;
    if (!attempt || attempt.settled || record.status !== 'open') return;
    record.status = 'timedOut';
    this.settle(attempt, { ok: false, error, cause, timeout: true }, () =>
      this.host.record(record.execution, 'TaskTimedOut', {
        taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause },
      }),
    );
  }

  private runWait(
    execution: ExecutionRecord,
    plan: TaskPlan,
    input: Record<string, unknown>,
    resumed: Extract<CurrentTask, { kind: 'wait' }> | undefined,
  ): Promise<unknown> {
    let dueAt: number;
    if (resumed) {
      dueAt = resumed.dueAt;
    } else {
      const spec = isObject(input[WAIT_KEY]) ? input[WAIT_KEY] : {};
      let ms: number;
      if ('seconds' in spec) {
        const seconds = spec.seconds;
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
          throw uncatchableError(
            'States.Runtime',
            `state ${plan.stateName}: wait seconds must be a non-negative integer, got ${json(seconds)}`,
          );
        }
        ms = this.ms(seconds);
      } else {
        const at = typeof spec.timestamp === 'string' ? Date.parse(spec.timestamp) : Number.NaN;
        if (Number.isNaN(at)) {
          throw uncatchableError(
            'States.Runtime',
            `state ${plan.stateName}: wait timestamp must be an RFC 3339 timestamp, got ${json(spec.timestamp)}`,
          );
        }
        ms = Math.max(0, at - Date.now()) / this.host.timeScale;
      }
      dueAt = Date.now() + ms;
    }
    const attempt = this.newAttempt(execution, plan, resumed ?? { kind: 'wait', state: plan.stateName, dueAt });
    this.host.persist(execution); // a Wait writes no event when it starts: keep its due time now
    const passthrough = input[INPUT_KEY];
    attempt.after(Math.max(0, dueAt - Date.now()), () =>
      this.settle(attempt, { ok: true, value: passthrough }, () => this.host.persist(execution)),
    );
    return attempt.promise;
  }
}
