import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { CHECK_INSURANCE_TIMEOUT_SECONDS } from '../functions/catalog';
import { ELIGIBILITY_RETRY_SECONDS_DEFAULT, eligibilitySettingsMissing } from '../functions/lib/config';
import { REQUEST_TIMEOUT_MS } from '../functions/lib/domain/clearinghouse';
import { PayerListSchema } from '../functions/lib/payers';
import { PROGRAM_DEFAULTS } from '../functions/lib/program';

/**
 * Deployment settings, read once from CDK context (`-c key=value` or cdk.json). Everything that
 * differs between stages is decided here, so the constructs only read flags.
 */

type StageName = 'dev' | 'prod';

/**
 * The one region this stack deploys to. A CLOUDFRONT-scope WAF web ACL can only be created in
 * us-east-1, and keeping everything in one stack avoids cross-region references (see DEPLOY.md).
 */
export const DEPLOY_REGION = 'us-east-1';

export interface StageConfig {
  stage: StageName;
  isProd: boolean;
  /** prefix of physical names that must be unique per account (state machine, log groups, SES) */
  prefix: string;
  /**
   * Stateful and fixed-name resources: RETAIN_ON_UPDATE_OR_DELETE in prod (kept on a stack update or
   * delete, but removed when the create that made them rolls back, so a retry does not collide),
   * DESTROY in dev
   */
  removalPolicy: RemovalPolicy;
  /**
   * DynamoDB and Cognito deletion protection (prod default on). CloudFormation cannot delete a
   * protected table or user pool, so a failed first create cannot roll back while it is on:
   * the first prod deploy passes `-c deletionProtection=false`, every later deploy turns it on.
   */
  deletionProtection: boolean;
  logRetention: RetentionDays;
  /** SES: verified sending domain */
  mailDomain: string;
  /**
   * `create`: this stack creates the SES domain identity (and makes its configuration set the
   * identity's default); `import`: the identity already exists in the account and region (another
   * stage's stack, or made by hand) and is only referenced — the handlers name the configuration set
   */
  sesIdentity: 'create' | 'import';
  mailFrom: string;
  programEmail: string;
  programName: string;
  programPhone: string;
  programTimeZone: string;
  /** JSON, see functions/lib/config.ts; unset = the handlers' defaults */
  gateTimeouts?: string;
  detoxMaxDays?: string;
  /**
   * program settings of issue 11, passed to the handlers when set (functions/lib/config.ts has the
   * defaults): the console's address for staff email links (default https://<domainName>/console/
   * with a custom domain), closure days, the urgent first-contact timer, the evening boundary, the
   * invitation's title and what to bring
   */
  programSettings: Partial<
    Record<
      | 'CONSOLE_URL'
      | 'CLOSURE_DATES'
      | 'URGENT_FIRST_CONTACT_HOURS'
      | 'FIRST_SESSION_GRACE_HOURS'
      | 'WAITLIST_REVIEW_DAYS'
      | 'NOTICE_RETRY_HOURS'
      | 'EVENING_TRACK_FROM'
      | 'INVITE_TITLE_EN'
      | 'INVITE_TITLE_ES'
      | 'WHAT_TO_BRING_EN'
      | 'WHAT_TO_BRING_ES'
      | 'PAYER_LIST',
      string
    >
  >;
  /**
   * who answers eligibility inquiries (issue 16): the embedded simulator (default), or a
   * clearinghouse at ELIGIBILITY_URL whose API key is in Secrets Manager — a secret this stack
   * creates (the deployer puts the key, DEPLOY.md) or an existing one given by its complete ARN
   * (ELIGIBILITY_API_KEY_SECRET_ARN; unset with the clearinghouse: the stack creates one). The key
   * itself is never context nor plain environment: the handlers read it from the secret. By the
   * handlers' environment names (functions/lib/config.ts has the defaults); unset settings are undefined.
   */
  eligibility: EligibilityEnv;
  /** subscribed to the alarm topic when set */
  alarmEmail?: string;
  /**
   * reserved concurrency of the public intake function; 0 = none (the default: a new account's
   * concurrency limit is 10 and Lambda keeps 100 unreserved, so any reservation fails there)
   */
  intakeConcurrency: number;
  /** WAF: POST /api/referrals requests per IP per 5 minutes */
  intakeRateLimit: number;
  /** custom domain on CloudFront (both or neither); the certificate must be in us-east-1 */
  domainName?: string;
  certificateArn?: string;
  /** Cognito managed-login domain prefix; default iop-<stage>-<account id> */
  authDomainPrefix?: string;
  /**
   * AWS Backup: move monthly recovery points to cold storage after 30 days. Needs the account's
   * "advanced features for DynamoDB backups" setting (AWS Backup → Settings), off by default.
   */
  backupColdStorage: boolean;
}

/** the eligibility settings: each handler environment name and the context key that sets it */
const ELIGIBILITY_CONTEXT = {
  ELIGIBILITY_PROVIDER: 'eligibilityProvider',
  ELIGIBILITY_URL: 'eligibilityUrl',
  ELIGIBILITY_API_KEY_SECRET_ARN: 'eligibilityApiKeySecretArn',
  ELIGIBILITY_RETRY_SECONDS: 'eligibilityRetrySeconds',
  ELIGIBILITY_TIMEOUT_SECONDS: 'eligibilityTimeoutSeconds',
  PROVIDER_NPI: 'providerNpi',
  PROVIDER_NAME: 'providerName',
} as const;

type EligibilityEnv = { ELIGIBILITY_PROVIDER: 'simulator' | 'clearinghouse' } & Record<
  Exclude<keyof typeof ELIGIBILITY_CONTEXT, 'ELIGIBILITY_PROVIDER'>,
  string | undefined
>;

/** RFC 2606 / 6761 names that can never be a real sending domain */
const PLACEHOLDER_DOMAIN = /(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$/i;

const str = (node: Node, key: string): string | undefined => {
  const v: unknown = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
};

const bool = (node: Node, key: string, fallback: boolean): boolean => {
  const v = str(node, key);
  if (v === undefined) return fallback;
  if (v !== 'true' && v !== 'false') throw new Error(`context ${key} must be true or false, got ${v}`);
  return v === 'true';
};

/**
 * context payerList: JSON [{ name, payerId }] for the payer picker (functions/lib/payers.ts), checked
 * here so a bad list fails the synth, not the handlers; kept short (Lambda's environment holds 4 KB)
 */
const payerListFrom = (node: Node): string | undefined => {
  const raw = str(node, 'payerList');
  if (raw === undefined) return undefined;
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new Error('context payerList must be JSON: [{ "name": "...", "payerId": "..." }]');
  }
  const parsed = PayerListSchema.safeParse(list);
  if (!parsed.success)
    throw new Error(`context payerList: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  const json = JSON.stringify(parsed.data);
  if (json.length > 2000) throw new Error(`context payerList is ${json.length} characters: at most 2,000 fit beside the other settings`);
  return json;
};

const int = (node: Node, key: string, fallback: number): number => {
  const v = str(node, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a non-negative integer, got ${v}`);
  return n;
};

/** context eligibility* and provider*, refused when half given (the handlers' own check, functions/lib/config.ts) */
const eligibilityFrom = (node: Node): StageConfig['eligibility'] => {
  if (str(node, 'eligibilityApiKey') !== undefined)
    throw new Error(
      'context eligibilityApiKey is refused: the clearinghouse key goes into Secrets Manager, never into context or plain environment (DEPLOY.md, "A real insurance check")',
    );
  const provider = str(node, 'eligibilityProvider') ?? 'simulator';
  if (provider !== 'simulator' && provider !== 'clearinghouse')
    throw new Error(`context eligibilityProvider must be simulator or clearinghouse, got ${provider}`);
  const apiKeySecretArn = str(node, 'eligibilityApiKeySecretArn');
  if (apiKeySecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(apiKeySecretArn))
    throw new Error(
      "context eligibilityApiKeySecretArn must be the secret's complete ARN (ending in -XXXXXX, as `aws secretsmanager describe-secret` prints it)",
    );
  const url = str(node, 'eligibilityUrl');
  // the inquiry carries PHI (member ID, name, date of birth): TLS only
  if (url !== undefined && !/^https:\/\/[^\s/]+/.test(url)) throw new Error('context eligibilityUrl must be an https:// URL');
  const retrySeconds = str(node, 'eligibilityRetrySeconds');
  if (retrySeconds !== undefined && !(/^\d+$/.test(retrySeconds) && Number(retrySeconds) <= 60))
    throw new Error(
      `context eligibilityRetrySeconds must be 0 to 60 (check-insurance has ${CHECK_INSURANCE_TIMEOUT_SECONDS} s for two requests and the wait), got ${retrySeconds}`,
    );
  const timeoutSeconds = str(node, 'eligibilityTimeoutSeconds');
  if (timeoutSeconds !== undefined && !(/^\d+$/.test(timeoutSeconds) && Number(timeoutSeconds) >= 1 && Number(timeoutSeconds) <= 55))
    throw new Error(`context eligibilityTimeoutSeconds must be 1 to 55, got ${timeoutSeconds}`);
  // request + delay + request must end inside check-insurance's own time, with 10 s to record the answer
  const worst = 2 * Number(timeoutSeconds ?? REQUEST_TIMEOUT_MS / 1000) + Number(retrySeconds ?? ELIGIBILITY_RETRY_SECONDS_DEFAULT);
  if (worst > CHECK_INSURANCE_TIMEOUT_SECONDS - 10)
    throw new Error(
      `context eligibilityTimeoutSeconds × 2 + eligibilityRetrySeconds must be at most ${CHECK_INSURANCE_TIMEOUT_SECONDS - 10} (check-insurance has ${CHECK_INSURANCE_TIMEOUT_SECONDS} s), got ${worst}`,
    );
  const settings: EligibilityEnv = {
    ELIGIBILITY_PROVIDER: provider,
    ELIGIBILITY_URL: url,
    ELIGIBILITY_API_KEY_SECRET_ARN: apiKeySecretArn,
    ELIGIBILITY_RETRY_SECONDS: retrySeconds,
    ELIGIBILITY_TIMEOUT_SECONDS: timeoutSeconds,
    PROVIDER_NPI: str(node, ELIGIBILITY_CONTEXT.PROVIDER_NPI),
    PROVIDER_NAME: str(node, ELIGIBILITY_CONTEXT.PROVIDER_NAME),
  };
  // with the clearinghouse the key's secret always exists: the given one or the stack's own
  const missing = eligibilitySettingsMissing({ ...settings, ELIGIBILITY_API_KEY_SECRET_ARN: apiKeySecretArn ?? 'created by the stack' });
  if (missing.length)
    throw new Error(
      `half an eligibility configuration: context ${missing.map(contextNameOf).join(', ')} missing (or, for eligibilityProvider=simulator, set) with eligibilityProvider=${provider} (DEPLOY.md, "A real insurance check")`,
    );
  return settings;
};

const contextNameOf = (env: string): string => ELIGIBILITY_CONTEXT[env as keyof typeof ELIGIBILITY_CONTEXT] ?? env;

/** the stage settings from context; throws on an unknown stage or a half-configured custom domain */
export const stageConfigFrom = (node: Node): StageConfig => {
  const stage = str(node, 'stage') ?? 'dev';
  if (stage !== 'dev' && stage !== 'prod') throw new Error(`context stage must be dev or prod, got ${stage}`);
  const isProd = stage === 'prod';
  const givenMailDomain = str(node, 'mailDomain');
  if (isProd && (givenMailDomain === undefined || PLACEHOLDER_DOMAIN.test(givenMailDomain))) {
    throw new Error(
      `context mailDomain must name the program's real sending domain for stage prod (got ${givenMailDomain ?? 'nothing'}): ` +
        'npx cdk deploy -c stage=prod -c mailDomain=iop.your-program.org (DEPLOY.md, "The first deployment, step by step")',
    );
  }
  const mailDomain = givenMailDomain ?? 'example.com';
  const sesIdentity = str(node, 'sesIdentity') ?? 'create';
  if (sesIdentity !== 'create' && sesIdentity !== 'import')
    throw new Error(`context sesIdentity must be create or import, got ${sesIdentity}`);
  const domainName = str(node, 'domainName');
  const certificateArn = str(node, 'certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new Error('context domainName and certificateArn go together (an ACM certificate in us-east-1)');
  }
  const eligibility = eligibilityFrom(node);
  return {
    stage,
    isProd,
    prefix: `iop-${stage}`,
    removalPolicy: isProd ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY,
    deletionProtection: isProd && bool(node, 'deletionProtection', true),
    // audit trail: HIPAA documentation is kept six years; dev keeps a month
    logRetention: isProd ? RetentionDays.SIX_YEARS : RetentionDays.ONE_MONTH,
    mailDomain,
    sesIdentity,
    mailFrom: str(node, 'mailFrom') ?? `no-reply@${mailDomain}`,
    programEmail: str(node, 'programEmail') ?? `intake@${mailDomain}`,
    programName: str(node, 'programName') ?? PROGRAM_DEFAULTS.name,
    programPhone: str(node, 'programPhone') ?? PROGRAM_DEFAULTS.phone,
    programTimeZone: str(node, 'programTimeZone') ?? PROGRAM_DEFAULTS.timeZone,
    gateTimeouts: str(node, 'gateTimeouts'),
    detoxMaxDays: str(node, 'detoxMaxDays'),
    programSettings: Object.fromEntries(
      (
        [
          ['CONSOLE_URL', str(node, 'consoleUrl') ?? (domainName ? `https://${domainName}/console/` : undefined)],
          ['CLOSURE_DATES', str(node, 'closureDates')],
          ['URGENT_FIRST_CONTACT_HOURS', str(node, 'urgentFirstContactHours')],
          ['FIRST_SESSION_GRACE_HOURS', str(node, 'firstSessionGraceHours')],
          ['WAITLIST_REVIEW_DAYS', str(node, 'waitlistReviewDays')],
          ['NOTICE_RETRY_HOURS', str(node, 'noticeRetryHours')],
          ['EVENING_TRACK_FROM', str(node, 'eveningTrackFrom')],
          ['INVITE_TITLE_EN', str(node, 'inviteTitleEn')],
          ['INVITE_TITLE_ES', str(node, 'inviteTitleEs')],
          ['WHAT_TO_BRING_EN', str(node, 'whatToBringEn')],
          ['WHAT_TO_BRING_ES', str(node, 'whatToBringEs')],
          ['PAYER_LIST', payerListFrom(node)],
        ] as const
      ).filter(([, v]) => v !== undefined),
    ),
    eligibility,
    alarmEmail: str(node, 'alarmEmail'),
    intakeConcurrency: int(node, 'intakeConcurrency', 0),
    intakeRateLimit: int(node, 'intakeRateLimit', 100),
    domainName,
    certificateArn,
    authDomainPrefix: str(node, 'authDomainPrefix'),
    backupColdStorage: bool(node, 'backupColdStorage', false),
  };
};
