import { describe, expect, jest, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { ReferralDetail, ReferralSummary } from '../../functions/lib/schemas/views';
import { DICTIONARIES, type IntakeKey } from '../../web/src/intake/i18n';
import { formatViolations, runAxe } from './support/axe';
import { VIEWPORTS } from './support/browser';
import { consoleUrl, openReferral, poll, signIn } from './support/console-helpers';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';

// issue 16 items 4 and 5 in a real Chromium: the public form's payer picker (GET /api/payers) fills
// the payer ID; a member ID the payer cannot match lands in insurance review, where the case worker
// corrects it and checks again from the console and sees the new result; a payer list that fails to
// load leaves a plain text box

jest.setTimeout(90_000);

const e2e = e2eSuite();
const { api, newContext, newPage } = e2e;

const t = (key: IntakeKey, vars: Record<string, string> = {}) =>
  DICTIONARIES.en[key].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
const group = (page: Page, key: IntakeKey) => page.getByRole('group', { name: t(key) });
const field = (page: Page, key: IntakeKey) => page.getByLabel(t(key), { exact: true });
const uniqueLastName = () =>
  `Zp${Math.random()
    .toString(36)
    .replace(/[^a-z]/g, '')
    .slice(0, 8)}`;

/** the public form filled through its labels; the payer as typed (or picked) */
const fillForm = async (page: Page, lastName: string, payer: string, memberId: string) => {
  await group(page, 'safety.thoughts')
    .getByRole('radio', { name: t('no'), exact: true })
    .check();
  await group(page, 'safety.attempt')
    .getByRole('radio', { name: t('no'), exact: true })
    .check();
  await field(page, 'about.firstName').fill('Alex');
  await field(page, 'about.lastName').fill(lastName);
  await field(page, 'about.dateOfBirth').fill('1990-04-12');
  await field(page, 'about.phone').fill('(555) 123-4567');
  await group(page, 'substances.question')
    .getByRole('checkbox', { name: t('substance.alcohol') })
    .check();
  await group(page, 'withdrawal.symptoms')
    .getByRole('radio', { name: t('no'), exact: true })
    .check();
  await group(page, 'withdrawal.detox')
    .getByRole('radio', { name: t('detox.not-needed') })
    .check();
  await group(page, 'insurance.type')
    .getByRole('radio', { name: t('insurance.commercial') })
    .check();
  await field(page, 'insurance.payer').fill(payer);
  await field(page, 'insurance.memberId').fill(memberId);
  await field(page, 'consent.signature').fill(`Alex ${lastName}`);
  await group(page, 'schedule.question')
    .getByRole('radio', { name: t('schedule.evening') })
    .check();
};

const findByLastName = async (lastName: string): Promise<ReferralSummary[]> =>
  (
    (await e2e.client.call('GET', `/api/staff/referrals?q=${encodeURIComponent(lastName)}`, { as: 'casey' })).json as {
      items: ReferralSummary[];
    }
  ).items;

describe('payer picker and insurance re-check', () => {
  test('the picker fills the payer ID; the case worker corrects the member ID at the insurance review and sees the new result', async () => {
    // Prepare: the public form
    const { page, context, problems } = await newPage({ ...VIEWPORTS.mobile, locale: 'en-US' });
    await page.goto(new URL('/', api.appUrl).href);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const lastName = uniqueLastName();

    // Act: the payer chosen from the list (its exact name), a member ID the payer cannot match
    await fillForm(page, lastName, 'Aetna', 'REVIEW1');

    // Assess: the box offers the list and says the payer is on it
    const payerBox = field(page, 'insurance.payer');
    const listId = await payerBox.getAttribute('list');
    expect(listId).toBeTruthy();
    await expect(page.locator(`datalist#${listId} option[value="Aetna"]`).count()).resolves.toBe(1);
    await page.getByText(t('insurance.payer.listed')).waitFor();
    expect(formatViolations(await runAxe(page))).toBe('');
    await shot(page, 'intake-payer-picker', { fullPage: false });

    // Act: send it
    await page.getByRole('button', { name: t('submit') }).click();
    await page.getByRole('heading', { name: t('done.title') }).waitFor();

    // Assess: stored with the payer's name and ID; the check found it unclear → insurance review
    const [summary] = await findByLastName(lastName);
    expect(summary).toBeDefined();
    const id = summary!.referralId;
    const atReview = await e2e.client.waitForGate(id, 'insurance-review');
    expect(atReview.intake.insurance).toEqual({ type: 'commercial', payer: 'Aetna', payerId: '60054', memberId: 'REVIEW1' });
    expect(atReview.eligibility?.outcome).toBe('unclear');
    expect(problems).toEqual([]);
    await context.close();

    // Prepare: the console
    const { page: cpage, context: staff, ...console$ } = await newPage();
    await cpage.goto(consoleUrl(api));
    await signIn(cpage, 'casey');

    // Assess: the phone intake (the same form in staff mode) offers the same picker, in staff wording
    await cpage.goto(consoleUrl(api, '#/phone'));
    const phonePayer = cpage.getByLabel(t('insurance.payer'), { exact: true });
    await cpage
      .locator('.phone-form')
      .getByRole('radio', { name: t('insurance.commercial') })
      .check();
    await phonePayer.fill('aetna');
    await cpage.getByText('On the list: the check goes to this payer.').waitFor();
    expect(await phonePayer.getAttribute('list')).toBeTruthy();
    await openReferral(cpage, api, id);
    const panel = cpage.locator('section.insurance-review');
    await panel.waitFor();
    await expect(panel.locator('.eligibility').textContent()).resolves.toContain('Unclear');
    const form = panel.locator('form.recheck');
    await expect(form.getByLabel('Member ID').inputValue()).resolves.toBe('REVIEW1');
    await expect(form.getByLabel('Insurance company').inputValue()).resolves.toBe('Aetna');
    expect(formatViolations(await runAxe(cpage))).toBe('');

    // Act: correct the member ID and check again
    await form.getByLabel('Member ID').fill('ABC123');
    await form.getByRole('button', { name: 'Check again' }).click();

    // Assess: the view shows the new result; the referral is still at its gate; the timeline says so
    await poll('the new result on the page', async () =>
      (await cpage.locator('section.insurance-review .eligibility').textContent())?.includes('Covered') ? true : undefined,
    );
    await cpage.locator('form.decision[data-step="insurance-review"]').waitFor();
    await cpage.getByText('Insurance checked again').first().waitFor();
    await expect(cpage.getByText('Corrected: member ID').count()).resolves.toBeGreaterThan(0);
    await expect(cpage.locator('section.insurance-review form.recheck').getByLabel('Member ID').inputValue()).resolves.toBe('ABC123');
    const after: ReferralDetail = await e2e.client.referral(id);
    expect(after).toMatchObject({ status: 'INSURANCE_REVIEW', pendingStep: 'insurance-review', eligibility: { outcome: 'covered' } });
    expect(after.intake.insurance.memberId).toBe('ABC123');
    expect(formatViolations(await runAxe(cpage))).toBe('');
    await shot(cpage, 'console-insurance-recheck');
    expect(console$.problems).toEqual([]);
    await staff.close();
  });

  test('a payer list that cannot be loaded leaves a plain text box: a name is still taken, without a payer ID', async () => {
    const context = await newContext({ ...VIEWPORTS.mobile, locale: 'en-US' });
    const page = await context.newPage();
    await page.route('**/api/payers', (route) => route.fulfill({ status: 503, body: '{}', contentType: 'application/json' }));
    const posted: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/referrals') posted.push(r.postDataJSON());
    });
    await page.goto(new URL('/', api.appUrl).href);
    await page.getByRole('heading', { level: 1 }).waitFor();

    await fillForm(page, uniqueLastName(), 'Aetna', 'M1234567');
    await page.getByRole('button', { name: t('submit') }).click();
    await page.getByRole('heading', { name: t('done.title') }).waitFor();

    await expect(field(page, 'insurance.payer').count()).resolves.toBe(0); // the form gave way to the confirmation
    expect(posted).toHaveLength(1);
    expect((posted[0] as { insurance: unknown }).insurance).toEqual({ type: 'commercial', payer: 'Aetna', memberId: 'M1234567' });
    await context.close();
  });
});
