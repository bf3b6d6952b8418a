import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, metricDimensions } from '../../functions/lib/observability';
import type { Status } from '../../functions/lib/schemas/views';
import type { StageConfig } from '../config';
import { businessMetric } from './alarms';

export interface DashboardProps {
  config: StageConfig;
  stateMachine: sfn.StateMachine;
  functions: ReadonlyMap<string, lambda.Function>;
  apiStage: apigw.HttpStage;
  webAclName: string;
  deadLetterQueues: readonly sqs.IQueue[];
  streamConsumers: readonly string[];
}

/** the milestones whose time from intake the dashboard plots (MilestoneReached, by dimension) */
const DASHBOARD_MILESTONES: readonly Status[] = ['INSURANCE_REVIEW', 'EVALUATION', 'DETOX', 'ENROLLMENT', 'ENROLLED', 'STARTED'];

const HOUR = Duration.hours(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * One CloudWatch dashboard per stage (`iop-<stage>-operations`): the referral flow (received,
 * urgent, SLA breaches, needs attention, notices, time to each milestone), then the machinery
 * (workflow executions, API, functions, table stream, WAF). Counts and timings only.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { config } = props;
    const stage = config.stage;
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8, right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
    const labelled = (metric: cloudwatch.Metric, label: string) => metric.with({ label });

    const milestone = (m: Status) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'MilestoneReached',
        dimensionsMap: { ...metricDimensions(stage), milestone: m },
        statistic: 'p50',
        period: Duration.days(1),
        label: `${m} (median s from intake)`,
      });

    const fns = [...props.functions.entries()];
    const perFunction = (pick: (fn: lambda.Function) => cloudwatch.Metric) => fns.map(([name, fn]) => pick(fn).with({ label: name }));
    const waf = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/WAFV2',
        metricName,
        dimensionsMap: { WebACL: props.webAclName, Rule: 'ALL' },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${config.prefix}-operations`,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `## ${config.prefix}: referrals\nBusiness metrics (namespace \`${METRICS_NAMESPACE}\`, stage \`${stage}\`): counts per hour. Alarms: NeedsAttention, NoticeFailed ≥ 1.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Referrals received / urgent', [
        labelled(businessMetric(stage, 'ReferralReceived', HOUR), 'received'),
        labelled(businessMetric(stage, 'ReferralUrgent', HOUR), 'urgent'),
      ]),
      graph('Needs attention / SLA breached', [
        labelled(businessMetric(stage, 'NeedsAttention', HOUR), 'needs attention'),
        labelled(businessMetric(stage, 'SlaBreached', HOUR), 'SLA breached'),
      ]),
      graph('Notices sent / failed', [
        labelled(businessMetric(stage, 'NoticeSent', HOUR), 'sent'),
        labelled(businessMetric(stage, 'NoticeFailed', HOUR), 'failed'),
      ]),
    );
    this.dashboard.addWidgets(graph('Time from intake to milestone (median, seconds)', DASHBOARD_MILESTONES.map(milestone), 24));
    this.dashboard.addWidgets(
      graph('Workflow executions', [
        props.stateMachine.metricStarted({ period: HOUR, label: 'started' }),
        props.stateMachine.metricSucceeded({ period: HOUR, label: 'succeeded' }),
        props.stateMachine.metricFailed({ period: HOUR, label: 'failed' }),
        props.stateMachine.metricAborted({ period: HOUR, label: 'aborted (withdrawn)' }),
      ]),
      graph(
        'API requests and errors',
        [
          props.apiStage.metricCount({ period: FIVE_MINUTES, label: 'requests' }),
          props.apiStage.metricClientError({ period: FIVE_MINUTES, label: '4xx' }),
          props.apiStage.metricServerError({ period: FIVE_MINUTES, label: '5xx' }),
        ],
        8,
        [props.apiStage.metricLatency({ period: FIVE_MINUTES, statistic: 'p90', label: 'latency p90 (ms)' })],
      ),
      graph('WAF (CloudFront)', [waf('AllowedRequests').with({ label: 'allowed' }), waf('BlockedRequests').with({ label: 'blocked' })]),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        perFunction((fn) => fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' })),
      ),
      graph(
        'Function duration p90 (ms)',
        perFunction((fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p90' })),
      ),
      graph(
        'Function throttles',
        perFunction((fn) => fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' })),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Table stream: consumer lag (ms)',
        props.streamConsumers.map((name) =>
          props.functions.get(name)!.metric('IteratorAge', { period: FIVE_MINUTES, statistic: 'Maximum', label: name }),
        ),
        12,
      ),
      graph(
        'Failure queues (messages)',
        props.deadLetterQueues.map((q, i) =>
          q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: `failures ${i}` }),
        ),
        12,
      ),
    );
  }
}
