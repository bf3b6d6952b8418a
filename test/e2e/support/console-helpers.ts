import type { Page } from 'playwright-core';
import type { Intake } from '../../../functions/lib/schemas/intake';
import { TestApi } from '../../support/api';
import { cohortBody, intakeBody as baseIntakeBody } from '../../support/fixtures';

// helpers for the console e2e tests: the staff/public API (to arrange data) and console page steps.
// Workflow steps are asynchronous, so everything that waits polls with a deadline (no sleeps).

export interface Api {
  appUrl: string;
  mailUrl: string;
}

export const url = (base: string, path: string): string => new URL(path, base.endsWith('/') ? base : `${base}/`).toString();

const clients = new WeakMap<Api, TestApi>();
/** the shared test client (test/support/api.ts) for this runtime */
const client = (api: Api): TestApi => {
  let c = clients.get(api);
  if (!c) clients.set(api, (c = new TestApi(api.appUrl, api.mailUrl)));
  return c;
};

export const login = (api: Api, username: string): Promise<string> => client(api).token(username);

export async function call<T = unknown>(
  api: Api,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await client(api).call(method, path, { body, token, headers });
  return { status: res.status, body: (res.json ?? null) as T };
}

let serial = 0;
/** a unique, letters-only last name so a search finds exactly one referral */
export const uniqueName = (prefix: string): string => {
  serial += 1;
  const letters = (Date.now() * 100 + serial).toString(26).replace(/[0-9]/g, (d) => 'qrstuvwxyz'[Number(d)]!);
  return `${prefix}${letters}`;
};

export interface IntakeOptions {
  firstName?: string;
  lastName?: string;
  email?: string;
  insurance?: Record<string, string>;
  notes?: string;
  selfHarm?: boolean;
  /** a referring physician the person consents to share status with (DISCLOSURE events) */
  physician?: boolean;
}

/** a valid docs/ARCHITECTURE.md §3 intake body (the shared fixture, with this suite's values) */
export const intakeBody = (o: IntakeOptions = {}) =>
  baseIntakeBody({
    lastName: o.lastName ?? uniqueName('Tester'),
    patient: {
      firstName: o.firstName ?? 'Alex',
      dateOfBirth: '1990-05-17',
      email: o.email ?? `${uniqueName('p').toLowerCase()}@example.org`,
      postalCode: '10001',
    },
    substances: [{ substance: 'alcohol', lastUse: '2025-01-10' }],
    withdrawal: { currentSymptoms: false, detoxStatus: 'unknown' },
    screening: { selfHarmThoughtsPastMonth: o.selfHarm ?? false, suicideAttemptPastThreeMonths: false },
    insurance: (o.insurance ?? { type: 'commercial', payer: 'Aetna', memberId: 'M123' }) as Intake['insurance'],
    referringPhysician: o.physician
      ? { name: 'Dr. Ada Rivera', npi: '1234567893', email: 'ada.rivera@clinic.example', practice: 'Eastside Family Medicine' }
      : undefined,
    consent: { shareWithReferrer: !!o.physician, signature: 'Alex Tester' },
    schedulePreference: 'morning',
    notes: o.notes,
  });

export interface Created {
  referralId: string;
  reference: string;
  body: ReturnType<typeof intakeBody>;
}

export async function createReferral(api: Api, o: IntakeOptions = {}): Promise<Created> {
  const body = intakeBody(o);
  const res = await call<{ referralId: string; reference: string }>(api, 'POST', '/api/referrals', undefined, body, {
    'idempotency-key': crypto.randomUUID(),
  });
  if (res.status !== 201) throw new Error(`intake: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, body };
}

export async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export interface Detail {
  status: string;
  pendingStep?: string;
  displayName: string;
}

/** polls GET /api/staff/referrals/{id} until its status is `status` */
export const waitForStatus = (api: Api, token: string, id: string, status: string, timeoutMs = 30_000): Promise<Detail> =>
  poll(
    `referral ${id} to reach ${status}`,
    async () => {
      const r = await call<Detail>(api, 'GET', `/api/staff/referrals/${id}`, token);
      return r.status === 200 && r.body.status === status && (FINAL.includes(status) || r.body.pendingStep) ? r.body : undefined;
    },
    timeoutMs,
  );

/** statuses without a pending step (ENROLLED and WAITLISTED are gates: waiting for one waits for its step) */
const FINAL = ['STARTED', 'NO_SHOW', 'REFERRED_OUT', 'NOT_COVERED', 'WITHDRAWN', 'EXPIRED', 'NEEDS_ATTENTION'];

/** a morning cohort starting in a week, Mon/Wed/Fri 09:00 × 3 h, 8 weeks */
export const weekdaysCohort = (name: string) =>
  cohortBody({
    name,
    track: 'morning',
    startDate: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10),
    sessions: [
      { weekday: 'MO', start: '09:00', minutes: 180 },
      { weekday: 'WE', start: '09:00', minutes: 180 },
      { weekday: 'FR', start: '09:00', minutes: 180 },
    ],
  });

// ---- console page steps ----------------------------------------------------------------------

export const consoleUrl = (api: Api, hash = ''): string => `${url(api.appUrl, '/console/')}${hash}`;

/** signs in through the console's form; resolves once the signed-in shell shows */
export async function signIn(page: Page, username: string): Promise<void> {
  await page.locator('#signin-user').fill(username);
  await page.locator('#signin-pass').fill('demo');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#user').filter({ hasText: username }).waitFor();
}

/** opens a referral's detail view and waits until it has rendered */
export async function openReferral(page: Page, api: Api, id: string): Promise<void> {
  await page.goto(consoleUrl(api, `#/referral/${id}`));
  await page.locator('.detail-head').waitFor();
}

/** the decision heading of the detail view, e.g. "Decision: Evaluation" */
export const decisionHeading = (page: Page) => page.locator('#decision-h');

/** fills the evaluation form: all six dimensions, level, decision, then detox (asked of an acceptance only) */
export async function fillEvaluation(page: Page, o: { detoxRequired: boolean; decision?: 'accept' | 'refer-out' }): Promise<void> {
  const form = page.locator('form.decision[data-step="evaluation"]');
  for (let i = 1; i <= 6; i++) await form.getByLabel(new RegExp(`^Dimension ${i}:`)).selectOption(String(i % 3));
  await form.getByLabel(/^Recommended level of care/).selectOption('2.1');
  await form.getByLabel(o.decision === 'refer-out' ? 'Refer out' : 'Accept into IOP').check();
  if (o.decision !== 'refer-out') await form.getByLabel(o.detoxRequired ? 'Yes, detox first' : 'No', { exact: true }).check();
}

export const today = (): string => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
