import { randomUUID } from 'node:crypto';
import type { CohortView, ReferralDetail } from '../../functions/lib/schemas/views';
import { cohortBody, EVAL_ACCEPT } from './fixtures';

// a small HTTP client over the local runtime for integration and e2e tests

export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
  attachments: Array<{ contentType: string; filename?: string; content: string }>;
  at: number;
}

export class TestApi {
  private tokens = new Map<string, string>();

  constructor(
    readonly appUrl: string,
    readonly mailUrl: string,
  ) {}

  async token(username: string): Promise<string> {
    const cached = this.tokens.get(username);
    if (cached) return cached;
    const res = await fetch(`${this.appUrl}/local/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: process.env.LOCAL_DEMO_PASSWORD ?? 'demo' }),
    });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`);
    const { accessToken } = (await res.json()) as { accessToken: string };
    this.tokens.set(username, accessToken);
    return accessToken;
  }

  /** a request; `as` signs it in as a demo user, `token` sends a bearer token as it is */
  async call(
    method: string,
    path: string,
    opts: { body?: unknown; as?: string; token?: string; headers?: Record<string, string>; raw?: string } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
    const token = opts.token ?? (opts.as ? await this.token(opts.as) : undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.appUrl}${path}`, {
      method,
      headers,
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  intake(body: unknown, key: string = randomUUID()) {
    return this.call('POST', '/api/referrals', { body, headers: { 'idempotency-key': key } });
  }

  async referral(id: string, as = 'casey'): Promise<ReferralDetail> {
    const res = await this.call('GET', `/api/staff/referrals/${id}`, { as });
    if (res.status !== 200) throw new Error(`GET referral ${id}: ${res.status}`);
    return res.json as ReferralDetail;
  }

  /** polls until the referral satisfies `ok` (workflow steps are asynchronous) */
  async waitFor(id: string, ok: (r: ReferralDetail) => boolean, timeoutMs = 15_000): Promise<ReferralDetail> {
    const until = Date.now() + timeoutMs;
    let last: ReferralDetail | undefined;
    while (Date.now() < until) {
      last = await this.referral(id);
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting on referral ${id}: status ${last?.status}, pendingStep ${last?.pendingStep}`);
  }

  waitForGate(id: string, step: string, timeoutMs?: number) {
    return this.waitFor(id, (r) => r.pendingStep === step, timeoutMs);
  }

  decide(id: string, step: string, body: unknown, as = 'casey') {
    return this.call('POST', `/api/staff/referrals/${id}/steps/${step}`, { body, as });
  }

  /** a new cohort (cohortBody with `o` over it), made by the program administrator */
  async newCohort(o: Record<string, unknown> = {}): Promise<CohortView> {
    const res = await this.call('POST', '/api/staff/cohorts', { body: cohortBody(o), as: 'sam' });
    if (res.status !== 201) throw new Error(`POST cohort: ${res.status} ${JSON.stringify(res.json?.fields ?? null)}`);
    return res.json as CohortView;
  }

  /** a cohort as the staff's cohort list shows it now (seats, roster, waitlist) */
  async cohort(cohortId: string): Promise<CohortView> {
    const res = await this.call('GET', '/api/staff/cohorts', { as: 'casey' });
    const found = (res.json?.items as CohortView[] | undefined)?.find((c) => c.cohortId === cohortId);
    if (!found) throw new Error(`GET cohorts: ${res.status}, ${cohortId} not listed`);
    return found;
  }

  /** intake → evaluation accepted (no detox) → the enrollment gate open */
  async atEnrollment(body: unknown): Promise<{ referralId: string; reference: string }> {
    const created = await this.intake(body);
    if (created.status !== 201) throw new Error(`intake: ${created.status}`);
    const { referralId, reference } = created.json as { referralId: string; reference: string };
    await this.waitForGate(referralId, 'evaluation');
    const evaluated = await this.decide(referralId, 'evaluation', EVAL_ACCEPT);
    if (evaluated.status !== 200) throw new Error(`evaluation of ${referralId}: ${evaluated.status}`);
    await this.waitForGate(referralId, 'enrollment');
    return { referralId, reference };
  }

  async emails(): Promise<StoredEmail[]> {
    const res = await fetch(`${this.mailUrl}/store`);
    return ((await res.json()) as { emails: StoredEmail[] }).emails;
  }

  async emailsTo(address: string): Promise<StoredEmail[]> {
    return (await this.emails()).filter((e) => e.destination.to.some((t) => t.includes(address)));
  }

  /** polls the mailbox until `n` emails to `address` match */
  async waitForEmails(
    address: string,
    n: number,
    match: (e: StoredEmail) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<StoredEmail[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.emailsTo(address)).filter(match);
      if (found.length >= n || Date.now() > until) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
