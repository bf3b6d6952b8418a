import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { cohortBody } from '../support/fixtures';
import { formatViolations, runAxe } from './support/axe';
import { VIEWPORTS } from './support/browser';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { call, consoleUrl, createReferral, poll, signIn, waitForStatus } from './support/console-helpers';

// issue 14 part B in a real Chromium against a fresh runtime: the intake page's open-seats line in
// both languages, the open-seats page framed by another site (and the intake page refused a frame),
// and the dashboard funnel with its filters and CSV download. axe on every state, screenshots kept.

const SLOW = 120_000;

const e2e = e2eSuite({ users: ['casey', 'sam'] });
const { api, tokens } = e2e;
let referrerSite: Server;
let referrerUrl: string;
let cohortStart: string;

beforeAll(async () => {
  // one evening group of three, starting next Monday
  const body = cohortBody({ capacity: 3 });
  cohortStart = body.startDate;
  const created = await call(api, 'POST', '/api/staff/cohorts', tokens.sam, body);
  expect(created.status).toBe(201);
  // a referrer's site on another origin, framing the open-seats page (and, to show the refusal, the intake page)
  referrerSite = createServer((req, res) => {
    const src = req.url === '/intake-frame' ? `${api.appUrl}/intake/` : `${api.appUrl}/availability/?lang=es`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html lang="en"><head><title>A clinic's site</title></head><body><main><h1>Refer a patient</h1><iframe id="seats" title="Open seats" src="${src}" width="420" height="480"></iframe></main></body></html>`,
    );
  });
  await new Promise<void>((resolve) => referrerSite.listen(0, '127.0.0.1', resolve));
  referrerUrl = `http://127.0.0.1:${(referrerSite.address() as AddressInfo).port}`;
}, SLOW);

afterAll(async () => {
  await new Promise((resolve) => referrerSite?.close(resolve));
}, SLOW);

/** a page in English, at `options` (a laptop unless told) */
const newPage = (options: BrowserContextOptions = VIEWPORTS.desktop) => e2e.newPage({ locale: 'en-US', ...options });

async function expectNoAxeViolations(page: Page, name: string, include?: string): Promise<void> {
  const violations = await runAxe(page, include ? { include } : {});
  if (violations.length) throw new Error(`axe found violations on ${name}:\n${formatViolations(violations)}`);
}

/** how the cohort's first day is written, computed apart from the page's own code */
const written = (ymd: string, locale: string) =>
  new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${ymd}T00:00:00Z`));

test(
  'the intake page says when the next group starts and how many seats are left, in English and in Spanish',
  async () => {
    // Prepare
    const { page, problems } = await newPage(VIEWPORTS.mobile);

    // Act
    await page.goto(`${api.appUrl}/intake/`);

    // Assess: English
    const line = page.locator('#availability');
    await line.filter({ hasText: 'evening group' }).waitFor();
    await expect(line.textContent()).resolves.toBe(
      `Next evening group starts ${written(cohortStart, 'en-US')} — 3 seats left (in person).`,
    );
    await expectNoAxeViolations(page, 'the intake page with open seats (en)');
    await shot(page, 'open-seats-intake-en', { fullPage: false });

    // Act: Spanish
    await page.locator('button.lang-switch__button[lang="es"]').click();

    // Assess
    const [weekday, rest] = written(cohortStart, 'es-US').split(', ');
    await expect(line.textContent()).resolves.toBe(
      `El próximo grupo de la tarde empieza el ${weekday} ${rest}: quedan 3 plazas (presencial).`,
    );
    await expectNoAxeViolations(page, 'the intake page with open seats (es)');
    await shot(page, 'open-seats-intake-es', { fullPage: false });
    expect(problems).toEqual([]);
  },
  SLOW,
);

test(
  'another site may frame the open-seats page, which sends no cookie; it may not frame the intake form',
  async () => {
    // Prepare: a cookie for the program's host, to see that the page does not send it
    const { page, context, problems } = await newPage();
    await context.addCookies([{ name: 'tracker', value: 'x', domain: '127.0.0.1', path: '/' }]);
    const seatRequests: Array<Record<string, string>> = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/availability')) seatRequests.push(r.headers());
    });

    // Act
    await page.goto(`${referrerUrl}/`);

    // Assess: the framed page renders, in Spanish as the referrer asked
    const frame = page.frameLocator('#seats');
    await frame.getByRole('heading', { name: 'Grupos de la tarde' }).waitFor();
    await expect(frame.locator('.seats__item').first().textContent()).resolves.toContain('quedan 3 plazas');
    await expect(frame.getByRole('link', { name: /Pedir una plaza/ }).getAttribute('target')).resolves.toBe('_blank');
    expect(seatRequests).toHaveLength(1);
    expect(seatRequests[0]).not.toHaveProperty('cookie');
    await shot(page, 'open-seats-embedded-es');
    expect(problems).toEqual([]);

    // the page itself, opened directly: axe clean in both languages
    const direct = await newPage({ ...VIEWPORTS.mobile, viewport: { width: 320, height: 640 } });
    await direct.page.goto(`${api.appUrl}/availability/`);
    await direct.page.getByRole('heading', { name: 'Evening groups' }).waitFor();
    await expect(direct.page.locator('.seats__item').first().textContent()).resolves.toContain('3 seats left');
    await expectNoAxeViolations(direct.page, 'the open-seats page');
    await shot(direct.page, 'open-seats-page-en');

    // Act: the intake form in a frame on the same foreign site
    const refused = await newPage();
    const consoleErrors: string[] = [];
    refused.page.on('console', (m) => consoleErrors.push(m.text()));
    await refused.page.goto(`${referrerUrl}/intake-frame`);

    // Assess: refused by frame-ancestors 'none'
    await poll(
      'the frame refusal',
      async () => (consoleErrors.some((e) => /frame-ancestors|X-Frame-Options/i.test(e)) ? true : undefined),
      10_000,
      100,
    );
    const intakeFrame = refused.page.frames().find((f) => f !== refused.page.mainFrame());
    await expect(intakeFrame?.locator('#intake').count() ?? Promise.resolve(0)).resolves.toBe(0);
  },
  SLOW,
);

test(
  'the dashboard funnel: counts by step, filtered by channel, downloaded as CSV with counts only',
  async () => {
    // Prepare: two web referrals (one evaluated and enrolled) and one phone referral, in this fresh runtime
    const enrolled = await createReferral(api);
    await createReferral(api);
    const phone = await call<{ referralId: string }>(
      api,
      'POST',
      '/api/staff/referrals',
      tokens.casey,
      (await import('./support/console-helpers')).intakeBody(),
      { 'idempotency-key': crypto.randomUUID() },
    );
    expect(phone.status).toBe(201);
    await waitForStatus(api, tokens.casey, enrolled.referralId, 'EVALUATION');
    await call(api, 'POST', `/api/staff/referrals/${enrolled.referralId}/steps/evaluation`, tokens.casey, {
      dimensions: { d1: 1, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 },
      recommendedLevel: '2.1',
      detoxRequired: false,
      decision: 'accept',
    });
    await waitForStatus(api, tokens.casey, enrolled.referralId, 'ENROLLMENT');
    const cohorts = await call<{ items: Array<{ cohortId: string }> }>(api, 'GET', '/api/staff/cohorts', tokens.casey);
    expect(
      (
        await call(api, 'POST', `/api/staff/referrals/${enrolled.referralId}/steps/enrollment`, tokens.casey, {
          cohortId: cohorts.body.items[0]!.cohortId,
        })
      ).status,
    ).toBe(200);
    await poll('the enrollment', async () =>
      (await call<{ status: string }>(api, 'GET', `/api/staff/referrals/${enrolled.referralId}`, tokens.casey)).body.status === 'ENROLLED'
        ? true
        : undefined,
    );
    const { page, problems } = await newPage();

    // Act
    await page.goto(consoleUrl(api, '#/dashboard'));
    await signIn(page, 'casey');

    // Assess: all channels
    const panel = page.locator('section.funnel');
    const row = (step: string) => page.locator(`table.funnel-table tr[data-step="${step}"]`);
    await row('received').waitFor();
    const cells = async (step: string) => (await row(step).locator('th, td').allInnerTexts()).slice(0, 4);
    await expect(cells('received')).resolves.toEqual(['Received', '3', '100%', '—']);
    await expect(cells('evaluated')).resolves.toEqual(['Evaluated', '1', '33.3%', '2 (66.7%)']);
    await expect(cells('enrolled')).resolves.toEqual(['Enrolled', '1', '33.3%', '0 (0%)']);
    await expect(cells('started')).resolves.toEqual(['Started treatment', '0', '0%', '1 (100%)']);
    // scoped to the funnel panel: the rest of the dashboard is console.e2e's
    await expectNoAxeViolations(page, 'the dashboard with the funnel', 'section.funnel');
    await page.locator('section.funnel').screenshot({ path: await shot(page, 'dashboard-funnel-all') });

    // Act: phone intake only
    await panel.getByLabel('Channel', { exact: true }).selectOption('phone');
    await page.getByRole('button', { name: 'Show', exact: true }).click();

    // Assess
    await page.locator('table.funnel-table caption').filter({ hasText: 'Phone intake' }).waitFor();
    await expect(cells('received')).resolves.toEqual(['Received', '1', '100%', '—']);
    await expectNoAxeViolations(page, 'the funnel filtered to phone intake', 'section.funnel');

    // Act: download what is shown
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);

    // Assess
    const from = await panel.getByLabel('From', { exact: true }).inputValue();
    const to = await panel.getByLabel('To', { exact: true }).inputValue();
    expect(download.suggestedFilename()).toBe(`referral-funnel_${from}_to_${to}_phone.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n')).toEqual([
      'from,to,channel,step,count,percent_of_received,drop_off,drop_off_percent,median_days_from_previous,median_days_from_received',
      `${from},${to},phone,received,1,100,0,0,,`,
      `${from},${to},phone,evaluated,0,0,1,100,,`,
      `${from},${to},phone,enrolled,0,0,0,0,,`,
      `${from},${to},phone,started,0,0,0,0,,`,
      '',
    ]);
    expect(csv).not.toMatch(/IOP-|Tester|Alex/);

    // Act: a reversed range is refused beside its field
    await panel.getByLabel('From', { exact: true }).fill('2026-12-31');
    await panel.getByLabel('To', { exact: true }).fill('2026-01-01');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator('.error-summary').filter({ hasText: 'on or before' }).waitFor();
    await expectNoAxeViolations(page, 'the funnel with a reversed range', 'section.funnel');
    await shot(page, 'dashboard-funnel-error');
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
  },
  SLOW,
);
