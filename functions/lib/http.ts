import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { functions, type Access } from '../catalog';
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors';
import { logger } from './logger';
import { observability } from './observability';
import type { Actor } from './adapters/ports';

// the HTTP edge of every API handler: route access, body limits, JSON parsing, zod validation,
// error mapping and headers live here, so handlers hold business logic only

/** largest accepted request body; an intake with 2,000 characters of notes is about 5 KB */
export const MAX_BODY_BYTES = 32 * 1024;

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** the `{id}` path parameter: referral ids are UUIDs, so anything else names no referral (404, not a 5xx) */
export const referralIdOf = (req: ApiRequest): string => {
  const id = req.params.id ?? '';
  if (!UUID_RE.test(id)) throw new NotFoundError('No referral with that id');
  return id;
};

export interface ApiRequest {
  routeKey: string;
  params: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  /** the parsed JSON body (unvalidated: pass it through `validate`) */
  json: unknown;
  actor: Actor;
  groups: string[];
}

export interface ApiResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const STAFF_GROUPS = ['case-workers', 'supervisors'];

const ACCESS_BY_ROUTE = new Map<string, Access>(
  functions.flatMap((f) => (f.routes ?? []).map((r) => [`${r.method} ${r.path}`, r.access] as const)),
);

/** API Gateway passes an array claim either as an array or flattened as "[a b]" */
export const parseGroups = (claim: unknown): string[] => {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string' || !claim) return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
};

/**
 * The one exception to no-store: a route the catalog marks `publicCacheSeconds` (a public GET
 * without PHI) may be cached, its 200 answers only. Checked at load: a staff route or a POST
 * cannot be made cacheable by mistake.
 */
export const CACHEABLE_ROUTES: ReadonlyMap<string, string> = new Map(
  functions.flatMap((f) =>
    (f.routes ?? [])
      .filter((r) => r.publicCacheSeconds !== undefined)
      .map((r) => {
        const seconds = r.publicCacheSeconds!;
        if (r.access !== 'public' || r.method !== 'GET' || !Number.isInteger(seconds) || seconds < 1 || seconds > 300) {
          throw new Error(`${r.method} ${r.path}: only a public GET may be cached, for 1 to 300 seconds`);
        }
        return [`${r.method} ${r.path}`, `public, max-age=${seconds}`] as const;
      }),
  ),
);

const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  cacheControl = 'no-store',
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...headers,
    // every API answer (PHI or not, 2xx or error) is no-store, whatever a handler set, except the
    // 200 answer of a cacheable route (CACHEABLE_ROUTES)
    'cache-control': cacheControl,
  },
  body: body === undefined ? '' : JSON.stringify(body),
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** every string in a parsed JSON value (keys too) is well-formed UTF-16; iterative: bodies may nest thousands deep */
const wellFormed = (value: unknown): boolean => {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return false;
        stack.push(x);
      }
    }
  }
  return true;
};

const toRequest = (event: ApiEvent): ApiRequest => {
  const access = ACCESS_BY_ROUTE.get(event.routeKey);
  if (!access) throw new NotFoundError('No such route');
  const claims = (event.requestContext.authorizer?.jwt?.claims ?? {}) as Record<string, unknown>;
  const groups = parseGroups(claims['cognito:groups']);
  if (access !== 'public') {
    // an access token only: the authorizer's audience check also lets the app client's ID token through
    if (!claims.sub || claims.token_use !== 'access') throw new UnauthorizedError();
    if (!groups.some((g) => STAFF_GROUPS.includes(g))) throw new ForbiddenError();
    if (access === 'supervisor' && !groups.includes('supervisors')) throw new ForbiddenError('Only supervisors can do this');
  }
  const actor: Actor = claims.sub
    ? { kind: 'staff', sub: String(claims.sub), username: String(claims.username ?? claims['cognito:username'] ?? '') }
    : { kind: 'patient' };

  let parsed: unknown;
  if (event.requestContext.http.method === 'POST') {
    const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
    const type = (event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new UnsupportedMediaTypeError();
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ValidationError('The body is not valid JSON');
    }
    // "\ud800" is valid JSON but not text: DynamoDB would refuse it later as a 5xx
    if (!wellFormed(parsed)) throw new ValidationError('The body holds text that is not valid Unicode (a lone surrogate)');
  }
  return {
    routeKey: event.routeKey,
    params: event.pathParameters ?? {},
    query: event.queryStringParameters ?? {},
    headers: event.headers,
    json: parsed,
    actor,
    groups,
  };
};

const errorMapper = (): MiddlewareObj<ApiEvent, APIGatewayProxyStructuredResultV2> => ({
  onError: (request) => {
    const err = request.error;
    if (err instanceof AppError) {
      logger.info('request rejected', { routeKey: request.event.routeKey, status: err.statusCode, code: err.code });
      const body: Record<string, unknown> = { error: err.code, message: err.message };
      if (err instanceof ValidationError && err.fields) body.fields = err.fields;
      request.response = json(err.statusCode, body);
      return;
    }
    // names and codes only: a message could quote data
    logger.error('request failed', { routeKey: request.event.routeKey, errorName: err?.name });
    request.response = json(500, {
      error: 'InternalError',
      message: 'Something went wrong on our side; nothing was lost, please try again',
    });
  },
});

/** wraps an API handler: `main` gets a checked request and returns a status and a JSON body */
export const api = (main: (req: ApiRequest, context: Context) => Promise<ApiResult>) =>
  middy<ApiEvent, APIGatewayProxyStructuredResultV2>()
    .use(observability())
    .use(errorMapper())
    .handler(async (event, context) => {
      logger.resetKeys();
      logger.appendKeys({ requestId: event.requestContext.requestId });
      const result = await main(toRequest(event), context);
      const cache = result.statusCode === 200 ? CACHEABLE_ROUTES.get(event.routeKey) : undefined;
      return json(result.statusCode, result.body, result.headers, cache);
    });
