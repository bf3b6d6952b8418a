// AWS list prices (us-east-1, on-demand, arm64) used by the cost benchmark. Checked against the
// public pricing pages as remembered on this date — verify before budgeting; update the date with
// any change.
export const PRICES_AS_OF = '2026-11-25';

export const PRICES = {
  /** Step Functions Standard: per state transition */
  sfnTransition: 0.025 / 1000,
  /** Lambda: per request, and per GB-second on arm64 */
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecondArm: 0.0000133334,
  /** DynamoDB on-demand: per write request unit and read request unit */
  ddbWru: 0.625 / 1_000_000,
  ddbRru: 0.125 / 1_000_000,
  /** SES outbound: per email, per GB of attachments */
  sesEmail: 0.1 / 1000,
  sesAttachmentGb: 0.12,
  /** API Gateway HTTP API: per request (first 300 M) */
  httpApiRequest: 1.0 / 1_000_000,
  /** CloudWatch Logs ingestion: per GB (execution history logged at level ALL) */
  logsIngestGb: 0.5,
} as const;

/** monthly prices of what the template creates whatever the traffic (same date, same caveat) */
export const FIXED_PRICES = {
  wafWebAcl: 5,
  wafRule: 1,
  kmsKey: 1,
  secret: 0.4,
  alarmStandard: 0.1,
  alarmHighRes: 0.3,
  dashboard: 3,
  customMetric: 0.3,
  /** metrics the code emits (not resources in the template): 6 business counts + MilestoneReached per milestone */
  customMetricsEstimate: 16,
  /** Cognito Plus tier, per monthly active user */
  cognitoPlusMau: 0.02,
  staffUsers: 20,
  /** logs, X-Ray, S3, CloudFront, SNS, SQS, DynamoDB storage/stream/PITR, backups at this volume */
  smallItemsEstimate: 1,
} as const;
