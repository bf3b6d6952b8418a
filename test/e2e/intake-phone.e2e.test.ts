import { describe, expect, jest, test } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { DICTIONARIES, type IntakeKey } from '../../web/src/intake/i18n';
import { intakeBody } from '../support/fixtures';
import { formatViolations, runAxe } from './support/axe';
import { VIEWPORTS } from './support/browser';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';

// the public intake form on a phone (390 × 844, touch) in a real Chromium: what a person sees
// without scrolling when they answer "yes" to a crisis question, what the error list says, and
// what the consent promises. Screenshots are of the screen as the person sees it (not full page).

jest.setTimeout(60_000);

type Lang = 'en' | 'es';
const PHONE = VIEWPORTS.mobile.viewport;
/** the browser's date, fixed: the consent date line and the "not in the future" rules read it */
const NOW = new Date('2026-03-04T15:00:00Z');
const LANG_KEY = 'iop-intake-lang';

const e2e = e2eSuite();

// ---- helpers ----

const t = (lang: Lang, key: IntakeKey, vars: Record<string, string> = {}) =>
  DICTIONARIES[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');

/** a phone in `locale` (its date boxes follow it), the form open, optionally switched to `lang` */
const openPhone = async (lang: Lang = 'en', locale = 'en-US'): Promise<{ page: Page; problems: string[] }> => {
  const { page, problems } = await e2e.newPage({ ...VIEWPORTS.mobile, locale });
  await page.clock.setFixedTime(NOW);
  await page.goto(new URL('/', e2e.api.appUrl).href);
  await page.getByRole('heading', { level: 1 }).waitFor();
  if (lang === 'es') {
    await page.getByRole('button', { name: 'Español' }).tap();
    await page.getByRole('heading', { level: 1, name: t('es', 'form.title') }).waitFor();
  }
  return { page, problems };
};

const group = (page: Page, lang: Lang, key: IntakeKey) => page.getByRole('group', { name: t(lang, key) });
const radio = (page: Page, lang: Lang, question: IntakeKey, answer: IntakeKey) =>
  group(page, lang, question).getByRole('radio', { name: t(lang, answer), exact: true });
const crisisPanel = (page: Page, lang: Lang) => page.getByRole('region', { name: t(lang, 'crisis.title') });
const summary = (page: Page) => page.locator('.error-summary');

/** where a control sits on the screen right now, and whether a tap on its centre reaches it */
const onScreen = (loc: Locator) =>
  loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return {
      top: Math.round(r.top),
      bottom: Math.round(r.bottom),
      left: Math.round(r.left),
      right: Math.round(r.right),
      reachable: !!hit && el.contains(hit),
    };
  });

/** asserts `loc` lies wholly inside the phone's screen (nothing to scroll to see or tap it) */
const expectWhollyOnScreen = async (loc: Locator) => {
  const box = await onScreen(loc);
  expect(box).toEqual({
    top: expect.any(Number),
    bottom: expect.any(Number),
    left: expect.any(Number),
    right: expect.any(Number),
    reachable: true,
  });
  expect(box.top).toBeGreaterThanOrEqual(0);
  expect(box.left).toBeGreaterThanOrEqual(0);
  expect(box.bottom).toBeLessThanOrEqual(PHONE.height);
  expect(box.right).toBeLessThanOrEqual(PHONE.width);
};

const expectNoAxeViolations = async (page: Page) => {
  expect(formatViolations(await runAxe(page))).toBe('');
};

/** what the screen shows now (a phone screenshot, not the whole page) */
const screen = (page: Page, name: string) => shot(page, `intake-phone-${name}`, { fullPage: false });

const isFocusedWithin = (loc: Locator) => loc.evaluate((el) => el === document.activeElement || el.contains(document.activeElement));

const summaryTexts = (page: Page) => summary(page).getByRole('listitem').allTextContents();

// ---- the 988 panel on a phone ----

describe('on a phone, a "yes" to a crisis question', () => {
  test.each<[Lang, IntakeKey]>([
    ['en', 'safety.thoughts'],
    ['en', 'safety.attempt'],
    ['es', 'safety.thoughts'],
    ['es', 'safety.attempt'],
  ])(
    '(%s, %s) brings the 988 panel on screen at once, call and text buttons wholly visible, focus on the panel',
    async (lang, question) => {
      // Prepare
      const { page, problems } = await openPhone(lang);
      const panel = crisisPanel(page, lang);
      await expect(panel.count()).resolves.toBe(0);

      // Act: the person has scrolled to read the question (it sits at the top of the screen), then
      // taps "Yes" and nothing else
      await group(page, lang, question).evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await expect(page.evaluate(() => window.scrollY)).resolves.toBeGreaterThan(0);
      await radio(page, lang, question, 'yes').tap();

      // Assess
      await panel.waitFor({ timeout: 1_000 });
      await expect(isFocusedWithin(panel)).resolves.toBe(true);
      const call = panel.getByRole('link', { name: t(lang, 'crisis.call') });
      const text = panel.getByRole('link', { name: t(lang, 'crisis.text') });
      await expect(call.getAttribute('href')).resolves.toBe('tel:988');
      await expect(text.getAttribute('href')).resolves.toBe('sms:988');
      await expectWhollyOnScreen(panel.getByRole('heading', { name: t(lang, 'crisis.title') }));
      await expectWhollyOnScreen(call);
      await expectWhollyOnScreen(text);
      // announced too: the panel sits in the form's alert region
      await expect(page.getByRole('alert').filter({ has: call }).count()).resolves.toBe(1);
      await screen(page, `crisis-${lang}-${question.split('.')[1]}`);
      await expectNoAxeViolations(page);

      // the answer stays as given, and "No" again removes the panel
      await expect(radio(page, lang, question, 'yes').isChecked()).resolves.toBe(true);
      await radio(page, lang, question, 'no').tap();
      await expect(panel.count()).resolves.toBe(0);
      expect(problems).toEqual([]);
    },
  );

  test.each<Lang>(['en', 'es'])(
    '(%s) then Send with everything else empty: the panel stays on screen above the error list, which takes focus',
    async (lang) => {
      // Prepare
      const { page, problems } = await openPhone(lang);
      await radio(page, lang, 'safety.thoughts', 'yes').tap();
      const panel = crisisPanel(page, lang);
      await panel.waitFor();

      // Act: Send is at the very bottom of the form
      await page.getByRole('button', { name: t(lang, 'submit') }).tap();

      // Assess: the list took focus, the 988 buttons are on screen, and the panel is above the list
      await summary(page).waitFor();
      await expect(summary(page).evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await expectWhollyOnScreen(panel.getByRole('link', { name: t(lang, 'crisis.call') }));
      await expectWhollyOnScreen(panel.getByRole('link', { name: t(lang, 'crisis.text') }));
      const [panelBox, listBox] = await Promise.all([onScreen(panel), onScreen(summary(page))]);
      expect(panelBox.bottom).toBeLessThanOrEqual(listBox.top);
      // and the list begins on the same screen, below the panel
      expect(listBox.top).toBeLessThan(PHONE.height);
      await screen(page, `crisis-errors-${lang}`);
      await expectNoAxeViolations(page);
      expect(problems).toEqual([]);
    },
  );
});

// ---- errors that name their question ----

describe('the error list', () => {
  const EMPTY_FORM_ERRORS: IntakeKey[] = [
    'required.selfHarm',
    'required.attempt',
    'required.firstName',
    'required.lastName',
    'required.dateOfBirth',
    'required.phone',
    'required.substances',
    'required.symptoms',
    'required.detoxStatus',
    'required.insuranceType',
    'required.signature',
    'required.schedule',
  ];

  test.each<Lang>(['en', 'es'])('(%s) for an empty form names every question, no two messages alike', async (lang) => {
    // Prepare
    const { page, problems } = await openPhone(lang);

    // Act
    await page.getByRole('button', { name: t(lang, 'submit') }).tap();
    await summary(page).waitFor();

    // Assess: in page order, each message its own
    const items = await summaryTexts(page);
    expect(items).toEqual(EMPTY_FORM_ERRORS.map((k) => t(lang, k)));
    expect(new Set(items).size).toBe(items.length);
    // the message beside each yes/no question is the one in the list
    await expect(group(page, lang, 'withdrawal.symptoms').locator('.field-error').textContent()).resolves.toBe(
      t(lang, 'required.symptoms'),
    );
    await screen(page, `errors-empty-${lang}`);
    await expectNoAxeViolations(page);
    expect(problems).toEqual([]);
  });

  test('an NPI is told its length first, then its check digit; both name the NPI', async () => {
    // Prepare
    const { page, problems } = await openPhone('en');
    const npi = page.getByLabel(t('en', 'physician.npi'), { exact: true });
    await page.getByLabel(t('en', 'physician.name'), { exact: true }).fill('Dr. Dana Lee');
    await page.getByLabel(t('en', 'physician.email'), { exact: true }).fill('dr.lee@clinic.example');

    // Act: five digits
    await npi.fill('12345');
    await page.getByRole('button', { name: t('en', 'submit') }).tap();

    // Assess
    const npiMessage = () => summaryTexts(page).then((items) => items.filter((m) => m.startsWith(t('en', 'name.npi'))));
    await summary(page).waitFor();
    await expect(npiMessage()).resolves.toEqual([t('en', 'invalid.npiLength', { field: t('en', 'name.npi') })]);
    await expect(npi.getAttribute('aria-invalid')).resolves.toBe('true');

    // Act: ten digits, the last one wrong
    await npi.fill('1234567890');
    await page.getByRole('button', { name: t('en', 'submit') }).tap();

    // Assess
    await expect(npiMessage()).resolves.toEqual([t('en', 'invalid.npiCheck', { field: t('en', 'name.npi') })]);
    await npi.scrollIntoViewIfNeeded();
    await screen(page, 'errors-npi');
    await expectNoAxeViolations(page);
    expect(problems).toEqual([]);
  });

  test.each<[Lang, string]>([
    ['en', 'en-US'],
    ['es', 'es-US'],
  ])(
    '(%s page, %s browser) a date box holding part of a date is told to give the whole date, naming no format the box may not show',
    async (lang, locale) => {
      // Prepare
      const { page, problems } = await openPhone(lang, locale);
      const dob = page.getByLabel(t(lang, 'about.dateOfBirth'), { exact: true });

      // Act: only the first part of the date (the box then holds no value at all)
      await dob.focus();
      await page.keyboard.type('04');
      await page.getByRole('button', { name: t(lang, 'submit') }).tap();

      // Assess: not "enter a date of birth" (something was typed), and no YYYY-MM-DD beside a box
      // that shows mm/dd/yyyy (the box follows the browser, not the page: see the screenshot)
      await summary(page).waitFor();
      const expected = t(lang, 'invalid.date', { field: t(lang, 'name.dateOfBirth') });
      await expect(summaryTexts(page)).resolves.toContain(expected);
      await expect(summaryTexts(page)).resolves.not.toContain(t(lang, 'required.dateOfBirth'));
      expect(expected).not.toMatch(/YYYY|AAAA|MM|DD/i);
      const message = await dob.evaluate(
        (el) => document.getElementById(el.getAttribute('aria-describedby')?.split(' ').pop() ?? '')?.textContent,
      );
      expect(message).toBe(expected);
      await dob.scrollIntoViewIfNeeded();
      await screen(page, `errors-date-${lang}`);
      await expectNoAxeViolations(page);
      expect(problems).toEqual([]);
    },
  );

  test('a date in the future names its question (the last use of a substance)', async () => {
    // Prepare: the browser's today is NOW (2026-03-04)
    const { page, problems } = await openPhone('en');
    await group(page, 'en', 'substances.question')
      .getByRole('checkbox', { name: t('en', 'substance.alcohol') })
      .check();

    // Act
    await page.getByLabel(t('en', 'substances.lastUse', { substance: t('en', 'short.alcohol') })).fill('2026-03-20');
    await page.getByRole('button', { name: t('en', 'submit') }).tap();

    // Assess
    await summary(page).waitFor();
    await expect(summaryTexts(page)).resolves.toContain(
      t('en', 'invalid.future', { field: t('en', 'name.lastUse', { substance: t('en', 'short.alcohol') }) }),
    );
    expect(problems).toEqual([]);
  });

  test('private insurance with no company is told to name it, in the browser and by the API', async () => {
    // Prepare
    const { page, problems } = await openPhone('en');
    await group(page, 'en', 'insurance.type')
      .getByRole('radio', { name: t('en', 'insurance.commercial') })
      .check();
    const payer = page.getByLabel(t('en', 'insurance.payer'), { exact: true });
    await payer.waitFor();

    // Act
    await page.getByRole('button', { name: t('en', 'submit') }).tap();

    // Assess: on the field and in the list
    await summary(page).waitFor();
    await expect(summaryTexts(page)).resolves.toContain(t('en', 'required.payer'));
    await expect(payer.getAttribute('aria-invalid')).resolves.toBe('true');
    await payer.scrollIntoViewIfNeeded();
    await screen(page, 'errors-payer');
    await expectNoAxeViolations(page);
    expect(problems).toEqual([]);

    // the same schema serves the API: a commercial intake without payer is a 400 naming it
    const body = intakeBody({ insurance: { type: 'commercial', memberId: 'M1234567' } });
    const res = await e2e.client.intake(body);
    expect(res.status).toBe(400);
    expect(res.json.fields).toEqual({ 'insurance.payer': ['Enter the insurance company'] });
  });
});

// ---- language and consent ----

describe('language and consent', () => {
  test('the language chosen survives a reload; only its code is kept in the browser', async () => {
    // Prepare
    const { page, problems } = await openPhone('en');

    // Act
    await page.getByRole('button', { name: 'Español' }).tap();
    await page.reload();

    // Assess
    await page.getByRole('heading', { level: 1, name: t('es', 'form.title') }).waitFor();
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('es');
    await expect(page.getByRole('button', { name: 'Español' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(page.evaluate(() => ({ ...localStorage }))).resolves.toEqual({ [LANG_KEY]: 'es' });

    // and back
    await page.getByRole('button', { name: 'English' }).tap();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: t('en', 'form.title') }).waitFor();
    await expect(page.evaluate(() => ({ ...localStorage, ...sessionStorage }))).resolves.toEqual({ [LANG_KEY]: 'en' });
    expect(problems).toEqual([]);
  });

  test("a person who never chose gets the browser's language, and nothing is stored", async () => {
    // Prepare / Act
    const { page, problems } = await openPhone('en', 'es-MX');

    // Assess
    await page.getByRole('heading', { level: 1, name: t('es', 'form.title') }).waitFor();
    await expect(page.evaluate(() => localStorage.length)).resolves.toBe(0);
    expect(problems).toEqual([]);
  });

  test.each<Lang>(['en', 'es'])('(%s) the consent says exactly what the physician is told, what never, and how to cancel', async (lang) => {
    // Prepare
    const { page, problems } = await openPhone(lang);
    const terms = page.locator('.terms');

    // Act: scrolled to the terms, as the person reads them
    await terms.evaluate((el) => el.scrollIntoView({ block: 'start' }));

    // Assess: status only, at four moments, the start date at most; never diagnosis, substances or answers
    await expect(terms.getByRole('listitem').allTextContents()).resolves.toEqual(
      (['consent.what.received', 'consent.what.accepted', 'consent.what.enrolled', 'consent.what.closed'] as const).map((k) => t(lang, k)),
    );
    const text = (await terms.textContent()) ?? '';
    expect(text).toContain(t(lang, 'consent.what.value'));
    expect(text).toContain(t(lang, 'consent.what.identity'));
    expect(text).toContain(t(lang, 'consent.what.never'));
    // how to cancel: by telling the program, whose number does not break across lines
    expect(text).toContain(t(lang, 'consent.revoke.value', { phone: '(555)\u00a0010\u20110100' }));
    await screen(page, `consent-${lang}`);
    await expectNoAxeViolations(page);
    expect(problems).toEqual([]);
  });
});
