/**
 * Per-client rate limits in front of everything, like the WAF web ACL: `POST /api/referrals` is a
 * token bucket mirroring the WAF rate rule of infra/constructs/protection.ts (100 requests per 5
 * minutes per IP), failed sign-ins at `/local/auth/login` another.
 */
import type { IncomingMessage } from 'node:http';

/** a token bucket per client: `capacity` at once, then `refillPerSecond` */
export interface TokenBucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export interface RateLimits {
  /** every `POST /api/referrals` takes a token (the WAF counts every matching request); false: no limit */
  intake: TokenBucketSpec | false;
  /** every failed sign-in (401) at `/local/auth/login` takes a token; an empty bucket refuses even a right password */
  login: TokenBucketSpec | false;
  /** the buckets' clock in ms (monotonic); tests pass their own to refill without waiting */
  now?: () => number;
}

/** the public intake route the WAF rate rule watches (INTAKE_METHOD/INTAKE_PATH of protection.ts) */
export const RATE_LIMITED_INTAKE = { method: 'POST', path: '/api/referrals' } as const;

/**
 * The deployed limits: the WAF rule's default `intakeRateLimit` of 100 requests per IP in its
 * 300-second window, as a bucket of 100 refilled at 100 per 300 s; and 5 failed sign-ins, then one
 * more a minute (Cognito locks a user out after 5 failures, for a growing time).
 */
export const WAF_RATE_LIMITS: RateLimits = {
  intake: { capacity: 100, refillPerSecond: 100 / 300 },
  login: { capacity: 5, refillPerSecond: 1 / 60 },
};

/** for test runs that submit thousands of intakes from one address: the buckets still work, nobody meets them */
export const GENEROUS_RATE_LIMITS: RateLimits = {
  intake: { capacity: 1_000_000, refillPerSecond: 10_000 },
  login: { capacity: 100_000, refillPerSecond: 1_000 },
};

/** clients remembered at most; full buckets are forgotten first (a full bucket is the default state) */
const MAX_TRACKED_CLIENTS = 10_000;
/** refill arithmetic is in floating point: 3 s × 1/3 token per second must make a whole token */
const EPSILON = 1e-9;

/** token buckets keyed by client address */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly spec: TokenBucketSpec,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(spec.capacity >= 1) || !(spec.refillPerSecond > 0)) throw new Error('a token bucket needs capacity >= 1 and refillPerSecond > 0');
  }

  private level(client: string): { tokens: number; at: number } {
    const t = this.now();
    const b = this.buckets.get(client);
    if (!b) return { tokens: this.spec.capacity, at: t };
    return { tokens: Math.min(this.spec.capacity, b.tokens + ((t - b.at) / 1000) * this.spec.refillPerSecond), at: t };
  }

  private wait(tokens: number): number {
    return tokens >= 1 - EPSILON ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.spec.refillPerSecond - EPSILON));
  }

  /** whole seconds until the client has a token again; 0 when it has one now */
  retryAfter(client: string): number {
    return this.wait(this.level(client).tokens);
  }

  /** takes a token when there is one; otherwise answers how many seconds until there is */
  take(client: string): { ok: true } | { ok: false; retryAfter: number } {
    const b = this.level(client);
    const retryAfter = this.wait(b.tokens);
    if (retryAfter > 0) return { ok: false, retryAfter };
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(client); // re-inserted last: the map stays ordered by last use
    this.buckets.set(client, b);
    if (this.buckets.size > MAX_TRACKED_CLIENTS) this.forget();
    return { ok: true };
  }

  private forget(): void {
    for (const client of [...this.buckets.keys()])
      if (this.level(client).tokens >= this.spec.capacity - EPSILON) this.buckets.delete(client);
    for (const client of this.buckets.keys()) {
      if (this.buckets.size <= MAX_TRACKED_CLIENTS) break;
      this.buckets.delete(client); // least recently used first
    }
  }
}

/** the client as the WAF sees it: the connection's address (a forwarded-for header is the client's to forge) */
export const clientOf = (req: IncomingMessage): string => (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
