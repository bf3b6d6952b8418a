import { expect, test } from '@jest/globals';
import { formatViolations, runAxe } from './support/axe';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { call, createReferral, login, openReferral, poll, signIn, consoleUrl, waitForStatus } from './support/console-helpers';

// a referral that needs attention after an automatic step kept failing: the console shows what
// failed and where the workflow stopped, and Resume restarts it there (issue 9, Deliver 6)

const SLOW = 120_000;

/** the payer gateway is down until the test brings it back */
let payerDown = true;

const { api, newPage } = e2eSuite({
  runtime: {
    timeScale: 1000,
    handlers: {
      'check-insurance': async (event: unknown, ctx: unknown) => {
        if (payerDown) throw Object.assign(new Error('payer gateway unreachable'), { name: 'PayerGateway.Down' });
        const real = await import('../../functions/check-insurance/handler');
        return real.handler(event, ctx as never);
      },
    },
  },
});

test(
  'the detail view names the failure and where it stopped; Resume restarts the workflow at that step',
  async () => {
    // Prepare: the insurance check keeps failing → NEEDS_ATTENTION
    const casey = await login(api, 'casey');
    const { referralId } = await createReferral(api);
    await waitForStatus(api, casey, referralId, 'NEEDS_ATTENTION');
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api));
    await signIn(page, 'casey');

    // Act: open it
    await openReferral(page, api, referralId);

    // Assess: the panel says what failed and where the workflow stopped
    const panel = page.locator('section.attention');
    await panel.waitFor();
    await expect(panel.textContent()).resolves.toContain('PayerGateway.Down');
    const resume = panel.getByRole('button', { name: /^Resume at/ });
    await expect(resume.textContent()).resolves.toMatch(/Resume at received/i);
    const violations = await runAxe(page);
    if (violations.length) throw new Error(`axe:\n${formatViolations(violations)}`);
    await shot(page, 'console-i-needs-attention');

    // Act: the cause is fixed; the case worker resumes
    payerDown = false;
    await resume.click();

    // Assess: the workflow ran the check again and opened the evaluation gate; the panel is gone
    await poll('the evaluation gate', async () => {
      const r = await call<{ status: string; pendingStep?: string }>(api, 'GET', `/api/staff/referrals/${referralId}`, casey);
      return r.body.pendingStep === 'evaluation' ? true : undefined;
    });
    await openReferral(page, api, referralId);
    await page.locator('#decision-h').waitFor();
    await expect(page.locator('section.attention').count()).resolves.toBe(0);
    await expect(page.locator('.detail-head').textContent()).resolves.not.toContain('Needs attention');
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
  },
  SLOW,
);
