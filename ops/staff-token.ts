import { createHmac } from 'node:crypto';
import {
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';

/**
 * A staff access token for `npm run smoke`: given as it is (SMOKE_TOKEN), or signed in as a Cognito
 * test user through the IAM-signed admin API (ADMIN_USER_PASSWORD_AUTH, which the console client
 * allows), answering the pool's required TOTP challenge from the user's authenticator secret.
 */

/** RFC 4648 base32 (what authenticator apps are given as the secret) */
export const base32Decode = (text: string): Buffer => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error('the TOTP secret is not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
};

/** RFC 6238 TOTP (HMAC-SHA1, 30 s steps): the code an authenticator app shows at `atMs` */
export const totp = (secret: Buffer, atMs: number, digits = 6, stepSeconds = 30): string => {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / stepSeconds)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(code).padStart(digits, '0');
};

export interface CognitoTestUser {
  userPoolId: string;
  clientId: string;
  username: string;
  password: string;
  /** base32 secret the user's authenticator was set up with (MFA is required in the pool) */
  totpSecret: string;
}

/** signs the test user in and returns its access token (what the console sends) */
export const cognitoAccessToken = async (
  cognito: CognitoIdentityProviderClient,
  user: CognitoTestUser,
  nowMs: () => number,
): Promise<string> => {
  const started = await cognito.send(
    new AdminInitiateAuthCommand({
      UserPoolId: user.userPoolId,
      ClientId: user.clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
    }),
  );
  if (started.AuthenticationResult?.AccessToken) return started.AuthenticationResult.AccessToken;
  if (started.ChallengeName !== 'SOFTWARE_TOKEN_MFA') {
    throw new Error(
      `Cognito asked for ${started.ChallengeName ?? 'nothing'}: sign the test user in once in the console (new password, authenticator) first`,
    );
  }
  const answered = await cognito.send(
    new AdminRespondToAuthChallengeCommand({
      UserPoolId: user.userPoolId,
      ClientId: user.clientId,
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: started.Session,
      ChallengeResponses: { USERNAME: user.username, SOFTWARE_TOKEN_MFA_CODE: totp(base32Decode(user.totpSecret), nowMs()) },
    }),
  );
  const token = answered.AuthenticationResult?.AccessToken;
  if (!token) throw new Error(`Cognito did not return a token after MFA (${answered.ChallengeName ?? 'no challenge'})`);
  return token;
};

/** the Cognito test user from SMOKE_* variables, when all are set */
export const testUserFromEnv = (env: NodeJS.ProcessEnv): CognitoTestUser | undefined => {
  const names = {
    userPoolId: 'SMOKE_USER_POOL_ID',
    clientId: 'SMOKE_CLIENT_ID',
    username: 'SMOKE_USERNAME',
    password: 'SMOKE_PASSWORD',
    totpSecret: 'SMOKE_TOTP_SECRET',
  } as const;
  const missing = Object.values(names).filter((name) => !env[name]);
  if (missing.length === Object.keys(names).length) return undefined;
  if (missing.length) throw new Error(`the Cognito test user needs ${Object.values(names).join(', ')} (missing: ${missing.join(', ')})`);
  return Object.fromEntries(Object.entries(names).map(([key, name]) => [key, env[name]!])) as unknown as CognitoTestUser;
};
