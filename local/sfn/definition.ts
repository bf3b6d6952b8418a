/**
 * Validates an ASL definition for the local emulator and derives the copy the interpreter runs.
 *
 * The copy differs from the original only where the interpreter falls short:
 * - every Task keeps its Retry/Catch/paths but has its `TimeoutSeconds(Path)` / `HeartbeatSeconds(Path)`
 *   removed and replaced by `TimeoutSeconds: 2147483` (the largest value the interpreter's own setTimeout
 *   accepts); the emulator applies the real timeouts itself, scaled and without overflow;
 * - `Parameters` is wrapped as `{ [PARAMS_KEY]: <Parameters> , [TIMEOUT_KEY].$: <TimeoutSecondsPath>, ... }`
 *   so the task handler also receives the values of the timeout/heartbeat paths, evaluated (by the
 *   interpreter) against the state input, as AWS does;
 * - every Wait becomes a Task the emulator runs itself (scaled, any duration, any of the four fields);
 * - Retry intervals and MaxDelaySeconds are divided by the time scale;
 * - `ErrorEquals` lists naming `States.Timeout` also name `States.HeartbeatTimeout` (AWS matches a
 *   heartbeat timeout with `States.Timeout`);
 * - the top-level `TimeoutSeconds` is removed (the emulator enforces it).
 */
import { SfnServiceError } from './errors';
import { StateMachine, type StateMachineDefinition } from './interpreter';

export const PARAMS_KEY = '__localSfnParameters';
export const TIMEOUT_KEY = '__localSfnTimeoutSeconds';
export const HEARTBEAT_KEY = '__localSfnHeartbeatSeconds';
export const WAIT_KEY = '__localSfnWait';
export const INPUT_KEY = '__localSfnInput';

/** Largest TimeoutSeconds whose milliseconds still fit the interpreter's setTimeout (2^31-1 ms). */
export const INTERPRETER_TIMEOUT_CAP_SECONDS = 2_147_483;

const WAIT_RESOURCE = 'arn:aws:states:::local:wait';
const CALLBACK_RESOURCE = /^arn:aws[a-z-]*:states:::lambda:invoke\.waitForTaskToken$/;
const LAMBDA_INVOKE_RESOURCE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const OTHER_INTEGRATION = /^arn:aws[a-z-]*:states:/;

type TaskKind = 'function' | 'lambda-invoke' | 'callback' | 'wait';

export interface TaskPlan {
  stateName: string;
  kind: TaskKind;
  /** Resource as written in the definition (for `function`: the Lambda ARN or name to resolve). */
  resource: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  timeoutFromPath: boolean;
  heartbeatFromPath: boolean;
  /** Names of the enclosing Parallel/Map states, innermost last. */
  ancestors: string[];
}

export interface PreparedDefinition {
  /** The copy handed to the interpreter (run with validation off: it was validated before). */
  definition: StateMachineDefinition;
  /** Every Task (and converted Wait) state by name, across nested Parallel branches and Map processors. */
  tasks: Map<string, TaskPlan>;
  /** Original `Type` of every state by name. */
  stateTypes: Map<string, string>;
  /** Top-level TimeoutSeconds of the original definition. */
  executionTimeoutSeconds?: number;
}

type Json = Record<string, unknown>;

function invalid(message: string): SfnServiceError {
  return new SfnServiceError('InvalidDefinition', message);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const JSONATA_ONLY_FIELDS = ['Assign', 'Arguments', 'Output', 'Items'] as const;

/** The interpreter accepts JSONata and `Assign` but does not evaluate them: refuse them instead. */
function rejectUnsupportedLanguage(node: unknown, where: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => rejectUnsupportedLanguage(item, `${where}[${i}]`));
    return;
  }
  if (!isObject(node)) return;
  if (node.QueryLanguage !== undefined && node.QueryLanguage !== 'JSONPath') {
    throw invalid(`${where}: QueryLanguage ${JSON.stringify(node.QueryLanguage)} is not supported locally (JSONPath only)`);
  }
  if (isObject(node.States)) {
    for (const [name, state] of Object.entries(node.States)) {
      if (!isObject(state)) continue;
      for (const field of JSONATA_ONLY_FIELDS) {
        if (field in state) throw invalid(`state ${name}: field ${field} is not supported locally (JSONPath only, no variables)`);
      }
      rejectUnsupportedLanguage(state, `state ${name}`);
    }
  }
  if (Array.isArray(node.Branches)) rejectUnsupportedLanguage(node.Branches, `${where}.Branches`);
  if (isObject(node.ItemProcessor)) rejectUnsupportedLanguage(node.ItemProcessor, `${where}.ItemProcessor`);
  if (isObject(node.Iterator)) rejectUnsupportedLanguage(node.Iterator, `${where}.Iterator`);
}

function classify(stateName: string, resource: unknown): Exclude<TaskKind, 'wait'> {
  if (typeof resource !== 'string' || resource === '') throw invalid(`state ${stateName}: Resource must be a non-empty string`);
  if (CALLBACK_RESOURCE.test(resource)) return 'callback';
  if (LAMBDA_INVOKE_RESOURCE.test(resource)) return 'lambda-invoke';
  if (OTHER_INTEGRATION.test(resource)) {
    throw invalid(
      `state ${stateName}: Resource ${resource} is not supported locally (Lambda function ARNs, lambda:invoke and lambda:invoke.waitForTaskToken only)`,
    );
  }
  return 'function';
}

function positiveNumber(stateName: string, field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`state ${stateName}: ${field} must be a positive number`);
  }
  return value;
}

function withHeartbeat(errorEquals: unknown): unknown {
  if (!Array.isArray(errorEquals)) return errorEquals;
  if (errorEquals.includes('States.Timeout') && !errorEquals.includes('States.HeartbeatTimeout')) {
    return [...errorEquals, 'States.HeartbeatTimeout'];
  }
  return errorEquals;
}

class Transformer {
  readonly tasks = new Map<string, TaskPlan>();
  readonly stateTypes = new Map<string, string>();

  constructor(private readonly timeScale: number) {}

  scope(scope: Json, ancestors: string[]): Json {
    const states = scope.States;
    if (!isObject(states)) throw invalid('States must be an object');
    const out: Json = {};
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) throw invalid(`state ${name} must be an object`);
      if (this.stateTypes.has(name)) {
        throw invalid(`state name ${name} is used more than once (names must be unique across the whole state machine)`);
      }
      this.stateTypes.set(name, String(state.Type));
      out[name] = this.state(name, state, ancestors);
    }
    const copy: Json = { ...scope, States: out };
    delete copy.TimeoutSeconds;
    return copy;
  }

  private state(name: string, state: Json, ancestors: string[]): Json {
    switch (state.Type) {
      case 'Task':
        return this.task(name, state, ancestors);
      case 'Wait':
        return this.wait(name, state, ancestors);
      case 'Parallel': {
        const branches = Array.isArray(state.Branches) ? state.Branches : [];
        return this.errorHandling({
          ...state,
          Branches: branches.map((branch) => {
            if (!isObject(branch)) throw invalid(`state ${name}: every branch must be an object`);
            return this.scope(branch, [...ancestors, name]);
          }),
        });
      }
      case 'Map': {
        const copy: Json = { ...state };
        for (const field of ['ItemProcessor', 'Iterator'] as const) {
          const processor = state[field];
          if (isObject(processor)) copy[field] = this.scope(processor, [...ancestors, name]);
        }
        return this.errorHandling(copy);
      }
      default:
        return { ...state };
    }
  }

  private task(name: string, state: Json, ancestors: string[]): Json {
    const kind = classify(name, state.Resource);
    if (state.TimeoutSeconds !== undefined && state.TimeoutSecondsPath !== undefined) {
      throw invalid(`state ${name}: TimeoutSeconds and TimeoutSecondsPath are mutually exclusive`);
    }
    if (state.HeartbeatSeconds !== undefined && state.HeartbeatSecondsPath !== undefined) {
      throw invalid(`state ${name}: HeartbeatSeconds and HeartbeatSecondsPath are mutually exclusive`);
    }
    const timeoutSeconds = positiveNumber(name, 'TimeoutSeconds', state.TimeoutSeconds);
    const heartbeatSeconds = positiveNumber(name, 'HeartbeatSeconds', state.HeartbeatSeconds);
    if (timeoutSeconds !== undefined && heartbeatSeconds !== undefined && heartbeatSeconds >= timeoutSeconds) {
      throw invalid(`state ${name}: HeartbeatSeconds must be smaller than TimeoutSeconds`);
    }
    if (kind !== 'function') {
      const params = state.Parameters;
      if (!isObject(params) || !('FunctionName' in params || 'FunctionName.$' in params)) {
        throw invalid(`state ${name}: Parameters.FunctionName is required for ${String(state.Resource)}`);
      }
    }
    this.tasks.set(name, {
      stateName: name,
      kind,
      resource: String(state.Resource),
      timeoutSeconds,
      heartbeatSeconds,
      timeoutFromPath: typeof state.TimeoutSecondsPath === 'string',
      heartbeatFromPath: typeof state.HeartbeatSecondsPath === 'string',
      ancestors,
    });

    const parameters: Json = 'Parameters' in state ? { [PARAMS_KEY]: state.Parameters } : { [`${PARAMS_KEY}.$`]: '$' };
    if (typeof state.TimeoutSecondsPath === 'string') parameters[`${TIMEOUT_KEY}.$`] = state.TimeoutSecondsPath;
    if (typeof state.HeartbeatSecondsPath === 'string') parameters[`${HEARTBEAT_KEY}.$`] = state.HeartbeatSecondsPath;

    const copy: Json = { ...state, Parameters: parameters, TimeoutSeconds: INTERPRETER_TIMEOUT_CAP_SECONDS };
    delete copy.TimeoutSecondsPath;
    delete copy.HeartbeatSeconds;
    delete copy.HeartbeatSecondsPath;
    return this.errorHandling(copy);
  }

  /** A Wait becomes a Task run by the emulator: same InputPath/OutputPath/Next/End, output = effective input. */
  private wait(name: string, state: Json, ancestors: string[]): Json {
    const spec: Json = {};
    if (state.Seconds !== undefined) spec.seconds = state.Seconds;
    else if (state.SecondsPath !== undefined) spec['seconds.$'] = state.SecondsPath;
    else if (state.Timestamp !== undefined) spec.timestamp = state.Timestamp;
    else if (state.TimestampPath !== undefined) spec['timestamp.$'] = state.TimestampPath;
    else throw invalid(`state ${name}: a Wait needs Seconds, SecondsPath, Timestamp or TimestampPath`);
    this.tasks.set(name, {
      stateName: name,
      kind: 'wait',
      resource: WAIT_RESOURCE,
      timeoutFromPath: false,
      heartbeatFromPath: false,
      ancestors,
    });
    const copy: Json = {
      Type: 'Task',
      Resource: WAIT_RESOURCE,
      Parameters: { [WAIT_KEY]: spec, [`${INPUT_KEY}.$`]: '$' },
      TimeoutSeconds: INTERPRETER_TIMEOUT_CAP_SECONDS,
    };
    for (const field of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End'] as const) {
      if (field in state) copy[field] = state[field];
    }
    return copy;
  }

  private errorHandling(state: Json): Json {
    if (Array.isArray(state.Retry)) {
      state.Retry = state.Retry.map((retrier: unknown) => {
        if (!isObject(retrier)) return retrier;
        const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
        const scaled: Json = { ...retrier, ErrorEquals: withHeartbeat(retrier.ErrorEquals), IntervalSeconds: interval / this.timeScale };
        if (typeof retrier.MaxDelaySeconds === 'number') scaled.MaxDelaySeconds = retrier.MaxDelaySeconds / this.timeScale;
        return scaled;
      });
    }
    if (Array.isArray(state.Catch)) {
      state.Catch = state.Catch.map((catcher: unknown) =>
        isObject(catcher) ? { ...catcher, ErrorEquals: withHeartbeat(catcher.ErrorEquals) } : catcher,
      );
    }
    return state;
  }
}

/** Outcomes of the interpreter's validation by definition text: asl-validator builds a new Ajv per call (~0.1-0.3 s). */
const validations = new Map<string, string | null>();
const MAX_CACHED_VALIDATIONS = 64;

/** The interpreter's own validation (asl-validator with ARN and path checks), on a throwaway copy: the validator mutates its input. */
function validate(definition: Json): void {
  const text = JSON.stringify(definition);
  let problem = validations.get(text);
  if (problem === undefined) {
    try {
      new StateMachine(JSON.parse(text) as StateMachineDefinition);
      problem = null;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (validations.size >= MAX_CACHED_VALIDATIONS) validations.delete(validations.keys().next().value as string);
    validations.set(text, problem);
  }
  if (problem !== null) throw invalid(problem);
}

/**
 * Checks `definition` (JSONPath-only ASL, supported resources, the interpreter's own validation) and
 * returns the interpreter copy plus what the emulator needs to run its tasks.
 * Throws `SfnServiceError('InvalidDefinition')`.
 */
export function prepareDefinition(definition: unknown, timeScale: number): PreparedDefinition {
  if (!isObject(definition) || !isObject(definition.States) || typeof definition.StartAt !== 'string') {
    throw invalid('a definition is an object with StartAt and States');
  }
  // a JSON copy, not structuredClone: objects must come from this realm (the interpreter checks prototypes)
  const original = JSON.parse(JSON.stringify(definition)) as Json;
  rejectUnsupportedLanguage(original, 'definition');
  validate(original);
  const executionTimeoutSeconds = positiveNumber('(top level)', 'TimeoutSeconds', original.TimeoutSeconds);
  const transformer = new Transformer(timeScale);
  const copy = transformer.scope(original, []);
  return {
    definition: copy as unknown as StateMachineDefinition,
    tasks: transformer.tasks,
    stateTypes: transformer.stateTypes,
    executionTimeoutSeconds,
  };
}
