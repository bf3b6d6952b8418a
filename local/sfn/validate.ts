/** What the emulator's API checks in a request before it looks anything up (AWS's error codes and wording). */
import { SfnServiceError } from './errors';

const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const ARN_PATTERNS = {
  execution: /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
  stateMachine: /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/,
};
const MAX_INPUT_BYTES = 256 * 1024;

/** a state machine's or an execution's name (`label` is how AWS's message names it) */
export const checkName = (name: unknown, label: string): string => {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw new SfnServiceError('InvalidName', `Invalid ${label}: '${String(name)}'`);
  return name;
};

export const checkArn = (kind: keyof typeof ARN_PATTERNS, arn: unknown): string => {
  if (typeof arn !== 'string' || !ARN_PATTERNS[kind].test(arn)) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
  return arn;
};

/** an execution's input: a JSON string of at most 256 KiB */
export const parseExecutionInput = (input: unknown): unknown => {
  try {
    if (typeof input !== 'string') throw new Error('input must be a string');
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) throw new Error('input is larger than 256 KiB');
    return JSON.parse(input);
  } catch (error) {
    throw new SfnServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
  }
};
