import { beforeAll, describe, expect, test } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { functions as catalog } from '../../functions/catalog';
import { asList, buildTestApp, onlyOne, PROD_MAIL_DOMAIN, resourcesOf, statementsOfRole, templateFor, type Resource } from './helpers';

// what a real account needs on day one (issue 10): prod refuses a placeholder mail domain, the SES
// identity can be created or imported, a failed first create can roll back and be retried, cold
// storage only when the account allows it

let prod: Template;
let dev: Template;
beforeAll(() => {
  prod = templateFor('prod');
  dev = templateFor('dev');
});

const prodWith = (context: Record<string, unknown>) => Template.fromStack(buildTestApp({ stage: 'prod', context }).stack);

/** physical-name properties that CloudFormation would collide on in a second create */
const NAME_PROPERTIES = [
  'Name',
  'TableName',
  'LogGroupName',
  'StateMachineName',
  'TopicName',
  'QueueName',
  'BucketName',
  'AlarmName',
  'DashboardName',
  'AliasName',
  'EmailIdentity',
  'Domain',
  'FunctionName',
  'RoleName',
  'ManagedPolicyName',
];
const fixedNameOf = (r: Resource): string | undefined => {
  for (const key of NAME_PROPERTIES) {
    const v = r.Properties?.[key];
    if (typeof v === 'string') return `${key}=${v}`;
    // a name that is a template of literals and the stack's pseudo parameters is fixed too
    if (v && typeof v === 'object' && JSON.stringify(v).match(/"Ref":"AWS::/) && !JSON.stringify(v).match(/"Ref":"(?!AWS::)|Fn::GetAtt/))
      return `${key}=${JSON.stringify(v)}`;
  }
  return undefined;
};

/** resource types that hold data (or keys, audit logs, recovery points) */
const STATEFUL = [
  'AWS::DynamoDB::Table',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::Cognito::UserPool',
  'AWS::Backup::BackupVault',
  'AWS::SES::EmailIdentity',
  'AWS::StepFunctions::StateMachine',
];

describe('prod needs a real sending domain', () => {
  test.each([[undefined], ['example.com'], ['mail.example.org'], ['iop.test'], ['localhost']])(
    'mailDomain %s is refused, naming the context key',
    (mailDomain) => {
      const context: Record<string, unknown> = { mailDomain };
      expect(() => buildTestApp({ stage: 'prod', context })).toThrow(
        /context mailDomain must name the program's real sending domain for stage prod.*-c mailDomain=/,
      );
    },
  );

  test('a real domain synthesizes, and dev still defaults to a placeholder', () => {
    expect(() => buildTestApp({ stage: 'prod', context: { mailDomain: 'iop.clinic-sample.org' } })).not.toThrow();
    expect(() => buildTestApp({ stage: 'dev' })).not.toThrow();
  });
});

describe('a failed first create rolls back clean and can be retried', () => {
  test('nothing in prod is plain Retain: stateful resources are RetainExceptOnCreate (RETAIN_ON_UPDATE_OR_DELETE)', () => {
    const resources = Object.entries(prod.toJSON().Resources as Record<string, Resource>);
    expect(resources.filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id)).toEqual([]);
    for (const [id, r] of resources.filter(([, r]) => STATEFUL.includes(r.Type))) {
      expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'RetainExceptOnCreate', 'Retain']);
    }
    // the fixed-name ones the issue names: the state machine, its log group, the WAF log group
    const named = resources.filter(([, r]) => fixedNameOf(r)).map(([, r]) => `${r.Type} ${fixedNameOf(r)} ${r.DeletionPolicy ?? 'Delete'}`);
    expect(named).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AWS::StepFunctions::StateMachine StateMachineName=iop-prod-referral RetainExceptOnCreate$/),
      ]),
    );
    expect(named).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AWS::Logs::LogGroup LogGroupName=aws-waf-logs-iop-prod RetainExceptOnCreate$/)]),
    );
    expect(named).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AWS::Logs::LogGroup LogGroupName=\/aws\/vendedlogs\/states\/iop-prod-referral RetainExceptOnCreate$/),
      ]),
    );
  });

  test('every fixed-name resource in prod is removed when the create that made it rolls back', () => {
    const resources = Object.entries(prod.toJSON().Resources as Record<string, Resource>);
    const named = resources.filter(([, r]) => fixedNameOf(r));
    expect(named.length).toBeGreaterThan(5);
    for (const [id, r] of named)
      expect([id, fixedNameOf(r), ['Delete', 'RetainExceptOnCreate'].includes(r.DeletionPolicy ?? 'Delete')]).toEqual([
        id,
        fixedNameOf(r),
        true,
      ]);
  });

  test('deletion protection is on in prod, and -c deletionProtection=false leaves it off for a first deploy (CloudFormation cannot delete a protected table or user pool)', () => {
    expect(onlyOne(prod, 'AWS::DynamoDB::Table', () => true)[1].Properties?.DeletionProtectionEnabled).toBe(true);
    prod.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    const first = prodWith({ deletionProtection: 'false' });
    expect(onlyOne(first, 'AWS::DynamoDB::Table', () => true)[1].Properties?.DeletionProtectionEnabled).toBe(false);
    first.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
    // everything else is the same deployment
    expect(onlyOne(first, 'AWS::DynamoDB::Table', () => true)[1].DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(() => prodWith({ deletionProtection: 'maybe' })).toThrow(/deletionProtection must be true or false/);
  });

  test('the web bucket (a build artifact) is emptied and removed with the stack; the log bucket (audit logs) is kept', () => {
    const buckets = Object.values(resourcesOf(prod, 'AWS::S3::Bucket'));
    const logs = buckets.find((b) => JSON.stringify(b.Properties?.LifecycleConfiguration).includes('ExpirationInDays'));
    const web = buckets.find((b) => b !== logs);
    expect(logs?.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(web?.DeletionPolicy).toBe('Delete');
    prod.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('SES identity per stage, or imported', () => {
  const emailSendResources = (t: Template) => {
    const fnId = onlyOne(
      t,
      'AWS::Lambda::Function',
      (r) => r.Properties?.Description === catalog.find((s) => s.needs.includes('email:send'))!.description,
    )[0];
    const roleId = (resourcesOf(t, 'AWS::Lambda::Function')[fnId]!.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const send = statementsOfRole(t, roleId).find((s) => asList<string>(s.Action).includes('ses:SendRawEmail'));
    return JSON.stringify(send?.Resource);
  };

  test('by default the stack creates the identity for mailDomain with its configuration set as default', () => {
    const [, identity] = onlyOne(prod, 'AWS::SES::EmailIdentity', () => true);
    expect(identity.Properties?.EmailIdentity).toBe(PROD_MAIL_DOMAIN);
    const [setId, set] = onlyOne(prod, 'AWS::SES::ConfigurationSet', () => true);
    expect(set.Properties?.Name).toBe('iop-prod');
    expect(identity.Properties?.ConfigurationSetAttributes).toEqual({ ConfigurationSetName: { Ref: setId } });
  });

  test('-c sesIdentity=import creates none, still grants sending from that identity, and the handlers name the configuration set', () => {
    const imported = prodWith({ sesIdentity: 'import' });
    imported.resourceCountIs('AWS::SES::EmailIdentity', 0);
    imported.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    expect(emailSendResources(imported)).toContain(`:identity/${PROD_MAIL_DOMAIN}`);
    expect(emailSendResources(imported)).toContain(':configuration-set/iop-prod');
    for (const f of Object.values(resourcesOf(imported, 'AWS::Lambda::Function')).filter(
      (f) => f.Properties?.Environment?.Variables?.TABLE_NAME,
    )) {
      expect(f.Properties?.Environment.Variables.SES_CONFIGURATION_SET).toBe('iop-prod');
    }
    expect(() => prodWith({ sesIdentity: 'reuse' })).toThrow(/sesIdentity must be create or import/);
  });

  test('dev and prod name their configuration sets apart (both can live in one account)', () => {
    expect(onlyOne(dev, 'AWS::SES::ConfigurationSet', () => true)[1].Properties?.Name).toBe('iop-dev');
  });
});

describe('backups', () => {
  const rules = (t: Template) =>
    onlyOne(t, 'AWS::Backup::BackupPlan', () => true)[1].Properties?.BackupPlan.BackupPlanRule as Array<Record<string, any>>;

  test('no cold storage unless the account setting is declared on (-c backupColdStorage=true)', () => {
    for (const rule of rules(prod)) expect([rule.RuleName, rule.Lifecycle?.MoveToColdStorageAfterDays]).toEqual([rule.RuleName, undefined]);
    const monthly = rules(prod).find((r) => r.RuleName === 'Monthly1Year');
    expect(monthly?.Lifecycle).toEqual({ DeleteAfterDays: 365 });
    const cold = rules(prodWith({ backupColdStorage: 'true' })).find((r) => r.RuleName === 'Monthly1Year');
    expect(cold?.Lifecycle).toEqual({ DeleteAfterDays: 365, MoveToColdStorageAfterDays: 30 });
  });
});
