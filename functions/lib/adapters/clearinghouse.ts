import { randomInt } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { now } from '../clock';
import {
  beforeInquiry,
  eligibilityRequest,
  type InquiringProvider,
  readEligibilityResponse,
  REQUEST_TIMEOUT_MS,
  type Reading,
  unclear,
  WAITING_REQUEST_TIMEOUT_MS,
} from '../domain/clearinghouse';
import { logger } from '../logger';
import { traced } from '../observability';
import type { EligibilityResult } from '../schemas/views';
import type { EligibilityChecker, EligibilitySubject } from './ports';

// the clearinghouse adapter (docs/ARCHITECTURE.md §9): the eligibility v3 JSON inquiry over HTTPS,
// read by ../domain/clearinghouse. Only codes are logged (status, AAA code, reason), never the
// response body, the member's data or the key.

export interface ClearinghouseSettings {
  url: string;
  /** the API key, or where to read it (Secrets Manager, once per container) */
  apiKey: { value: string } | { secretArn: string };
  provider: InquiringProvider;
  retrySeconds: number;
  /** one request of the workflow (default REQUEST_TIMEOUT_MS); one a case worker waits on (`retryWhenBusy: false`) takes at most WAITING_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
}

let secrets: SecretsManagerClient | undefined;
const keys = new Map<string, Promise<string>>();

/** the key in the secret (its SecretString, trimmed), read once per container; a failed read is tried again next time */
const keyInSecret = (secretArn: string): Promise<string> => {
  let key = keys.get(secretArn);
  if (!key) {
    secrets ??= traced(new SecretsManagerClient({}));
    key = secrets.send(new GetSecretValueCommand({ SecretId: secretArn })).then((out) => {
      const value = out.SecretString?.trim();
      if (!value) throw Object.assign(new Error('the secret holds no key'), { name: 'EmptySecret' });
      return value;
    });
    key.catch(() => keys.delete(secretArn));
    keys.set(secretArn, key);
  }
  return key;
};

/** a new 9-digit control number per request */
const controlNumber = (): string => String(randomInt(0, 1_000_000_000)).padStart(9, '0');

type Attempt = Reading | { kind: 'failed'; code: string };

export class ClearinghouseEligibility implements EligibilityChecker {
  constructor(
    private readonly settings: ClearinghouseSettings,
    /** waits before the retry; tests may count or shorten it */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async check(subject: EligibilitySubject, options: { retryWhenBusy?: boolean } = {}): Promise<EligibilityResult> {
    const early = beforeInquiry(subject, now().toISOString());
    if (early) return early;
    const payerId = subject.insurance.payerId!;

    let apiKey: string;
    try {
      apiKey = await this.apiKey();
    } catch (err) {
      logger.error('eligibility key unavailable', { error: (err as Error).name });
      return unclear('KEY_UNAVAILABLE', now().toISOString(), payerId);
    }

    const waiting = options.retryWhenBusy === false;
    const workflowMs = this.settings.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const timeoutMs = waiting ? Math.min(workflowMs, WAITING_REQUEST_TIMEOUT_MS) : workflowMs;
    let attempt = await this.ask(subject, apiKey, timeoutMs);
    let asked = 1;
    if (attempt.kind !== 'result' && !waiting) {
      logger.info('eligibility busy, asking again', { code: attempt.code, afterSeconds: this.settings.retrySeconds });
      await this.sleep(this.settings.retrySeconds * 1000);
      attempt = await this.ask(subject, apiKey, timeoutMs);
      asked = 2;
    }
    if (attempt.kind === 'result') return attempt.result;
    // busy (AAA 42/80) or failed (5xx, 429, no answer) after the last try
    const code = attempt.kind === 'busy' ? 'BUSY' : attempt.code;
    const result = unclear(code, now().toISOString(), payerId);
    const detail = [attempt.kind === 'busy' ? attempt.code : undefined, asked === 2 ? 'asked twice' : 'asked once'].filter(Boolean);
    return { ...result, summary: `${result.summary} (${detail.join(', ')})` };
  }

  private apiKey(): Promise<string> {
    const { apiKey } = this.settings;
    return 'value' in apiKey ? Promise.resolve(apiKey.value) : keyInSecret(apiKey.secretArn);
  }

  /** one request: a reading of the answer, or a failure worth a retry (HTTP 5xx or 429, no answer) */
  private async ask(subject: EligibilitySubject, apiKey: string, timeoutMs: number): Promise<Attempt> {
    const body = eligibilityRequest(subject, this.settings.provider, controlNumber());
    const payerId = body.tradingPartnerServiceId;
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.settings.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: apiKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const name = (err as Error).name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      logger.warn('eligibility request failed', { error: name });
      return { kind: 'failed', code: timedOut ? 'TIMEOUT' : 'UNREACHABLE' };
    }
    // 429: the clearinghouse's concurrency limit (Stedi allows 5 at once by default): busy, like a 5xx
    if (status >= 500 || status === 429) {
      logger.warn('eligibility request failed', { httpStatus: status });
      return { kind: 'failed', code: `HTTP_${status}` };
    }
    const checkedAt = now().toISOString();
    const reading = readEligibilityResponse(text, checkedAt, payerId);
    // a 4xx with an AAA error reads as that error; one without is refused by the clearinghouse itself
    if (status >= 300 && reading.kind === 'result' && !reading.result.reason?.code.startsWith('AAA-')) {
      logger.warn('eligibility request refused', { httpStatus: status });
      return { kind: 'result', result: unclear(`HTTP_${status}`, checkedAt, payerId) };
    }
    logger.info('eligibility answered', {
      httpStatus: status,
      ...(reading.kind === 'busy' ? { code: reading.code } : { outcome: reading.result.outcome, code: reading.result.reason?.code }),
    });
    return reading;
  }
}
