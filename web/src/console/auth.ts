import type { CognitoConfig, ConsoleConfig } from './config';
import { codeChallenge, randomToken } from './pkce';

// staff sign-in. Two implementations behind one interface, chosen by config.json:
//  - local: POST /local/auth/login against the local runtime's token issuer
//  - cognito: managed login, authorization code + PKCE (untested here: no Cognito is reachable
//    from this workplace; it follows RFC 7636 and the Cognito /oauth2 endpoints as documented)
// The access token lives in memory and in sessionStorage (survives a reload of this tab, gone when
// the tab closes); never in localStorage, never in a URL. Nothing else the console shows is stored.
// A new tab of the same console (a referral opened in a new tab) asks the open tabs for their
// session over a BroadcastChannel (same origin only, nothing persisted); signing out in one tab
// signs out every tab.

export interface Session {
  accessToken: string;
  /** epoch ms */
  expiresAt: number;
  username: string;
  groups: string[];
}

export interface AuthProvider {
  readonly mode: ConsoleConfig['auth'];
  /** finishes a sign-in redirect when the URL carries one; restores a session of this tab */
  init(): Promise<void>;
  session(): Session | null;
  /** local only: username and password */
  signInWithPassword(username: string, password: string): Promise<SignInResult>;
  /** cognito only: leaves the page for the managed login */
  redirectToSignIn(): Promise<void>;
  signOut(): void;
  /** drop the session (expired or refused by the API) without leaving the page */
  expire(): void;
  onChange(listener: (s: Session | null, reason: ChangeReason) => void): void;
}

type ChangeReason = 'signed-in' | 'signed-out' | 'expired';
type SignInResult = { ok: true } | { ok: false; message: string };

const SESSION_KEY = 'iop-console.session';
const CHANNEL_NAME = 'iop-console.session';
/** how long a new tab waits for an open tab to hand over its session */
const HANDOVER_MS = 300;

type ChannelMessage = { type: 'request' } | { type: 'session'; session: Session } | { type: 'signed-out' };

const isSession = (s: unknown): s is Session =>
  !!s &&
  typeof s === 'object' &&
  typeof (s as Session).accessToken === 'string' &&
  typeof (s as Session).expiresAt === 'number' &&
  typeof (s as Session).username === 'string' &&
  Array.isArray((s as Session).groups);
const RETURN_KEY = 'iop-console.return';
const PKCE_KEY = 'iop-console.pkce';
/** sign out a little early so a request never leaves with a token about to expire */
const SKEW_MS = 15_000;

/** reads the (unverified) JWT claims for display and role hints; the server verifies the token */
function claimsOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const sessionFrom = (accessToken: string, expiresInSeconds: number): Session => {
  const claims = claimsOf(accessToken);
  const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'].filter((g): g is string => typeof g === 'string') : [];
  const username = [claims.username, claims['cognito:username'], claims.sub].find((v): v is string => typeof v === 'string') ?? 'staff';
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
  return { accessToken, expiresAt: Math.min(Date.now() + expiresInSeconds * 1000, exp), username, groups };
};

/** the hash to come back to after signing in (hashes hold only view names and referral IDs) */
const rememberReturn = (hash: string): void => sessionStorage.setItem(RETURN_KEY, hash);
const takeReturn = (): string | null => {
  const h = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return h;
};

abstract class BaseAuth {
  private current: Session | null = null;
  private timer: number | undefined;
  private listeners: Array<(s: Session | null, r: ChangeReason) => void> = [];
  private readonly channel: BroadcastChannel | null = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : null;

  constructor() {
    this.channel?.addEventListener('message', (e: MessageEvent<ChannelMessage>) => {
      const m = e.data;
      const mine = m?.type === 'request' ? this.session() : null;
      if (mine) this.channel?.postMessage({ type: 'session', session: mine } satisfies ChannelMessage);
      // another tab signed out: so does this one (nothing of the session stays on screen)
      if (m?.type === 'signed-out' && this.current) this.set(null, 'signed-out');
    });
  }

  /** a tab without a session of its own asks the open tabs of this console for theirs */
  protected async joinOpenTabs(): Promise<void> {
    const channel = this.channel;
    if (this.current || !channel) return;
    const handed = await new Promise<Session | null>((resolve) => {
      const done = (s: Session | null) => {
        window.clearTimeout(timer);
        channel.removeEventListener('message', onMessage);
        resolve(s);
      };
      const onMessage = (e: MessageEvent<ChannelMessage>) => {
        if (e.data?.type === 'session' && isSession(e.data.session) && e.data.session.expiresAt - SKEW_MS > Date.now())
          done(e.data.session);
      };
      const timer = window.setTimeout(() => done(null), HANDOVER_MS);
      channel.addEventListener('message', onMessage);
      channel.postMessage({ type: 'request' } satisfies ChannelMessage);
    });
    if (handed && !this.current) this.set(handed, null);
  }

  /** tells the other tabs to sign out too */
  protected broadcastSignOut(): void {
    this.channel?.postMessage({ type: 'signed-out' } satisfies ChannelMessage);
  }

  protected restore(): void {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return;
    try {
      const s = JSON.parse(raw) as Session;
      if (typeof s.accessToken === 'string' && s.expiresAt - SKEW_MS > Date.now()) this.set(s, null);
      else sessionStorage.removeItem(SESSION_KEY);
    } catch {
      sessionStorage.removeItem(SESSION_KEY);
    }
  }

  protected set(s: Session | null, reason: ChangeReason | null): void {
    window.clearTimeout(this.timer);
    this.current = s;
    if (s) {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
      const ms = s.expiresAt - SKEW_MS - Date.now();
      // setTimeout overflows past 2^31 ms; a token that long-lived is re-checked on each request anyway
      if (ms < 2 ** 31 - 1) this.timer = window.setTimeout(() => this.expire(), Math.max(0, ms));
    } else {
      sessionStorage.removeItem(SESSION_KEY);
    }
    if (reason) for (const l of this.listeners) l(s, reason);
  }

  session(): Session | null {
    if (this.current && this.current.expiresAt - SKEW_MS <= Date.now()) this.expire();
    return this.current;
  }

  expire(): void {
    if (this.current) this.set(null, 'expired');
  }

  onChange(listener: (s: Session | null, reason: ChangeReason) => void): void {
    this.listeners.push(listener);
  }
}

class LocalAuth extends BaseAuth implements AuthProvider {
  readonly mode = 'local' as const;

  async init(): Promise<void> {
    this.restore();
    await this.joinOpenTabs();
  }

  async signInWithPassword(username: string, password: string): Promise<SignInResult> {
    let res: Response;
    try {
      res = await fetch('/local/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
        credentials: 'omit',
      });
    } catch {
      return { ok: false, message: 'Could not reach the sign-in service. Check that the local runtime is running.' };
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) return { ok: false, message: 'Wrong username or password.' };
    if (!res.ok) return { ok: false, message: `Sign-in failed (HTTP ${res.status}). Try again.` };
    const body = (await res.json()) as { accessToken?: unknown; expiresIn?: unknown };
    if (typeof body.accessToken !== 'string') return { ok: false, message: 'The sign-in service gave no token.' };
    this.set(sessionFrom(body.accessToken, typeof body.expiresIn === 'number' ? body.expiresIn : 3600), 'signed-in');
    return { ok: true };
  }

  async redirectToSignIn(): Promise<void> {
    throw new Error('local sign-in uses a password form');
  }

  signOut(): void {
    this.set(null, 'signed-out');
    this.broadcastSignOut();
  }
}

interface PkceState {
  state: string;
  verifier: string;
}

// UNTESTED HERE: exercised only against a real Cognito user pool (managed login). The flow is the
// standard authorization code grant with PKCE S256: /oauth2/authorize → ?code&state back on
// redirectUri → POST /oauth2/token (form-encoded, public client: no secret) → access token.
// The deployed CSP must allow `connect-src` to the Cognito domain for the token exchange.
class CognitoAuth extends BaseAuth implements AuthProvider {
  readonly mode = 'cognito' as const;

  constructor(private readonly cfg: CognitoConfig) {
    super();
  }

  async init(): Promise<void> {
    this.restore();
    const url = new URL(window.location.href);
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    const error = url.searchParams.get('error');
    if (!code && !error) {
      await this.joinOpenTabs();
      return;
    }
    // take the code and state out of the address bar (and history) before anything else
    const pending = this.takePkce();
    const back = takeReturn() ?? '';
    window.history.replaceState(null, '', `${url.pathname}${back}`);
    if (error) throw new Error('Sign-in was not completed. Try again.');
    if (!pending || !state || state !== pending.state) throw new Error('Sign-in could not be verified (state mismatch). Try again.');
    const res = await fetch(`${this.cfg.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: this.cfg.clientId,
        code: code ?? '',
        redirect_uri: this.cfg.redirectUri,
        code_verifier: pending.verifier,
      }),
      credentials: 'omit',
    });
    if (!res.ok) throw new Error(`Sign-in failed at the token exchange (HTTP ${res.status}). Try again.`);
    const tokens = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof tokens.access_token !== 'string') throw new Error('Sign-in returned no access token.');
    // the refresh token is deliberately not kept: a new sign-in is required when the access token ends
    this.set(sessionFrom(tokens.access_token, typeof tokens.expires_in === 'number' ? tokens.expires_in : 3600), 'signed-in');
  }

  async signInWithPassword(): Promise<SignInResult> {
    return { ok: false, message: 'Use the organization sign-in.' };
  }

  async redirectToSignIn(): Promise<void> {
    const verifier = randomToken(48);
    const state = randomToken(24);
    const challenge = await codeChallenge(verifier);
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ state, verifier } satisfies PkceState));
    rememberReturn(window.location.hash);
    const authorize = new URL(`${this.cfg.domain}/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.cfg.clientId,
      redirect_uri: this.cfg.redirectUri,
      scope: this.cfg.scopes,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    window.location.assign(authorize.toString());
  }

  signOut(): void {
    this.set(null, 'signed-out');
    this.broadcastSignOut();
    const logout = new URL(`${this.cfg.domain}/logout`);
    logout.search = new URLSearchParams({
      client_id: this.cfg.clientId,
      logout_uri: this.cfg.logoutUri ?? this.cfg.redirectUri,
    }).toString();
    window.location.assign(logout.toString());
  }

  private takePkce(): PkceState | null {
    const raw = sessionStorage.getItem(PKCE_KEY);
    sessionStorage.removeItem(PKCE_KEY);
    if (!raw) return null;
    try {
      const p = JSON.parse(raw) as PkceState;
      return typeof p.state === 'string' && typeof p.verifier === 'string' ? p : null;
    } catch {
      return null;
    }
  }
}

export const createAuth = (cfg: ConsoleConfig): AuthProvider => (cfg.auth === 'cognito' ? new CognitoAuth(cfg) : new LocalAuth());

export const isSupervisor = (s: Session | null): boolean => !!s?.groups.includes('supervisors');
