/**
 * The local token issuer: a stand-in for the Cognito user pool that exists only in the local runtime.
 *
 * - An RSA key pair generated at start (never written anywhere); its public half is served as a JWKS
 *   at `<issuer>/jwks.json` (and `<issuer>/.well-known/jwks.json`, where Cognito publishes it).
 * - `POST /local/auth/login { username, password }` → `{ accessToken, expiresIn }`: an RS256 JWT
 *   shaped like a Cognito access token (`sub`, `username`, `client_id`, `token_use: 'access'`,
 *   `cognito:groups` only when the user has groups, `scope`, `iat`/`exp`/`auth_time`, `jti`, `kid`).
 * - `verify()` applies the checks of an API Gateway HTTP API JWT authorizer, with aws-jwt-verify:
 *   signature against the JWKS (hydrated from memory, no network round trip), `exp`/`nbf`, `iss`,
 *   `iat` not in the future, and `aud` or `client_id` equal to the app client; and it takes access
 *   tokens only (`token_use: 'access'`): an ID token of the same client is refused, as the authorizer
 *   does once the routes name authorization scopes (ID tokens carry no `scope`).
 *
 * Demo users: casey (case-workers), sam (case-workers, supervisors), pat (no group; authenticates but
 * every staff handler answers 403). Password `demo`, or `LOCAL_DEMO_PASSWORD`. Token lifetime 1 h, or
 * `LOCAL_TOKEN_TTL_SECONDS`.
 */
import { createHash, generateKeyPair, randomUUID, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

/** the app client the local console signs in with (`client_id` claim; the authorizer's audience) */
const LOCAL_CLIENT_ID = 'iop-local-staff-console';

export interface DemoUser {
  username: string;
  groups: readonly string[];
  description: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'casey', groups: ['case-workers'], description: 'case worker' },
  { username: 'sam', groups: ['case-workers', 'supervisors'], description: 'case worker and supervisor' },
  { username: 'pat', groups: [], description: 'no group: staff calls answer 403' },
];

const DEFAULT_PASSWORD = 'demo';
const DEFAULT_TTL_SECONDS = 3600;
/** a login body is two short strings */
const MAX_LOGIN_BYTES = 4096;

interface AuthResponse {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
}

type VerifyResult = { ok: true; claims: JwtPayload } | { ok: false; reason: 'missing' | 'invalid' };

interface IssueOptions {
  /** seconds; default the issuer's TTL */
  ttlSeconds?: number;
  /** epoch seconds used as `iat`/`auth_time`; default now (tests use it to mint expired tokens) */
  issuedAt?: number;
  /** `id` mints a Cognito-shaped ID token (`aud`, `token_use: 'id'`, no `scope`) — for tests: it must not pass */
  tokenUse?: 'access' | 'id';
  /** tests: claims added or replaced last (undefined removes one), e.g. another `iss` or `client_id` */
  claims?: Record<string, unknown>;
}

export interface LocalAuth {
  /** `<appUrl>/local/auth`, the `iss` of every token */
  readonly issuer: string;
  readonly clientId: string;
  readonly ttlSeconds: number;
  readonly jwks: Jwks;
  /** mints an access token for a demo user (login does this after checking the password) */
  issueToken(username: string, options?: IssueOptions): string;
  /** checks an `Authorization` header value like an HTTP API JWT authorizer */
  verify(authorization: string | undefined): VerifyResult;
  /** answers `/local/auth/*` requests; undefined when the path is not the issuer's */
  handle(method: string, path: string, body: Buffer): AuthResponse | undefined;
}

export interface LocalAuthOptions {
  /** `<appUrl>/local/auth` */
  issuer: string;
  /** default `LOCAL_TOKEN_TTL_SECONDS` or 3600 */
  ttlSeconds?: number;
  /** default `LOCAL_DEMO_PASSWORD` or `demo` */
  password?: string;
  /** a key pair made earlier (the runtime makes it in parallel with the other parts) */
  keyPair?: Promise<RsaKeyPair> | RsaKeyPair;
}

export interface RsaKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export const generateRsaKeyPair = (): Promise<RsaKeyPair> =>
  new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ publicKey, privateKey }),
    );
  });

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

/** a stable UUID per username, so `sub` survives restarts (events recorded with --persist stay attributable) */
const stableSub = (username: string): string => {
  const h = createHash('sha256').update(`iop-local-user:${username}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 layout (name-based)
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
};

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** RFC 7638 thumbprint of an RSA public JWK: a deterministic `kid` */
const thumbprint = (jwk: { e?: string; n?: string }) =>
  b64url(
    createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
      .digest(),
  );

const ttlFromEnv = (): number => {
  const raw = process.env.LOCAL_TOKEN_TTL_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_TTL_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error('LOCAL_TOKEN_TTL_SECONDS must be a positive whole number of seconds');
  return n;
};

const json = (statusCode: number, body: unknown, headers?: Record<string, string>): AuthResponse => ({
  statusCode,
  body,
  ...(headers ? { headers } : {}),
});

export async function createLocalAuth(options: LocalAuthOptions): Promise<LocalAuth> {
  const issuer = options.issuer.replace(/\/+$/, '');
  const ttlSeconds = options.ttlSeconds ?? ttlFromEnv();
  const expected = digest(options.password ?? (process.env.LOCAL_DEMO_PASSWORD || DEFAULT_PASSWORD));
  const { privateKey, publicKey } = await (options.keyPair ?? generateRsaKeyPair());
  const publicJwk = publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
  const kid = thumbprint(publicJwk);
  const jwks: Jwks = { keys: [{ kty: 'RSA', n: publicJwk.n, e: publicJwk.e, alg: 'RS256', use: 'sig', kid }] };
  const users = new Map(DEMO_USERS.map((u) => [u.username, { ...u, sub: stableSub(u.username) }]));

  // what an HTTP API JWT authorizer checks: signature, exp/nbf, iss, and aud or client_id in the
  // configured audience (Cognito access tokens carry client_id, not aud); iat must not be in the future
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const verifier = JwtVerifier.create({
    issuer,
    audience: null,
    jwksUri,
    customJwtCheck: ({ payload }) => {
      const audience = payload.aud ?? payload.client_id;
      const audiences = Array.isArray(audience) ? audience : [audience];
      if (!audiences.includes(LOCAL_CLIENT_ID)) throw new Error('token is not for this app client');
      if (payload.token_use !== 'access') throw new Error('not an access token');
      if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000) + 1) throw new Error('token issued in the future');
    },
  });
  verifier.cacheJwks(jwks);

  const issueToken = (username: string, issue: IssueOptions = {}): string => {
    const user = users.get(username);
    if (!user) throw new Error(`no demo user ${username}`);
    const iat = issue.issuedAt ?? Math.floor(Date.now() / 1000);
    const ttl = issue.ttlSeconds ?? ttlSeconds;
    const header = { kid, alg: 'RS256', typ: 'JWT' };
    const groups = user.groups.length ? { 'cognito:groups': [...user.groups] } : {};
    const payload: Record<string, unknown> =
      issue.tokenUse === 'id'
        ? {
            sub: user.sub,
            ...groups,
            iss: issuer,
            'cognito:username': user.username,
            origin_jti: randomUUID(),
            aud: LOCAL_CLIENT_ID,
            event_id: randomUUID(),
            token_use: 'id',
            auth_time: iat,
            exp: iat + ttl,
            iat,
            jti: randomUUID(),
          }
        : {
            sub: user.sub,
            ...groups,
            iss: issuer,
            version: 2,
            client_id: LOCAL_CLIENT_ID,
            origin_jti: randomUUID(),
            event_id: randomUUID(),
            token_use: 'access',
            scope: 'aws.cognito.signin.user.admin',
            auth_time: iat,
            exp: iat + ttl,
            iat,
            jti: randomUUID(),
            username: user.username,
          };
    for (const [k, v] of Object.entries(issue.claims ?? {})) {
      if (v === undefined) delete payload[k];
      else payload[k] = v;
    }
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
  };

  const verify = (authorization: string | undefined): VerifyResult => {
    if (!authorization?.trim()) return { ok: false, reason: 'missing' };
    // the authorizer reads the token from the Authorization header, with or without "Bearer "
    const token = authorization.trim().replace(/^Bearer\s+/i, '');
    try {
      return { ok: true, claims: verifier.verifySync(token) };
    } catch {
      return { ok: false, reason: 'invalid' };
    }
  };

  const login = (body: Buffer): AuthResponse => {
    if (body.length > MAX_LOGIN_BYTES) return json(413, { error: 'PayloadTooLarge', message: 'The sign-in request is too large' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return json(400, { error: 'BadRequest', message: 'The body is not valid JSON' });
    }
    const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string') {
      return json(400, { error: 'BadRequest', message: 'username and password are required strings' });
    }
    // compare digests in constant time, and do it for unknown users too (no user enumeration by timing)
    const passwordOk = timingSafeEqual(digest(password), expected);
    const user = users.get(username);
    if (!user || !passwordOk) return json(401, { error: 'Unauthorized', message: 'Wrong username or password' });
    return json(200, { accessToken: issueToken(username), expiresIn: ttlSeconds, tokenType: 'Bearer' });
  };

  const handle = (method: string, path: string, body: Buffer): AuthResponse | undefined => {
    const sub = path.slice('/local/auth'.length);
    if (sub === '/jwks.json' || sub === '/.well-known/jwks.json') {
      if (method !== 'GET' && method !== 'HEAD')
        return json(405, { error: 'MethodNotAllowed', message: 'Use GET' }, { allow: 'GET, HEAD' });
      return json(200, jwks, { 'cache-control': 'no-store' });
    }
    if (sub === '/login') {
      if (method !== 'POST') return json(405, { error: 'MethodNotAllowed', message: 'Use POST' }, { allow: 'POST' });
      return login(body);
    }
    return undefined;
  };

  return { issuer, clientId: LOCAL_CLIENT_ID, ttlSeconds, jwks, issueToken, verify, handle };
}
