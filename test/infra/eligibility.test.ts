import { describe, expect, test } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { functions as catalog } from '../../functions/catalog';
import { asList, buildTestApp, onlyOne, resourcesOf, statementsOfRole } from './helpers';

// issue 16: the clearinghouse settings flow from context to the handlers under the same names; the
// API key lives in Secrets Manager (never in context or plain environment), readable by the
// functions that need `eligibility:key` only, on that one secret

const CLEARINGHOUSE = {
  eligibilityProvider: 'clearinghouse',
  eligibilityUrl: 'https://clearinghouse.example.org/eligibility/v3',
  providerNpi: '1234567893',
  providerName: 'Example IOP',
};
const EXISTING_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iop/clearinghouse-key-AbC123';

const templateWith = (context: Record<string, unknown>) => Template.fromStack(buildTestApp({ stage: 'prod', context }).stack);

/** the catalog's functions (not CDK's own custom-resource ones) */
const functionsOf = (t: Template) =>
  Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).flatMap(([id, f]) => {
    const spec = catalog.find((s) => s.description === f.Properties?.Description);
    if (!spec) return [];
    return [
      {
        id,
        name: spec.name,
        env: f.Properties!.Environment.Variables as Record<string, unknown>,
        roleId: (f.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      },
    ];
  });

const secretReaders = (t: Template) =>
  functionsOf(t)
    .filter((f) => statementsOfRole(t, f.roleId).some((s) => asList<string>(s.Action).includes('secretsmanager:GetSecretValue')))
    .map((f) => f.name)
    .sort();

const needing = catalog
  .filter((s) => s.needs.includes('eligibility:key'))
  .map((s) => s.name)
  .sort();

describe('the eligibility settings on AWS', () => {
  test('the simulator (default): the provider is named, no key secret, no URL, nobody reads a secret', () => {
    const t = templateWith({});
    for (const f of functionsOf(t)) {
      expect([f.name, f.env.ELIGIBILITY_PROVIDER]).toEqual([f.name, 'simulator']);
      expect(f.env.ELIGIBILITY_URL).toBeUndefined();
      expect(f.env.ELIGIBILITY_API_KEY_SECRET_ARN).toBeUndefined();
    }
    expect(secretReaders(t)).toEqual([]);
  });

  test('the clearinghouse: the stack creates the key secret (ops key); the handlers get its ARN, never a key; only the eligibility:key functions may read it', () => {
    const t = templateWith({ ...CLEARINGHOUSE, eligibilityRetrySeconds: '45', eligibilityTimeoutSeconds: '20' });
    const [secretId, secret] = onlyOne(t, 'AWS::SecretsManager::Secret', (r) => /clearinghouse API key/.test(r.Properties?.Description));
    expect(secret.Properties?.KmsKeyId).toBeDefined();
    expect(secret.Properties?.SecretString).toBeUndefined();
    for (const f of functionsOf(t)) {
      expect(f.env).toMatchObject({
        ELIGIBILITY_PROVIDER: 'clearinghouse',
        ELIGIBILITY_URL: CLEARINGHOUSE.eligibilityUrl,
        ELIGIBILITY_API_KEY_SECRET_ARN: { Ref: secretId },
        ELIGIBILITY_RETRY_SECONDS: '45',
        ELIGIBILITY_TIMEOUT_SECONDS: '20',
        PROVIDER_NPI: CLEARINGHOUSE.providerNpi,
        PROVIDER_NAME: CLEARINGHOUSE.providerName,
      });
      expect(f.env.ELIGIBILITY_API_KEY).toBeUndefined();
    }
    expect(Object.values(t.findOutputs('EligibilityApiKeySecretArn')).map((o) => o.Value)).toEqual([{ Ref: secretId }]);
    expect(needing).toContain('check-insurance');
    expect(secretReaders(t)).toEqual(needing);
    for (const f of functionsOf(t).filter((x) => needing.includes(x.name))) {
      const read = statementsOfRole(t, f.roleId).filter((s) => asList<string>(s.Action).includes('secretsmanager:GetSecretValue'));
      expect(read.map((s) => s.Resource)).toEqual([{ Ref: secretId }]);
      const decrypt = statementsOfRole(t, f.roleId).find((s) => s.Sid === 'EligibilityKeyDecrypt');
      expect(decrypt?.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.stringMatching(/^secretsmanager\./) } });
    }
  });

  test('an existing secret by its complete ARN: none created, read on that ARN only', () => {
    const t = templateWith({ ...CLEARINGHOUSE, eligibilityApiKeySecretArn: EXISTING_ARN });
    expect(Object.values(resourcesOf(t, 'AWS::SecretsManager::Secret')).map((s) => s.Properties?.Description)).not.toContainEqual(
      expect.stringMatching(/clearinghouse/),
    );
    for (const f of functionsOf(t)) expect(f.env.ELIGIBILITY_API_KEY_SECRET_ARN).toBe(EXISTING_ARN);
    const f = functionsOf(t).find((x) => x.name === 'check-insurance')!;
    const read = statementsOfRole(t, f.roleId).filter((s) => asList<string>(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(read.map((s) => s.Resource)).toEqual([EXISTING_ARN]);
  });

  test.each([
    [{ eligibilityProvider: 'clearinghouse' }, /eligibilityUrl, providerNpi, providerName/],
    [{ ...CLEARINGHOUSE, providerNpi: undefined }, /providerNpi/],
    [{ eligibilityUrl: CLEARINGHOUSE.eligibilityUrl }, /eligibilityProvider/],
    [{ ...CLEARINGHOUSE, eligibilityApiKey: 'sk_live_abc' }, /eligibilityApiKey is refused/],
    [{ ...CLEARINGHOUSE, eligibilityApiKeySecretArn: 'iop/clearinghouse-key' }, /complete ARN/],
    [{ ...CLEARINGHOUSE, eligibilityProvider: 'x12' }, /simulator or clearinghouse/],
    [{ ...CLEARINGHOUSE, eligibilityRetrySeconds: '120' }, /0 to 60/],
    [{ ...CLEARINGHOUSE, eligibilityTimeoutSeconds: '90' }, /1 to 55/],
    [{ ...CLEARINGHOUSE, eligibilityTimeoutSeconds: '40', eligibilityRetrySeconds: '60' }, /at most 110/],
    [{ ...CLEARINGHOUSE, eligibilityUrl: 'http://clearinghouse.example.org/v3' }, /https/],
  ])('synth fails loudly on a half or wrong configuration: %j', (context, message) => {
    expect(() => buildTestApp({ stage: 'prod', context })).toThrow(message);
  });

  test('the refusal names settings, never a value', () => {
    let thrown = '';
    try {
      buildTestApp({ stage: 'prod', context: { ...CLEARINGHOUSE, eligibilityApiKey: 'sk_live_abc' } });
    } catch (e) {
      thrown = (e as Error).message;
    }
    expect(thrown).not.toContain('sk_live_abc');
  });
});
