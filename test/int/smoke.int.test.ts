import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runtimeSuite } from '../support/runtime-suite';

// `npm run smoke` is run here, as the same file and the same command line a deployer uses, against
// the local runtime: if the API or the workflow changes under it, this fails instead of the first
// real deployment. The staff token comes from the local issuer through SMOKE_TOKEN, the deployed
// way of handing one in.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const suite = runtimeSuite();

/** runs ops/smoke.ts as `npm run smoke` does and waits for it to exit */
const smoke = (args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'ops/smoke.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, SMOKE_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('npm run smoke against the local runtime', () => {
  test('walks a synthetic referral through intake, the evaluation decision and email, then withdraws it', async () => {
    // Prepare
    const token = await suite.api.token('casey');

    // Act
    const run = await smoke(['--url', suite.rt.appUrl, '--timeout', '30', '--poll', '100'], { SMOKE_TOKEN: token });

    // Assess: it passed, step by step
    expect({ code: run.code, stderr: run.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*$/, '').trim() }).toEqual({
      code: 0,
      stderr: '',
    });
    for (const step of ['health', 'intake', 'evaluation gate open', 'evaluation accepted, enrollment gate open', 'email', 'withdrawn']) {
      expect(run.stdout).toMatch(new RegExp(`^ok   ${step}\\b`, 'm'));
    }
    const reference = run.stdout.match(/^passed: (IOP-[A-Z0-9-]+) ended WITHDRAWN$/m)?.[1];
    expect(reference).toBeDefined();

    // and really did: the referral is withdrawn, the emails reached the (local) mailbox
    const list = await suite.api.call('GET', `/api/staff/referrals?q=${reference}`, { as: 'casey' });
    const item = (list.json.items as Array<{ referralId: string; reference: string; status: string }>).find(
      (i) => i.reference === reference,
    );
    expect(item?.status).toBe('WITHDRAWN');
    const detail = await suite.api.referral(item!.referralId);
    expect(detail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['STEP_DECIDED', 'NOTICE_SENT', 'DISCLOSURE', 'WITHDRAWN']));
    expect((await suite.api.emailsTo('success+iop-smoke-')).length).toBeGreaterThanOrEqual(1);
    expect((await suite.api.emailsTo('success+iop-smoke-physician-')).length).toBeGreaterThanOrEqual(1);
  });

  test('fails, naming the step and the reason, when the staff token is refused', async () => {
    const run = await smoke(['--url', suite.rt.appUrl, '--timeout', '10', '--poll', '100'], { SMOKE_TOKEN: 'not-a-token' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ok {3}intake IOP-/m);
    expect(run.stderr).toMatch(/^FAIL read referral: HTTP 401 .*the staff token was refused/m);
  });

  test('refuses to start without a URL or a token', async () => {
    const noUrl = await smoke([], { SMOKE_TOKEN: 'x' });
    expect([noUrl.code, noUrl.stderr]).toEqual([2, expect.stringContaining('--url https://')]);
    const noToken = await smoke(['--url', suite.rt.appUrl], {});
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringContaining('set SMOKE_TOKEN')]);
  });
});
