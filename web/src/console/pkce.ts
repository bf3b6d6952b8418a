// PKCE (RFC 7636) helpers with WebCrypto: code_verifier, S256 code_challenge, opaque state

const base64url = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** 32 random bytes → 43 characters from the unreserved set, as RFC 7636 §4.1 asks */
export const randomToken = (bytes = 32): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/** BASE64URL(SHA256(ASCII(code_verifier))) — RFC 7636 §4.2 */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
