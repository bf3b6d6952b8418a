// a small typed JSON client for the API (docs/ARCHITECTURE.md §3). errors come back as values, not throws, so
// callers handle every case: ok, an API error body, or no answer at all (network down).

/** the API's error body: `{ error, message, fields? }`, `fields` keyed by dotted paths */
interface ApiErrorBody {
  error: string;
  message: string;
  fields?: Record<string, string[]>;
}

/** what {@link readResponse} needs from a response: `fetch`'s Response fits, so does a test double */
export interface ResponseLike {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  /** the server answered with an error status; `body` is null when it was not the API's shape */
  | { ok: false; status: number; body: ApiErrorBody | null; network: false }
  /** no answer: offline, DNS, connection reset, aborted. status is 0 */
  | { ok: false; status: 0; body: null; network: true };

const isApiErrorBody = (v: unknown): v is ApiErrorBody => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.error !== 'string' || typeof o.message !== 'string') return false;
  if (o.fields === undefined) return true;
  if (typeof o.fields !== 'object' || o.fields === null) return false;
  return Object.values(o.fields).every((m) => Array.isArray(m) && m.every((s) => typeof s === 'string'));
};

/** turns a response into an {@link ApiResult}; a body that is not JSON is treated as no body */
export const readResponse = async <T>(res: ResponseLike): Promise<ApiResult<T>> => {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: body as T };
  return { ok: false, status: res.status, body: isApiErrorBody(body) ? body : null, network: false };
};

export interface RequestOptions {
  /** Bearer token for /api/staff/* */
  token?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const NETWORK_ERROR = { ok: false, status: 0, body: null, network: true } as const;

/** a JSON request; never throws for HTTP or network failures */
export const requestJson = async <T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<ApiResult<T>> => {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch {
    return NETWORK_ERROR;
  }
  return readResponse<T>(res);
};

/**
 * A random UUID v4 for an `Idempotency-Key`. `crypto.randomUUID` exists only in secure contexts
 * (https, localhost); elsewhere the same thing is built from `getRandomValues`.
 */
export const newIdempotencyKey = (): string => {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
