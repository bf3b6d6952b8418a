/**
 * `npm run smoke -- --url https://<distribution or custom domain>`
 *
 * Walks one synthetic referral through a deployment the way staff would, and cleans up after it:
 *
 *   health → intake (public) → the evaluation gate opens → decide it (accept) → the workflow moves
 *   on to enrollment → the patient's email and the physician's disclosure are recorded as sent
 *   → withdraw (cleanup) → WITHDRAWN
 *
 * Every wait is on a condition read back from GET /api/staff/referrals/{id}, with a deadline; no
 * sleeps stand in for the workflow. The referral is synthetic (self-pay, not urgent) and its emails
 * go to the SES mailbox simulator (success@simulator.amazonses.com), so nobody receives them and
 * they count against no reputation; they are sent even from the SES sandbox.
 *
 * Staff token: SMOKE_TOKEN (an access token, e.g. from the console), or a Cognito test user:
 * SMOKE_USER_POOL_ID, SMOKE_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD, SMOKE_TOTP_SECRET (signs
 * in through the IAM-signed admin API with the shell's AWS credentials; DEPLOY.md). Options:
 * --timeout <seconds> per wait (default 120), --poll <ms> (default 1000). Exits 1 on a failure.
 *
 * test/int/smoke.int.test.ts runs this same file against the local runtime inside `npm test`.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { FINAL_STATUSES, type Status } from '../functions/lib/schemas/views';
import { cognitoAccessToken, testUserFromEnv } from './staff-token';

export interface SmokeOptions {
  /** the deployment's base URL (the ApiUrl output without /api/ also works) */
  url: string;
  /** a staff (case-workers) access token */
  token: string;
  /** deadline of each wait */
  timeoutMs: number;
  pollMs: number;
  log: (line: string) => void;
}

export interface SmokeResult {
  referralId: string;
  reference: string;
  finalStatus: string;
  /** what the timeline recorded about email: event type and audience, in order */
  notices: string[];
}

export class SmokeError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'SmokeError';
  }
}

interface ReferralView {
  status: Status;
  pendingStep?: string;
  events: Array<{ type: string; detail?: Record<string, unknown> }>;
}

/** the body of the synthetic referral; addresses on the SES mailbox simulator */
export const smokeIntake = (nowMs: number, tag: string) => ({
  patient: {
    firstName: 'Smoke',
    lastName: 'Test',
    dateOfBirth: '1980-01-01',
    phone: '(555) 010-0199',
    email: `success+iop-smoke-${tag}@simulator.amazonses.com`,
    preferredLanguage: 'en',
  },
  substances: [{ substance: 'other' }],
  withdrawal: { currentSymptoms: false, detoxStatus: 'not-needed' },
  screening: { selfHarmThoughtsPastMonth: false, suicideAttemptPastThreeMonths: false },
  insurance: { type: 'self-pay' },
  referringPhysician: {
    name: 'Smoke Test Physician',
    npi: '1234567893',
    email: `success+iop-smoke-physician-${tag}@simulator.amazonses.com`,
  },
  consent: { shareWithReferrer: true, signature: 'Smoke Test', signedAt: new Date(nowMs - 60_000).toISOString() },
  schedulePreference: 'any',
  notes: 'Synthetic referral from npm run smoke; not a person. It is withdrawn when the smoke test ends.',
});

const EVALUATION_ACCEPT = {
  dimensions: { d1: 0, d2: 0, d3: 1, d4: 1, d5: 1, d6: 0 },
  recommendedLevel: '2.1',
  detoxRequired: false,
  decision: 'accept',
  note: 'smoke test',
};

/** walks the synthetic referral; throws SmokeError naming the step that failed */
export const runSmoke = async (o: SmokeOptions): Promise<SmokeResult> => {
  const base = o.url.replace(/\/+$/, '').replace(/\/api$/, '');
  const call = async (method: string, path: string, body?: unknown, staff = true, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(staff ? { authorization: `Bearer ${o.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: the deployed API's JSON, read field by field by the checks below
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const expectStatus = (step: string, res: { status: number; json: any; text: string }, ...ok: number[]) => {
    if (ok.includes(res.status)) return;
    const why = res.json?.error ? `${res.json.error}: ${res.json.message ?? ''}` : res.text.slice(0, 200).replace(/\s+/g, ' ');
    const hint =
      res.status === 401
        ? ' (the staff token was refused: expired? access tokens last an hour)'
        : res.status === 403 && !res.json
          ? ' (a non-JSON 403 comes from WAF or CloudFront, not the API)'
          : '';
    throw new SmokeError(step, `HTTP ${res.status}${why ? ` ${why}` : ''}${hint}`);
  };
  let started = Date.now();
  const done = (step: string, detail = '') => {
    o.log(`ok   ${step}${detail ? ` ${detail}` : ''} (${Date.now() - started} ms)`);
    started = Date.now();
  };
  const read = async (id: string): Promise<ReferralView> => {
    const res = await call('GET', `/api/staff/referrals/${id}`);
    expectStatus('read referral', res, 200);
    return res.json as ReferralView;
  };
  /** polls until `ok` holds (or the step fails by `failed`) */
  const waitFor = async (
    step: string,
    id: string,
    ok: (r: ReferralView) => boolean,
    failed?: (r: ReferralView) => string | undefined,
  ): Promise<ReferralView> => {
    const deadline = Date.now() + o.timeoutMs;
    let last: ReferralView | undefined;
    for (;;) {
      last = await read(id);
      if (ok(last)) return last;
      const why = failed?.(last);
      if (why) throw new SmokeError(step, why);
      if (Date.now() > deadline)
        throw new SmokeError(step, `not within ${o.timeoutMs / 1000} s: status ${last.status}, pending step ${last.pendingStep ?? 'none'}`);
      await new Promise((r) => setTimeout(r, o.pollMs));
    }
  };
  const stuck = (r: ReferralView) =>
    r.status === 'NEEDS_ATTENTION' || FINAL_STATUSES.includes(r.status) ? `the referral went to ${r.status}` : undefined;

  // 1. the API answers, with all its dependencies
  const health = await call('GET', '/api/health', undefined, false);
  expectStatus('health', health, 200);
  done('health');

  // 2. the public intake
  const tag = randomUUID().slice(0, 8);
  const created = await call('POST', '/api/referrals', smokeIntake(Date.now(), tag), false, { 'idempotency-key': randomUUID() });
  expectStatus('intake', created, 201);
  const { referralId, reference } = created.json as { referralId: string; reference: string };
  done('intake', reference);

  let finalStatus = 'unknown';
  let notices: string[] = [];
  let failure: unknown;
  try {
    // 3. the evaluation gate (self-pay goes straight there); an insurance review is decided self-pay
    await waitFor('evaluation gate', referralId, (r) => r.pendingStep === 'evaluation' || r.pendingStep === 'insurance-review', stuck);
    if ((await read(referralId)).pendingStep === 'insurance-review') {
      expectStatus(
        'insurance review',
        await call('POST', `/api/staff/referrals/${referralId}/steps/insurance-review`, { decision: 'self-pay', note: 'smoke test' }),
        200,
        202,
      );
      await waitFor('evaluation gate', referralId, (r) => r.pendingStep === 'evaluation', stuck);
    }
    done('evaluation gate open');

    // 4. a case worker accepts; the workflow moves on to enrollment
    const decided = await call('POST', `/api/staff/referrals/${referralId}/steps/evaluation`, EVALUATION_ACCEPT);
    expectStatus('evaluation decision', decided, 200, 202);
    await waitFor('enrollment gate', referralId, (r) => r.pendingStep === 'enrollment', stuck);
    done('evaluation accepted, enrollment gate open');

    // 5. email: the patient's notice and the physician's disclosure recorded as sent (or why not)
    const sent = (r: ReferralView, type: string, audience: string) =>
      r.events.some((e) => e.type === type && e.detail?.audience === audience);
    const mail = await waitFor(
      'email',
      referralId,
      (r) => sent(r, 'NOTICE_SENT', 'patient') && sent(r, 'DISCLOSURE', 'referring-physician'),
      (r) => {
        const final = r.events.find((e) => e.type === 'NOTICE_FAILED' && e.detail?.final);
        return final
          ? `a notice was given up: ${String(final.detail?.error ?? 'unknown error')} (SES identity verified? account out of the sandbox? see npm run preflight)`
          : undefined;
      },
    ).catch(async (err: unknown) => {
      const failures = (await read(referralId)).events
        .filter((e) => e.type === 'NOTICE_FAILED')
        .map((e) => String(e.detail?.error ?? 'unknown'));
      if (failures.length && err instanceof SmokeError)
        throw new SmokeError('email', `${err.message.replace(/^email: /, '')}; sends failed with ${[...new Set(failures)].join(', ')}`);
      throw err;
    });
    notices = mail.events
      .filter((e) => ['NOTICE_SENT', 'DISCLOSURE', 'NOTICE_FAILED'].includes(e.type))
      .map((e) => `${e.type} ${String(e.detail?.audience ?? '')}`.trim());
    done('email', `(${notices.join(', ')})`);
  } catch (err) {
    failure = err;
  }

  // 6. cleanup, whatever happened: the synthetic referral is withdrawn (at a gate, ENROLLED or WAITLISTED, too)
  try {
    const now = await read(referralId);
    if (!FINAL_STATUSES.includes(now.status)) {
      expectStatus(
        'withdraw',
        await call('POST', `/api/staff/referrals/${referralId}/withdraw`, { reason: 'smoke test cleanup' }),
        200,
        202,
      );
      finalStatus = (await waitFor('withdraw', referralId, (r) => r.status === 'WITHDRAWN')).status;
      done('withdrawn');
    } else {
      finalStatus = now.status;
    }
  } catch (err) {
    if (!failure) failure = err;
    else o.log(`FAIL cleanup too: ${(err as Error).message} (withdraw ${reference} in the console)`);
  }
  if (failure) throw failure;
  return { referralId, reference, finalStatus, notices };
};

/** --url, --timeout <s>, --poll <ms> */
export const parseArgs = (args: string[]): { url: string; timeoutMs: number; pollMs: number } => {
  const out = { url: '', timeoutMs: 120_000, pollMs: 1000 };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--url') out.url = value;
    else if (flag === '--timeout') out.timeoutMs = Number(value) * 1000;
    else if (flag === '--poll') out.pollMs = Number(value);
    else throw new Error(`unknown option ${flag} (use --url, --timeout, --poll)`);
  }
  if (!/^https?:\/\/[^/]+/.test(out.url)) throw new Error('--url https://<the ConsoleUrl host> is required');
  if (!(out.timeoutMs > 0) || !(out.pollMs > 0)) throw new Error('--timeout and --poll must be positive numbers');
  return out;
};

const main = async (): Promise<number> => {
  const args = parseArgs(process.argv.slice(2));
  let token = process.env.SMOKE_TOKEN;
  if (!token) {
    const user = testUserFromEnv(process.env);
    if (!user)
      throw new Error(
        'set SMOKE_TOKEN, or the Cognito test user (SMOKE_USER_POOL_ID, SMOKE_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD, SMOKE_TOTP_SECRET)',
      );
    const cognito = new CognitoIdentityProviderClient({ region: user.userPoolId.split('_')[0] });
    token = await cognitoAccessToken(cognito, user, () => Date.now());
  }
  console.log(`smoke test against ${args.url}`);
  try {
    const result = await runSmoke({ ...args, token, log: (line) => console.log(line) });
    console.log(`passed: ${result.reference} ended ${result.finalStatus}`);
    return 0;
  } catch (err) {
    console.error(`FAIL ${(err as Error).message}`);
    return 1;
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`smoke: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
