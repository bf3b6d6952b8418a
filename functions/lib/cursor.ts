import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';
import { KEY_ATTRIBUTES as KEY_NAMES } from './keys';

/**
 * Opaque page cursors: the table key a query stopped at, bound to that query and signed.
 *
 * `<payload>.<mac>`, both base64url; payload = JSON `{ k: <last evaluated key>, q: <query binding> }`,
 * mac = HMAC-SHA256(secret, payload). A cursor from another query (other status or search text), a
 * tampered or a foreign one is refused with 400 `InvalidCursor` before anything reaches DynamoDB.
 * The secret comes from config (CURSOR_SECRET; on AWS a generated secret the stack injects); without
 * one, a random per-process key is used — fine for the single-process local runtime only.
 */

type Key = Record<string, string>;

const KEY_ATTRIBUTES = new Set(KEY_NAMES);
const fallbackSecret = randomBytes(32).toString('hex');

const invalid = () =>
  new ValidationError(
    'That page cursor is not valid for this list; start from the first page',
    { cursor: ['Not a cursor this list gave out'] },
    'InvalidCursor',
  );

const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret || fallbackSecret)
    .update(payload)
    .digest();

/** what the cursor is bound to: every query parameter that shapes the result set */
const binding = (query: Record<string, string | undefined>): string =>
  Object.keys(query)
    .sort()
    .map((k) => `${k}=${query[k] ?? ''}`)
    .join('&');

export const encodeCursor = (secret: string, key: Key | undefined, query: Record<string, string | undefined>): string | undefined => {
  if (!key) return undefined;
  const payload = Buffer.from(JSON.stringify({ k: key, q: binding(query) })).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
};

export const decodeCursor = (secret: string, cursor: string | undefined, query: Record<string, string | undefined>): Key | undefined => {
  if (!cursor) return undefined;
  const [payload, signature, extra] = cursor.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid();
  const expected = mac(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let parsed: { k?: unknown; q?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (parsed.q !== binding(query)) throw invalid();
  const k = parsed.k;
  if (!k || typeof k !== 'object' || !Object.entries(k).every(([a, v]) => KEY_ATTRIBUTES.has(a) && typeof v === 'string' && v.length < 512))
    throw invalid();
  return k as Key;
};
