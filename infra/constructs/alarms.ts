import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface AlarmsProps {
  config: StageConfig;
  opsKey: kms.IKey;
  stateMachine: sfn.StateMachine;
  /** catalog name → deployed function */
  functions: ReadonlyMap<string, lambda.Function>;
  apiStage: apigw.HttpStage;
  /** dead-letter queues to watch (none today: every function is invoked synchronously) */
  deadLetterQueues?: readonly sqs.IQueue[];
}

const FIVE_MINUTES = Duration.minutes(5);
/** withdrawals abort executions one at a time; more than this in an hour is worth a look */
const ABORTS_PER_HOUR = 5;

/**
 * Operational alarms to one KMS-encrypted SNS topic: workflow executions that failed, timed out
 * or were aborted; errors and throttles of every function; DLQ depth; API 5xx. Alarm names and
 * messages carry resource names only, never data.
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
        alarmName: `${config.prefix}-${cid}`,
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

    const sm = props.stateMachine;
    alarm('ExecutionsFailed', sm.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }), 'A referral workflow execution failed (the ASL catches task failures, so this means a defect).');
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
    }

    (props.deadLetterQueues ?? []).forEach((queue, i) => {
      alarm(`DeadLetters${i}`, queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }), `Dead-letter queue ${queue.queueName} holds messages.`);
    });

    alarm('Api5xx', props.apiStage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 'The HTTP API answered 5xx.');
  }
}
