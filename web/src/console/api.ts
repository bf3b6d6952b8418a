import type {
  CohortView,
  Dashboard,
  EligibilityResult,
  ErrorBody,
  ReferralDetail,
  ReferralSummary,
  Status,
} from '../../../functions/lib/schemas/views';
import type { Step } from '../../../functions/lib/schemas/decisions';
import { requestJson } from '../shared/api';
import type { AuthProvider } from './auth';

// the staff API (docs/ARCHITECTURE.md §3) with the Bearer token; a 401 drops the session so the shell shows
// sign-in and comes back to the same view. Error bodies are shown as the server wrote them (the
// server never echoes PHI in errors); nothing here is logged.

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ErrorBody };

let auth: AuthProvider | null = null;
export const useAuth = (a: AuthProvider): void => {
  auth = a;
};

const UNAUTHORIZED: ErrorBody = { error: 'Unauthorized', message: 'Your session has ended. Sign in again to continue.' };

export async function call<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const session = auth?.session();
  if (!session) return { ok: false, status: 401, error: UNAUTHORIZED };
  const res = await requestJson<T>(method, path, body, { token: session.accessToken, headers });
  if (res.ok) return res;
  if (res.network)
    return {
      ok: false,
      status: 0,
      error: { error: 'NetworkError', message: 'Could not reach the server. Check the connection and try again.' },
    };
  if (res.status === 401) {
    auth?.expire();
    return { ok: false, status: 401, error: UNAUTHORIZED };
  }
  return { ok: false, status: res.status, error: res.body ?? { error: `HTTP ${res.status}`, message: defaultMessage(res.status) } };
}

const defaultMessage = (status: number): string =>
  status === 403
    ? 'Your account is not allowed to do this.'
    : status === 404
      ? 'Not found.'
      : status === 429
        ? 'Too many requests. Wait a moment and try again.'
        : status >= 500
          ? 'The server had a problem. Try again in a moment.'
          : 'The request was not accepted.';

const enc = encodeURIComponent;

export interface QueuePage {
  items: ReferralSummary[];
  nextCursor?: string;
}

export const api = {
  queue: (q: { status?: Status; q?: string; cursor?: string }) => {
    const params = new URLSearchParams();
    if (q.status) params.set('status', q.status);
    if (q.q) params.set('q', q.q);
    if (q.cursor) params.set('cursor', q.cursor);
    const qs = params.toString();
    // query strings of API calls stay in fetch (not in the address bar or history)
    return call<QueuePage>('GET', `/api/staff/referrals${qs ? `?${qs}` : ''}`);
  },
  referral: (id: string) => call<ReferralDetail>('GET', `/api/staff/referrals/${enc(id)}`),
  decide: (id: string, step: Step, body: unknown) =>
    call<{ referralId: string; status: Status; decided: Step }>('POST', `/api/staff/referrals/${enc(id)}/steps/${enc(step)}`, body),
  /** correct the insurance at the insurance review and check again (the referral stays at its gate) */
  recheck: (id: string, body: unknown) =>
    call<{ referralId: string; status: Status; eligibility: EligibilityResult; changed: string[] }>(
      'POST',
      `/api/staff/referrals/${enc(id)}/insurance/recheck`,
      body,
    ),
  resume: (id: string) => call<{ referralId: string; status: Status }>('POST', `/api/staff/referrals/${enc(id)}/resume`, {}),
  withdraw: (id: string, reason: string) =>
    call<{ referralId: string; status: Status }>('POST', `/api/staff/referrals/${enc(id)}/withdraw`, { reason }),
  cohorts: () => call<{ items: CohortView[]; eveningFrom?: string }>('GET', '/api/staff/cohorts'),
  createCohort: (body: unknown) => call<CohortView>('POST', '/api/staff/cohorts', body),
  dashboard: () => call<Dashboard>('GET', '/api/staff/dashboard'),
  /** "My referrals" (or a colleague's, by username) */
  caseload: (q: { assignee?: string; cursor?: string } = {}) => {
    const params = new URLSearchParams();
    if (q.assignee) params.set('assignee', q.assignee);
    if (q.cursor) params.set('cursor', q.cursor);
    const qs = params.toString();
    return call<QueuePage>('GET', `/api/staff/caseload${qs ? `?${qs}` : ''}`);
  },
  assign: (id: string, body: { assignee: string | null; expected?: string | null }) =>
    call<{ referralId: string; assignedTo: { username: string; since: string } | null }>(
      'POST',
      `/api/staff/referrals/${enc(id)}/assignment`,
      body,
    ),
  logContact: (id: string, body: unknown) => call<{ referralId: string }>('POST', `/api/staff/referrals/${enc(id)}/contacts`, body),
  revokeConsent: (id: string, body: unknown) =>
    call<{ referralId: string; cancelledNotices: number }>('POST', `/api/staff/referrals/${enc(id)}/consent-revocation`, body),
};

/** the raw fetch the phone intake form uses (its module reads the Response itself) */
export async function postPhoneIntake(body: unknown, idempotencyKey: string): Promise<Response> {
  const session = auth?.session();
  if (!session) {
    return new Response(JSON.stringify(UNAUTHORIZED), { status: 401, headers: { 'content-type': 'application/json' } });
  }
  const res = await fetch('/api/staff/referrals', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${session.accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (res.status === 401) auth?.expire();
  return res;
}
