import { afterEach, describe, expect, test } from '@jest/globals';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetAccountCommand, GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { contextFromArgs, formatFindings, preflight, type Finding, type PreflightInput } from '../../../ops/preflight';

// npm run preflight: what a real account lacks on day one, and what to do about it. The AWS
// answers are mocked (aws-sdk-client-mock); nothing here reaches AWS.

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const ses = mockClient(SESv2Client);
const lambda = mockClient(LambdaClient);
const dynamodb = mockClient(DynamoDBClient);
const region = 'us-east-1';
const clients = () => ({
  sts: new STSClient({ region }),
  cfn: new CloudFormationClient({ region }),
  ses: new SESv2Client({ region }),
  lambda: new LambdaClient({ region }),
  dynamodb: new DynamoDBClient({ region }),
});

afterEach(() => {
  for (const m of [sts, cfn, ses, lambda, dynamodb]) m.reset();
});

const DOMAIN = 'iop.program-sample.org';
const input = (o: Partial<PreflightInput['config']> = {}, shellRegion = 'us-east-1'): PreflightInput => ({
  config: {
    stage: 'prod',
    isProd: true,
    mailDomain: DOMAIN,
    mailFrom: `no-reply@${DOMAIN}`,
    programEmail: `intake@${DOMAIN}`,
    sesIdentity: 'create',
    intakeConcurrency: 0,
    deletionProtection: true,
    ...o,
  },
  shellRegion,
});

const notFound = () => new NotFoundException({ message: 'not found', $metadata: {} });
const validationError = () => Object.assign(new Error('Stack with id CDKToolkit does not exist'), { name: 'ValidationError' });

/** an account ready for production: bootstrapped, out of the sandbox, identity verified, room to spare */
const answerReady = () => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  cfn
    .on(DescribeStacksCommand)
    .resolves({ Stacks: [{ StackName: 'CDKToolkit', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] });
  cfn.on(DescribeStackResourcesCommand).resolves({
    StackResources: [
      {
        LogicalResourceId: 'EmailIdentity1',
        ResourceType: 'AWS::SES::EmailIdentity',
        PhysicalResourceId: DOMAIN,
        ResourceStatus: 'CREATE_COMPLETE',
        Timestamp: new Date(0),
      },
      {
        LogicalResourceId: 'DataTable1',
        ResourceType: 'AWS::DynamoDB::Table',
        PhysicalResourceId: 'Iop-prod-DataTable1-ABC',
        ResourceStatus: 'CREATE_COMPLETE',
        Timestamp: new Date(0),
      },
    ],
  });
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'Iop-prod-DataTable1-ABC', DeletionProtectionEnabled: true } });
  ses
    .on(GetAccountCommand)
    .resolves({ SendingEnabled: true, ProductionAccessEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 50_000 } });
  ses
    .on(GetEmailIdentityCommand)
    .resolves({ VerifiedForSendingStatus: true, DkimAttributes: { Status: 'SUCCESS', Tokens: ['t1', 't2', 't3'] } });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
};

/** a brand-new account: not bootstrapped, SES sandbox, no identity, concurrency limit 10 */
const answerNewAccount = () => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  cfn.on(DescribeStacksCommand).rejects(validationError());
  cfn.on(DescribeStackResourcesCommand).rejects(validationError());
  ses.on(GetAccountCommand).resolves({ SendingEnabled: true, ProductionAccessEnabled: false, EnforcementStatus: 'HEALTHY' });
  ses.on(GetEmailIdentityCommand).rejects(notFound());
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
};

const byCheck = (findings: Finding[]) => Object.fromEntries(findings.map((f) => [f.check, f]));
const levels = (findings: Finding[]) => findings.map((f) => `${f.level} ${f.check}`);

describe('preflight', () => {
  test('a ready account passes every check', async () => {
    answerReady();
    const findings = await preflight(clients(), input());
    expect(findings.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(levels(findings)).toEqual([
      'ok region',
      'ok credentials',
      'ok cdk bootstrap',
      'ok ses sending',
      'ok ses production access',
      'ok deletion protection',
      'ok ses identity',
      'ok ses dkim',
      'ok lambda concurrency',
    ]);
  });

  test('after the first prod deploy, a deploy that would keep deletion protection off is flagged', async () => {
    answerReady();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'Iop-prod-DataTable1-ABC', DeletionProtectionEnabled: false } });
    expect(byCheck(await preflight(clients(), input({ deletionProtection: false })))['deletion protection']).toMatchObject({
      level: 'warn',
      fix: 'drop -c deletionProtection=false now that the first create succeeded',
    });
    expect(byCheck(await preflight(clients(), input()))['deletion protection']).toMatchObject({
      level: 'warn',
      fix: expect.stringContaining('this deploy turns deletion protection on'),
    });
    expect(dynamodb.commandCalls(DescribeTableCommand)[0]!.args[0].input).toEqual({ TableName: 'Iop-prod-DataTable1-ABC' });
  });

  test('a brand-new account: bootstrap, SES production access and a thin concurrency limit, each with its fix', async () => {
    answerNewAccount();
    const f = byCheck(await preflight(clients(), input()));
    expect(f['cdk bootstrap']).toMatchObject({ level: 'fail', fix: 'npx cdk bootstrap aws://123456789012/us-east-1' });
    expect(f['ses production access']).toMatchObject({
      level: 'fail',
      fix: expect.stringContaining('aws sesv2 put-account-details --region us-east-1 --production-access-enabled'),
    });
    // the identity does not exist: the stack will create it, and DKIM must follow the deploy
    expect(f['ses identity']?.level).toBe('ok');
    expect(f['ses dkim']).toMatchObject({
      level: 'warn',
      fix: expect.stringContaining(`get-email-identity --region us-east-1 --email-identity ${DOMAIN}`),
    });
    expect(f['lambda concurrency']).toMatchObject({ level: 'warn', message: expect.stringContaining('at most 10 functions at once') });
  });

  test('in dev, the sandbox is a warning (verified test addresses still work)', async () => {
    answerNewAccount();
    const f = byCheck(await preflight(clients(), input({ stage: 'dev', isProd: false })));
    expect(f['ses production access']).toMatchObject({ level: 'warn', fix: expect.stringContaining('verify the addresses you test with') });
  });

  test('a domain that already is an identity, not made by this stack, would collide: import it', async () => {
    answerReady();
    cfn.on(DescribeStackResourcesCommand).rejects(validationError());
    const f = byCheck(await preflight(clients(), input()));
    expect(f['ses identity']).toMatchObject({
      level: 'fail',
      message: expect.stringContaining('AlreadyExists'),
      fix: expect.stringContaining('-c sesIdentity=import'),
    });
    // with import it is fine
    const imported = byCheck(await preflight(clients(), input({ sesIdentity: 'import' })));
    expect(imported['ses identity']).toMatchObject({ level: 'ok', message: `${DOMAIN} exists (imported)` });
  });

  test('importing an identity that does not exist fails', async () => {
    answerNewAccount();
    const f = byCheck(await preflight(clients(), input({ sesIdentity: 'import' })));
    expect(f['ses identity']).toMatchObject({ level: 'fail', fix: expect.stringContaining('drop -c sesIdentity=import') });
  });

  test('DKIM still pending lists the three CNAME records to publish', async () => {
    answerReady();
    ses
      .on(GetEmailIdentityCommand)
      .resolves({ VerifiedForSendingStatus: false, DkimAttributes: { Status: 'PENDING', Tokens: ['aaa', 'bbb', 'ccc'] } });
    const f = byCheck(await preflight(clients(), input()));
    expect(f['ses dkim']?.level).toBe('fail');
    for (const t of ['aaa', 'bbb', 'ccc']) expect(f['ses dkim']?.fix).toContain(`${t}._domainkey.${DOMAIN} CNAME ${t}.dkim.amazonses.com`);
  });

  test('a reservation that would leave fewer than 100 unreserved executions fails, with the way out', async () => {
    answerReady();
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 110, UnreservedConcurrentExecutions: 110 } });
    const f = byCheck(await preflight(clients(), input({ intakeConcurrency: 20 })));
    expect(f['lambda concurrency']).toMatchObject({
      level: 'fail',
      message: expect.stringContaining('would leave 90 unreserved'),
      fix: expect.stringContaining('-c intakeConcurrency=0'),
    });
    // with room it is fine
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
    expect(byCheck(await preflight(clients(), input({ intakeConcurrency: 20 })))['lambda concurrency']).toMatchObject({
      level: 'ok',
      message: expect.stringContaining('leaves 980'),
    });
  });

  test('SES paused or shut down fails', async () => {
    answerReady();
    ses.on(GetAccountCommand).resolves({ SendingEnabled: false, ProductionAccessEnabled: true, EnforcementStatus: 'SHUTDOWN' });
    const f = byCheck(await preflight(clients(), input()));
    expect([f['ses sending']?.level, f['ses reputation']?.level]).toEqual(['fail', 'fail']);
  });

  test('a sender outside the mail domain fails', async () => {
    answerReady();
    const f = byCheck(await preflight(clients(), input({ mailFrom: 'someone@elsewhere.org' })));
    expect(f['ses sender']).toMatchObject({ level: 'fail', fix: `use -c mailFrom=<name>@${DOMAIN}` });
  });

  test('a shell region elsewhere is a warning: the stack is pinned to us-east-1', async () => {
    answerReady();
    const f = byCheck(await preflight(clients(), input({}, 'eu-west-1')));
    expect(f.region).toMatchObject({ level: 'warn', message: expect.stringContaining('always deploys to us-east-1') });
  });

  test('without credentials it stops at once with what to do', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }));
    const findings = await preflight(clients(), input());
    expect(levels(findings)).toEqual(['ok region', 'fail credentials']);
    expect(ses.calls()).toHaveLength(0);
  });

  test('a check it may not run is a warning, not a crash', async () => {
    answerReady();
    lambda.on(GetAccountSettingsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(byCheck(await preflight(clients(), input()))['lambda concurrency']).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('AccessDeniedException'),
    });
  });
});

describe('the command line', () => {
  test('takes the deploy context as -c key=value', () => {
    expect(contextFromArgs(['-c', 'stage=prod', '--context', 'mailDomain=a.org', '--context=sesIdentity=import'])).toEqual({
      stage: 'prod',
      mailDomain: 'a.org',
      sesIdentity: 'import',
    });
    expect(() => contextFromArgs(['--stage', 'prod'])).toThrow(/-c key=value/);
    expect(() => contextFromArgs(['-c', 'stage'])).toThrow(/key=value/);
  });

  test('prints each finding with its fix', () => {
    const text = formatFindings([
      { level: 'ok', check: 'region', message: 'us-east-1' },
      { level: 'fail', check: 'cdk bootstrap', message: 'missing', fix: 'npx cdk bootstrap' },
    ]);
    expect(text).toBe('ok   region: us-east-1\nFAIL cdk bootstrap: missing\n       fix: npx cdk bootstrap');
  });
});
