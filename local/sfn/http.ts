/**
 * The AWS Step Functions wire protocol (AWS JSON 1.0) in front of a LocalStepFunctions, for node:http:
 * `POST /` with `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body, answered with JSON
 * (timestamps as epoch seconds) or HTTP 400 `{"__type":"<Code>","message":"..."}` — what
 * `@aws-sdk/client-sfn` sends and parses, so handlers use the SDK unchanged
 * (`AWS_ENDPOINT_URL_SFN=http://127.0.0.1:<port>`).
 */
import { randomUUID } from 'node:crypto';
import { types } from 'node:util';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST } from '../constants';
import { isSfnServiceError } from './errors';
import type { LocalStepFunctions } from './local-step-functions';

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BODY_BYTES = 1024 * 1024;

type Body = Record<string, unknown>;
type Operation = (sfn: LocalStepFunctions, body: Body) => Promise<unknown>;

class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function requiredString(body: Body, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw new ClientError(
      'ValidationException',
      `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ClientError('ValidationException', `Value at '${key}' must be a string`);
  return value;
}

function optionalNumber(body: Body, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new ClientError('ValidationException', `Value at '${key}' must be a number`);
  return value;
}

function optionalBoolean(body: Body, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ClientError('ValidationException', `Value at '${key}' must be a boolean`);
  return value;
}

const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);

const operations: Record<string, Operation> = {
  StartExecution: (sfn, b) =>
    sfn.startExecution({
      stateMachineArn: requiredString(b, 'stateMachineArn'),
      name: optionalString(b, 'name'),
      input: optionalString(b, 'input'),
    }),
  SendTaskSuccess: (sfn, b) => sfn.sendTaskSuccess({ taskToken: requiredString(b, 'taskToken'), output: requiredString(b, 'output') }),
  SendTaskFailure: (sfn, b) =>
    sfn.sendTaskFailure({
      taskToken: requiredString(b, 'taskToken'),
      error: optionalString(b, 'error'),
      cause: optionalString(b, 'cause'),
    }),
  SendTaskHeartbeat: (sfn, b) => sfn.sendTaskHeartbeat({ taskToken: requiredString(b, 'taskToken') }),
  DescribeExecution: (sfn, b) => sfn.describeExecution({ executionArn: requiredString(b, 'executionArn') }),
  GetExecutionHistory: (sfn, b) =>
    sfn.getExecutionHistory({
      executionArn: requiredString(b, 'executionArn'),
      maxResults: optionalNumber(b, 'maxResults'),
      nextToken: optionalString(b, 'nextToken'),
      reverseOrder: optionalBoolean(b, 'reverseOrder'),
      includeExecutionData: optionalBoolean(b, 'includeExecutionData'),
    }),
  StopExecution: (sfn, b) =>
    sfn.stopExecution({
      executionArn: requiredString(b, 'executionArn'),
      error: optionalString(b, 'error'),
      cause: optionalString(b, 'cause'),
    }),
  DescribeStateMachine: (sfn, b) => sfn.describeStateMachine({ stateMachineArn: requiredString(b, 'stateMachineArn') }),
  ListExecutions: (sfn, b) => {
    const statusFilter = optionalString(b, 'statusFilter');
    if (statusFilter !== undefined && !STATUSES.has(statusFilter)) {
      throw new ClientError('ValidationException', `Value '${statusFilter}' at 'statusFilter' is not a valid execution status`);
    }
    return sfn.listExecutions({
      stateMachineArn: requiredString(b, 'stateMachineArn'),
      statusFilter: statusFilter as Parameters<LocalStepFunctions['listExecutions']>[0]['statusFilter'],
      maxResults: optionalNumber(b, 'maxResults'),
      nextToken: optionalString(b, 'nextToken'),
    });
  },
};

/** JSON for the wire: Dates become epoch seconds (AWS JSON 1.0 timestamps), undefined members vanish. */
function toWire(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = key === '' ? v : this[key];
    return types.isDate(raw) ? raw.getTime() / 1000 : v;
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.writableEnded) return;
  const body = toWire(payload);
  res.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (!res.headersSent) res.setHeader('x-amzn-ErrorType', code);
  send(res, status, { __type: code, message });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ClientError('ValidationException', 'request body is larger than 1 MiB', 413));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(sfn: LocalStepFunctions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, 'MethodNotAllowed', 'the Step Functions API accepts POST only');
    req.resume();
    return;
  }
  const target = req.headers['x-amz-target'];
  const targetValue = Array.isArray(target) ? target[0] : target;
  const operationName = targetValue?.startsWith(TARGET_PREFIX) ? targetValue.slice(TARGET_PREFIX.length) : undefined;
  const operation = operationName !== undefined && Object.hasOwn(operations, operationName) ? operations[operationName] : undefined;
  const text = await readBody(req);
  if (!operation) throw new ClientError('UnknownOperationException', `unknown operation: ${targetValue ?? '(no X-Amz-Target header)'}`);
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ClientError('SerializationException', 'the request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ClientError('SerializationException', 'the request body must be a JSON object');
  }
  const result = await operation(sfn, body as Body);
  send(res, 200, result ?? {});
}

/**
 * A node:http request listener serving the Step Functions API (StartExecution, SendTaskSuccess,
 * SendTaskFailure, SendTaskHeartbeat, DescribeExecution, GetExecutionHistory, StopExecution,
 * ListExecutions, DescribeStateMachine) from `sfn`. Client errors are 400 with the AWS error code in `__type`.
 */
function createSfnRequestListener(sfn: LocalStepFunctions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(sfn, req, res).catch((error: unknown) => {
      if (error instanceof ClientError) {
        sendError(res, error.status, error.code, error.message);
      } else if (isSfnServiceError(error)) {
        sendError(res, 400, error.code, error.message);
      } else {
        sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
      }
    });
  };
}

export interface SfnServer {
  /** e.g. http://127.0.0.1:43125 — use as the SDK endpoint / AWS_ENDPOINT_URL_SFN */
  url: string;
  server: Server;
  /** Stops listening and drops keep-alive connections (does not close `sfn`). */
  close(): Promise<void>;
}

/** Serves `sfn` on `host:port` (defaults 127.0.0.1 and 0 = a free port). */
export function startSfnServer(sfn: LocalStepFunctions, options: { host?: string; port?: number } = {}): Promise<SfnServer> {
  const host = options.host ?? HOST;
  const server = createServer(createSfnRequestListener(sfn));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      resolve({
        url,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
