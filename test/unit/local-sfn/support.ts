import { readFileSync } from 'node:fs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { startSfnServer } from '../../../local/sfn/http';
import type { LocalStepFunctions } from '../../../local/sfn/local-step-functions';

// shared by the emulator's tests: fixture definitions and the emulator behind its HTTP endpoint

export const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/sfn/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** serves `sfn` on a loopback port and returns a real @aws-sdk/client-sfn client for it; close() stops all */
export const serve = async (sfn: LocalStepFunctions) => {
  const server = await startSfnServer(sfn);
  const client = new SFNClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    server,
    client,
    close: async () => {
      client.destroy();
      sfn.close();
      await server.close();
    },
  };
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** polls `probe` until it returns something truthy */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 4000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
