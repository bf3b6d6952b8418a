import { expect, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import { formatViolations, runAxe } from './support/axe';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { call, consoleUrl, createReferral, signIn, uniqueName, waitForStatus } from './support/console-helpers';

// the work queues in a real Chromium against a fresh local runtime (so the counts are known):
// urgent counts on the tabs, the queue opening on urgent work, and a reference found from any tab.

const SLOW = 120_000;

const { api, tokens, newPage } = e2eSuite({ users: ['casey'] });

/** console errors other than the browser logging expected 4xx answers (the optional config.json) */
const unexpected = (problems: string[]): string[] =>
  problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const violations = await runAxe(page);
  if (violations.length) throw new Error(`axe found violations on ${name}:\n${formatViolations(violations)}`);
}

/** the name a screen reader gives a queue tab (its text, visually hidden words included) */
const tabName = (page: Page, id: string) => page.locator(`#tab-${id}`).evaluate((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim());

const search = async (page: Page, text: string) => {
  await page.locator('#queue-q').fill(text);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
};

test(
  'the queue opens on urgent work, and each tab says how many are waiting and how many are urgent',
  async () => {
    // Prepare: one routine referral at insurance review, two urgent and one routine at evaluation
    const review = await createReferral(api, {
      lastName: uniqueName('Review'),
      insurance: { type: 'commercial', payer: 'Aetna', memberId: 'REVIEW-1' },
    });
    const urgentA = await createReferral(api, { lastName: uniqueName('UrgentA'), insurance: { type: 'self-pay' }, selfHarm: true });
    const urgentB = await createReferral(api, { lastName: uniqueName('UrgentB'), insurance: { type: 'self-pay' }, selfHarm: true });
    const routine = await createReferral(api, { lastName: uniqueName('Routine'), insurance: { type: 'self-pay' } });
    await waitForStatus(api, tokens.casey, review.referralId, 'INSURANCE_REVIEW');
    for (const r of [urgentA, urgentB, routine]) await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const { page, problems } = await newPage();

    // Act: open the console as a case worker does, without naming a queue
    await page.goto(consoleUrl(api));
    await signIn(page, 'casey');

    // Assess: evaluation is open (not the first tab), and says why
    await page.locator('#tab-evaluation[aria-selected="true"]').waitFor();
    await expect(page.locator('#tab-insurance-review').getAttribute('aria-selected')).resolves.toBe('false');
    await page.getByRole('status').filter({ hasText: 'Opened on Evaluation: 2 urgent referrals waiting.' }).waitFor();
    await expect(tabName(page, 'evaluation')).resolves.toBe('Evaluation 3 waiting, ⚠ 2 urgent');
    await expect(tabName(page, 'insurance-review')).resolves.toBe('Insurance review 1 waiting');
    await expect(page.locator('#tab-insurance-review .tab-urgent').isHidden()).resolves.toBe(true);
    // the urgent ones first in the open queue
    const rows = page.locator('table.queue tbody tr');
    await rows.nth(2).waitFor();
    await expect(rows.locator('td:nth-child(2)').allTextContents()).resolves.toEqual([
      urgentA.reference,
      urgentB.reference,
      routine.reference,
    ]);
    await expect(rows.nth(0).locator('.badge.urgent').count()).resolves.toBe(1);
    await expect(rows.nth(2).locator('.badge.urgent').count()).resolves.toBe(0);
    expect(new URL(page.url()).hash).toBe('');
    await expectNoAxeViolations(page, 'queue opened on urgent work');
    await shot(page, 'console-queues-urgent-first');

    // a queue named in the address opens as named, with the same counts
    await page.goto(consoleUrl(api, '#/queue/insurance-review'));
    await page.locator('#tab-insurance-review[aria-selected="true"]').waitFor();
    await page.locator('#tab-evaluation .tab-urgent:not([hidden])').waitFor();
    await expect(tabName(page, 'evaluation')).resolves.toBe('Evaluation 3 waiting, ⚠ 2 urgent');
    await expect(page.getByRole('status').filter({ hasText: 'Opened on' }).count()).resolves.toBe(0);
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  'a reference typed in the search finds its referral from any tab, whatever its status; a last name stays in the tab',
  async () => {
    // Prepare: one referral at evaluation, one withdrawn (in no queue at all)
    const lastName = uniqueName('Found');
    const atEvaluation = await createReferral(api, { lastName, insurance: { type: 'self-pay' } });
    const withdrawn = await createReferral(api, { lastName: uniqueName('Gone'), insurance: { type: 'self-pay' } });
    await waitForStatus(api, tokens.casey, atEvaluation.referralId, 'EVALUATION');
    await waitForStatus(api, tokens.casey, withdrawn.referralId, 'EVALUATION');
    expect(
      (
        await call(api, 'POST', `/api/staff/referrals/${withdrawn.referralId}/withdraw`, tokens.casey, {
          reason: 'Called to say they found another program',
        })
      ).status,
    ).toBe(200);
    await waitForStatus(api, tokens.casey, withdrawn.referralId, 'WITHDRAWN');
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api, '#/queue/insurance-review'));
    await signIn(page, 'casey');
    await page.locator('#tab-insurance-review[aria-selected="true"]').waitFor();
    await expect(page.locator('#queue-all').isChecked()).resolves.toBe(false);
    const rows = page.locator('table.queue tbody tr');

    // Act / Assess: the reference as written, from the insurance review tab
    await search(page, atEvaluation.reference);
    await rows.filter({ hasText: atEvaluation.reference }).waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().locator('.badge.status').textContent()).resolves.toBe('Evaluation');
    await expect(page.locator('table.queue caption').textContent()).resolves.toContain('in all statuses');
    await expectNoAxeViolations(page, 'queue with a reference found in another status');
    await shot(page, 'console-queues-reference-found');

    // as read out over the phone: lower case, spaces; and a closed referral is found too
    const spoken = withdrawn.reference.toLowerCase().replace(/-/g, ' ');
    await search(page, spoken);
    await rows.filter({ hasText: withdrawn.reference }).waitFor();
    await expect(rows.first().locator('.badge.status').textContent()).resolves.toBe('Withdrawn');
    await expect(page.locator('#queue-q').inputValue()).resolves.toBe(withdrawn.reference);

    // a reference nobody has
    await search(page, 'IOP-3333-4444');
    await page.locator('.empty:not([hidden])').filter({ hasText: 'No referral has the reference IOP-3333-4444, in any status.' }).waitFor();

    // a last name still searches the open tab only, unless "Search all statuses" is ticked
    await search(page, lastName);
    await page
      .locator('.empty:not([hidden])')
      .filter({ hasText: `No referral matches “${lastName}” in insurance review.` })
      .waitFor();
    await page.locator('#queue-all').check();
    await search(page, lastName);
    await rows.filter({ hasText: atEvaluation.reference }).waitFor();
    expect(page.url()).not.toContain(lastName);
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);
