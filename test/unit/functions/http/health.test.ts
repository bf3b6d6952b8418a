import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { mocks, resetMocks } from '../support/aws';
import { apiEvent, bodyOf, lambdaContext, setTestEnv } from '../support/fixtures';
import type { handler as Handler } from '../../../../functions/health/handler';

let handler: typeof Handler;
const m = mocks();

beforeAll(async () => {
  setTestEnv();
  ({ handler } = await import('../../../../functions/health/handler'));
});

afterEach(() => resetMocks(m));

describe('GET /api/health', () => {
  test('200 when the table and the state machine answer', async () => {
    // Prepare
    m.ddb.on(GetCommand).resolves({});
    m.sfn.on(DescribeStateMachineCommand).resolves({ status: 'ACTIVE' } as never);

    // Act
    const res = await handler(apiEvent('GET /api/health'), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ status: 'ok', dependencies: { table: 'ok', workflow: 'ok' } });
  });

  test('503 naming the dependency that does not answer (never a 500)', async () => {
    // Prepare
    m.ddb.on(GetCommand).resolves({});
    m.sfn.on(DescribeStateMachineCommand).rejects(Object.assign(new Error('unreachable'), { name: 'StateMachineDoesNotExist' }));

    // Act
    const res = await handler(apiEvent('GET /api/health'), lambdaContext);

    // Assess
    expect(res.statusCode).toBe(503);
    expect(bodyOf(res)).toEqual({ status: 'unavailable', dependencies: { table: 'ok', workflow: 'unavailable' } });
  });
});
