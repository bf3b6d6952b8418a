import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { localEligibilityEnv } from '../../local/eligibility';
import { startRuntime } from '../../local/runtime';

// issue 16 item 2: `npm start` (and any local runtime) refuses half an eligibility configuration
// before anything starts, naming the settings and never their values. No runtime runs in this
// file, so the shell's environment is the only other source of settings.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('a half configuration is refused before anything starts, by name, never by value', () => {
  test('startRuntime', async () => {
    await expect(
      startRuntime({
        port: 0,
        mailPort: 0,
        quiet: true,
        env: { ELIGIBILITY_PROVIDER: 'clearinghouse', ELIGIBILITY_API_KEY: 'sk-half-given-9' },
      }),
    ).rejects.toThrow('ELIGIBILITY_PROVIDER=clearinghouse also needs ELIGIBILITY_URL, PROVIDER_NPI, PROVIDER_NAME');
  });

  test('npm start (local/start.ts) exits non-zero naming the missing settings', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--port', '0', '--mail-port', '0'], {
      cwd: ROOT,
      env: { ...process.env, ELIGIBILITY_URL: 'https://clearinghouse.example.org/v3', ELIGIBILITY_API_KEY: 'sk-half-given-9' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(code).toBe(1);
    expect(output).toMatch(/ELIGIBILITY_PROVIDER is not clearinghouse/);
    expect(output).not.toContain('sk-half-given-9');
    expect(output).not.toContain('clearinghouse.example.org');
  }, 30_000);
});

describe('localEligibilityEnv (the rule behind both)', () => {
  const full = {
    ELIGIBILITY_PROVIDER: 'clearinghouse',
    ELIGIBILITY_URL: 'http://127.0.0.1:9/eligibility/v3',
    ELIGIBILITY_API_KEY: 'sk-full-1',
    PROVIDER_NPI: '1234567893',
    PROVIDER_NAME: 'Example IOP',
  };

  test('passes the settings through under their names, the retry delay divided by TIME_SCALE', () => {
    expect(localEligibilityEnv({ ...full, ELIGIBILITY_RETRY_SECONDS: '30', UNRELATED: 'x' }, 100)).toEqual({
      ...full,
      ELIGIBILITY_RETRY_SECONDS: '0.3',
    });
    expect(localEligibilityEnv({}, 1)).toEqual({ ELIGIBILITY_PROVIDER: 'simulator', ELIGIBILITY_RETRY_SECONDS: '30' });
  });

  test.each([
    [{ ...full, PROVIDER_NAME: undefined }, /also needs PROVIDER_NAME$/],
    [{ ...full, ELIGIBILITY_API_KEY: undefined }, /also needs ELIGIBILITY_API_KEY$/],
    [{ ELIGIBILITY_API_KEY: 'sk-full-1' }, /ELIGIBILITY_PROVIDER is not clearinghouse/],
    [{ ...full, ELIGIBILITY_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }, /for AWS/],
    [{ ...full, ELIGIBILITY_PROVIDER: 'x12' }, /simulator or clearinghouse/],
    [{ ...full, PROVIDER_NPI: '123' }, /10 digits/],
    [{ ...full, ELIGIBILITY_URL: 'not a url' }, /must be a URL/],
    [{ ...full, ELIGIBILITY_RETRY_SECONDS: 'soon' }, /number of seconds/],
  ])('refuses %j by name, never by value', (env, message) => {
    expect(() => localEligibilityEnv(env, 1)).toThrow(message);
    try {
      localEligibilityEnv(env, 1);
    } catch (e) {
      expect((e as Error).message).not.toContain('sk-full-1');
      expect((e as Error).message).not.toContain('not a url');
    }
  });
});
