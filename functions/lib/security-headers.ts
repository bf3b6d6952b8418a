// the browser-facing security headers, one definition for CloudFront's response headers policies
// (infra/constructs/web.ts) and the local gateway (local/gateway.ts), so the browser tests run under
// the policy production sends

/**
 * CSP of both apps (intake form, staff console): everything from this origin, tokens exchanged with
 * the Cognito domain; no inline script or style, no framing, no <base>, forms post only here
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.amazoncognito.com; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The one page any site may frame: the open-seats widget for referrers' sites (web/src/availability).
 * It holds no PHI, sets no cookie, reads only GET /api/availability and has nothing to click but a
 * link that opens the intake form in a new tab, so framing it cannot be used against anyone. Every
 * other path keeps `frame-ancestors 'none'` and X-Frame-Options DENY.
 */
export const EMBED_PATH_PREFIX = '/availability/';
export const EMBED_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'";

export const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=()';

/** every header of the apps' policy but HSTS (CloudFront adds it; the local gateway speaks plain http) */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'permissions-policy': PERMISSIONS_POLICY,
};

/** the embeddable page's: no X-Frame-Options, its own CSP */
export const EMBED_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': EMBED_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': PERMISSIONS_POLICY,
};
