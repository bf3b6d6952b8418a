/**
 * The local front door: what CloudFront + API Gateway (HTTP API, payload format 2.0, JWT authorizer)
 * do on AWS, on one node:http listener.
 *
 * - `/api/*`: the routes of functions/catalog.ts. A request becomes an API Gateway v2 event; a
 *   staff/supervisor route first needs a valid Bearer token (401 `{"message":"Unauthorized"}` otherwise,
 *   like the JWT authorizer; group checks are the handlers' job), and its claims reach the handler as
 *   API Gateway passes them: every value a string, arrays flattened to `"[a b]"`. The handler's result
 *   (structured, or any other value → 200 JSON) becomes the HTTP response. Unknown path → 404, known
 *   path with another method → 405 with `Allow`, body over 1 MiB → 413. Until the runtime is fully
 *   up every route answers 503 (so `GET /api/health` is 200 only once everything is ready).
 * - `/local/auth/*`: the local token issuer (local/auth.ts).
 * - everything else: static files from web/dist with the CloudFront index rewrite of
 *   infra/constructs/web.ts (`/` → 302 `/intake/`, `/x/` → `/x/index.html`, `/x` → 302 `/x/`).
 * - every response carries the security headers CloudFront sends (functions/lib/security-headers.ts,
 *   one definition for both; the files of the embeddable open-seats page, EMBED_PATH_PREFIX, those
 *   of its own framable policy); every
 *   answer of the gateway itself (401, 404, 405, 413, 429, 503, 5xx) and of the issuer is `no-store`.
 * - rate limits (`RateLimits`), per client address, in front of everything like the WAF web ACL:
 *   `POST /api/referrals` is a token bucket mirroring the WAF rate rule of
 *   infra/constructs/protection.ts (100 requests per 5 minutes per IP), failed sign-ins at
 *   `/local/auth/login` another; an empty bucket answers 429 with `Retry-After` and a JSON error.
 * - one log line per request: method, route key (or file), status, ms — never bodies or query strings.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Access, FunctionSpec } from '../functions/catalog';
import { EMBED_PATH_PREFIX, EMBED_SECURITY_HEADERS, SECURITY_HEADERS } from '../functions/lib/security-headers';
import type { LocalAuth } from './auth';

/** larger bodies answer 413 here; handlers enforce their own, smaller, documented limit */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ics': 'text/calendar; charset=utf-8',
};

/** content types API Gateway passes as text; anything else arrives base64-encoded */
const isTextContentType = (type: string | undefined): boolean => {
  if (!type) return false;
  const t = type.split(';')[0]!.trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/x-www-form-urlencoded' ||
    t === 'application/javascript' ||
    t === 'application/graphql'
  );
};

// ---- rate limits ----------------------------------------------------------------------------------

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
    for (const client of [...this.buckets.keys()]) if (this.level(client).tokens >= this.spec.capacity - EPSILON) this.buckets.delete(client);
    for (const client of this.buckets.keys()) {
      if (this.buckets.size <= MAX_TRACKED_CLIENTS) break;
      this.buckets.delete(client); // least recently used first
    }
  }
}

/** the client as the WAF sees it: the connection's address (a forwarded-for header is the client's to forge) */
const clientOf = (req: IncomingMessage): string => (req.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');

const tooManyRequests = (retryAfter: number, label: string): Reply =>
  jsonReply(429, { error: 'TooManyRequests', message: `Too many requests from this address; try again in ${retryAfter} seconds` }, `${label} (rate limited)`, {
    'retry-after': String(retryAfter),
  });

const AUTH_PATHS = new Set(['/local/auth/login', '/local/auth/jwks.json', '/local/auth/.well-known/jwks.json']);

/** invokes a catalog function with an event, as Lambda would (the runtime adds the context and timeout) */
export type Invoke = (functionName: string, event: unknown) => Promise<unknown>;

export interface GatewayOptions {
  functions: readonly FunctionSpec[];
  invoke: Invoke;
  /** web/dist */
  webRoot: string;
  accountId?: string;
  /** one line per request; omit for silence */
  log?: (line: string) => void;
  /** default WAF_RATE_LIMITS */
  rateLimits?: RateLimits;
}

interface CompiledRoute {
  functionName: string;
  method: string;
  path: string;
  access: Access;
  routeKey: string;
  pattern: RegExp;
  paramNames: string[];
  /** literal segments count first: `/a/b` beats `/a/{id}` like API Gateway's most specific match */
  literalSegments: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const compileRoutes = (functions: readonly FunctionSpec[]): CompiledRoute[] =>
  functions
    .flatMap((f) =>
      (f.routes ?? []).map((r): CompiledRoute => {
        const paramNames: string[] = [];
        const segments = r.path.split('/').slice(1);
        const source = segments
          .map((seg) => {
            const greedy = /^\{(.+)\+\}$/.exec(seg);
            if (greedy) {
              paramNames.push(greedy[1]!);
              return '/(.+)';
            }
            const param = /^\{(.+)\}$/.exec(seg);
            if (param) {
              paramNames.push(param[1]!);
              return '/([^/]+)';
            }
            return `/${escapeRegExp(seg)}`;
          })
          .join('');
        return {
          functionName: f.name,
          method: r.method,
          path: r.path,
          access: r.access,
          routeKey: `${r.method} ${r.path}`,
          pattern: new RegExp(`^${source}$`),
          paramNames,
          literalSegments: segments.filter((s) => !s.startsWith('{')).length,
        };
      }),
    )
    .sort((a, b) => b.literalSegments - a.literalSegments);

interface Reply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body?: Buffer | string;
  /** what the log line names: a route key, a file, or a short tag — never user data */
  label: string;
  /** a file of the embeddable page: EMBED_SECURITY_HEADERS instead of SECURITY_HEADERS */
  embed?: boolean;
}

/** the gateway's and the issuer's own JSON answers: never stored by a browser or a proxy */
const jsonReply = (statusCode: number, body: unknown, label: string, headers: Record<string, string> = {}): Reply => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
  label,
});

/** past this much we stop draining and drop the connection */
const DRAIN_CAP_BYTES = 32 * MAX_REQUEST_BYTES;

/**
 * Reads the whole body; past `limit` it keeps reading and dropping (so the client, still sending,
 * receives the 413 instead of a reset) and reports `tooLarge`.
 */
const readBody = (req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_CAP_BYTES) req.destroy();
      else if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolveBody({ body: size > limit ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge: size > limit }));
    req.on('error', reject);
    req.on('close', () => req.complete || reject(new Error('request aborted')));
  });

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** like API Gateway: decoded values ('+' is a space), repeated keys joined with commas */
const parseQuery = (raw: string): Record<string, string> | undefined => {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = safeDecode((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const value = safeDecode((eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' '));
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length ? out : undefined;
};

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time */
const apiGatewayTime = (d: Date): string => {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

/** how an HTTP API JWT authorizer hands claims to the integration: strings, arrays as "[a b]" */
export const apiGatewayClaims = (payload: Record<string, unknown>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) out[k] = `[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ')}]`;
    else if (typeof v === 'object') out[k] = JSON.stringify(v);
    else out[k] = String(v);
  }
  return out;
};

export class Gateway {
  /** set once every part of the runtime is up; until then every API route answers 503 */
  ready = false;
  /** set once the issuer exists (it needs the listening port for its `iss`) */
  auth: LocalAuth | undefined;

  private readonly routes: CompiledRoute[];
  private readonly webRoot: string;
  private readonly accountId: string;
  private readonly intakeLimit: TokenBuckets | undefined;
  private readonly loginLimit: TokenBuckets | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.routes = compileRoutes(options.functions);
    this.webRoot = resolve(options.webRoot);
    this.accountId = options.accountId ?? '000000000000';
    const limits = options.rateLimits ?? WAF_RATE_LIMITS;
    this.intakeLimit = limits.intake ? new TokenBuckets(limits.intake, limits.now) : undefined;
    this.loginLimit = limits.login ? new TokenBuckets(limits.login, limits.now) : undefined;
  }

  /** the node:http request listener */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    this.route(req, method)
      .catch((error: unknown): Reply => {
        this.options.log?.(`${method} gateway error: ${(error as Error)?.name ?? 'Error'}`);
        return jsonReply(500, { message: 'Internal Server Error' }, 'gateway error');
      })
      .then((reply) => {
        res.on('finish', () => this.options.log?.(`${method} ${reply.label} ${res.statusCode} ${Math.round(performance.now() - started)}ms`));
        try {
          this.send(req, res, method, reply);
        } catch (error) {
          // e.g. a handler header Node refuses (invalid characters): API Gateway would answer 502
          this.options.log?.(`${method} ${reply.label} unusable response: ${(error as Error)?.name ?? 'Error'}`);
          if (!res.headersSent) {
            for (const name of res.getHeaderNames()) res.removeHeader(name);
            this.send(req, res, method, jsonReply(502, { message: 'Internal Server Error' }, reply.label));
          } else {
            res.destroy();
          }
        }
      });
  };

  private async route(req: IncomingMessage, method: string): Promise<Reply> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQueryString = q < 0 ? '' : url.slice(q + 1);
    if (rawPath === '/api' || rawPath.startsWith('/api/')) return this.api(req, method, rawPath, rawQueryString);
    if (rawPath === '/local/auth' || rawPath.startsWith('/local/auth/')) return this.authRoute(req, method, rawPath);
    req.resume();
    return this.staticFile(method, rawPath);
  }

  private send(req: IncomingMessage, res: ServerResponse, method: string, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    res.statusCode = reply.statusCode;
    for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
    // like the CloudFront policy (override: true): these win over whatever the handler set
    for (const [k, v] of Object.entries(reply.embed ? EMBED_SECURITY_HEADERS : SECURITY_HEADERS)) res.setHeader(k, v);
    if (!req.complete) res.setHeader('connection', 'close');
    const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body, 'utf8');
    res.setHeader('content-length', String(body?.length ?? 0));
    res.end(method === 'HEAD' ? undefined : body);
  }

  // ---- /api ----------------------------------------------------------------------------------

  private async api(req: IncomingMessage, method: string, rawPath: string, rawQueryString: string): Promise<Reply> {
    const { body, tooLarge } = await readBody(req, MAX_REQUEST_BYTES);
    // the WAF rate rule sits in front of everything else (CloudFront answers before API Gateway sees the request)
    if (this.intakeLimit && method === RATE_LIMITED_INTAKE.method && rawPath === RATE_LIMITED_INTAKE.path) {
      const taken = this.intakeLimit.take(clientOf(req));
      if (!taken.ok) return tooManyRequests(taken.retryAfter, rawPath);
    }
    const candidates = this.routes.filter((r) => r.pattern.test(rawPath));
    if (candidates.length === 0) return jsonReply(404, { error: 'NotFound', message: 'No route for this path' }, '(no route)');
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      const allow = [...new Set(candidates.map((r) => r.method))].sort().join(', ');
      return jsonReply(405, { error: 'MethodNotAllowed', message: `Use ${allow}` }, `(${candidates[0]!.path})`, { allow });
    }
    const label = route.routeKey.slice(method.length + 1);
    if (!this.ready) {
      const starting = route.functionName === 'health' ? { status: 'starting' } : { error: 'ServiceUnavailable', message: 'The local runtime is still starting' };
      return jsonReply(503, starting, label, { 'retry-after': '1' });
    }
    if (tooLarge) return jsonReply(413, { error: 'PayloadTooLarge', message: `The request body is larger than ${MAX_REQUEST_BYTES} bytes` }, label);

    let claims: Record<string, unknown> | undefined;
    if (route.access !== 'public') {
      const verified = this.auth?.verify(req.headers.authorization);
      if (!verified?.ok) {
        const challenge = verified?.reason === 'invalid' ? 'Bearer error="invalid_token"' : 'Bearer';
        return jsonReply(401, { message: 'Unauthorized' }, label, { 'www-authenticate': challenge });
      }
      claims = verified.claims as Record<string, unknown>;
    }

    const requestId = randomBytes(10).toString('base64');
    const event = this.event(req, method, route, rawPath, rawQueryString, body, requestId, claims);
    let result: unknown;
    try {
      result = await this.options.invoke(route.functionName, event);
    } catch (error) {
      // a failed or timed-out function: API Gateway answers 500 without details
      this.options.log?.(`${method} ${label} handler failed: ${(error as Error)?.name ?? 'Error'}`);
      return jsonReply(500, { message: 'Internal Server Error' }, label, { 'apigw-requestid': requestId });
    }
    const reply = this.fromLambdaResult(result, label);
    reply.headers['apigw-requestid'] = requestId;
    return reply;
  }

  private event(
    req: IncomingMessage,
    method: string,
    route: CompiledRoute,
    rawPath: string,
    rawQueryString: string,
    body: Buffer,
    requestId: string,
    claims: Record<string, unknown> | undefined,
  ): APIGatewayProxyEventV2 {
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      const value = req.rawHeaders[i + 1]!;
      if (name === 'cookie') {
        cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
        continue;
      }
      headers[name] = name in headers ? `${headers[name]},${value}` : value;
    }
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
    headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
    headers['x-forwarded-proto'] = 'http';
    const now = new Date();
    headers['x-amzn-trace-id'] = `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

    const match = route.pattern.exec(rawPath)!;
    const pathParameters = route.paramNames.length
      ? Object.fromEntries(route.paramNames.map((n, i) => [n, safeDecode(match[i + 1]!)]))
      : undefined;
    const domainName = (headers.host ?? '127.0.0.1').replace(/:\d+$/, '');
    const text = isTextContentType(headers['content-type']);

    const event: APIGatewayProxyEventV2 & { requestContext: { authorizer?: unknown } } = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath,
      rawQueryString,
      ...(cookies.length ? { cookies } : {}),
      headers,
      ...(rawQueryString ? { queryStringParameters: parseQuery(rawQueryString) } : {}),
      requestContext: {
        accountId: this.accountId,
        apiId: 'local',
        domainName,
        domainPrefix: domainName.split('.')[0]!,
        http: { method, path: safeDecode(rawPath), protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey: route.routeKey,
        stage: '$default',
        time: apiGatewayTime(now),
        timeEpoch: now.getTime(),
        ...(claims ? { authorizer: { jwt: { claims: apiGatewayClaims(claims), scopes: null } } } : {}),
      },
      ...(pathParameters ? { pathParameters } : {}),
      ...(body.length ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !text,
    };
    return event;
  }

  /** API Gateway's reading of a Lambda result (payload format 2.0) */
  private fromLambdaResult(result: unknown, label: string): Reply {
    const structured = result !== null && typeof result === 'object' && !Array.isArray(result) && 'statusCode' in result;
    if (!structured) {
      // any other value is the body of a 200 JSON response (a string is sent as is)
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: typeof result === 'string' ? result : JSON.stringify(result ?? null), label };
    }
    const r = result as { statusCode: unknown; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: unknown; cookies?: unknown };
    if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
      this.options.log?.(`malformed Lambda response for ${label}`);
      return jsonReply(500, { message: 'Internal Server Error' }, label);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
    if (Array.isArray(r.cookies) && r.cookies.length) headers['set-cookie'] = r.cookies.map(String);
    let body: Buffer | undefined;
    if (r.body !== undefined && r.body !== null) {
      const s = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      body = r.isBase64Encoded === true ? Buffer.from(s, 'base64') : Buffer.from(s, 'utf8');
    }
    if (body?.length && !headers['content-type']) headers['content-type'] = 'application/json';
    return { statusCode: r.statusCode, headers, ...(body ? { body } : {}), label };
  }

  // ---- /local/auth ---------------------------------------------------------------------------

  private async authRoute(req: IncomingMessage, method: string, rawPath: string): Promise<Reply> {
    const { body, tooLarge } = await readBody(req, 64 * 1024);
    const label = AUTH_PATHS.has(rawPath) ? rawPath : '/local/auth (not found)';
    if (!this.auth) return jsonReply(503, { error: 'ServiceUnavailable', message: 'The local runtime is still starting' }, label, { 'retry-after': '1' });
    if (tooLarge) return jsonReply(413, { error: 'PayloadTooLarge', message: 'The request body is too large' }, label);
    const signIn = this.loginLimit && method === 'POST' && rawPath === '/local/auth/login' ? this.loginLimit : undefined;
    const client = clientOf(req);
    const wait = signIn?.retryAfter(client) ?? 0;
    if (wait > 0) return tooManyRequests(wait, label);
    const answer = this.auth.handle(method, rawPath, body);
    if (!answer) return jsonReply(404, { error: 'NotFound', message: 'No such path' }, label);
    if (answer.statusCode === 401) signIn?.take(client);
    return jsonReply(answer.statusCode, answer.body, label, { ...answer.headers, 'cache-control': 'no-store' });
  }

  // ---- static files ----------------------------------------------------------------------------

  private async staticFile(method: string, rawPath: string): Promise<Reply> {
    const notFound = (): Reply => ({
      statusCode: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: 'Not Found\n',
      label: 'static (not found)',
    });
    if (method !== 'GET' && method !== 'HEAD') {
      return { statusCode: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method Not Allowed\n', label: 'static (method)' };
    }
    let uri: string;
    try {
      uri = decodeURIComponent(rawPath);
    } catch {
      return { statusCode: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad Request\n', label: 'static (bad path)' };
    }
    // "//host" would turn the add-a-slash redirect into a protocol-relative (open) redirect
    if (uri.includes('\0') || uri.includes('\\') || !uri.startsWith('/') || uri.startsWith('//')) return notFound();
    // no segment may climb out (S3 keys have no "..": CloudFront would look up a key that does not exist)
    if (uri.split('/').some((seg) => seg === '..' || seg === '.')) return notFound();
    // the CloudFront function of infra/constructs/web.ts
    if (uri === '/') return { statusCode: 302, headers: { location: '/intake/', 'cache-control': 'no-store' }, label: '/ → /intake/' };
    if (uri.endsWith('/')) uri += 'index.html';
    else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
      return { statusCode: 302, headers: { location: `${rawPath}/`, 'cache-control': 'no-store' }, label: 'static (add slash)' };
    }
    const file = resolve(this.webRoot, `.${uri}`);
    if (!file.startsWith(this.webRoot + sep)) return notFound();
    try {
      const info = await stat(file);
      if (!info.isFile()) return notFound();
      const body = await readFile(file);
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const cache = type.startsWith('text/html') ? 'no-store' : 'no-cache';
      return {
        statusCode: 200,
        headers: { 'content-type': type, 'cache-control': cache, 'last-modified': info.mtime.toUTCString() },
        body,
        label: file.slice(this.webRoot.length).split(sep).join('/'),
        ...(uri.startsWith(EMBED_PATH_PREFIX) ? { embed: true } : {}),
      };
    } catch {
      return notFound();
    }
  }
}
