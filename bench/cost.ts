/**
 * Cost per 1,000 referrals per branch, from the counts the lifecycle benchmark measured in the same
 * run × the list prices in bench/prices.ts (with their date), beside a straightforward design's;
 * and the fixed monthly cost of what the CDK template creates (synthesized offline, bundling
 * skipped), resource by resource. Measures; asserts nothing.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { LAMBDA_MEMORY_MB } from '../functions/catalog';
import { buildTestApp } from '../test/infra/helpers';
import type { LifecycleResult } from './lifecycle';
import { FIXED_PRICES, PRICES, PRICES_AS_OF } from './prices';
import { round } from './lib/util';

/** a warm arm64 handler making 2–4 SDK calls; the local runtime's timings are not Lambda's */
export const ASSUMED_LAMBDA_MS = 120;
/** the console reads a referral (detail + queue) before each decision: modelled, not driven */
export const STAFF_READS_PER_DECISION = 2;

type Counts = LifecycleResult['all'];

export interface Priced {
  perReferral: Record<string, number>;
  usdPer1000: Record<string, number>;
}

/** prices one referral's counts: the lifecycle's API calls + modelled staff reads, its tasks, notices */
export const price = (c: Counts, detailReadRru: number, emailKb: number): Priced => {
  const decisions = c.staffDecisions;
  const staffReads = decisions * STAFF_READS_PER_DECISION;
  const apiRequests = c.apiCallsMade + staffReads;
  // send-notices: one invocation per email counted (an upper bound: the stream hands up to 10 a batch)
  const lambdaInvocations = apiRequests + c.workflowTasks + c.emails;
  const gbSeconds = (LAMBDA_MEMORY_MB / 1024) * (ASSUMED_LAMBDA_MS / 1000);
  const perReferral = {
    stateTransitions: c.transitions,
    lambdaInvocations: round(lambdaInvocations, 2),
    dynamoWriteUnits: c.dynamoWriteUnits,
    dynamoReadUnits: round(c.dynamoReadUnits + staffReads * detailReadRru, 2),
    emails: c.emails,
    apiRequests: round(apiRequests, 2),
    executionLogKb: c.executionHistoryKb,
  };
  const usd = {
    stepFunctions: perReferral.stateTransitions * PRICES.sfnTransition,
    lambda: lambdaInvocations * (PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm),
    dynamodb: perReferral.dynamoWriteUnits * PRICES.ddbWru + perReferral.dynamoReadUnits * PRICES.ddbRru,
    ses: perReferral.emails * PRICES.sesEmail + ((perReferral.emails * emailKb) / 2 ** 20) * PRICES.sesAttachmentGb,
    api: apiRequests * PRICES.httpApiRequest,
    logs: (perReferral.executionLogKb / 2 ** 20) * PRICES.logsIngestGb,
  };
  const total = Object.values(usd).reduce((a, b) => a + b, 0);
  return { perReferral, usdPer1000: Object.fromEntries(Object.entries({ ...usd, total }).map(([k, v]) => [k, round(v * 1000, 4)])) };
};

/**
 * The straightforward design the issue compares with: every step a workflow task, emails sent by
 * the workflow (15 transitions, 4 emails), the same API, DynamoDB and Lambda use as ours measured on
 * the main branch (the "started" plan). The issue's figure for it is ≈ $0.83 per 1,000.
 */
export const straightforward = (started: Counts, detailReadRru: number, emailKb: number): Priced =>
  price({ ...started, transitions: 15, emails: 4, workflowTasks: started.workflowTasks + 4 }, detailReadRru, emailKb);

/** fixed monthly cost of the resources the prod template creates (bundling skipped, offline) */
export const fixedMonthly = () => {
  const template = Template.fromStack(buildTestApp({ stage: 'prod' }).stack).toJSON() as {
    // biome-ignore lint/suspicious/noExplicitAny: a synthesized CloudFormation template, read property by property
    Resources: Record<string, { Type: string; Properties?: any }>;
  };
  const resources = Object.values(template.Resources);
  const count = (type: string) => resources.filter((r) => r.Type === type).length;
  const wafRules = resources.filter((r) => r.Type === 'AWS::WAFv2::WebACL').reduce((n, r) => n + (r.Properties?.Rules?.length ?? 0), 0);
  const pool = resources.find((r) => r.Type === 'AWS::Cognito::UserPool');
  const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const highRes = alarms.filter((a) => (a.Properties?.Period ?? 60) < 60).length;
  const items = [
    {
      item: 'WAF web ACL',
      basis: `1 web ACL × $${FIXED_PRICES.wafWebAcl} + ${wafRules} rules × $${FIXED_PRICES.wafRule}`,
      usd: count('AWS::WAFv2::WebACL') * FIXED_PRICES.wafWebAcl + wafRules * FIXED_PRICES.wafRule,
    },
    {
      item: 'KMS keys',
      basis: `${count('AWS::KMS::Key')} customer-managed keys × $${FIXED_PRICES.kmsKey}`,
      usd: count('AWS::KMS::Key') * FIXED_PRICES.kmsKey,
    },
    {
      item: 'Secrets Manager',
      basis: `${count('AWS::SecretsManager::Secret')} secret × $${FIXED_PRICES.secret}`,
      usd: count('AWS::SecretsManager::Secret') * FIXED_PRICES.secret,
    },
    {
      item: 'CloudWatch alarms',
      basis: `${alarms.length - highRes} standard × $${FIXED_PRICES.alarmStandard}${highRes ? ` + ${highRes} high-resolution × $${FIXED_PRICES.alarmHighRes}` : ''}`,
      usd: (alarms.length - highRes) * FIXED_PRICES.alarmStandard + highRes * FIXED_PRICES.alarmHighRes,
    },
    {
      item: 'CloudWatch dashboard',
      basis: `${count('AWS::CloudWatch::Dashboard')} × $${FIXED_PRICES.dashboard} (more than the free 3 × 50 metrics)`,
      usd: count('AWS::CloudWatch::Dashboard') * FIXED_PRICES.dashboard,
    },
    {
      item: 'CloudWatch custom metrics',
      basis: `~${FIXED_PRICES.customMetricsEstimate} metrics the code emits (6 business counts + MilestoneReached by milestone; not in the template) × $${FIXED_PRICES.customMetric}`,
      usd: FIXED_PRICES.customMetricsEstimate * FIXED_PRICES.customMetric,
    },
    {
      item: 'Cognito',
      basis: `${pool?.Properties?.UserPoolTier ?? 'ESSENTIALS'} tier, ~${FIXED_PRICES.staffUsers} monthly active staff × $${FIXED_PRICES.cognitoPlusMau}`,
      usd: FIXED_PRICES.staffUsers * FIXED_PRICES.cognitoPlusMau,
    },
    {
      item: 'sweep schedule',
      basis: `every minute: ~43,800 invocations × (request + ${ASSUMED_LAMBDA_MS} ms at ${LAMBDA_MEMORY_MB} MB)`,
      usd: 43_800 * (PRICES.lambdaRequest + (LAMBDA_MEMORY_MB / 1024) * (ASSUMED_LAMBDA_MS / 1000) * PRICES.lambdaGbSecondArm),
    },
    {
      item: 'logs, X-Ray, S3, CloudFront, SNS, SQS, DynamoDB storage/stream/PITR, backups',
      basis: `${count('AWS::Logs::LogGroup')} log groups, ${count('AWS::S3::Bucket')} buckets, 1 distribution, 1 table with PITR and a backup plan: tens of MB a month, mostly within free tiers`,
      usd: FIXED_PRICES.smallItemsEstimate,
    },
  ].map((x) => ({ ...x, usd: round(x.usd, 2) }));
  return {
    items,
    totalUsd: round(
      items.reduce((s, x) => s + x.usd, 0),
      2,
    ),
    resourceCounts: Object.fromEntries([...new Set(resources.map((r) => r.Type))].sort().map((t) => [t, count(t)])),
  };
};

export const runCost = (lc: LifecycleResult) => {
  const emailKb = lc.emailKbPerEmail;
  const byBranch = Object.fromEntries(
    Object.entries(lc.byPlan).map(([plan, c]) => [
      plan,
      { final: c.expected, referrals: c.referrals, ...price(c, lc.dynamo.detailReadRru, emailKb) },
    ]),
  );
  const mix = price(lc.all, lc.dynamo.detailReadRru, emailKb);
  const started = lc.byPlan.started ?? lc.all;
  const simple = straightforward(started, lc.dynamo.detailReadRru, emailKb);
  const fixed = fixedMonthly();
  return {
    pricesAsOf: PRICES_AS_OF,
    assumptions: {
      lambdaMemoryMb: LAMBDA_MEMORY_MB,
      lambdaMsPerInvocation: ASSUMED_LAMBDA_MS,
      staffReadsPerDecision: STAFF_READS_PER_DECISION,
      sendNoticesInvocationsPerEmail: 1,
      emailKb,
    },
    byBranch,
    mix: { note: `the run's mix of branches (${lc.n} referrals)`, ...mix },
    straightforward: {
      note: 'every step a task, emails from the workflow: 15 transitions, 4 emails, otherwise as our "started" branch',
      ...simple,
      issueFigureUsdPer1000: 0.83,
    },
    fixedMonthly: fixed,
    perMonth: {
      at1000Referrals: round(fixed.totalUsd + mix.usdPer1000.total!, 2),
      at10000Referrals: round(fixed.totalUsd + 10 * mix.usdPer1000.total!, 2),
    },
  };
};

export type CostResult = ReturnType<typeof runCost>;
