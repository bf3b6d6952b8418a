/** what the gateway answers, before the security headers are added (../gateway.ts sends it) */

export interface Reply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body?: Buffer | string;
  /** what the log line names: a route key, a file, or a short tag — never user data */
  label: string;
  /** a file of the embeddable page: EMBED_SECURITY_HEADERS instead of SECURITY_HEADERS */
  embed?: boolean;
}

/** the gateway's and the issuer's own JSON answers: never stored by a browser or a proxy */
export const jsonReply = (statusCode: number, body: unknown, label: string, headers: Record<string, string> = {}): Reply => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
  label,
});

/** the WAF's 429, as the local gateway answers it (the API's error shape and when to come back) */
export const tooManyRequests = (retryAfter: number, label: string): Reply =>
  jsonReply(
    429,
    { error: 'TooManyRequests', message: `Too many requests from this address; try again in ${retryAfter} seconds` },
    `${label} (rate limited)`,
    {
      'retry-after': String(retryAfter),
    },
  );
