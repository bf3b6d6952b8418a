/**
 * Execution history: the interpreter's event stream turned into AWS history events, copies for
 * GetExecutionHistory, and its paging tokens.
 */
import { types } from 'node:util';
import type {
  DescribeExecutionOutput,
  ExecutionListItem,
  GetExecutionHistoryOutput,
  HistoryEvent,
  HistoryEventType,
  ListExecutionsOutput,
} from '@aws-sdk/client-sfn';
import type { GetExecutionHistoryParams, ListExecutionsParams } from './api';
import { SfnServiceError } from './errors';
import { cloneJson, isObject, json, type ExecutionRecord } from './execution';
import type { InterpreterEvent } from './interpreter';
import { RESUME_ENTRY_STATE } from './resume';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** what translating needs from the service */
export interface HistorySink {
  record(execution: ExecutionRecord, type: HistoryEventType, details?: Partial<HistoryEvent>): void;
  succeed(execution: ExecutionRecord, output: string): void;
  fail(execution: ExecutionRecord, error: string | undefined, cause: string | undefined): void;
  cancelNested(execution: ExecutionRecord, stateName: string): void;
}

/** One interpreter event → history events (and, for top-level states, the execution's position). */
export function translate(execution: ExecutionRecord, event: InterpreterEvent, sink: HistorySink): void {
  const types = execution.machine.prepared.stateTypes;
  switch (event.type) {
    case 'StateEntered': {
      const name = event.state.name;
      if (name === RESUME_ENTRY_STATE) break;
      if (execution.skipEntered === name) {
        execution.skipEntered = undefined; // a restarted execution: this one is in the history already
        break;
      }
      if (execution.machine.topLevel.has(name)) {
        execution.position = { state: name, input: cloneJson(event.state.input) };
        execution.current = undefined;
      }
      const type = types.get(name) ?? event.state.type;
      sink.record(execution, `${type}StateEntered` as HistoryEventType, {
        stateEnteredEventDetails: { name, input: json(event.state.input), inputDetails: { truncated: false } },
      });
      if (type === 'Parallel') sink.record(execution, 'ParallelStateStarted');
      if (type === 'Map') sink.record(execution, 'MapStateStarted');
      break;
    }
    case 'StateExited': {
      if (event.state.name === RESUME_ENTRY_STATE) break;
      const type = types.get(event.state.name) ?? event.state.type;
      if (type === 'Parallel') sink.record(execution, 'ParallelStateSucceeded');
      if (type === 'Map') sink.record(execution, 'MapStateSucceeded');
      sink.record(execution, `${type}StateExited` as HistoryEventType, {
        stateExitedEventDetails: { name: event.state.name, output: json(event.state.output), outputDetails: { truncated: false } },
      });
      break;
    }
    case 'StateFailed': {
      const type = types.get(event.state.name) ?? event.state.type;
      if (type === 'Parallel' || type === 'Map') {
        sink.record(execution, type === 'Map' ? 'MapStateFailed' : 'ParallelStateFailed');
        sink.cancelNested(execution, event.state.name);
      }
      break;
    }
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const details = { name: event.parentState.name, index: event.index };
      if (event.type === 'MapIterationStarted') sink.record(execution, event.type, { mapIterationStartedEventDetails: details });
      if (event.type === 'MapIterationSucceeded') sink.record(execution, event.type, { mapIterationSucceededEventDetails: details });
      if (event.type === 'MapIterationFailed') sink.record(execution, event.type, { mapIterationFailedEventDetails: details });
      break;
    }
    case 'ExecutionSucceeded':
      sink.succeed(execution, json(event.output));
      break;
    case 'ExecutionFailed':
      sink.fail(execution, event.Error, typeof event.Cause === 'string' ? event.Cause : json(event.Cause));
      break;
    default:
      break; // ExecutionStarted is recorded by startExecution; aborts/timeouts by the service
  }
}

/** Appends an AWS-shaped history event. */
export function appendEvent(execution: ExecutionRecord, type: HistoryEventType, details: Partial<HistoryEvent> = {}): void {
  const id = execution.events.length + 1;
  execution.events.push({ ...details, id, previousEventId: id - 1, timestamp: new Date(), type });
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

/** DescribeExecution */
export function describe(execution: ExecutionRecord): DescribeExecutionOutput {
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

/** GetExecutionHistory: one page of detached copies */
export function historyPage(
  execution: ExecutionRecord,
  params: GetExecutionHistoryParams,
): GetExecutionHistoryOutput & { events: HistoryEvent[] } {
  const size = pageSize(params.maxResults);
  const offset = decodePageToken(params.nextToken);
  const ordered = params.reverseOrder ? [...execution.events].reverse() : execution.events;
  const includeData = params.includeExecutionData ?? true;
  const events = ordered.slice(offset, offset + size).map((event) => copyEvent(event, includeData));
  const out: GetExecutionHistoryOutput & { events: HistoryEvent[] } = { events };
  if (offset + size < ordered.length) out.nextToken = encodePageToken(offset + size);
  return out;
}

/** ListExecutions over one machine's executions: newest first, filtered by status, paged */
export function listPage(
  executions: ExecutionRecord[],
  params: ListExecutionsParams,
): ListExecutionsOutput & { executions: ExecutionListItem[] } {
  const size = pageSize(params.maxResults);
  const offset = decodePageToken(params.nextToken);
  const all = executions
    .filter((e) => !params.statusFilter || e.status === params.statusFilter)
    .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  const page = all.slice(offset, offset + size).map((e) => {
    const item: ExecutionListItem = {
      executionArn: e.arn,
      stateMachineArn: e.machine.arn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      redriveCount: 0,
    };
    if (e.stopDate) item.stopDate = e.stopDate;
    return item;
  });
  const out: ListExecutionsOutput & { executions: ExecutionListItem[] } = { executions: page };
  if (offset + size < all.length) out.nextToken = encodePageToken(offset + size);
  return out;
}
