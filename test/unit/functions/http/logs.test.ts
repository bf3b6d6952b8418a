import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mocks } from '../support/aws';
import { apiEvent, bodyOf, lambdaContext, setTestEnv, validIntake } from '../support/fixtures';
import type { handler as Handler } from '../../../../functions/submit-intake/handler';

// docs/ARCHITECTURE.md §7: logs hold IDs and codes, never names, dates of birth, phone numbers, emails or free text

let handler: typeof Handler;
const m = mocks();
const written: string[] = [];
const originalWrite = process.stdout.write;
const originalErrWrite = process.stderr.write;

beforeAll(async () => {
  setTestEnv();
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG'; // this file reads the logs, so they must be written
  ({ handler } = await import('../../../../functions/submit-intake/handler'));
});

beforeEach(() => {
  written.length = 0;
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  m.ddb.on(GetCommand).resolves({});
  m.ddb.on(TransactWriteCommand).resolves({});
  m.sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
});

afterEach(() => {
  process.stdout.write = originalWrite;
  process.stderr.write = originalErrWrite;
  m.ddb.reset();
  m.sfn.reset();
});

afterAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const intake = validIntake();
const PHI = [
  intake.patient.firstName,
  intake.patient.lastName,
  intake.patient.dateOfBirth,
  intake.patient.phone,
  intake.patient.email!,
  intake.notes!,
  intake.referringPhysician!.email,
  intake.insurance.memberId!,
];

describe('logs of the intake handler', () => {
  test('a received referral is logged by id and codes only', async () => {
    // Act
    const res = await handler(apiEvent('POST /api/referrals', { body: intake }), lambdaContext);

    // Assess
    const logs = written.join('');
    expect(logs).toContain(String(bodyOf(res).referralId));
    for (const value of PHI) expect(logs).not.toContain(value);
  });

  test('a rejected intake is logged by status and code only', async () => {
    // Act
    await handler(apiEvent('POST /api/referrals', { body: { ...intake, patient: { ...intake.patient, phone: 'x' } } }), lambdaContext);

    // Assess
    const logs = written.join('');
    expect(logs).toContain('ValidationError');
    for (const value of PHI) expect(logs).not.toContain(value);
  });

  test('an SDK failure whose message quotes data is logged by error name only', async () => {
    // Prepare
    const failure = new Error(`could not write ${intake.patient.lastName} ${intake.patient.dateOfBirth}`);
    failure.name = 'InternalServerError';
    m.ddb.on(TransactWriteCommand).rejects(failure);

    // Act
    await handler(apiEvent('POST /api/referrals', { body: intake }), lambdaContext);

    // Assess
    const logs = written.join('');
    expect(logs).toContain('InternalServerError');
    for (const value of PHI) expect(logs).not.toContain(value);
  });
});
