/** Errors of the local Step Functions emulator. */

/** AWS Step Functions error codes the emulator raises to API callers (the HTTP layer sends them as `__type`). */
export type SfnErrorCode =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'StateMachineDoesNotExist'
  | 'InvalidArn'
  | 'InvalidName'
  | 'InvalidDefinition'
  | 'InvalidExecutionInput'
  | 'InvalidOutput'
  | 'InvalidToken'
  | 'TaskDoesNotExist'
  | 'TaskTimedOut'
  | 'ValidationException'
  | 'ServiceUnavailable';

/**
 * A client-facing error: `name` is the AWS error code (`TaskDoesNotExist`, ...), so callers and the HTTP
 * layer can map it the way `@aws-sdk/client-sfn` expects.
 */
export class SfnServiceError extends Error {
  readonly code: SfnErrorCode;

  constructor(code: SfnErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

export function isSfnServiceError(error: unknown): error is SfnServiceError {
  return error instanceof SfnServiceError;
}

/**
 * An error the interpreter must neither retry nor catch (it reads `isRetryable` / `isCatchable`):
 * used for `States.Runtime` failures and to unwind a task of a stopped execution.
 */
export function uncatchableError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  Object.defineProperties(error, {
    isRetryable: { value: false },
    isCatchable: { value: false },
  });
  return error;
}

/** An error thrown into the interpreter from a Task state; Retry/Catch match `name` in `ErrorEquals`. */
export function taskError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}
