import { beforeAll, expect, test } from '@jest/globals';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { formatViolations, runAxe } from './support/axe';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import {
  call,
  consoleUrl,
  createReferral,
  decisionHeading,
  fillEvaluation,
  openReferral,
  poll,
  signIn,
  today,
  uniqueName,
  waitForStatus,
  weekdaysCohort,
} from './support/console-helpers';

// the case-worker console in a real headless Chromium against the local runtime (real API
// handlers, DynamoDB Local, the ASL interpreter, the SES emulator). Data is arranged through the
// public/staff API; everything the brief asks of the console is done through its UI.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SLOW = 120_000;

const { api, tokens, newPage: newWatchedPage } = e2eSuite({ users: ['sam', 'casey'] });
let cohortName: string;

/** a fresh page in its own context (own sessionStorage), failing the test on any dialog */
async function newPage(): Promise<{ page: Page; problems: string[]; dialogs: string[] }> {
  const { page, problems } = await newWatchedPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return { page, problems, dialogs };
}

/** console errors other than the browser logging expected 4xx answers (optional config.json, 401/403/409 cases) */
const unexpected = (problems: string[]): string[] =>
  problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

/** the class attribute of the progress node for an ASL state */
const progressClass = async (page: Page, state: string): Promise<string> =>
  (await page.locator(`.flow-node[data-state="${state}"]`).getAttribute('class')) ?? '';

async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const violations = await runAxe(page);
  if (violations.length) throw new Error(`axe found violations on ${name}:\n${formatViolations(violations)}`);
}

beforeAll(async () => {
  cohortName = `E2E Morning ${uniqueName('C')}`;
  const cohort = await call(api, 'POST', '/api/staff/cohorts', tokens.sam, weekdaysCohort(cohortName));
  if (cohort.status !== 201) throw new Error(`cohort: HTTP ${cohort.status} ${JSON.stringify(cohort.body)}`);
}, SLOW);

test('the console bundle never builds HTML from strings (no innerHTML & co. in web/src/console)', async () => {
  const dir = join(ROOT, 'web', 'src', 'console');
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
    }
  };
  await walk(dir);
  for (const f of files) {
    const src = await readFile(f, 'utf8');
    expect({ file: f, hits: src.match(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|new Function|\beval\(/g) }).toEqual({
      file: f,
      hits: null,
    });
  }
});

test(
  '(a) a referral goes from intake to ENROLLED (waiting for its first session) entirely through the console',
  async () => {
    // Prepare: a covered referral (Aetna M123) lands in the evaluation queue
    const r = await createReferral(api, { lastName: uniqueName('Happy'), physician: true });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const { page, problems, dialogs } = await newPage();

    // Act: sign in, find it in the evaluation queue, open it
    await page.goto(consoleUrl(api, '#/queue/evaluation'));
    await signIn(page, 'casey');
    await page.locator('#queue-q').fill(r.reference);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = page.locator('table.queue tbody tr').filter({ hasText: r.reference });
    await row.waitFor();
    await shot(page, 'console-a-queue');
    await row.getByRole('link', { name: r.reference }).click();
    await decisionHeading(page).filter({ hasText: 'Evaluation' }).waitFor();
    await shot(page, 'console-a-evaluation-form');

    // evaluation: accept, detox required
    await fillEvaluation(page, { detoxRequired: true });
    await page.getByRole('button', { name: 'Record evaluation decision' }).click();
    await decisionHeading(page).filter({ hasText: 'Detox confirmation' }).waitFor({ timeout: 30_000 });
    await shot(page, 'console-a-detox-form');

    // detox: completed today, CIWA-Ar 6
    const detox = page.locator('form.decision[data-step="detox-confirmation"]');
    await detox.getByLabel('Yes, detox is complete').check();
    await detox.getByLabel(/^Completed on/).fill(today());
    await detox.getByLabel(/^Detox facility/).fill('Riverside Detox Unit');
    await detox.getByLabel(/^Withdrawal scale/).selectOption('CIWA-Ar');
    await detox.getByLabel(/^Score at discharge/).fill('6');
    await page.getByRole('button', { name: 'Record detox confirmation decision' }).click();
    await decisionHeading(page).filter({ hasText: 'Enrollment' }).waitFor({ timeout: 30_000 });

    // enrollment: the cohort made in beforeAll, with its seats shown
    const enroll = page.locator('form.decision[data-step="enrollment"]');
    const option = enroll.locator('.choice').filter({ hasText: cohortName });
    await option.filter({ hasText: /seats left/ }).waitFor();
    await shot(page, 'console-a-enrollment-form');
    await option.getByRole('radio').check();
    await page.getByRole('button', { name: 'Record enrollment decision' }).click();

    // Assess: ENROLLED in the UI, waiting at the first-session gate; the progress view shows the path; the schedule email went out
    await page.locator('.detail-head .badge.status').filter({ hasText: 'Enrolled' }).waitFor({ timeout: 30_000 });
    await decisionHeading(page).filter({ hasText: 'First session' }).waitFor({ timeout: 30_000 });
    expect(await progressClass(page, 'Evaluation')).toMatch(/\bdone\b/);
    expect(await progressClass(page, 'Detox')).toMatch(/\bdone\b/);
    expect(await progressClass(page, 'InsuranceReview')).toMatch(/\bskipped\b/);
    expect(await progressClass(page, 'FirstSession')).toMatch(/\bcurrent\b/);
    expect(await progressClass(page, 'Close')).toMatch(/\bahead\b/);
    // the progress view is generated from the one ASL file: every state's Comment is there
    const asl = JSON.parse(await readFile(join(ROOT, 'statemachines', 'referral.asl.json'), 'utf8')) as {
      States: Record<string, { Comment?: string }>;
    };
    const described = await page.locator('.flow-about dd').allTextContents();
    for (const s of Object.values(asl.States)) if (s.Comment) expect(described).toContain(s.Comment);
    await shot(page, 'console-a-enrolled');
    const detail = await call<{ status: string; cohortId?: string }>(api, 'GET', `/api/staff/referrals/${r.referralId}`, tokens.casey);
    expect(detail.body.status).toBe('ENROLLED');

    const scheduleMail = await poll('the schedule email with its calendar part', async () => {
      const store = (await (await fetch(new URL('/store', api.mailUrl))).json()) as {
        emails: Array<{ destination: { to: string[] }; attachments?: Array<{ contentType: string }> }>;
      };
      return store.emails.find(
        (e) =>
          e.destination.to.some((to) => to.includes(r.body.patient.email!)) &&
          (JSON.stringify(e).includes('BEGIN:VCALENDAR') || (e.attachments ?? []).some((a) => /calendar/i.test(a.contentType))),
      );
    });
    expect(scheduleMail).toBeDefined();

    // the consented physician was told (status only): the disclosures show on the detail view
    await poll('a DISCLOSURE event', async () => {
      const d = await call<{ events: Array<{ type: string }> }>(api, 'GET', `/api/staff/referrals/${r.referralId}`, tokens.casey);
      return d.body.events.some((e) => e.type === 'DISCLOSURE') ? true : undefined;
    });
    await page.reload();
    await page.locator('#disc-h').waitFor();
    expect(await page.locator('section[aria-labelledby="disc-h"] tbody tr').count()).toBeGreaterThan(0);
    await shot(page, 'console-a-enrolled-with-disclosures');
    expect(dialogs).toEqual([]);
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(b) stored XSS: a patient named <img src=x onerror=alert(1)> is shown as literal text',
  async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const lastName = uniqueName('Xss');
    const notes = '<script>alert("notes")</script><b onmouseover=alert(2)>bold</b>';
    const r = await createReferral(api, { firstName: evil, lastName, notes });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const { page, problems, dialogs } = await newPage();
    await page.goto(consoleUrl(api, '#/queue/evaluation'));
    await signIn(page, 'casey');

    // queue: search by last name (in memory only: it never reaches the address bar)
    await page.locator('#queue-q').fill(lastName);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = page.locator('table.queue tbody tr').filter({ hasText: r.reference });
    await row.waitFor();
    const nameCell = await row.locator('td.name').textContent();
    expect(nameCell).toContain(evil);
    expect(page.url()).not.toContain(lastName);
    await shot(page, 'console-b-xss-queue');

    // detail: name and notes as text; no element was made from them
    await row.getByRole('link', { name: r.reference }).click();
    await page.locator('.patient-name').waitFor();
    expect(await page.locator('.patient-name').textContent()).toBe(`${evil} ${lastName}`);
    expect(await page.locator('.notes').textContent()).toBe(notes);
    expect(await page.locator('img[src="x"], main script, b[onmouseover]').count()).toBe(0);
    await shot(page, 'console-b-xss-detail');

    // nothing PHI in the URL or in storage; only the hash with the referral ID
    expect(new URL(page.url()).hash).toBe(`#/referral/${r.referralId}`);
    const stored = await page.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
    }));
    expect(stored.local).toBe('{}');
    for (const phi of [lastName, 'onerror', r.body.patient.email, r.body.patient.phone]) expect(stored.session).not.toContain(phi);
    expect(dialogs).toEqual([]);
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(c) two tabs decide the same step: the second one sees 409 "already decided" in place',
  async () => {
    const r = await createReferral(api, { lastName: uniqueName('Twice') });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const a = await newPage();
    const b = await newPage();
    for (const { page } of [a, b]) {
      await page.goto(consoleUrl(api, `#/referral/${r.referralId}`));
      await signIn(page, 'casey');
      await decisionHeading(page).filter({ hasText: 'Evaluation' }).waitFor();
      await fillEvaluation(page, { detoxRequired: false });
    }
    await a.page.getByRole('button', { name: 'Record evaluation decision' }).click();
    await a.page
      .locator('.outcome, #decision-h')
      .filter({ hasText: /recorded|Enrollment/ })
      .first()
      .waitFor();
    await b.page.getByRole('button', { name: 'Record evaluation decision' }).click();
    const summary = b.page.locator('.error-summary').filter({ hasText: 'Already decided' });
    await summary.waitFor();
    // it says who decided what, and where the referral is now
    await summary
      .filter({ hasText: 'Evaluation was decided by casey (staff)' })
      .filter({ hasText: 'Accepted into IOP (no detox needed).' })
      .filter({ hasText: 'now at Enrollment' })
      .waitFor();
    await shot(b.page, 'console-c-409');
    await summary.getByRole('button', { name: 'Reload referral' }).click();
    await decisionHeading(b.page).filter({ hasText: 'Enrollment' }).waitFor({ timeout: 30_000 });
    expect(a.dialogs.concat(b.dialogs)).toEqual([]);
    expect(unexpected(a.problems.concat(b.problems))).toEqual([]);
  },
  SLOW,
);

test(
  '(d) axe-core finds no violations on sign-in, queue, detail, each decision form, dashboard and cohorts',
  async () => {
    // Prepare: one referral at each human gate
    const review = await createReferral(api, {
      lastName: uniqueName('Review'),
      insurance: { type: 'commercial', payer: 'Aetna', memberId: 'REVIEW-1' },
    });
    const evaluation = await createReferral(api, { lastName: uniqueName('Eval'), insurance: { type: 'self-pay' }, selfHarm: true });
    const detox = await createReferral(api, { lastName: uniqueName('Detox') });
    const enrollment = await createReferral(api, { lastName: uniqueName('Enroll') });
    await waitForStatus(api, tokens.casey, review.referralId, 'INSURANCE_REVIEW');
    await waitForStatus(api, tokens.casey, evaluation.referralId, 'EVALUATION');
    const evalBody = (detoxRequired: boolean) => ({
      dimensions: { d1: 1, d2: 0, d3: 2, d4: 1, d5: 2, d6: 1 },
      recommendedLevel: '2.1',
      detoxRequired,
      decision: 'accept',
    });
    for (const [r, needsDetox] of [
      [detox, true],
      [enrollment, false],
    ] as const) {
      await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
      const res = await call(api, 'POST', `/api/staff/referrals/${r.referralId}/steps/evaluation`, tokens.casey, evalBody(needsDetox));
      expect(res.status).toBe(200);
    }
    await waitForStatus(api, tokens.casey, detox.referralId, 'DETOX');
    await waitForStatus(api, tokens.casey, enrollment.referralId, 'ENROLLMENT');

    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api));
    await page.locator('#signin-user').waitFor();
    await expectNoAxeViolations(page, 'sign-in');
    await shot(page, 'console-d-signin');
    await signIn(page, 'sam');

    await page.goto(consoleUrl(api, '#/queue/insurance-review'));
    await page.locator('table.queue tbody tr, .empty:not([hidden])').first().waitFor();
    await expectNoAxeViolations(page, 'queue');
    await shot(page, 'console-d-queue');
    // the queue tabs work from the keyboard (ARIA tabs: arrows move, Enter opens)
    await page.locator('#tab-insurance-review').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-evaluation');
    await page.keyboard.press('Enter');
    await page.locator('#tab-evaluation[aria-selected="true"]').waitFor();
    expect(new URL(page.url()).hash).toBe('#/queue/evaluation');

    const forms: Array<[string, string, string]> = [
      [review.referralId, 'Insurance review', 'insurance-review'],
      [evaluation.referralId, 'Evaluation', 'evaluation'],
      [detox.referralId, 'Detox confirmation', 'detox'],
      [enrollment.referralId, 'Enrollment', 'enrollment'],
    ];
    for (const [id, heading, name] of forms) {
      await openReferral(page, api, id);
      await decisionHeading(page).filter({ hasText: heading }).waitFor();
      if (name === 'enrollment') await page.locator('.cohort-picker fieldset').waitFor();
      if (name === 'detox') await page.getByLabel('Yes, detox is complete').check(); // reveal the sub-form too
      await expectNoAxeViolations(page, `detail with the ${heading} form`);
      await shot(page, `console-d-detail-${name}`);
    }
    // the positive screen is marked with the 988 note on the evaluation referral
    await openReferral(page, api, evaluation.referralId);
    await page.locator('.crisis-screen').filter({ hasText: '988' }).waitFor();

    // the withdraw dialog is a real modal <dialog>
    await page.getByRole('button', { name: 'Withdraw…' }).click();
    await page.getByRole('dialog').waitFor();
    await expectNoAxeViolations(page, 'withdraw dialog');
    await shot(page, 'console-d-withdraw-dialog', { fullPage: false });
    await page.keyboard.press('Escape');

    await page.goto(consoleUrl(api, '#/dashboard'));
    await page.locator('.tiles').waitFor();
    await expectNoAxeViolations(page, 'dashboard');
    await shot(page, 'console-d-dashboard');

    await page.goto(consoleUrl(api, '#/cohorts'));
    await page.locator('.cohort').first().waitFor();
    await expectNoAxeViolations(page, 'cohorts');
    await shot(page, 'console-d-cohorts');

    await page.goto(consoleUrl(api, '#/phone'));
    await page.locator('.phone-form form').waitFor();
    await expectNoAxeViolations(page, 'phone intake');
    await shot(page, 'console-d-phone-intake');
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(e) casey does not see cohort creation, and gets the 403 message when forcing it',
  async () => {
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api, '#/cohorts'));
    await signIn(page, 'casey');
    await page.locator('#cohort-role-note').waitFor();
    expect(await page.locator('#cohort-create').isHidden()).toBe(true);
    await shot(page, 'console-e-cohorts-casey');

    // force the hidden form open and submit: the server's 403 decides, the UI says so
    await page.evaluate(() => document.getElementById('cohort-create')?.removeAttribute('hidden'));
    const form = page.locator('#cohort-create');
    await form.getByLabel(/^Name/).fill('Not allowed');
    await form.getByLabel('Morning', { exact: true }).check();
    await form.getByLabel(/^Start date/).fill(weekdaysCohort('x').startDate);
    await form.getByLabel('In person', { exact: true }).check();
    await form.getByLabel(/^Address/).fill('12 Harbor St, Boston');
    await form.getByRole('button', { name: 'Create cohort' }).click();
    await form.locator('.error-summary').filter({ hasText: 'Not allowed for your account' }).waitFor();
    await shot(page, 'console-e-cohorts-403');
    expect(
      (await call<{ items: Array<{ name: string }> }>(api, 'GET', '/api/staff/cohorts', tokens.casey)).body.items.some(
        (c) => c.name === 'Not allowed',
      ),
    ).toBe(false);

    // a user with no staff group gets a clear 403 message on the queues
    const other = await newPage();
    await other.page.goto(consoleUrl(api, '#/queue/evaluation'));
    await signIn(other.page, 'pat');
    await other.page.getByRole('heading', { name: 'Not allowed for your account' }).waitFor();
    await shot(other.page, 'console-e-pat-403');
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(f) a 401 sends the user to sign-in and back to the same view; sign-out clears the screen',
  async () => {
    const r = await createReferral(api, { lastName: uniqueName('Expired') });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api, '#/queue/evaluation'));
    await signIn(page, 'casey');
    // the next API call answers 401, as for an expired token
    await page.route(
      '**/api/staff/referrals/**',
      (route) => route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"Unauthorized","message":"expired"}' }),
      { times: 1 },
    );
    await page.goto(consoleUrl(api, `#/referral/${r.referralId}`));
    await page.locator('#signin-user').waitFor();
    await page.getByText('Your session has ended').waitFor();
    expect(await page.locator('.patient-name').count()).toBe(0);
    await signIn(page, 'casey');
    await page.locator('.patient-name').waitFor();
    expect(new URL(page.url()).hash).toBe(`#/referral/${r.referralId}`);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin-user').waitFor();
    expect(await page.locator('.patient-name').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(g) phone intake through the console creates a referral as a staff user',
  async () => {
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api, '#/phone'));
    await signIn(page, 'casey');
    await page.locator('.phone-form form').waitFor();
    // the intake form is the colleague's component: fill it by its labels (staff wording)
    const lastName = uniqueName('Phone');
    const form = page.locator('.phone-form');
    const radioIn = async (group: RegExp, option: string) =>
      form.getByRole('group', { name: group }).getByLabel(option, { exact: true }).check();
    await radioIn(/thoughts of hurting yourself/i, 'No');
    await radioIn(/tried to end your life/i, 'No');
    await form.getByLabel(/first name/i).fill('Phoebe');
    await form.getByLabel(/last name/i).fill(lastName);
    await form.getByLabel(/date of birth/i).fill('1985-03-02');
    await form.getByLabel(/phone number/i).fill('(555) 765-4321');
    await form.getByLabel(/^Alcohol/).check();
    await radioIn(/withdrawal symptoms right now/i, 'No');
    await radioIn(/^Detox/i, 'I’m not sure');
    await radioIn(/pay for treatment/i, 'No insurance: I will pay myself (self-pay)');
    await form.getByLabel(/full name/i).fill(`Phoebe ${lastName}`);
    await radioIn(/group times/i, 'Mornings');
    await form.getByRole('button', { name: /submit/i }).click();
    const created = page.locator('.phone-after a', { hasText: 'Open the referral' });
    await created.waitFor({ timeout: 30_000 });
    await shot(page, 'console-g-phone-intake-done');
    await created.click();
    await page.locator('.patient-name').filter({ hasText: lastName }).waitFor();
    await page
      .getByText(/Phone intake/)
      .first()
      .waitFor();
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);

test(
  '(h) a cohort that fills up while the form is open: 409 CohortFull shown in place, the full cohort disabled',
  async () => {
    // Prepare: a one-seat cohort and two referrals waiting for enrollment
    const tiny = `E2E One Seat ${uniqueName('C')}`;
    const created = await call(api, 'POST', '/api/staff/cohorts', tokens.sam, { ...weekdaysCohort(tiny), capacity: 1 });
    expect(created.status).toBe(201);
    const [first, second] = await Promise.all([
      createReferral(api, { lastName: uniqueName('SeatA') }),
      createReferral(api, { lastName: uniqueName('SeatB') }),
    ]);
    for (const r of [first, second]) {
      await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
      const res = await call(api, 'POST', `/api/staff/referrals/${r.referralId}/steps/evaluation`, tokens.casey, {
        dimensions: { d1: 0, d2: 0, d3: 1, d4: 1, d5: 1, d6: 0 },
        recommendedLevel: '2.1',
        detoxRequired: false,
        decision: 'accept',
      });
      expect(res.status).toBe(200);
      await waitForStatus(api, tokens.casey, r.referralId, 'ENROLLMENT');
    }
    const { page, problems } = await newPage();
    await page.goto(consoleUrl(api, `#/referral/${second.referralId}`));
    await signIn(page, 'casey');
    const option = page.locator('form.decision[data-step="enrollment"] .choice').filter({ hasText: tiny });
    await option.filter({ hasText: '1 of 1 seats left' }).waitFor();
    await option.getByRole('radio').check();

    // Act: someone else takes the last seat, then this form is sent
    const list = await call<{ items: Array<{ cohortId: string; name: string }> }>(api, 'GET', '/api/staff/cohorts', tokens.casey);
    const cohortId = list.body.items.find((c) => c.name === tiny)!.cohortId;
    expect((await call(api, 'POST', `/api/staff/referrals/${first.referralId}/steps/enrollment`, tokens.casey, { cohortId })).status).toBe(
      200,
    );
    await page.getByRole('button', { name: 'Record enrollment decision' }).click();

    // Assess: the answer in place, the cohort now full and disabled, the step still pending
    await page.locator('.error-summary').filter({ hasText: 'That cohort is full' }).waitFor();
    await option.filter({ hasText: 'Full — no seats left' }).waitFor();
    expect(await option.getByRole('radio').isDisabled()).toBe(true);
    await shot(page, 'console-h-cohort-full');
    expect((await call<{ status: string }>(api, 'GET', `/api/staff/referrals/${second.referralId}`, tokens.casey)).body.status).toBe(
      'ENROLLMENT',
    );
    expect(unexpected(problems)).toEqual([]);
  },
  SLOW,
);
