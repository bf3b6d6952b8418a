import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, metricDimensions, type CountMetric } from '../../functions/lib/observability';
import type { StageConfig } from '../config';

export interface AlarmsProps {
  config: StageConfig;
  opsKey: kms.IKey;
  stateMachine: sfn.StateMachine;
  /** catalog name → deployed function */
  functions: ReadonlyMap<string, lambda.Function>;
  apiStage: apigw.HttpStage;
  /** failure queues of asynchronous paths (the table-stream mappings' on-failure destinations) */
  deadLetterQueues?: readonly sqs.IQueue[];
  /** catalog names of the functions fed by the table stream */
  streamConsumers?: readonly string[];
}

const FIVE_MINUTES = Duration.minutes(5);
/** withdrawals abort executions one at a time; more than this in an hour is worth a look */
const ABORTS_PER_HOUR = 5;
/** the outbox stream is read within seconds; records this old mean the consumer is stuck */
const STREAM_LAG = Duration.minutes(5);

/** a business metric (functions/lib/observability.ts) as CloudWatch stores it for a stage */
export const businessMetric = (stage: string, name: CountMetric, period = FIVE_MINUTES): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: metricDimensions(stage),
    statistic: 'Sum',
    period,
  });

/** the alarm name prefix of a stage: every alarm this construct makes starts with it */
const alarmNamePrefix = (config: StageConfig): string => `${config.prefix}-`;

/**
 * Operational and business alarms to one KMS-encrypted SNS topic: referrals that need attention
 * and notices that failed (business metrics), workflow executions that failed, timed out or were
 * aborted; errors and throttles of every function; a stuck table stream and its failure queue;
 * API 5xx. Alarm names and messages carry resource names only, never data.
 *
 * The topic's policy lets CloudWatch publish for exactly these alarms (aws:SourceAccount and the
 * alarm ARNs): a topic policy replaces SNS's default one, so without it every alarm would fail
 * with "not authorized to perform: SNS:Publish". The ops key lets CloudWatch encrypt for them too.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { config } = props;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${config.prefix} alarms`,
      masterKey: props.opsKey,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const action = new actions.SnsAction(this.topic);

    const alarm = (cid: string, metric: cloudwatch.IMetric, description: string, threshold = 1): void => {
      const a = new cloudwatch.Alarm(this, cid, {
        alarmName: `${alarmNamePrefix(config)}${cid}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
    };

    // business: the workflow catches task failures on purpose (NEEDS_ATTENTION) and a failed email
    // never stops a referral, so neither shows up as a failed execution or a function error
    alarm(
      'NeedsAttention',
      businessMetric(config.stage, 'NeedsAttention'),
      'A referral moved to NEEDS_ATTENTION (a task kept failing or a gate breached twice): open it in the staff console.',
    );
    alarm(
      'NoticeFailed',
      businessMetric(config.stage, 'NoticeFailed'),
      'An email notice could not be sent (it is retried with backoff, then given up): check SES sending status and the email events topic.',
    );

    const sm = props.stateMachine;
    alarm(
      'ExecutionsFailed',
      sm.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
      'A referral workflow execution failed (the ASL catches task failures, so this means a defect).',
    );
    alarm('ExecutionsTimedOut', sm.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }), 'A referral workflow execution timed out.');
    // a withdrawal stops its execution (ABORTED), so one abort is normal; a burst is not
    alarm(
      'ExecutionsAborted',
      sm.metricAborted({ period: Duration.hours(1), statistic: 'Sum' }),
      'Unusually many referral workflow executions were aborted within an hour (withdrawals abort one each; a burst means manual stops or a defect).',
      ABORTS_PER_HOUR,
    );

    for (const [name, fn] of props.functions) {
      const cid = name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
      alarm(`${cid}Errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), `Function ${name} returned errors.`);
      alarm(`${cid}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), `Function ${name} was throttled.`);
      if (props.streamConsumers?.includes(name)) {
        alarm(
          `${cid}StreamLag`,
          fn.metric('IteratorAge', { period: FIVE_MINUTES, statistic: 'Maximum' }),
          `Function ${name} is behind on the table stream by ${STREAM_LAG.toMinutes()} minutes or more (notices are waiting).`,
          STREAM_LAG.toMilliseconds(),
        );
      }
    }

    (props.deadLetterQueues ?? []).forEach((queue, i) => {
      alarm(
        `DeadLetters${i}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        `Failure queue ${queue.queueName} holds messages (a stream batch failed after its retries).`,
      );
    });

    alarm('Api5xx', props.apiStage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 'The HTTP API answered 5xx.');

    // last, once every alarm exists: CloudWatch may publish for exactly these alarms of this account
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStack',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.alarms.map((a) => a.alarmArn) },
        },
      }),
    );
  }
}
