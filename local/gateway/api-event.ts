/**
 * HTTP requests as API Gateway (HTTP API, payload format 2.0) hands them to Lambda, and Lambda
 * results as API Gateway reads them: the catalog's routes compiled (most specific first), bodies
 * read with a limit, the v2 event (headers, cookies, query, path parameters, JWT claims flattened
 * the authorizer's way, base64 for non-text bodies), and a handler's result turned into a reply.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Access, FunctionSpec } from '../../functions/catalog';
import { jsonReply, type Reply } from './reply';

/** larger bodies answer 413 here; handlers enforce their own, smaller, documented limit */
export const MAX_REQUEST_BYTES = 1024 * 1024;

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

export interface CompiledRoute {
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

/** past this much we stop draining and drop the connection */
const DRAIN_CAP_BYTES = 32 * MAX_REQUEST_BYTES;

/**
 * Reads the whole body; past `limit` it keeps reading and dropping (so the client, still sending,
 * receives the 413 instead of a reset) and reports `tooLarge`.
 */
export const readBody = (req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> =>
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
const apiGatewayClaims = (payload: Record<string, unknown>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) out[k] = `[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ')}]`;
    else if (typeof v === 'object') out[k] = JSON.stringify(v);
    else out[k] = String(v);
  }
  return out;
};

/** the v2 event of a request to `route`; `claims` are the verified token's, handed over the authorizer's way */
export const toApiEvent = (
  req: IncomingMessage,
  method: string,
  route: CompiledRoute,
  rawPath: string,
  rawQueryString: string,
  body: Buffer,
  requestId: string,
  claims: Record<string, unknown> | undefined,
  accountId: string,
): APIGatewayProxyEventV2 => {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
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
      accountId,
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
};

/** API Gateway's reading of a Lambda result (payload format 2.0) */
export const fromLambdaResult = (result: unknown, label: string, log?: (line: string) => void): Reply => {
  const structured = result !== null && typeof result === 'object' && !Array.isArray(result) && 'statusCode' in result;
  if (!structured) {
    // any other value is the body of a 200 JSON response (a string is sent as is)
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: typeof result === 'string' ? result : JSON.stringify(result ?? null),
      label,
    };
  }
  const r = result as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    body?: unknown;
    isBase64Encoded?: unknown;
    cookies?: unknown;
  };
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
    log?.(`malformed Lambda response for ${label}`);
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
};
