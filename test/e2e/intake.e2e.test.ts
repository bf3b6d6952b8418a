import { describe, expect, jest, test } from '@jest/globals';
import type { BrowserContext, Locator, Page, Request } from 'playwright-core';
import type { ReferralDetail, ReferralSummary } from '../../functions/lib/schemas/views';
import { DICTIONARIES, type IntakeKey } from '../../web/src/intake/i18n';
import { formatViolations, runAxe } from './support/axe';
import { VIEWPORTS } from './support/browser';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';

// the public intake form in a real headless Chromium against the local runtime (real API,
// DynamoDB Local, workflow): what a person on a phone does, checked through the staff API.

jest.setTimeout(60_000);

type Lang = 'en' | 'es';
const OPEN_STATUSES = ['RECEIVED', 'INSURANCE_CHECK', 'EVALUATION', 'INSURANCE_REVIEW'];
const DESKTOP = VIEWPORTS.desktop.viewport;
const MOBILE = VIEWPORTS.mobile.viewport;

const e2e = e2eSuite();

// ---- helpers ----

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
/** letters only, so the staff search finds exactly this person */
const uniqueLastName = () =>
  `Zq${Math.random()
    .toString(36)
    .replace(/[^a-z]/g, '')
    .slice(0, 8)}`;

interface Session {
  context: BrowserContext;
  page: Page;
  problems: string[];
  /** every POST /api/referrals the page made */
  posts: Request[];
}

const open = async (): Promise<Session> => {
  const { page, context, problems } = await e2e.newPage({ ...VIEWPORTS.mobile, locale: 'en-US' });
  const posts: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/referrals') posts.push(r);
  });
  await page.goto(new URL('/', e2e.api.appUrl).href);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { context, page, problems, posts };
};

/** a PNG at phone size and one at laptop size, under test/artifacts/ */
const shots = async (page: Page, name: string, focus?: Locator) => {
  if (focus) await focus.scrollIntoViewIfNeeded();
  await shot(page, `intake-${name}-mobile`, { fullPage: !focus });
  await page.setViewportSize(DESKTOP);
  if (focus) await focus.scrollIntoViewIfNeeded();
  await shot(page, `intake-${name}-desktop`, { fullPage: !focus });
  await page.setViewportSize(MOBILE);
};

const expectNoAxeViolations = async (page: Page) => {
  const violations = await runAxe(page);
  expect(formatViolations(violations)).toBe('');
};

const t = (lang: Lang, key: IntakeKey, vars: Record<string, string> = {}) =>
  DICTIONARIES[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');

const group = (page: Page, lang: Lang, key: IntakeKey) => page.getByRole('group', { name: t(lang, key) });
const field = (page: Page, lang: Lang, key: IntakeKey) => page.getByLabel(t(lang, key), { exact: true });

interface Answers {
  lastName: string;
  lang: Lang;
  selfHarm?: boolean;
  dateOfBirth?: string;
  selfPay?: boolean;
  notes?: string;
}

/** fills the whole form through its visible labels (in the form's language) */
const fillForm = async (page: Page, a: Answers) => {
  const { lang } = a;
  await group(page, lang, 'safety.thoughts')
    .getByRole('radio', { name: t(lang, a.selfHarm ? 'yes' : 'no'), exact: true })
    .check();
  await group(page, lang, 'safety.attempt')
    .getByRole('radio', { name: t(lang, 'no'), exact: true })
    .check();
  await field(page, lang, 'about.firstName').fill('Alex');
  await field(page, lang, 'about.lastName').fill(a.lastName);
  await field(page, lang, 'about.dateOfBirth').fill(a.dateOfBirth ?? '1990-04-12');
  await field(page, lang, 'about.phone').fill('(555) 123-4567');
  await field(page, lang, 'about.email').fill('alex@example.org');
  await field(page, lang, 'about.postalCode').fill('02139');

  const substances = group(page, lang, 'substances.question');
  await substances.getByRole('checkbox', { name: t(lang, 'substance.alcohol') }).check();
  await page.getByLabel(t(lang, 'substances.lastUse', { substance: t(lang, 'short.alcohol') })).fill(daysAgo(2));
  await substances.getByRole('checkbox', { name: t(lang, 'substance.benzodiazepines') }).check();

  await group(page, lang, 'withdrawal.symptoms')
    .getByRole('radio', { name: t(lang, 'no'), exact: true })
    .check();
  await group(page, lang, 'withdrawal.detox')
    .getByRole('radio', { name: t(lang, 'detox.not-needed') })
    .check();
  const conditions = group(page, lang, 'cooccurring.question');
  await conditions.getByRole('checkbox', { name: t(lang, 'condition.anxiety') }).check();
  await conditions.getByRole('checkbox', { name: t(lang, 'condition.ptsd') }).check();

  const insurance = group(page, lang, 'insurance.type');
  if (a.selfPay) {
    await insurance.getByRole('radio', { name: t(lang, 'insurance.self-pay') }).check();
  } else {
    await insurance.getByRole('radio', { name: t(lang, 'insurance.commercial') }).check();
    await field(page, lang, 'insurance.payer').fill('Acme Health');
    await field(page, lang, 'insurance.memberId').fill('M1234567');
  }

  await field(page, lang, 'physician.name').fill('Dr. Dana Lee');
  await field(page, lang, 'physician.npi').fill('1234567893');
  await field(page, lang, 'physician.email').fill('dr.lee@clinic.example');
  // the consent names the physician typed above, and is off until ticked
  const consent = page.getByRole('checkbox', { name: t(lang, 'consent.share', { physician: 'Dr. Dana Lee' }) });
  await expect(consent.isChecked()).resolves.toBe(false);
  await consent.check();
  await field(page, lang, 'consent.signature').fill(`Alex ${a.lastName}`);
  await group(page, lang, 'schedule.question')
    .getByRole('radio', { name: t(lang, 'schedule.evening') })
    .check();
  if (a.notes !== undefined) await field(page, lang, 'notes.label').fill(a.notes);
};

const submitButton = (page: Page, lang: Lang) => page.getByRole('button', { name: t(lang, 'submit') });

/** the staff list filtered by last name (urgent first, as the queue shows it) */
const findByLastName = async (lastName: string): Promise<ReferralSummary[]> => {
  const res = await e2e.client.call('GET', `/api/staff/referrals?q=${encodeURIComponent(lastName)}`, { as: 'casey' });
  expect(res.status).toBe(200);
  return (res.json as { items: ReferralSummary[] }).items;
};

const confirmationOf = async (page: Page, lang: Lang) => {
  const title = page.getByRole('heading', { level: 1, name: t(lang, 'done.title') });
  await title.waitFor();
  await expect(title.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
  const reference = (await page.locator('.reference__value').textContent())?.trim() ?? '';
  expect(reference).not.toBe('');
  return reference;
};

const expectNothingLeaked = async (s: Session) => {
  // no PHI in the URL, nothing kept in the browser but a language chosen, no CSP violation or script error
  expect(new URL(s.page.url()).search).toBe('');
  expect(new URL(s.page.url()).hash).toBe('');
  const stored = await s.page.evaluate(() => ({ local: { ...localStorage }, session: sessionStorage.length }));
  expect(stored.session).toBe(0);
  expect(Object.keys(stored.local).filter((k) => k !== 'iop-intake-lang')).toEqual([]);
  expect(['en', 'es', undefined]).toContain(stored.local['iop-intake-lang']);
  expect(s.problems).toEqual([]);
};

// ---- tests ----

describe('public intake form', () => {
  test('an English intake is stored as typed and shows a reference and what happens next', async () => {
    const s = await open();
    const { page } = s;
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await expectNoAxeViolations(page);
    await shots(page, 'empty');
    // one column down to 320 px: nothing wider than the screen
    await page.setViewportSize({ width: 320, height: 640 });
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(320);
    await page.setViewportSize(MOBILE);

    const lastName = uniqueLastName();
    const notes = 'Call after 5pm. <b>not bold</b> & "quotes" — ñ';
    await fillForm(page, { lastName, lang: 'en', notes });
    await submitButton(page, 'en').click();
    const reference = await confirmationOf(page, 'en');
    await expect(page.getByText(t('en', 'done.next.detox')).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: '(555) 010-0100' }).getAttribute('href')).resolves.toBe('tel:5550100100');
    await expect(page.locator('.crisis').count()).resolves.toBe(0);
    await expectNoAxeViolations(page);
    await shots(page, 'confirmation');

    // one POST, with a UUID idempotency key
    expect(s.posts).toHaveLength(1);
    expect(s.posts[0]!.headers()['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const items = await findByLastName(lastName);
    expect(items.map((i) => i.reference)).toEqual([reference]);
    const detail = await e2e.client.referral(items[0]!.referralId);
    expect(OPEN_STATUSES).toContain(detail.status);
    expect(detail.urgent).toBe(false);
    expect(detail.channel).toBe('web');
    expect(detail.intake).toMatchObject({
      patient: {
        firstName: 'Alex',
        lastName,
        dateOfBirth: '1990-04-12',
        phone: '(555) 123-4567',
        email: 'alex@example.org',
        preferredLanguage: 'en',
        postalCode: '02139',
      },
      substances: [{ substance: 'alcohol', lastUse: daysAgo(2) }, { substance: 'benzodiazepines' }],
      withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
      screening: { selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false },
      coOccurring: ['anxiety', 'ptsd'],
      insurance: { type: 'commercial', payer: 'Acme Health', memberId: 'M1234567' },
      referringPhysician: { name: 'Dr. Dana Lee', npi: '1234567893', email: 'dr.lee@clinic.example' },
      consent: { shareWithReferrer: true, signature: `Alex ${lastName}` },
      schedulePreference: 'evening',
      notes,
    });
    expect(Date.now() - Date.parse(detail.intake.consent.signedAt)).toBeLessThan(5 * 60_000);
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('in Spanish the page, labels and confirmation are Spanish and preferredLanguage is es', async () => {
    const s = await open();
    const { page } = s;
    await page.getByRole('button', { name: 'Español' }).click();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('es');
    await expect(page.getByRole('button', { name: 'Español' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(t('es', 'form.title'));
    await expect(page.getByText(t('es', 'about.dateOfBirth'), { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.title()).resolves.toBe(t('es', 'doc.title'));
    await expectNoAxeViolations(page);
    await shots(page, 'spanish');

    const lastName = uniqueLastName();
    await fillForm(page, { lastName, lang: 'es', selfPay: true });
    // insured-only questions stay hidden for self-pay
    await expect(field(page, 'es', 'insurance.memberId').isVisible()).resolves.toBe(false);
    await submitButton(page, 'es').click();
    await confirmationOf(page, 'es');
    await expect(page.getByRole('heading', { name: t('es', 'done.next') }).isVisible()).resolves.toBe(true);
    await expectNoAxeViolations(page);
    await shots(page, 'spanish-confirmation');

    const [item] = await findByLastName(lastName);
    const detail: ReferralDetail = await e2e.client.referral(item!.referralId);
    expect(detail.intake.patient.preferredLanguage).toBe('es');
    expect(detail.intake.insurance).toEqual({ type: 'self-pay' });
    expect(OPEN_STATUSES).toContain(detail.status);
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('invalid answers are listed in a focused summary and marked on the fields; nothing is sent', async () => {
    const s = await open();
    const { page } = s;
    const lastName = uniqueLastName();
    const nextYear = `${new Date().getFullYear() + 1}-01-15`;
    await fillForm(page, { lastName, lang: 'en', dateOfBirth: nextYear });
    await field(page, 'en', 'physician.npi').fill('1234567890'); // wrong check digit
    await submitButton(page, 'en').click();

    const summary = page.locator('.error-summary');
    await summary.waitFor();
    await expect(summary.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(summary.getByRole('heading', { name: t('en', 'errors.title') }).isVisible()).resolves.toBe(true);
    const dob = field(page, 'en', 'about.dateOfBirth');
    await expect(dob.getAttribute('aria-invalid')).resolves.toBe('true');
    const describedBy = (await dob.getAttribute('aria-describedby'))?.split(' ') ?? [];
    const messages = await Promise.all(describedBy.map((id) => page.locator(`[id="${id}"]`).textContent()));
    expect(messages).toContain('Date of birth: the date cannot be in the future');
    await expect(field(page, 'en', 'physician.npi').getAttribute('aria-invalid')).resolves.toBe('true');
    // in page order, each a link to its field and naming its question (the schema also compares
    // last use with the birth date)
    await expect(summary.getByRole('link').allTextContents()).resolves.toEqual([
      'Date of birth: the date cannot be in the future',
      'Last use of alcohol: the date cannot be before the date of birth',
      'NPI number: these 10 digits are not a valid NPI (the last digit does not match). Check it with the doctor’s office',
    ]);
    expect(s.posts).toHaveLength(0);
    await expectNoAxeViolations(page);
    await shots(page, 'errors', summary);

    // keyboard: a summary link moves focus to its field, and the URL stays clean
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect(dob.evaluate((el) => el === document.activeElement)).resolves.toBe(true);

    // errors follow the language switch
    await page.getByRole('button', { name: 'Español' }).click();
    await expect(summary.getByRole('link').first().textContent()).resolves.toBe('Fecha de nacimiento: la fecha no puede ser futura');
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('a "yes" on the suicide-risk screen shows 988 at once, and the referral is urgent', async () => {
    const s = await open();
    const { page } = s;
    const alert = page.getByRole('alert').filter({ has: page.getByRole('link', { name: t('en', 'crisis.call') }) });
    await expect(alert.count()).resolves.toBe(0);
    // keyboard only: Tab to the first question's "Yes" (the first form control), Space to choose it
    const yes = group(page, 'en', 'safety.thoughts').getByRole('radio', { name: 'Yes', exact: true });
    for (let i = 0; i < 10 && !(await yes.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expect(yes.isChecked()).resolves.toBe(true);
    // before anything else is filled in, before submit; focus moves to it
    await alert.waitFor({ timeout: 1_000 });
    await expect(alert.evaluate((el) => el.contains(document.activeElement))).resolves.toBe(true);
    await expect(alert.getByRole('link', { name: t('en', 'crisis.call') }).getAttribute('href')).resolves.toBe('tel:988');
    await expect(alert.getByRole('link', { name: t('en', 'crisis.text') }).getAttribute('href')).resolves.toBe('sms:988');
    await expect(alert.getByRole('link', { name: t('en', 'crisis.911') }).getAttribute('href')).resolves.toBe('tel:911');
    expect(s.posts).toHaveLength(0);
    await expectNoAxeViolations(page);
    await shots(page, 'crisis', alert);

    const lastName = uniqueLastName();
    await fillForm(page, { lastName, lang: 'en', selfHarm: true });
    const responded = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/referrals');
    await submitButton(page, 'en').click();
    const response = await (await responded).json();
    expect(response).toMatchObject({ urgent: true, crisisResources: { call: '988', text: '988', emergency: '911' } });
    await confirmationOf(page, 'en');
    await expect(page.getByText(t('en', 'done.urgent')).isVisible()).resolves.toBe(true);
    await expect(
      page
        .getByRole('alert')
        .getByRole('link', { name: t('en', 'crisis.call') })
        .isVisible(),
    ).resolves.toBe(true);
    await expectNoAxeViolations(page);
    await shots(page, 'crisis-confirmation');

    const detail = await e2e.client.referral(response.referralId);
    expect(detail.urgent).toBe(true);
    expect(detail.intake.screening).toEqual({ selfHarmThoughtsPastMonth: true, suicideAttemptPastThreeMonths: false });
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('a double click on submit creates exactly one referral', async () => {
    const s = await open();
    const { page } = s;
    const lastName = uniqueLastName();
    await fillForm(page, { lastName, lang: 'en' });
    await submitButton(page, 'en').dblclick();
    await confirmationOf(page, 'en');
    expect(s.posts).toHaveLength(1);
    await expect(findByLastName(lastName)).resolves.toHaveLength(1);
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('a network failure keeps everything typed, and the retry reuses the idempotency key', async () => {
    const s = await open();
    const { page } = s;
    const lastName = uniqueLastName();
    await fillForm(page, { lastName, lang: 'en', notes: 'keep me' });
    // the first attempt never reaches the server
    await page.route('**/api/referrals', (route) => route.abort('internetdisconnected'), { times: 1 });
    await submitButton(page, 'en').click();
    const failure = page.getByRole('alert').filter({ hasText: 'Nothing you typed is lost' });
    await failure.waitFor();
    await expect(submitButton(page, 'en').isEnabled()).resolves.toBe(true);
    await expect(field(page, 'en', 'notes.label').inputValue()).resolves.toBe('keep me');
    await expect(field(page, 'en', 'about.lastName').inputValue()).resolves.toBe(lastName);
    await shots(page, 'network-failure', failure);

    await submitButton(page, 'en').click();
    await confirmationOf(page, 'en');
    expect(s.posts).toHaveLength(2);
    const [first, second] = s.posts.map((r) => r.headers()['idempotency-key']);
    expect(second).toBe(first);
    expect(s.posts[1]!.postData()).toBe(s.posts[0]!.postData());
    await expect(findByLastName(lastName)).resolves.toHaveLength(1);
    // the aborted request is the only console noise allowed here
    s.problems.splice(0, s.problems.length, ...s.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(p)));
    await expectNothingLeaked(s);
    await s.context.close();
  });

  test('server field errors (dotted paths) land on the matching inputs', async () => {
    const s = await open();
    const { page } = s;
    await fillForm(page, { lastName: uniqueLastName(), lang: 'en' });
    // what the API answers for a body its schema rejects (here one the browser would have let through)
    await page.route('**/api/referrals', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({
          error: 'ValidationError',
          message: 'Invalid intake',
          fields: { 'substances.1.lastUse': ['Date cannot be in the future'] },
        }),
      }),
    );
    await submitButton(page, 'en').click();
    const summary = page.locator('.error-summary');
    await summary.waitFor();
    const benzoLastUse = page.getByLabel(t('en', 'substances.lastUse', { substance: t('en', 'short.benzodiazepines') }));
    await expect(benzoLastUse.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(
      page.getByLabel(t('en', 'substances.lastUse', { substance: t('en', 'short.alcohol') })).getAttribute('aria-invalid'),
    ).resolves.toBeNull();
    await summary.getByRole('link', { name: 'Last use of benzodiazepines: the date cannot be in the future' }).click();
    await expect(benzoLastUse.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    s.problems.splice(0, s.problems.length, ...s.problems.filter((p) => !/status of 400/.test(p)));
    await expectNothingLeaked(s);
    await s.context.close();
  });
});
