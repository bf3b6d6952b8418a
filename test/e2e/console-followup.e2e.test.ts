import { expect, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import { formatViolations, runAxe } from './support/axe';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { call, consoleUrl, createReferral, signIn, waitForStatus } from './support/console-helpers';

// issue 11 items 5-8 in a real Chromium: the staff email's link to a referral, the urgent
// first-contact badge, the caseload (assign, My referrals, takeover, a race), the contact log and a
// consent revocation, each state axe-checked and kept as a screenshot. No console error of any
// kind is allowed (the console no longer asks for a config.json that is not there).

const SLOW = 120_000;
const PROGRAM_EMAIL = 'intake-team@iop.example';

const e2e = e2eSuite({ users: ['casey'] });
const { api, tokens, newPage } = e2e;

async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const violations = await runAxe(page);
  if (violations.length) throw new Error(`axe found violations on ${name}:\n${formatViolations(violations)}`);
}

const followUp = (page: Page) => page.locator('section.follow-up');

/** opens a referral signed out, signs in as `user`, and waits for the referral */
async function openAs(page: Page, referralId: string, user: string): Promise<void> {
  await page.goto(consoleUrl(api, `#/referral/${referralId}`));
  await signIn(page, user);
  await page.locator('.detail-head').waitFor();
}
const timelineRow = (page: Page, what: string) => page.locator('table.timeline tr').filter({ has: page.locator('td', { hasText: what }) });

test(
  'an urgent referral: the program email links to it by id, the link opens it after sign-in, and its timer says first contact within 4 h',
  async () => {
    // Prepare
    const r = await createReferral(api, { selfHarm: true, insurance: { type: 'self-pay' } });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const [alert] = await e2e.client.waitForEmails(PROGRAM_EMAIL, 1, (m) => m.subject === `Urgent referral ${r.reference}`);
    const link = /Open the referral in the staff console: (\S+)/.exec(alert!.body.text ?? '')?.[1];
    const { page, problems } = await newPage();

    // Act: a case worker follows the link from the email, signed out
    await page.goto(link!);
    await signIn(page, 'casey');
    await page.locator('.detail-head').filter({ hasText: r.reference }).waitFor();

    // Assess
    expect(link).toBe(`${api.appUrl}/console/#/referral/${r.referralId}`);
    expect(link).not.toContain(r.body.patient.lastName);
    expect(new URL(page.url()).hash).toBe(`#/referral/${r.referralId}`);
    await expect(page.locator('.detail-head .badge.sla').textContent()).resolves.toMatch(/^● First contact: on time · due in [34] h$/);
    await expectNoAxeViolations(page, 'an urgent referral opened from its email');
    await shot(page, 'console-followup-urgent-from-email');
    expect(problems).toEqual([]);
  },
  SLOW,
);

test(
  'the caseload: assign to me puts it in My referrals; a colleague takes it over naming the owner; a contact attempt joins the timeline',
  async () => {
    // Prepare
    const r = await createReferral(api);
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const c = await newPage();
    await openAs(c.page, r.referralId, 'casey');
    await followUp(c.page).filter({ hasText: 'Nobody follows this referral up yet.' }).waitFor();
    await expectNoAxeViolations(c.page, 'follow-up, unassigned');
    await shot(c.page, 'console-followup-unassigned');

    // Act 1: casey assigns it to herself and opens My referrals
    await followUp(c.page).getByRole('button', { name: 'Assign to me' }).click();
    await followUp(c.page).filter({ hasText: 'Assigned to you' }).waitFor();
    await c.page.goto(consoleUrl(api, '#/queue/mine'));
    const row = c.page.locator('table.queue tbody tr').filter({ hasText: r.reference });
    await row.waitFor();

    // Assess 1
    await expect(row.locator('td').nth(6).textContent()).resolves.toBe('You');
    // the tab counts load on their own: wait for them
    await c.page
      .locator('#tab-mine')
      .filter({ hasText: /^My referrals\s*1 assigned to you/ })
      .waitFor();
    await expectNoAxeViolations(c.page, 'My referrals');
    await shot(c.page, 'console-followup-my-referrals');

    // Act 2: sam opens it, is told casey has it, and takes it over explicitly
    const s = await newPage();
    await openAs(s.page, r.referralId, 'sam');
    await followUp(s.page).filter({ hasText: 'Assigned to casey' }).waitFor();
    await followUp(s.page).getByRole('button', { name: 'Take over from casey' }).click();
    await followUp(s.page).filter({ hasText: 'Assigned to you' }).waitFor();

    // Act 3: sam logs a phone call
    const form = s.page.locator('form.contact-form');
    await form.getByLabel('Phone call').check();
    await form.getByLabel(/^Outcome/).selectOption('left-message');
    await form.getByLabel(/^Note/).fill('Voicemail; will try again after 5 pm');
    await form.getByRole('button', { name: 'Log the attempt' }).click();
    await s.page.locator('.last-contact').filter({ hasText: 'Phone call, left a message' }).waitFor();

    // Assess 2: the timeline in words, casey's list is empty
    await timelineRow(s.page, 'Contact attempt')
      .filter({ hasText: 'Phone call: left a message' })
      .filter({ hasText: 'Note: Voicemail; will try again after 5 pm' })
      .waitFor();
    await timelineRow(s.page, 'Assignment').filter({ hasText: 'Assigned to casey' }).filter({ hasText: 'casey (staff)' }).waitFor();
    await timelineRow(s.page, 'Assignment')
      .filter({ hasText: 'Reassigned to sam (was casey)' })
      .filter({ hasText: 'sam (staff)' })
      .waitFor();
    await expectNoAxeViolations(s.page, 'follow-up with a contact logged');
    await shot(s.page, 'console-followup-taken-over-contact-logged');
    await c.page.goto(consoleUrl(api, '#/queue/insurance-review'));
    await c.page.goto(consoleUrl(api, '#/queue/mine'));
    await c.page.locator('.tabpanel .empty').filter({ hasText: 'No open referral is assigned to you.' }).waitFor();
    await shot(c.page, 'console-followup-my-referrals-empty');
    expect(c.problems.concat(s.problems)).toEqual([]);
  },
  SLOW,
);

test(
  'two case workers take the same referral at once: the second is told who has it, nothing is overwritten',
  async () => {
    // Prepare: both have the referral open, unassigned
    const r = await createReferral(api);
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const c = await newPage();
    const s = await newPage();
    for (const [p, user] of [
      [c.page, 'casey'],
      [s.page, 'sam'],
    ] as const) {
      await openAs(p, r.referralId, user);
      await followUp(p).filter({ hasText: 'Nobody follows this referral up yet.' }).waitFor();
    }

    // Act
    await followUp(c.page).getByRole('button', { name: 'Assign to me' }).click();
    await followUp(c.page).filter({ hasText: 'Assigned to you' }).waitFor();
    await followUp(s.page).getByRole('button', { name: 'Assign to me' }).click();

    // Assess
    const told = followUp(s.page).locator('.error-summary').filter({ hasText: 'This referral is now assigned to casey' });
    await told.waitFor();
    await expectNoAxeViolations(s.page, 'assignment changed meanwhile');
    await shot(s.page, 'console-followup-assignment-race');
    const detail = await call<{ assignment?: { username: string } }>(api, 'GET', `/api/staff/referrals/${r.referralId}`, tokens.casey);
    expect(detail.body.assignment?.username).toBe('casey');
    // the browser logs the 409 it was answered (the answer under test); nothing else
    expect(c.problems.concat(s.problems).filter((p) => !/status of 409 \(Conflict\)/.test(p))).toEqual([]);
  },
  SLOW,
);

test(
  'consent revocation: how and when it was received, a second confirming step, then no email to the physician and the timeline says so',
  async () => {
    // Prepare: a consenting physician has had the "received" update
    const r = await createReferral(api, { physician: true });
    await waitForStatus(api, tokens.casey, r.referralId, 'EVALUATION');
    const doctor = r.body.referringPhysician!.email;
    expect(await e2e.client.waitForEmails(doctor, 1)).toHaveLength(1);
    const { page, problems } = await newPage();
    await openAs(page, r.referralId, 'casey');
    const panel = page.locator('section.consent-panel');
    await panel.filter({ hasText: 'Given at intake: status updates to Dr. Ada Rivera' }).waitFor();
    await expectNoAxeViolations(page, 'consent as given');
    await shot(page, 'console-consent-given');

    // Act: the patient called to withdraw consent
    await panel.getByLabel('Phone', { exact: true }).check();
    await panel.getByLabel(/^Note/).fill('Called the front desk at 10:15');
    await panel.getByRole('button', { name: 'Record the revocation' }).click();
    const yes = panel.getByRole('button', { name: 'Yes, stop all physician emails' });
    await yes.waitFor();
    await expect(panel.locator('.confirm').textContent()).resolves.toContain(
      'From now on no email about this referral goes to Dr. Ada Rivera.',
    );
    await expectNoAxeViolations(page, 'revocation confirm step');
    await shot(page, 'console-consent-confirm');
    await yes.click();
    await panel
      .filter({ hasText: 'Consent revoked.' })
      .filter({ hasText: 'Received by phone' })
      .filter({ hasText: 'recorded by casey' })
      .waitFor();

    // ...and the referral moves on: the acceptance would have told the physician
    expect(
      (
        await call(api, 'POST', `/api/staff/referrals/${r.referralId}/steps/evaluation`, tokens.casey, {
          dimensions: { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 },
          recommendedLevel: '2.1',
          detoxRequired: false,
          decision: 'accept',
        })
      ).status,
    ).toBe(200);
    await waitForStatus(api, tokens.casey, r.referralId, 'ENROLLMENT');
    await page.reload();
    await page.locator('section.consent-panel').filter({ hasText: 'Consent revoked.' }).waitFor();

    // Assess: one email ever reached the physician (before the revocation); the timeline and the intake say so
    expect(await e2e.client.emailsTo(doctor)).toHaveLength(1);
    await timelineRow(page, 'Consent revoked')
      .filter({ hasText: 'Received by phone' })
      .filter({ hasText: 'No email goes to the physician from now on' })
      .filter({ hasText: 'Note: Called the front desk at 10:15' })
      .waitFor();
    await expect(
      page
        .locator('.intake dd')
        .filter({ hasText: /^Revoked / })
        .count(),
    ).resolves.toBe(1);
    await expect(page.locator('table.timeline').first().textContent()).resolves.not.toMatch(/accepted”.*physician/);
    await expectNoAxeViolations(page, 'consent revoked');
    await shot(page, 'console-consent-revoked');
    expect(problems).toEqual([]);
  },
  SLOW,
);
