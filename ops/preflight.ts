/**
 * `npm run preflight -- -c stage=prod -c mailDomain=iop.example.org [-c key=value …]`
 *
 * Checks, with the AWS credentials of the shell, what a first `cdk deploy` and the first referral
 * need from the account, and prints what to fix: credentials, the CDK bootstrap, SES (production
 * access, the sending identity and its DKIM status, an identity that would collide), Lambda
 * concurrency headroom (for `intakeConcurrency`) and the region. Takes the same `-c` context as
 * `cdk deploy` and reads it through the same code (infra/config.ts). Read-only: it changes nothing.
 * Exits 1 when something must be fixed before deploying.
 */
import { pathToFileURL } from 'node:url';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type StackResource,
} from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { App } from 'aws-cdk-lib';
import { DEPLOY_REGION, stageConfigFrom, type StageConfig } from '../infra/config';

export type Level = 'ok' | 'warn' | 'fail';

export interface Finding {
  level: Level;
  check: string;
  message: string;
  /** what to do about it (warn and fail) */
  fix?: string;
}

export interface PreflightClients {
  sts: STSClient;
  cfn: CloudFormationClient;
  ses: SESv2Client;
  lambda: LambdaClient;
  dynamodb: DynamoDBClient;
}

export interface PreflightInput {
  config: Pick<
    StageConfig,
    'stage' | 'isProd' | 'mailDomain' | 'mailFrom' | 'programEmail' | 'sesIdentity' | 'intakeConcurrency' | 'deletionProtection'
  >;
  /** the region the shell's AWS CLI/SDK defaults to (AWS_REGION, profile); the stack ignores it */
  shellRegion?: string;
}

/** Lambda keeps this many executions unreserved; a reservation may not go below it */
export const MIN_UNRESERVED = 100;
/** below this account limit, a burst of intakes and workflow tasks is throttled */
export const COMFORTABLE_ACCOUNT_LIMIT = 100;
const CDK_BOOTSTRAP_STACK = 'CDKToolkit';

const nameOf = (err: unknown): string => (err as { name?: string })?.name ?? 'Error';

/** every check; never throws for an AWS answer (an error becomes a finding) */
export const preflight = async (clients: PreflightClients, input: PreflightInput): Promise<Finding[]> => {
  const { config } = input;
  const findings: Finding[] = [];
  const add = (level: Level, check: string, message: string, fix?: string) =>
    findings.push({ level, check, message, ...(fix ? { fix } : {}) });

  // region: the stack is pinned; a shell default elsewhere only matters for hand-typed CLI commands
  if (input.shellRegion && input.shellRegion !== DEPLOY_REGION) {
    add(
      'warn',
      'region',
      `your shell's default region is ${input.shellRegion}; the stack always deploys to ${DEPLOY_REGION} (its CloudFront WAF can only live there) and these checks ran there`,
      `add --region ${DEPLOY_REGION} to the aws commands in DEPLOY.md, or export AWS_REGION=${DEPLOY_REGION}`,
    );
  } else {
    add('ok', 'region', `${DEPLOY_REGION}`);
  }

  // credentials and account
  let account: string | undefined;
  try {
    account = (await clients.sts.send(new GetCallerIdentityCommand({}))).Account;
    add('ok', 'credentials', `account ${account}`);
  } catch (err) {
    add(
      'fail',
      'credentials',
      `no usable AWS credentials (${nameOf(err)})`,
      'sign in (aws sso login / aws configure) with a role that may deploy, then run again',
    );
    return findings;
  }

  // CDK bootstrap
  try {
    const stack = (await clients.cfn.send(new DescribeStacksCommand({ StackName: CDK_BOOTSTRAP_STACK }))).Stacks?.[0];
    if (stack?.StackStatus?.endsWith('_COMPLETE') && !stack.StackStatus.includes('ROLLBACK') && !stack.StackStatus.startsWith('DELETE'))
      add('ok', 'cdk bootstrap', `${CDK_BOOTSTRAP_STACK} is ${stack.StackStatus}`);
    else
      add(
        'fail',
        'cdk bootstrap',
        `${CDK_BOOTSTRAP_STACK} is ${stack?.StackStatus ?? 'missing'}`,
        `npx cdk bootstrap aws://${account}/${DEPLOY_REGION}`,
      );
  } catch (err) {
    if (nameOf(err) === 'ValidationError')
      add(
        'fail',
        'cdk bootstrap',
        `the account is not bootstrapped in ${DEPLOY_REGION}`,
        `npx cdk bootstrap aws://${account}/${DEPLOY_REGION}`,
      );
    else
      add(
        'warn',
        'cdk bootstrap',
        `could not check (${nameOf(err)})`,
        'allow cloudformation:DescribeStacks, or check the CDKToolkit stack by hand',
      );
  }

  // SES account: sandbox, sending paused, enforcement
  try {
    const acct = await clients.ses.send(new GetAccountCommand({}));
    if (acct.SendingEnabled === false)
      add(
        'fail',
        'ses sending',
        'email sending is paused for this account',
        'resume it in the SES console (Account dashboard) after fixing the cause AWS gave',
      );
    else add('ok', 'ses sending', 'enabled');
    if (acct.EnforcementStatus && acct.EnforcementStatus !== 'HEALTHY') {
      add(
        acct.EnforcementStatus === 'SHUTDOWN' ? 'fail' : 'warn',
        'ses reputation',
        `enforcement status ${acct.EnforcementStatus}`,
        'see SES → Reputation metrics; bounces and complaints must come down',
      );
    }
    if (!acct.ProductionAccessEnabled) {
      add(
        config.isProd ? 'fail' : 'warn',
        'ses production access',
        'the account is in the SES sandbox: email only reaches verified addresses (patients and physicians are not), 200 a day',
        `request production access: aws sesv2 put-account-details --region ${DEPLOY_REGION} --production-access-enabled --mail-type TRANSACTIONAL --website-url <program site> --use-case-description "<what the program sends>" (review takes about a day)${config.isProd ? '' : '; in dev, verify the addresses you test with'}`,
      );
    } else {
      add(
        'ok',
        'ses production access',
        `out of the sandbox${acct.SendQuota?.Max24HourSend ? ` (${acct.SendQuota.Max24HourSend} a day)` : ''}`,
      );
    }
  } catch (err) {
    add(
      'warn',
      'ses account',
      `could not read the SES account (${nameOf(err)})`,
      'allow ses:GetAccount, or check SES → Account dashboard by hand',
    );
  }

  // the stage's stack, when it exists already (then this is an update)
  const stackName = `Iop-${config.stage}`;
  const stackResources = await resourcesOf(clients.cfn, stackName);

  // a first prod deploy runs without deletion protection; the next one must turn it back on
  const table = stackResources?.find((r) => r.ResourceType === 'AWS::DynamoDB::Table')?.PhysicalResourceId;
  if (config.isProd && table) {
    try {
      const protectedNow =
        (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.DeletionProtectionEnabled === true;
      if (!protectedNow && !config.deletionProtection)
        add(
          'warn',
          'deletion protection',
          `${stackName} is deployed and its table is unprotected; this deploy keeps it so (-c deletionProtection=false)`,
          'drop -c deletionProtection=false now that the first create succeeded',
        );
      else if (!protectedNow)
        add(
          'warn',
          'deletion protection',
          `${stackName}'s table is not protected yet`,
          'this deploy turns deletion protection on (table and user pool)',
        );
      else add('ok', 'deletion protection', `${stackName}'s table is protected`);
    } catch (err) {
      add(
        'warn',
        'deletion protection',
        `could not read table ${table} (${nameOf(err)})`,
        'allow dynamodb:DescribeTable, or check the table by hand',
      );
    }
  }

  // the sending identity
  const domain = config.mailDomain;
  try {
    const identity = await clients.ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    const ownedByStack =
      stackResources?.some((r) => r.ResourceType === 'AWS::SES::EmailIdentity' && r.PhysicalResourceId === domain) ?? false;
    if (config.sesIdentity === 'create' && !ownedByStack) {
      add(
        'fail',
        'ses identity',
        `${domain} already is an SES identity in ${DEPLOY_REGION}, not made by ${stackName}: creating it again fails with AlreadyExists`,
        `deploy with -c sesIdentity=import (the stack then sends from the existing identity)`,
      );
    } else {
      add('ok', 'ses identity', `${domain} exists${config.sesIdentity === 'import' ? ' (imported)' : ` (made by ${stackName})`}`);
    }
    const dkim = identity.DkimAttributes?.Status;
    if (identity.VerifiedForSendingStatus && dkim === 'SUCCESS') {
      add('ok', 'ses dkim', `${domain} verified, DKIM ${dkim}`);
    } else {
      const records = (identity.DkimAttributes?.Tokens ?? []).map((t) => `${t}._domainkey.${domain} CNAME ${t}.dkim.amazonses.com`);
      const level: Level = dkim === 'FAILED' || dkim === 'TEMPORARY_FAILURE' || config.isProd ? 'fail' : 'warn';
      add(
        level,
        'ses dkim',
        `${domain} is not verified yet (DKIM ${dkim ?? 'unknown'}): SES refuses to send from it`,
        records.length
          ? `publish these DNS records, then wait for SES to see them (up to 72 h): ${records.join('; ')}`
          : `see the DKIM records in SES → Identities → ${domain}`,
      );
    }
  } catch (err) {
    if (nameOf(err) !== 'NotFoundException') {
      add(
        'warn',
        'ses identity',
        `could not read ${domain} (${nameOf(err)})`,
        'allow ses:GetEmailIdentity, or check SES → Identities by hand',
      );
    } else if (config.sesIdentity === 'import') {
      add(
        'fail',
        'ses identity',
        `-c sesIdentity=import, but ${domain} is no SES identity in ${DEPLOY_REGION}`,
        'drop -c sesIdentity=import so the stack creates it, or create it in SES first',
      );
    } else {
      add('ok', 'ses identity', `${domain} does not exist yet; the stack creates it`);
      add(
        'warn',
        'ses dkim',
        `after the deploy, ${domain} must be verified before any email goes out`,
        `aws sesv2 get-email-identity --region ${DEPLOY_REGION} --email-identity ${domain} lists three DKIM tokens: publish <token>._domainkey.${domain} CNAME <token>.dkim.amazonses.com, then run preflight again`,
      );
    }
  }
  for (const [key, address] of [
    ['mailFrom', config.mailFrom],
    ['programEmail', config.programEmail],
  ] as const) {
    if (key === 'mailFrom' && !address.toLowerCase().endsWith(`@${domain.toLowerCase()}`)) {
      add(
        'fail',
        'ses sender',
        `mailFrom ${address} is not on ${domain}: SES would refuse it (its identity is the domain)`,
        `use -c mailFrom=<name>@${domain}`,
      );
    }
    if (key === 'programEmail' && !address.toLowerCase().endsWith(`@${domain.toLowerCase()}`)) {
      add(
        'warn',
        'program email',
        `escalations go to ${address}, outside ${domain}`,
        'fine once out of the sandbox; in the sandbox verify that address in SES',
      );
    }
  }

  // Lambda concurrency
  try {
    const settings = await clients.lambda.send(new GetAccountSettingsCommand({}));
    const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? limit;
    const want = config.intakeConcurrency;
    if (want > 0 && unreserved - want < MIN_UNRESERVED) {
      add(
        'fail',
        'lambda concurrency',
        `-c intakeConcurrency=${want} would leave ${unreserved - want} unreserved executions (account limit ${limit}, ${unreserved} unreserved now); Lambda keeps at least ${MIN_UNRESERVED}, so the deploy would fail`,
        `deploy with -c intakeConcurrency=0 (the default), or ask for a higher limit: Service Quotas → AWS Lambda → Concurrent executions (at least ${want + MIN_UNRESERVED})`,
      );
    } else if (limit < COMFORTABLE_ACCOUNT_LIMIT) {
      add(
        'warn',
        'lambda concurrency',
        `the account runs at most ${limit} functions at once: a burst of intakes and workflow tasks will be throttled`,
        `ask for more: Service Quotas → AWS Lambda → Concurrent executions (1,000 is the usual default)`,
      );
    } else {
      add(
        'ok',
        'lambda concurrency',
        `limit ${limit}, ${unreserved} unreserved${want > 0 ? `; ${want} for the intake leaves ${unreserved - want}` : ''}`,
      );
    }
  } catch (err) {
    add(
      'warn',
      'lambda concurrency',
      `could not read the Lambda account settings (${nameOf(err)})`,
      'allow lambda:GetAccountSettings, or check Service Quotas by hand',
    );
  }
  return findings;
};

/** the resources of a stack; undefined when it does not exist (yet) or cannot be read */
const resourcesOf = async (cfn: CloudFormationClient, stackName: string): Promise<StackResource[] | undefined> => {
  try {
    return (await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources ?? [];
  } catch {
    return undefined;
  }
};

const MARK: Record<Level, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** the findings as lines for a terminal, fixes indented under their finding */
export const formatFindings = (findings: Finding[]): string =>
  findings.map((f) => `${MARK[f.level]} ${f.check}: ${f.message}${f.fix ? `\n       fix: ${f.fix}` : ''}`).join('\n');

/** `-c key=value` pairs (as `cdk deploy` takes them) */
export const contextFromArgs = (args: string[]): Record<string, string> => {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const pair = arg === '-c' || arg === '--context' ? args[++i] : arg.startsWith('--context=') ? arg.slice(10) : undefined;
    if (pair === undefined) throw new Error(`unknown argument ${arg}: pass the deploy's context as -c key=value`);
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`-c ${pair}: expected key=value`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
};

const main = async (): Promise<number> => {
  const context = contextFromArgs(process.argv.slice(2));
  const config = stageConfigFrom(new App({ context }).node);
  const region = DEPLOY_REGION;
  const clients: PreflightClients = {
    sts: new STSClient({ region }),
    cfn: new CloudFormationClient({ region }),
    ses: new SESv2Client({ region }),
    lambda: new LambdaClient({ region }),
    dynamodb: new DynamoDBClient({ region }),
  };
  console.log(`preflight for stage ${config.stage}, mail domain ${config.mailDomain}, in ${region}\n`);
  const findings = await preflight(clients, { config, shellRegion: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION });
  console.log(formatFindings(findings));
  const failed = findings.filter((f) => f.level === 'fail').length;
  const warned = findings.filter((f) => f.level === 'warn').length;
  console.log(`\n${failed ? `${failed} to fix before deploying` : 'ready to deploy'}${warned ? `, ${warned} warning(s)` : ''}`);
  return failed ? 1 : 0;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`preflight: ${(err as Error).message}`);
      process.exit(2);
    },
  );
}
