/**
 * The one place that loads `aws-local-stepfunctions`: the polyfill goes first, then the interpreter.
 * Also recovers the interpreter's (unexported) `States.Timeout` error class, which its Retry/Catch
 * matching needs to keep `States.TaskFailed` from matching timeouts.
 */
import './polyfill';
import { types } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';

export { StateMachine };
export type { StateMachineDefinition } from 'aws-local-stepfunctions';

export type RunHandle = ReturnType<StateMachine['run']>;
export type InterpreterEvent = RunHandle['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type RunOverrides = NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>;
export type TaskHandlers = NonNullable<RunOverrides['taskResourceLocalHandlers']>;

let timeoutErrorCtor: Promise<(new () => Error) | undefined> | undefined;

/**
 * Runs a one-state machine whose task times out after 1 ms and keeps the constructor of the error the
 * interpreter raised. The task's promise never settles, so nothing stays scheduled afterwards.
 */
function probeTimeoutErrorCtor(): Promise<(new () => Error) | undefined> {
  timeoutErrorCtor ??= (async () => {
    const probe = new StateMachine(
      { StartAt: 'Probe', States: { Probe: { Type: 'Task', Resource: 'probe', TimeoutSeconds: 0.001, End: true } } },
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run(null, {
      overrides: { taskResourceLocalHandlers: { Probe: () => new Promise<never>(() => undefined) } },
    });
    try {
      await run.result;
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (types.isNativeError(cause) && cause.name === 'States.Timeout') {
        return cause.constructor as new () => Error;
      }
    }
    return undefined;
  })();
  return timeoutErrorCtor;
}

/** Starts the probe early so the first timeout does not wait for it. */
export function warmUpInterpreter(): void {
  void probeTimeoutErrorCtor();
}

/**
 * A timeout error the interpreter treats as its own `States.Timeout` (so `States.TaskFailed` does not
 * match it), with the given name (`States.Timeout` or `States.HeartbeatTimeout`) and cause.
 * Falls back to a plain Error if the probe could not recover the class.
 */
export async function statesTimeoutError(name: string, cause: string): Promise<Error> {
  const Ctor = await probeTimeoutErrorCtor();
  const error = Ctor ? new Ctor() : new Error();
  error.name = name;
  error.message = cause;
  return error;
}

/** True if the interpreter's timeout class was recovered (exposed for tests and diagnostics). */
export async function hasInterpreterTimeoutClass(): Promise<boolean> {
  return (await probeTimeoutErrorCtor()) !== undefined;
}
