import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/**
 * Deployment settings, read once from CDK context (`-c key=value` or cdk.json). Everything that
 * differs between stages is decided here, so the constructs only read flags.
 */

export type StageName = 'dev' | 'prod';

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
  /** RETAIN in prod (PHI, audit logs), DESTROY in dev */
  removalPolicy: RemovalPolicy;
  logRetention: RetentionDays;
  /** SES: verified sending domain */
  mailDomain: string;
  mailFrom: string;
  programEmail: string;
  programName: string;
  programPhone: string;
  programTimeZone: string;
  /** JSON, see functions/lib/config.ts; unset = the handlers' defaults */
  gateTimeouts?: string;
  detoxMaxDays?: string;
  /** subscribed to the alarm topic when set */
  alarmEmail?: string;
  /** reserved concurrency of the public intake function; 0 = none */
  intakeConcurrency: number;
  /** WAF: POST /api/referrals requests per IP per 5 minutes */
  intakeRateLimit: number;
  /** custom domain on CloudFront (both or neither); the certificate must be in us-east-1 */
  domainName?: string;
  certificateArn?: string;
  /** Cognito managed-login domain prefix; default iop-<stage>-<account id> */
  authDomainPrefix?: string;
}

const str = (node: Node, key: string): string | undefined => {
  const v: unknown = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
};

const int = (node: Node, key: string, fallback: number): number => {
  const v = str(node, key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a non-negative integer, got ${v}`);
  return n;
};

/** the stage settings from context; throws on an unknown stage or a half-configured custom domain */
export const stageConfigFrom = (node: Node): StageConfig => {
  const stage = str(node, 'stage') ?? 'dev';
  if (stage !== 'dev' && stage !== 'prod') throw new Error(`context stage must be dev or prod, got ${stage}`);
  const isProd = stage === 'prod';
  const mailDomain = str(node, 'mailDomain') ?? 'example.com';
  const domainName = str(node, 'domainName');
  const certificateArn = str(node, 'certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new Error('context domainName and certificateArn go together (an ACM certificate in us-east-1)');
  }
  return {
    stage,
    isProd,
    prefix: `iop-${stage}`,
    removalPolicy: isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    // audit trail: HIPAA documentation is kept six years; dev keeps a month
    logRetention: isProd ? RetentionDays.SIX_YEARS : RetentionDays.ONE_MONTH,
    mailDomain,
    mailFrom: str(node, 'mailFrom') ?? `no-reply@${mailDomain}`,
    programEmail: str(node, 'programEmail') ?? `intake@${mailDomain}`,
    programName: str(node, 'programName') ?? 'Intensive Outpatient Program',
    programPhone: str(node, 'programPhone') ?? '(555) 010-0100',
    programTimeZone: str(node, 'programTimeZone') ?? 'America/New_York',
    gateTimeouts: str(node, 'gateTimeouts'),
    detoxMaxDays: str(node, 'detoxMaxDays'),
    alarmEmail: str(node, 'alarmEmail'),
    intakeConcurrency: int(node, 'intakeConcurrency', 20),
    intakeRateLimit: int(node, 'intakeRateLimit', 100),
    domainName,
    certificateArn,
    authDomainPrefix: str(node, 'authDomainPrefix'),
  };
};
