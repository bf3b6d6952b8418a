/**
 * Restarting stored executions (the runtime's `--persist`). An unfinished execution continues at the
 * top-level state it was in, with the raw input that state had, through a copy of the interpreter
 * definition whose entry is a Pass state handing that input to that state — so the run itself still
 * gets the execution's own input (`$$.Execution.Input`). The history goes on where it stopped: same
 * ARN, the state's StateEntered is not written twice, events are appended.
 *
 * Only top-level positions are kept: an execution stopped inside a Parallel or Map runs that whole
 * state again (its callback tasks get fresh tokens). `$$.Execution.StartTime` is the restart's time.
 */
import { StateMachine, type StateMachineDefinition } from './interpreter';
import type { ExecutionRecord, MachineRecord, TokenRecord } from './execution';
import { eventsFromStored, type StoredExecution } from './store';

export const RESUME_ENTRY_STATE = '__localSfnResume';

/** the machine's interpreter definition entered at `position.state` with `position.input` */
export function resumedInterpreter(machine: MachineRecord, position: { state: string; input: unknown }): StateMachine {
  const definition = machine.prepared.definition as unknown as { StartAt: string; States: Record<string, unknown> };
  const entry = { Type: 'Pass', Result: { value: position.input }, OutputPath: '$.value', Next: position.state };
  const copy = { ...definition, StartAt: RESUME_ENTRY_STATE, States: { ...definition.States, [RESUME_ENTRY_STATE]: entry } };
  return new StateMachine(copy as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } });
}

/**
 * A stored execution back in memory. For an unfinished one, `skipEntered`/`resumeTask` tell the
 * history and the task runner what the restart continues; the token of the callback task it was
 * parked in is open again, every other token stays closed (or timed out).
 */
export function restoreExecution(stored: StoredExecution, machine: MachineRecord): { execution: ExecutionRecord; tokens: TokenRecord[] } {
  const running = stored.status === 'RUNNING';
  const execution: ExecutionRecord = {
    arn: stored.arn,
    name: stored.name,
    machine,
    input: stored.input,
    startDate: new Date(stored.startDate),
    stopDate: stored.stopDate === undefined ? undefined : new Date(stored.stopDate),
    status: stored.status,
    output: stored.output,
    error: stored.error,
    cause: stored.cause,
    events: eventsFromStored(stored),
    attempts: new Set(),
    timers: new Set(),
    tokens: new Set(),
    position: stored.position,
    current: stored.current,
    deadlineAt: stored.deadlineAt,
  };
  const current = stored.current;
  const parked = running && current?.kind === 'callback' && !current.outcome ? current.token : undefined;
  const tokens = stored.tokens.map((t): TokenRecord => {
    const status = t.token === parked ? 'open' : t.status === 'open' ? 'timedOut' : t.status;
    return { token: t.token, execution, status };
  });
  for (const t of tokens) execution.tokens.add(t);
  if (running && stored.position) {
    execution.skipEntered = stored.position.state;
    if (current?.state === stored.position.state) execution.resumeTask = current;
  }
  return { execution, tokens };
}
