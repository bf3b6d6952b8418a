import * as z from 'zod';

// which sign-in the console uses: /console/config.json — { "auth": "local" } from the web build for
// the local runtime (so no load asks for a missing file), the Cognito settings when deployed

const ConfigSchema = z.discriminatedUnion('auth', [
  z.object({ auth: z.literal('local') }),
  z.object({
    auth: z.literal('cognito'),
    /** managed login domain, e.g. https://iop.auth.us-east-1.amazoncognito.com */
    domain: z.url().transform((u) => u.replace(/\/+$/, '')),
    clientId: z.string().min(1),
    /** the console's own URL, registered as a callback URL on the app client */
    redirectUri: z.url(),
    /** where Cognito sends the browser after sign-out; defaults to redirectUri */
    logoutUri: z.url().optional(),
    scopes: z.string().default('openid email profile'),
  }),
]);

export type ConsoleConfig = z.infer<typeof ConfigSchema>;
export type CognitoConfig = Extract<ConsoleConfig, { auth: 'cognito' }>;

/** fetches ./config.json next to index.html; absent (404) means local sign-in, invalid fails loudly */
export async function loadConfig(): Promise<ConsoleConfig> {
  let res: Response;
  try {
    res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return { auth: 'local' };
  }
  // absent: 404, or a server that answers unknown paths with an HTML page
  if (res.status === 404 || (res.ok && !(res.headers.get('content-type') ?? '').includes('json'))) return { auth: 'local' };
  if (!res.ok) throw new Error(`config.json answered ${res.status}`);
  const parsed = ConfigSchema.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(`config.json is invalid: ${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`);
  return parsed.data;
}
