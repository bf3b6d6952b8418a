import { beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { functions as catalog, STATE_MACHINE_NAME } from '../../functions/catalog';
import { tableDefinition } from '../../functions/lib/keys';
import { CONTENT_SECURITY_POLICY } from '../../functions/lib/security-headers';
import { PUBLIC_ROUTES } from '../../infra/constructs/api';
import { INTAKE_PATH } from '../../infra/constructs/protection';
import { REPO_ROOT } from '../../infra/stack';
import { asList, buildTestApp, onlyOne, resourcesOf, statementsOfRole, templateFor } from './helpers';

// managed CloudFront policies by their fixed ids
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

const ENV_KEYS = [
  'TABLE_NAME',
  'STATE_MACHINE_ARN',
  'MAIL_FROM',
  'PROGRAM_EMAIL',
  'PROGRAM_NAME',
  'PROGRAM_PHONE',
  'PROGRAM_TIME_ZONE',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_LOG_LEVEL',
];

let dev: Template;
let prod: Template;

beforeAll(() => {
  dev = templateFor('dev');
  prod = templateFor('prod');
});

/** logical id of the catalog function (matched by its description, which comes from the catalog) */
const functionId = (t: Template, name: string): string => {
  const spec = catalog.find((s) => s.name === name);
  return onlyOne(t, 'AWS::Lambda::Function', (r) => r.Properties?.Description === spec?.description)[0];
};

const roleIdOf = (t: Template, fnId: string): string => {
  const role = resourcesOf(t, 'AWS::Lambda::Function')[fnId]?.Properties?.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
};

const actionsOf = (statements: Array<Record<string, any>>): Set<string> => new Set(statements.flatMap((s) => asList<string>(s.Action)));

describe('data', () => {
  test('the table is encrypted with a rotating customer-managed key, has PITR, TTL and both GSIs from tableDefinition', () => {
    const [, table] = onlyOne(dev, 'AWS::DynamoDB::Table', () => true);
    const p = table.Properties!;
    expect(p.KeySchema).toEqual([
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    const keyId = p.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0] as string;
    expect(resourcesOf(dev, 'AWS::KMS::Key')[keyId]?.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true });
    const gsis = (p.GlobalSecondaryIndexes as Array<Record<string, any>>).map((g) => ({ indexName: g.IndexName, keys: g.KeySchema }));
    expect(gsis).toEqual(
      tableDefinition.globalSecondaryIndexes.map((g) => ({
        indexName: g.indexName,
        keys: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
      })),
    );
  });

  test('an AWS Backup plan selects the table, into a vault under the same key', () => {
    const [tableId, table] = onlyOne(dev, 'AWS::DynamoDB::Table', () => true);
    const [, selection] = onlyOne(dev, 'AWS::Backup::BackupSelection', () => true);
    expect(JSON.stringify(selection.Properties?.BackupSelection?.Resources)).toContain(tableId);
    const [, vault] = onlyOne(dev, 'AWS::Backup::BackupVault', () => true);
    expect(vault.Properties?.EncryptionKeyArn).toEqual(table.Properties?.SSESpecification.KMSMasterKeyId);
  });
});

describe('functions', () => {
  test('one arm64 Node.js (22+) function per catalog entry, each with the full handler environment', () => {
    for (const spec of catalog) {
      const id = functionId(dev, spec.name);
      const p = resourcesOf(dev, 'AWS::Lambda::Function')[id]!.Properties!;
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(p.Handler).toBe('index.handler');
      expect(Object.keys(p.Environment.Variables)).toEqual(expect.arrayContaining(ENV_KEYS));
    }
  });

  test('every function signs page cursors with the same generated key, resolved from Secrets Manager at deploy time (never in the template)', () => {
    const [secretId, secret] = onlyOne(prod, 'AWS::SecretsManager::Secret', () => true);
    expect(secret.Properties?.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret.Properties?.KmsKeyId).toBeDefined();
    for (const spec of catalog) {
      const value = resourcesOf(prod, 'AWS::Lambda::Function')[functionId(prod, spec.name)]!.Properties!.Environment.Variables
        .CURSOR_SECRET;
      expect([spec.name, JSON.stringify(value)]).toEqual([
        spec.name,
        JSON.stringify({ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']] }),
      ]);
    }
  });

  test('each function logs to its own KMS-encrypted log group', () => {
    for (const spec of catalog) {
      const p = resourcesOf(dev, 'AWS::Lambda::Function')[functionId(dev, spec.name)]!.Properties!;
      const groupId = p.LoggingConfig.LogGroup.Ref as string;
      expect(resourcesOf(dev, 'AWS::Logs::LogGroup')[groupId]?.Properties?.KmsKeyId).toBeDefined();
    }
  });

  test('no reserved concurrency by default (a new account cannot reserve any); -c intakeConcurrency caps the public intake only', () => {
    for (const spec of catalog) {
      expect([
        spec.name,
        resourcesOf(prod, 'AWS::Lambda::Function')[functionId(prod, spec.name)]!.Properties!.ReservedConcurrentExecutions,
      ]).toEqual([spec.name, undefined]);
    }
    const capped = Template.fromStack(buildTestApp({ stage: 'prod', context: { intakeConcurrency: 20 } }).stack);
    const reserved = Object.values(resourcesOf(capped, 'AWS::Lambda::Function')).filter(
      (f) => f.Properties?.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved.map((f) => [f.Properties?.Description, f.Properties?.ReservedConcurrentExecutions])).toEqual([
      [catalog.find((s) => s.name === 'submit-intake')!.description, 20],
    ]);
  });

  test('grants follow the catalog needs and nothing more', () => {
    for (const spec of catalog) {
      const statements = statementsOfRole(dev, roleIdOf(dev, functionId(dev, spec.name)));
      const actions = actionsOf(statements);
      const needs = new Set(spec.needs);
      expect([spec.name, actions.has('dynamodb:Query')]).toEqual([spec.name, needs.has('table:read')]);
      expect([spec.name, actions.has('dynamodb:PutItem')]).toEqual([spec.name, needs.has('table:write')]);
      expect([spec.name, actions.has('states:StartExecution')]).toEqual([spec.name, needs.has('workflow:start')]);
      expect([spec.name, actions.has('states:SendTaskSuccess')]).toEqual([spec.name, needs.has('workflow:callback')]);
      expect([spec.name, actions.has('states:StopExecution')]).toEqual([spec.name, needs.has('workflow:stop')]);
      expect([spec.name, actions.has('ses:SendRawEmail')]).toEqual([spec.name, needs.has('email:send')]);
      // no service-wide wildcards
      expect([...actions].filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
    }
  });
});

describe('workflow', () => {
  const stateMachine = () => onlyOne(dev, 'AWS::StepFunctions::StateMachine', () => true);

  test('a STANDARD state machine with a fixed name, logging ALL with execution data, X-Ray on', () => {
    const p = stateMachine()[1].Properties!;
    expect(p.StateMachineType).toBe('STANDARD');
    expect(p.StateMachineName).toBe(`iop-dev-${STATE_MACHINE_NAME}`);
    expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect(p.DefinitionS3Location).toBeDefined();
  });

  test('every catalog aslKey is substituted with its own function ARN', () => {
    const subs = stateMachine()[1].Properties!.DefinitionSubstitutions as Record<string, unknown>;
    const tasks = catalog.filter((s) => s.aslKey);
    expect(Object.keys(subs).sort()).toEqual(tasks.map((s) => s.aslKey).sort());
    for (const spec of tasks) expect(subs[spec.aslKey!]).toEqual({ 'Fn::GetAtt': [functionId(dev, spec.name), 'Arn'] });
  });

  test('the state machine role can invoke exactly the workflow task functions', () => {
    const roleId = (stateMachine()[1].Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const invoke = statementsOfRole(dev, roleId).filter((s) => asList<string>(s.Action).some((a) => a.startsWith('lambda:')));
    expect(invoke.flatMap((s) => asList<string>(s.Action))).toEqual(['lambda:InvokeFunction']);
    const resources = invoke
      .flatMap((s) => asList(s.Resource))
      .map((r) => JSON.stringify(r))
      .sort();
    const expected = catalog
      .filter((s) => s.aslKey)
      .map((s) => JSON.stringify({ 'Fn::GetAtt': [functionId(dev, s.name), 'Arn'] }))
      .sort();
    expect(resources).toEqual(expected);
  });
});

describe('api', () => {
  test('one route per catalog route: JWT on staff and supervisor routes, none on exactly the two public ones', () => {
    const routes = Object.values(resourcesOf(dev, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties!);
    const expected = catalog.flatMap((s) => s.routes ?? []);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(expected.map((r) => `${r.method} ${r.path}`).sort());
    const [authorizerId, authorizer] = onlyOne(dev, 'AWS::ApiGatewayV2::Authorizer', () => true);
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
    expect(JSON.stringify(authorizer.Properties?.JwtConfiguration.Issuer)).toContain('cognito-idp');
    const [clientId] = onlyOne(dev, 'AWS::Cognito::UserPoolClient', () => true);
    expect(authorizer.Properties?.JwtConfiguration.Audience).toEqual([{ Ref: clientId }]);

    const publicKeys: string[] = [];
    for (const route of expected) {
      const key = `${route.method} ${route.path}`;
      const r = routes.find((x) => x.RouteKey === key)!;
      if (route.access === 'public') {
        publicKeys.push(key);
        expect([key, r.AuthorizationType, r.AuthorizerId]).toEqual([key, 'NONE', undefined]);
      } else {
        expect([key, r.AuthorizationType, r.AuthorizerId]).toEqual([key, 'JWT', { Ref: authorizerId }]);
      }
    }
    expect(publicKeys.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  test('the $default stage throttles, throttles the intake harder and writes access logs (no bodies) to a KMS log group', () => {
    const [, stage] = onlyOne(dev, 'AWS::ApiGatewayV2::Stage', () => true);
    const p = stage.Properties!;
    expect(p.StageName).toBe('$default');
    expect(p.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
    expect(p.RouteSettings['POST /api/referrals'].ThrottlingRateLimit).toBeLessThan(p.DefaultRouteSettings.ThrottlingRateLimit);
    const format = JSON.parse(p.AccessLogSettings.Format as string) as Record<string, string>;
    expect(Object.values(format).join(' ')).not.toMatch(/body|requestBody|header\./i);
    const groupId = (p.AccessLogSettings.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resourcesOf(dev, 'AWS::Logs::LogGroup')[groupId]?.Properties?.KmsKeyId).toBeDefined();
  });
});

describe('auth', () => {
  test('no self sign-up, TOTP MFA required, strong passwords, threat protection enforced on the Plus plan', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireSymbols: true, RequireNumbers: true }) },
    });
    const groups = Object.values(resourcesOf(dev, 'AWS::Cognito::UserPoolGroup')).map((g) => g.Properties?.GroupName);
    expect(groups.sort()).toEqual(['case-workers', 'supervisors']);
  });

  test('the console client is public, authorization code only, calling back to the CloudFront console URL', () => {
    const [, client] = onlyOne(dev, 'AWS::Cognito::UserPoolClient', () => true);
    const p = client.Properties!;
    expect(p.GenerateSecret).toBe(false);
    expect(p.AllowedOAuthFlows).toEqual(['code']);
    expect(p.AllowedOAuthFlowsUserPoolClient).toBe(true);
    const [distributionId] = onlyOne(dev, 'AWS::CloudFront::Distribution', () => true);
    expect(p.CallbackURLs).toEqual([{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/console/']] }]);
    onlyOne(dev, 'AWS::Cognito::UserPoolDomain', () => true);
  });
});

describe('web', () => {
  test('no bucket can be public; all are encrypted and refuse plain HTTP', () => {
    const buckets = resourcesOf(dev, 'AWS::S3::Bucket');
    expect(Object.keys(buckets).length).toBeGreaterThanOrEqual(2);
    for (const b of Object.values(buckets)) {
      expect(b.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties?.BucketEncryption).toBeDefined();
    }
    for (const p of Object.values(resourcesOf(dev, 'AWS::S3::BucketPolicy'))) {
      expect(JSON.stringify(p.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  test('CloudFront reads the bucket through origin access control and sends the security headers', () => {
    const [, dist] = onlyOne(dev, 'AWS::CloudFront::Distribution', () => true);
    const cfg = dist.Properties!.DistributionConfig;
    const [oacId] = onlyOne(dev, 'AWS::CloudFront::OriginAccessControl', () => true);
    const s3Origin = (cfg.Origins as Array<Record<string, any>>).find((o) => o.S3OriginConfig);
    expect(s3Origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    // the unframable policy (the open-seats widget has its own: test/infra/web-exceptions.test.ts)
    const policyId = cfg.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref as string;
    const policy = resourcesOf(dev, 'AWS::CloudFront::ResponseHeadersPolicy')[policyId]!;
    expect(policy.Properties?.ResponseHeadersPolicyConfig.SecurityHeadersConfig.FrameOptions).toBeDefined();
    expect(cfg.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    expect(cfg.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(policy.Properties?.ResponseHeadersPolicyConfig.SecurityHeadersConfig).toMatchObject({
      ContentSecurityPolicy: { ContentSecurityPolicy: CONTENT_SECURITY_POLICY, Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: expect.any(Number), IncludeSubdomains: true, Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
    expect(cfg.Logging).toBeDefined();
  });

  test('/api/* goes to the HTTP API uncached, with all viewer headers except Host, over HTTPS', () => {
    const [, dist] = onlyOne(dev, 'AWS::CloudFront::Distribution', () => true);
    const cfg = dist.Properties!.DistributionConfig;
    const api = (cfg.CacheBehaviors as Array<Record<string, any>>).find((b) => b.PathPattern === '/api/*');
    expect(api).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      ViewerProtocolPolicy: 'https-only',
    });
    expect(api?.AllowedMethods).toContain('POST');
    const origin = (cfg.Origins as Array<Record<string, any>>).find((o) => o.Id === api?.TargetOriginId);
    expect(JSON.stringify(origin?.DomainName)).toContain('execute-api');
    expect(origin?.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
  });

  test('synth does not need a built web/dist: the console config.json is still deployed', () => {
    const { stack } = buildTestApp({ webDistDir: '/nonexistent/web/dist' });
    const template = Template.fromStack(stack);
    const [, deployment] = onlyOne(template, 'Custom::CDKBucketDeployment', () => true);
    expect(deployment.Properties?.SourceObjectKeys).toHaveLength(1);
    const [, withDist] = onlyOne(dev, 'Custom::CDKBucketDeployment', () => true);
    // with a build: the files, the intake page with this stage's phone, config.json
    const built = existsSync(join(REPO_ROOT, 'web', 'dist'));
    expect(withDist.Properties?.SourceObjectKeys.length).toBe(
      built ? (existsSync(join(REPO_ROOT, 'web', 'dist', 'intake', 'index.html')) ? 3 : 2) : 1,
    );
  });
});

describe('protection', () => {
  test('a CLOUDFRONT web ACL on the distribution rate-limits POST /api/referrals and runs the managed rule groups', () => {
    const [aclId, acl] = onlyOne(dev, 'AWS::WAFv2::WebACL', () => true);
    expect(acl.Properties?.Scope).toBe('CLOUDFRONT');
    const [, dist] = onlyOne(dev, 'AWS::CloudFront::Distribution', () => true);
    expect(dist.Properties?.DistributionConfig.WebACLId).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });

    const rules = acl.Properties?.Rules as Array<Record<string, any>>;
    const rate = rules.find((r) => r.Statement.RateBasedStatement);
    expect(rate?.Action).toHaveProperty('Block');
    const scope = JSON.stringify(rate?.Statement.RateBasedStatement.ScopeDownStatement);
    expect(scope).toContain('"SearchString":"POST"');
    expect(scope).toContain(`"SearchString":"${INTAKE_PATH}"`);
    const managed = rules.map((r) => r.Statement.ManagedRuleGroupStatement?.Name).filter(Boolean);
    expect(managed).toEqual(expect.arrayContaining(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']));
    dev.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { ResourceArn: { 'Fn::GetAtt': [aclId, 'Arn'] } });
  });
});

describe('alarms and logs', () => {
  test('workflow, per-function, and API alarms all notify the KMS-encrypted alarm topic', () => {
    const alarms = Object.values(resourcesOf(dev, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    const topicIds = new Set(alarms.flatMap((a) => asList<{ Ref: string }>(a.AlarmActions).map((x) => x.Ref)));
    expect(topicIds.size).toBe(1);
    const [topicId] = [...topicIds];
    expect(resourcesOf(dev, 'AWS::SNS::Topic')[topicId!]?.Properties?.KmsMasterKeyId).toBeDefined();
    for (const a of alarms) expect(asList(a.AlarmActions).length).toBeGreaterThan(0);

    const metrics = alarms.map((a) => a.MetricName as string);
    expect(metrics).toEqual(expect.arrayContaining(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted', '5xx']));
    for (const spec of catalog) {
      const fnRef = JSON.stringify({ Name: 'FunctionName', Value: { Ref: functionId(dev, spec.name) } });
      for (const metric of ['Errors', 'Throttles']) {
        expect([spec.name, metric, alarms.some((a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(fnRef))]).toEqual([
          spec.name,
          metric,
          true,
        ]);
      }
    }
  });

  test('every log group is KMS encrypted and has a retention', () => {
    const groups = Object.values(resourcesOf(dev, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(catalog.length + 3);
    for (const g of groups) {
      expect(g.Properties?.KmsKeyId).toBeDefined();
      expect(g.Properties?.RetentionInDays).toBeGreaterThan(0);
    }
  });
});

describe('stages', () => {
  test('prod protects data from deletion and retains it on update or delete (test/infra/first-deploy.test.ts: and rolls a failed create back)', () => {
    const [, table] = onlyOne(prod, 'AWS::DynamoDB::Table', () => true);
    expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['RetainExceptOnCreate', 'Retain']);
    for (const key of Object.values(resourcesOf(prod, 'AWS::KMS::Key'))) expect(key.DeletionPolicy).toBe('RetainExceptOnCreate');
    // the log bucket holds audit logs; the web bucket only the rebuildable web app
    const buckets = Object.values(resourcesOf(prod, 'AWS::S3::Bucket'))
      .map((b) => b.DeletionPolicy)
      .sort();
    expect(buckets).toEqual(['Delete', 'RetainExceptOnCreate']);
    prod.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    prod.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    expect(onlyOne(prod, 'AWS::StepFunctions::StateMachine', () => true)[1].Properties?.StateMachineName).toBe(
      `iop-prod-${STATE_MACHINE_NAME}`,
    );
  });

  test('dev may be destroyed', () => {
    const [, table] = onlyOne(dev, 'AWS::DynamoDB::Table', () => true);
    expect(table.Properties?.DeletionProtectionEnabled).not.toBe(true);
    expect(table.DeletionPolicy).toBe('Delete');
    for (const key of Object.values(resourcesOf(dev, 'AWS::KMS::Key'))) expect(key.DeletionPolicy).toBe('Delete');
    dev.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
  });

  test('an unknown stage is refused', () => {
    expect(() => buildTestApp({ context: { stage: 'staging' } })).toThrow(/stage must be dev or prod/);
  });

  test('the outputs a deployer needs are there', () => {
    const outputs = Object.keys(dev.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining(['ConsoleUrl', 'IntakeUrl', 'ApiUrl', 'UserPoolId', 'UserPoolClientId', 'CognitoDomain']),
    );
  });
});
