import { afterAll, expect, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import { nowMs, pinClock, resetClock } from '../../functions/lib/clock';
import { cohortBody } from '../support/fixtures';
import { formatViolations, runAxe } from './support/axe';
import { shot } from './support/screenshot';
import { e2eSuite } from './support/suite';
import { call, consoleUrl, decisionHeading, intakeBody, poll, signIn, uniqueName, waitForStatus } from './support/console-helpers';

// issue 14 items 1 and 2 in a real Chromium: the first-session decision (a missed session kept for
// the next one with its reminder, then attended → STARTED), the progress view drawn from the ASL,
// the waitlist offered at enrollment only when the person's track is full, the Waitlist tab longest
// waiting first with the seats free and who each is offered to, the cohort card's "seats free — N
// waiting", a no-show's seat taken from the waitlist, and the dashboard's new statuses. axe on
// every state; screenshots in test/artifacts/.
//
// The program's clock (functions/lib/clock.ts, in-process with the runtime's handlers) is pinned to
// a Monday at least three weeks ago, then moved to the days of its sessions, so attendance is
// recorded on the day it happened and every date is in the browser's past (the browser keeps the
// real clock: its sign-in tokens are real-time, and a date it is given may not be in its future).

const SLOW = 150_000;
const DAY = 86_400_000;
const TZ = 'America/New_York';

/** a Monday at least 21 days ago, 16:00 UTC (11:00 or 12:00 in New York: after the 9:00 sessions) */
const MONDAY_MS = (() => {
  const d = new Date(Date.now() - 21 * DAY);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  d.setUTCHours(16, 0, 0, 0);
  return d.getTime();
})();
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** noon UTC of the day `n` days after the Monday (never another day in New York) */
const dayAt = (n: number, hourUtc = 16) => MONDAY_MS + n * DAY + (hourUtc - 16) * 3_600_000;

const { api, tokens, newPage } = e2eSuite({ users: ['casey', 'sam'] });

afterAll(() => {
  resetClock();
});

/** the program's clock at `ms`, and a fresh browser page */
function at(ms: number): Promise<{ page: Page; problems: string[] }> {
  pinClock(ms);
  return newPage();
}

async function expectNoAxeViolations(page: Page, name: string): Promise<void> {
  const violations = await runAxe(page);
  if (violations.length) throw new Error(`axe found violations on ${name}:\n${formatViolations(violations)}`);
}

/** console errors other than the browser logging expected 4xx answers */
const unexpected = (problems: string[]): string[] =>
  problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

const progressClass = async (page: Page, state: string): Promise<string> =>
  (await page.locator(`.flow-node[data-state="${state}"]`).getAttribute('class')) ?? '';

const newCohort = async (body: Record<string, unknown>): Promise<{ cohortId: string; name: string }> => {
  const name = `${String(body.track ?? 'evening')} ${uniqueName('Group')}`;
  const res = await call<{ cohortId: string }>(api, 'POST', '/api/staff/cohorts', tokens.sam, cohortBody({ name, ...body }));
  if (res.status !== 201) throw new Error(`cohort: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return { cohortId: res.body.cohortId, name };
};

/** a referral (consent to tell the physician) through evaluation to the enrollment gate, by the API */
async function atEnrollment(track: 'morning' | 'evening', lastName: string): Promise<{ referralId: string; reference: string }> {
  const base = intakeBody({ lastName, physician: true });
  // signed a minute before the program's (pinned) now
  const body = { ...base, schedulePreference: track, consent: { ...base.consent, signedAt: new Date(nowMs() - 60_000).toISOString() } };
  const res = await call<{ referralId: string; reference: string }>(api, 'POST', '/api/referrals', undefined, body, {
    'idempotency-key': crypto.randomUUID(),
  });
  if (res.status !== 201) throw new Error(`intake: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  const { referralId } = res.body;
  await waitForStatus(api, tokens.casey, referralId, 'EVALUATION');
  const ev = await call(api, 'POST', `/api/staff/referrals/${referralId}/steps/evaluation`, tokens.casey, {
    dimensions: { d1: 1, d2: 1, d3: 2, d4: 1, d5: 2, d6: 1 },
    recommendedLevel: '2.1',
    detoxRequired: false,
    decision: 'accept',
  });
  expect(ev.status).toBe(200);
  await waitForStatus(api, tokens.casey, referralId, 'ENROLLMENT');
  return res.body;
}

const decide = (id: string, step: string, body: unknown) =>
  call<{ status: string }>(api, 'POST', `/api/staff/referrals/${id}/steps/${step}`, tokens.casey, body);

const sessionWords = (iso: string) =>
  new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone: TZ,
    timeZoneName: 'short',
  }).format(new Date(iso));

test(
  'the first session: a missed one kept for the next (a reminder to call), then attended → STARTED, the referrer told',
  async () => {
    // Prepare: an evening group starting next Monday (18:00 New York); the person enrolled in it
    pinClock(MONDAY_MS);
    const cohort = await newCohort({ startDate: ymd(dayAt(7)) });
    const r = await atEnrollment('evening', uniqueName('First'));
    expect((await decide(r.referralId, 'enrollment', { cohortId: cohort.cohortId })).status).toBe(200);
    const enrolled = await poll('the first-session gate', async () => {
      const d = await call<{ pendingStep?: string; firstSession?: { at: string } }>(
        api,
        'GET',
        `/api/staff/referrals/${r.referralId}`,
        tokens.casey,
      );
      return d.body.pendingStep === 'first-session' ? d.body : undefined;
    });
    const firstAt = enrolled.firstSession!.at;

    // Act: Tuesday after the first session (missed), the case worker opens the referral
    const { page, problems } = await at(dayAt(8));
    await page.goto(consoleUrl(api, `#/referral/${r.referralId}`));
    await signIn(page, 'casey');
    await decisionHeading(page).filter({ hasText: 'First session' }).waitFor();
    const form = page.locator('form.decision[data-step="first-session"]');

    // Assess: when and where the person was expected; the gate is the current state of the progress view
    await form
      .locator('.first-session-at')
      .filter({ hasText: `${sessionWords(firstAt)} in ${cohort.name}` })
      .waitFor();
    expect(await progressClass(page, 'FirstSession')).toMatch(/\bcurrent\b/);
    expect(await progressClass(page, 'Enrollment')).toMatch(/\bdone\b/);
    await expectNoAxeViolations(page, 'first-session form');
    await shot(page, 'console-first-session-form');

    // Act: not attended; keep the seat for the next session
    await form.getByLabel('No, the person did not come').check();
    await expect(form.getByText('2 of 2 retries left', { exact: false }).isVisible()).resolves.toBe(true);
    await form.getByLabel('Keep the seat: wait for the next session').check();
    await page.getByRole('button', { name: 'Record first session decision' }).click();

    // Assess: the same gate again, with the missed session counted and the reminder on the timeline
    await page.locator('.missed-note').filter({ hasText: 'The person missed one session already' }).waitFor({ timeout: 30_000 });
    await expect(page.locator('form.decision[data-step="first-session"]').textContent()).resolves.toContain('1 of 2 retries left');
    await page.locator('tr.ev-contact_reminder').filter({ hasText: 'call the person before the next session' }).waitFor();
    expect(await page.locator('.flow-node[data-state="FirstSession"] .flow-breach').textContent()).toContain('Missed 1×');
    await expect(page.locator('.missed-note').textContent()).resolves.toContain('No contact is logged since');
    await expectNoAxeViolations(page, 'first session after a miss');
    await shot(page, 'console-first-session-missed');

    // Act: the call is logged in the contact log (issue 11); the reminder says so
    expect(
      (
        await call(api, 'POST', `/api/staff/referrals/${r.referralId}/contacts`, tokens.casey, {
          channel: 'phone',
          outcome: 'reached',
          note: 'Bus pass arranged',
        })
      ).status,
    ).toBe(200);
    await page.reload();
    await page.locator('.missed-note').filter({ hasText: 'Contact logged since: Phone call, reached the person' }).waitFor();

    // Act: Wednesday evening, after the next session, the person came
    const wednesday = await at(dayAt(9, 23) + 30 * 60_000);
    await wednesday.page.goto(consoleUrl(api, `#/referral/${r.referralId}`));
    await signIn(wednesday.page, 'casey');
    const again = wednesday.page.locator('form.decision[data-step="first-session"]');
    await again.waitFor();
    await again.getByLabel('Yes, the person came').check();
    await again.getByLabel(/^Attended on/).fill(ymd(dayAt(9)));
    await wednesday.page.getByRole('button', { name: 'Record first session decision' }).click();

    // Assess: STARTED, closed in the progress view, the decision in words on the timeline, the referrer told
    await wednesday.page.locator('.detail-head .badge.status').filter({ hasText: 'Started' }).waitFor({ timeout: 30_000 });
    expect(await progressClass(wednesday.page, 'FirstSession')).toMatch(/\bdone\b/);
    expect(await progressClass(wednesday.page, 'Close')).toMatch(/\bfinal\b/);
    await wednesday.page.locator('tr.ev-step_decided').filter({ hasText: 'Attended the first session' }).waitFor();
    await poll('the started disclosure', async () => {
      const d = await call<{ events: Array<{ type: string; detail?: { notice?: string } }> }>(
        api,
        'GET',
        `/api/staff/referrals/${r.referralId}`,
        tokens.casey,
      );
      return d.body.events.some((e) => e.type === 'DISCLOSURE' && e.detail?.notice === 'started') ? true : undefined;
    });
    await wednesday.page.reload();
    await wednesday.page.locator('section[aria-labelledby="disc-h"] tbody tr').filter({ hasText: 'Started treatment' }).waitFor();
    await expectNoAxeViolations(wednesday.page, 'started');
    await shot(wednesday.page, 'console-first-session-started');
    expect(unexpected([...problems, ...wednesday.problems])).toEqual([]);
  },
  SLOW,
);

test(
  "the waitlist: offered only when the track is full, longest waiting first, seats free shown and offered, a no-show's seat taken",
  async () => {
    // Prepare: one morning group of one seat, meeting today (its 9:00 session is over: next Wednesday)
    pinClock(MONDAY_MS);
    const cohort = await newCohort({
      track: 'morning',
      startDate: ymd(MONDAY_MS),
      capacity: 1,
      sessions: [
        { weekday: 'MO', start: '09:00', minutes: 180 },
        { weekday: 'WE', start: '09:00', minutes: 180 },
        { weekday: 'FR', start: '09:00', minutes: 180 },
      ],
    });
    const a = await atEnrollment('morning', uniqueName('Seated'));
    const b = await atEnrollment('morning', uniqueName('Waiting'));
    const c = await atEnrollment('morning', uniqueName('Later'));

    // Act: C's enrollment form while the group still has its seat
    const { page, problems } = await at(MONDAY_MS + 60_000);
    await page.goto(consoleUrl(api, `#/referral/${c.referralId}`));
    await signIn(page, 'casey');
    const enrolC = page.locator('form.decision[data-step="enrollment"]');
    const waitlistC = enrolC.locator('.choice').filter({ hasText: 'Put on the waitlist' });
    await waitlistC.waitFor();

    // Assess: the waitlist is not offered while a seat is open in the track
    await expect(waitlistC.getByRole('radio').isDisabled()).resolves.toBe(true);
    await expect(waitlistC.textContent()).resolves.toContain('Not while a cohort of the morning track has seats');
    await shot(page, 'console-waitlist-not-while-seats');

    // Act: A takes the seat (API); B is waitlisted in the console
    expect((await decide(a.referralId, 'enrollment', { cohortId: cohort.cohortId })).status).toBe(200);
    await waitForStatus(api, tokens.casey, a.referralId, 'ENROLLED');
    await page.goto(consoleUrl(api, `#/referral/${b.referralId}`));
    const enrolB = page.locator('form.decision[data-step="enrollment"]');
    const waitlistB = enrolB.locator('.choice').filter({ hasText: 'Put on the waitlist' });
    await waitlistB.waitFor();
    await expect(enrolB.locator('.choice').filter({ hasText: cohort.name }).getByRole('radio').isDisabled()).resolves.toBe(true);
    await expect(waitlistB.textContent()).resolves.toContain('Every cohort of the morning track with sessions left is full');
    await expectNoAxeViolations(page, 'enrollment with the waitlist open');
    await shot(page, 'console-waitlist-offered');
    await waitlistB.getByRole('radio').check();
    await enrolB.getByLabel(/^Note/).fill('Morning group full');
    await page.getByRole('button', { name: 'Record enrollment decision' }).click();

    // Assess: waitlisted, the waitlist decision open with since when
    await page.locator('.detail-head .badge.status').filter({ hasText: 'Waitlisted' }).waitFor({ timeout: 30_000 });
    await decisionHeading(page).filter({ hasText: 'Waitlist' }).waitFor();
    await page.locator('.waitlist-note').filter({ hasText: 'morning track' }).waitFor();
    expect(await progressClass(page, 'Waitlist')).toMatch(/\bcurrent\b/);
    await expectNoAxeViolations(page, 'waitlisted');
    await shot(page, 'console-waitlisted');

    // Act: C waitlisted a minute later (API); the Waitlist tab
    pinClock(MONDAY_MS + 3 * 60_000);
    expect((await decide(c.referralId, 'enrollment', { waitlist: true })).status).toBe(200);
    await waitForStatus(api, tokens.casey, c.referralId, 'WAITLISTED');
    await page.goto(consoleUrl(api, '#/queue/waitlist'));
    await page.locator('#tab-waitlist[aria-selected="true"]').waitFor();
    const rows = page.locator('table.queue tbody tr');
    await rows.filter({ hasText: c.reference }).waitFor();

    // Assess: longest waiting first, no morning seat free (an evening group's seats are offered to nobody here)
    await expect(rows.locator('td:nth-child(2)').allTextContents()).resolves.toEqual([b.reference, c.reference]);
    await expect(page.locator('table.queue caption').textContent()).resolves.toContain('longest waiting first');
    await page.locator('.seats-free:not(:has-text("Looking"))').waitFor();
    await expect(page.locator('.seats-free').textContent()).resolves.not.toContain(cohort.name);
    await expect(rows.locator('td:nth-child(6)').allTextContents()).resolves.toEqual(['None free', 'None free']);
    await expect(rows.nth(0).locator('td:nth-child(4)').textContent()).resolves.toBe('Morning');
    await expectNoAxeViolations(page, 'waitlist, no seat free');
    await shot(page, 'console-waitlist-queue-full');

    // Act: A misses Wednesday's session and is closed as a no-show (API): the seat comes back
    pinClock(dayAt(2));
    expect((await decide(a.referralId, 'first-session', { attended: false, next: 'close' })).status).toBe(200);
    await waitForStatus(api, tokens.casey, a.referralId, 'NO_SHOW');
    const wednesday = await at(dayAt(2) + 60_000);
    await wednesday.page.goto(consoleUrl(api, '#/cohorts'));
    await signIn(wednesday.page, 'casey');

    // Assess: the cohort card says a seat is free and two wait; the waitlist offers it to B
    await wednesday.page
      .locator('.cohort')
      .filter({ hasText: cohort.name })
      .locator('.waiting')
      .filter({ hasText: '1 seat free — 2 waiting.' })
      .waitFor();
    await expectNoAxeViolations(wednesday.page, 'cohorts with people waiting');
    await shot(wednesday.page, 'console-cohort-seat-free-waiting');
    await wednesday.page.getByRole('link', { name: 'Offer the seats on the waitlist' }).click();
    await wednesday.page.locator('#tab-waitlist[aria-selected="true"]').waitFor();
    const offered = wednesday.page.locator('table.queue tbody tr');
    await offered.filter({ hasText: c.reference }).waitFor();
    await wednesday.page
      .locator('.seats-free')
      .filter({ hasText: `${cohort.name} (morning, 1 seat)` })
      .waitFor();
    await expect(offered.filter({ hasText: b.reference }).locator('.offer').textContent()).resolves.toBe(`Offer a seat in ${cohort.name}`);
    await expect(offered.filter({ hasText: c.reference }).textContent()).resolves.toContain('None free');
    await expectNoAxeViolations(wednesday.page, 'waitlist with a seat free');
    await shot(wednesday.page, 'console-waitlist-seat-offered');

    // Act: B takes the seat
    await offered.filter({ hasText: b.reference }).getByRole('link', { name: b.reference }).click();
    const take = wednesday.page.locator('form.decision[data-step="waitlist"]');
    await take.locator('.choice').filter({ hasText: cohort.name }).getByRole('radio').check();
    await wednesday.page.getByRole('button', { name: 'Record waitlist decision' }).click();

    // Assess: enrolled from the waitlist, waiting for Friday's session
    await decisionHeading(wednesday.page).filter({ hasText: 'First session' }).waitFor({ timeout: 30_000 });
    await wednesday.page.locator('.detail-head .badge.status').filter({ hasText: 'Enrolled' }).waitFor();
    expect(await progressClass(wednesday.page, 'Waitlist')).toMatch(/\bdone\b/);
    expect(await progressClass(wednesday.page, 'FirstSession')).toMatch(/\bcurrent\b/);
    await shot(wednesday.page, 'console-waitlist-enrolled');

    // Assess: the dashboard counts the new statuses, open and closed
    await wednesday.page.goto(consoleUrl(api, '#/dashboard'));
    const open = wednesday.page.locator('table.by-status').filter({ has: wednesday.page.locator('caption', { hasText: 'Open' }) });
    const closed = wednesday.page.locator('table.by-status').filter({ has: wednesday.page.locator('caption', { hasText: 'Closed' }) });
    await open.locator('tr').filter({ hasText: 'Waitlisted' }).locator('td.num').filter({ hasText: '1' }).waitFor();
    await expect(open.locator('tr').filter({ hasText: 'Enrolled' }).locator('a').getAttribute('href')).resolves.toBe(
      '#/queue/first-session',
    );
    await expect(closed.locator('tr').filter({ hasText: 'No-show' }).locator('td.num').textContent()).resolves.not.toBe('0');
    await expect(closed.locator('tr').filter({ hasText: 'Started' }).count()).resolves.toBe(1);
    await expectNoAxeViolations(wednesday.page, 'dashboard');
    expect(unexpected([...problems, ...wednesday.problems])).toEqual([]);
  },
  SLOW,
);
