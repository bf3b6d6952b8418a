import { afterEach, expect, test } from '@jest/globals';
import { pinClock, resetClock } from '../../../functions/lib/clock';
import { IntakeSchema } from '../../../functions/lib/schemas/intake';
import { parseArgs, smokeIntake } from '../../../ops/smoke';

// the smoke script's own parts; the whole walk runs against the local runtime in test/int/smoke.int.test.ts

afterEach(() => resetClock());

test('the synthetic intake is valid, not urgent, self-pay, and mails only the SES mailbox simulator', () => {
  const at = Date.parse('2026-03-04T15:00:00Z');
  pinClock(at, { frozen: true });
  const body = smokeIntake(at, 'abc123');
  expect(IntakeSchema.safeParse(body).success).toBe(true);
  expect(body.screening).toEqual({ selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false });
  expect(body.insurance.type).toBe('self-pay');
  for (const address of [body.patient.email, body.referringPhysician.email])
    expect(address).toMatch(/^success\+[a-z0-9-]+@simulator\.amazonses\.com$/);
});

test('arguments: --url is required, --timeout in seconds, --poll in milliseconds', () => {
  expect(parseArgs(['--url', 'https://d1.cloudfront.net'])).toEqual({ url: 'https://d1.cloudfront.net', timeoutMs: 120_000, pollMs: 1000 });
  expect(parseArgs(['--url=https://iop.example.org/api/', '--timeout', '30', '--poll=250'])).toEqual({
    url: 'https://iop.example.org/api/',
    timeoutMs: 30_000,
    pollMs: 250,
  });
  expect(() => parseArgs([])).toThrow(/--url https:/);
  expect(() => parseArgs(['--url', 'ftp://x'])).toThrow(/--url https:/);
  expect(() => parseArgs(['--url', 'https://x', '--timeout', 'soon'])).toThrow(/positive numbers/);
  expect(() => parseArgs(['--target', 'https://x'])).toThrow(/unknown option --target/);
});
