import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
// The AWS JSON 1.0 listener: wire format, error mapping, and the SDK reading it.
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SfnServer } from '../../../local/sfn/http';
import { fixture, serve } from './support';
import { LocalStepFunctions } from '../../../local/sfn/local-step-functions';

let sfn: LocalStepFunctions;
let server: SfnServer;
let client: SFNClient;
let close: () => Promise<void>;
let stateMachineArn: string;

beforeAll(async () => {
  sfn = new LocalStepFunctions({ timeScale: 1000, resolveFunction: () => async () => ({ ok: true }) });
  stateMachineArn = sfn.createStateMachine('callback-gate', fixture('callback-gate.asl.json'));
  ({ server, client, close } = await serve(sfn));
});

afterAll(async () => {
  await close();
});

async function call(
  target: string | undefined,
  body: string,
  method = 'POST',
): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-amz-json-1.0' };
  if (target) headers['X-Amz-Target'] = target;
  const res = await fetch(`${server.url}/`, { method, headers, body: method === 'GET' ? undefined : body });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

describe('Step Functions JSON 1.0 listener', () => {
  test('answers StartExecution/DescribeExecution with JSON and epoch-second dates', async () => {
    const started = await call(
      'AWSStepFunctions.StartExecution',
      JSON.stringify({ stateMachineArn, name: 'wire-1', input: '{"referralId":"W","timeoutSeconds":600}' }),
    );
    expect(started.status).toBe(200);
    expect(started.type).toBe('application/x-amz-json-1.0');
    expect(started.json.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:callback-gate:wire-1');
    expect(typeof started.json.startDate).toBe('number');
    expect(Math.abs((started.json.startDate as number) - Date.now() / 1000)).toBeLessThan(5);

    const described = await call('AWSStepFunctions.DescribeExecution', JSON.stringify({ executionArn: started.json.executionArn }));
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({
      status: 'RUNNING',
      name: 'wire-1',
      stateMachineArn,
      input: '{"referralId":"W","timeoutSeconds":600}',
    });
  });

  test('maps service errors to 400 with __type, which the SDK turns into its exception classes', async () => {
    const raw = await call(
      'AWSStepFunctions.DescribeExecution',
      JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:callback-gate:none' }),
    );
    expect(raw.status).toBe(400);
    expect(raw.json.__type).toBe('ExecutionDoesNotExist');
    expect(typeof raw.json.message).toBe('string');

    const viaSdk = client.send(
      new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:callback-gate:none' }),
    );
    await expect(viaSdk).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(viaSdk).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  test('rejects unknown operations, missing targets, bad JSON, missing members and other methods without a 500', async () => {
    const unknown = await call('AWSStepFunctions.DeleteEverything', '{}');
    expect([unknown.status, unknown.json.__type]).toEqual([400, 'UnknownOperationException']);
    const noTarget = await call(undefined, '{}');
    expect([noTarget.status, noTarget.json.__type]).toEqual([400, 'UnknownOperationException']);
    const badJson = await call('AWSStepFunctions.StartExecution', '{not json');
    expect([badJson.status, badJson.json.__type]).toEqual([400, 'SerializationException']);
    const missing = await call('AWSStepFunctions.SendTaskSuccess', '{"output":"{}"}');
    expect([missing.status, missing.json.__type]).toEqual([400, 'ValidationException']);
    const get = await call('AWSStepFunctions.DescribeExecution', '', 'GET');
    expect(get.status).toBe(405);
  });

  test('ListExecutions and StartExecution through the SDK (Dates parsed back)', async () => {
    const { executionArn, startDate } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'wire-2', input: '{"referralId":"W2","timeoutSeconds":600}' }),
    );
    expect(startDate).toBeInstanceOf(Date);
    const { executions } = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }));
    expect(executions!.map((e) => e.executionArn)).toContain(executionArn);
    expect(executions!.every((e) => e.startDate instanceof Date && e.status === 'RUNNING')).toBe(true);
  });
});
