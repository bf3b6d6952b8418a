import { afterEach, describe, expect, test } from '@jest/globals';
import {
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { base32Decode, cognitoAccessToken, testUserFromEnv, totp } from '../../../ops/staff-token';

// the smoke test's staff token: a Cognito test user signed in through the admin API, with the
// pool's required TOTP answered from the authenticator secret (mocked Cognito, fixed times)

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits
  const secret = Buffer.from('12345678901234567890');
  test.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ])('at %i s the code is %s', (seconds, code) => {
    expect(totp(secret, seconds * 1000, 8)).toBe(code);
  });

  test('six digits, as authenticator apps show them, and base32 secrets as they are handed out', () => {
    expect(totp(secret, 59_000)).toBe('287082');
    expect(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')).toEqual(secret);
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(secret);
    expect(() => base32Decode('not base32!')).toThrow(/not base32/);
  });
});

describe('the Cognito test user', () => {
  const cognito = mockClient(CognitoIdentityProviderClient);
  afterEach(() => {
    cognito.reset();
  });
  const user = {
    userPoolId: 'us-east-1_Abc',
    clientId: 'client-1',
    username: 'smoke@iop.example',
    password: 'Correct-horse-9!',
    totpSecret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  };

  test('signs in with ADMIN_USER_PASSWORD_AUTH and answers the TOTP challenge with the current code', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'session-1' });
    cognito.on(AdminRespondToAuthChallengeCommand).resolves({ AuthenticationResult: { AccessToken: 'access-token' } });

    const token = await cognitoAccessToken(new CognitoIdentityProviderClient({ region: 'us-east-1' }), user, () => 59_000);

    expect(token).toBe('access-token');
    expect(cognito.commandCalls(AdminInitiateAuthCommand)[0]!.args[0].input).toEqual({
      UserPoolId: 'us-east-1_Abc',
      ClientId: 'client-1',
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: 'smoke@iop.example', PASSWORD: 'Correct-horse-9!' },
    });
    expect(cognito.commandCalls(AdminRespondToAuthChallengeCommand)[0]!.args[0].input).toMatchObject({
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'session-1',
      ChallengeResponses: { USERNAME: 'smoke@iop.example', SOFTWARE_TOKEN_MFA_CODE: '287082' },
    });
  });

  test('a user that never finished its first sign-in is told what to do', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' });
    await expect(cognitoAccessToken(new CognitoIdentityProviderClient({ region: 'us-east-1' }), user, () => 0)).rejects.toThrow(
      /NEW_PASSWORD_REQUIRED: sign the test user in once in the console/,
    );
  });

  test('from SMOKE_* variables: all or none', () => {
    expect(testUserFromEnv({})).toBeUndefined();
    expect(
      testUserFromEnv({ SMOKE_USER_POOL_ID: 'p', SMOKE_CLIENT_ID: 'c', SMOKE_USERNAME: 'u', SMOKE_PASSWORD: 'pw', SMOKE_TOTP_SECRET: 's' }),
    ).toEqual({ userPoolId: 'p', clientId: 'c', username: 'u', password: 'pw', totpSecret: 's' });
    expect(() => testUserFromEnv({ SMOKE_USERNAME: 'u' })).toThrow(
      /missing: SMOKE_USER_POOL_ID, SMOKE_CLIENT_ID, SMOKE_PASSWORD, SMOKE_TOTP_SECRET/,
    );
  });
});
