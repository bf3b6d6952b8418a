/**
 * The local front door: what CloudFront + API Gateway (HTTP API, payload format 2.0, JWT authorizer)
 * do on AWS, on one node:http listener. The parts: ./gateway/api-event.ts (routes, events, results),
 * ./gateway/static-files.ts, ./gateway/rate-limits.ts (the WAF's), ./gateway/reply.ts.
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import type { FunctionSpec } from '../functions/catalog';
import { EMBED_SECURITY_HEADERS, SECURITY_HEADERS } from '../functions/lib/security-headers';
import type { LocalAuth } from './auth';
import { ACCOUNT_ID } from './constants';
import { type CompiledRoute, compileRoutes, fromLambdaResult, MAX_REQUEST_BYTES, readBody, toApiEvent } from './gateway/api-event';
import { clientOf, RATE_LIMITED_INTAKE, type RateLimits, TokenBuckets, WAF_RATE_LIMITS } from './gateway/rate-limits';
import { jsonReply, type Reply, tooManyRequests } from './gateway/reply';
import { staticFile } from './gateway/static-files';

const AUTH_PATHS = new Set(['/local/auth/login', '/local/auth/jwks.json', '/local/auth/.well-known/jwks.json']);

/** invokes a catalog function with an event, as Lambda would (the runtime adds the context and timeout) */
type Invoke = (functionName: string, event: unknown) => Promise<unknown>;

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
    this.accountId = options.accountId ?? ACCOUNT_ID;
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
        res.on('finish', () =>
          this.options.log?.(`${method} ${reply.label} ${res.statusCode} ${Math.round(performance.now() - started)}ms`),
        );
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
    return staticFile(this.webRoot, method, rawPath);
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
      const starting =
        route.functionName === 'health'
          ? { status: 'starting' }
          : { error: 'ServiceUnavailable', message: 'The local runtime is still starting' };
      return jsonReply(503, starting, label, { 'retry-after': '1' });
    }
    if (tooLarge)
      return jsonReply(413, { error: 'PayloadTooLarge', message: `The request body is larger than ${MAX_REQUEST_BYTES} bytes` }, label);

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
    const event = toApiEvent(req, method, route, rawPath, rawQueryString, body, requestId, claims, this.accountId);
    let result: unknown;
    try {
      result = await this.options.invoke(route.functionName, event);
    } catch (error) {
      // a failed or timed-out function: API Gateway answers 500 without details
      this.options.log?.(`${method} ${label} handler failed: ${(error as Error)?.name ?? 'Error'}`);
      return jsonReply(500, { message: 'Internal Server Error' }, label, { 'apigw-requestid': requestId });
    }
    const reply = fromLambdaResult(result, label, this.options.log);
    reply.headers['apigw-requestid'] = requestId;
    return reply;
  }

  // ---- /local/auth ---------------------------------------------------------------------------

  private async authRoute(req: IncomingMessage, method: string, rawPath: string): Promise<Reply> {
    const { body, tooLarge } = await readBody(req, 64 * 1024);
    const label = AUTH_PATHS.has(rawPath) ? rawPath : '/local/auth (not found)';
    if (!this.auth)
      return jsonReply(503, { error: 'ServiceUnavailable', message: 'The local runtime is still starting' }, label, { 'retry-after': '1' });
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
}
