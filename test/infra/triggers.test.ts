import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { functions as catalog, type FunctionSpec, type Trigger } from '../../functions/catalog';
import { tableDefinition } from '../../functions/lib/keys';
import { STREAM_RETRY_ATTEMPTS } from '../../infra/constructs/functions';
import { asList, onlyOne, resourcesOf, statementsOfRole, templateFor } from './helpers';

// the catalog's triggers become event sources: a table-stream mapping per `table-stream` trigger
// (filtered, partial batch failures, bisect, bounded retries, an encrypted failure queue that
// alarms) and an EventBridge Scheduler schedule with its own role per `schedule` trigger

let t: Template;
beforeAll(() => {
  t = templateFor('prod');
});

const withTrigger = <K extends Trigger['kind']>(kind: K) =>
  catalog.flatMap((spec) =>
    (spec.triggers ?? []).filter((tr): tr is Extract<Trigger, { kind: K }> => tr.kind === kind).map((trigger) => [spec, trigger] as const),
  );

const functionIdOf = (spec: FunctionSpec) => onlyOne(t, 'AWS::Lambda::Function', (r) => r.Properties?.Description === spec.description)[0];
const roleIdOf = (fnId: string) =>
  (resourcesOf(t, 'AWS::Lambda::Function')[fnId]!.Properties!.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
const json = (x: unknown) => JSON.stringify(x);

test('the catalog has both kinds of trigger (so the tests below test something)', () => {
  expect(withTrigger('table-stream').length).toBeGreaterThan(0);
  expect(withTrigger('schedule').length).toBeGreaterThan(0);
});

test('the table has a stream of the view functions/lib/keys.ts names', () => {
  const [, table] = onlyOne(t, 'AWS::DynamoDB::Table', () => true);
  expect(table.Properties?.StreamSpecification).toEqual({ StreamViewType: tableDefinition.stream });
});

describe.each(withTrigger('table-stream').map(([spec, trigger]) => [spec.name, spec, trigger] as const))(
  'table-stream trigger of %s',
  (_name, spec, trigger) => {
    const mapping = () => {
      const fnId = functionIdOf(spec);
      return onlyOne(t, 'AWS::Lambda::EventSourceMapping', (r) => json(r.Properties?.FunctionName) === json({ Ref: fnId }));
    };

    test('reads the table stream with the catalog filter, reports partial failures, bisects and retries a bounded number of times', () => {
      const [tableId] = onlyOne(t, 'AWS::DynamoDB::Table', () => true);
      const p = mapping()[1].Properties!;
      expect(p.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
      expect(p.FilterCriteria).toEqual({ Filters: [{ Pattern: JSON.stringify(trigger.filter) }] });
      expect(p).toMatchObject({
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
        StartingPosition: 'TRIM_HORIZON',
      });
    });

    test('sends what still fails to an encrypted, TLS-only queue that alarms', () => {
      const p = mapping()[1].Properties!;
      const queueId = p.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0] as string;
      const queue = resourcesOf(t, 'AWS::SQS::Queue')[queueId];
      expect(queue?.Properties?.SqsManagedSseEnabled).toBe(true);
      const policy = Object.values(resourcesOf(t, 'AWS::SQS::QueuePolicy')).find((q) => json(q.Properties?.Queues).includes(queueId));
      expect(json(policy?.Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find((a) => json(a.Properties?.Dimensions).includes(queueId));
      expect(alarm?.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    });

    test('the function role may read the stream and write the failure queue, and the mapping waits for that policy', () => {
      const [, m] = mapping();
      const fnId = functionIdOf(spec);
      const statements = statementsOfRole(t, roleIdOf(fnId));
      const [tableId] = onlyOne(t, 'AWS::DynamoDB::Table', () => true);
      const streamRead = statements.find((s) => asList<string>(s.Action).includes('dynamodb:GetRecords'));
      expect(streamRead?.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
      expect(asList(streamRead?.Action)).toEqual(expect.arrayContaining(['dynamodb:DescribeStream', 'dynamodb:GetShardIterator']));
      expect(statements.some((s) => asList<string>(s.Action).includes('dynamodb:ListStreams'))).toBe(true);
      const queueArn = m.Properties!.DestinationConfig.OnFailure.Destination;
      expect(statements.find((s) => asList<string>(s.Action).includes('sqs:SendMessage'))?.Resource).toEqual(queueArn);
      const policyId = Object.entries(resourcesOf(t, 'AWS::IAM::ManagedPolicy')).find(([, p]) =>
        json(p.Properties?.Roles).includes(roleIdOf(fnId)),
      )![0];
      expect(asList(m.DependsOn)).toContain(policyId);
    });

    test('a stalled stream alarms', () => {
      const fnId = functionIdOf(spec);
      const lag = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find(
        (a) => a.Properties?.MetricName === 'IteratorAge' && json(a.Properties?.Dimensions).includes(fnId),
      );
      expect(lag?.Properties?.Statistic).toBe('Maximum');
    });
  },
);

describe.each(withTrigger('schedule').map(([spec, trigger]) => [spec.name, spec, trigger] as const))(
  'schedule trigger of %s',
  (_name, spec, trigger) => {
    const schedule = () => {
      const fnId = functionIdOf(spec);
      return onlyOne(t, 'AWS::Scheduler::Schedule', (r) => json(r.Properties?.Target?.Arn) === json({ 'Fn::GetAtt': [fnId, 'Arn'] }));
    };

    test('runs at the catalog rate, without retries piling up behind the next run', () => {
      const p = schedule()[1].Properties!;
      const minutes = trigger.everySeconds / 60;
      expect(p.ScheduleExpression).toBe(`rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`);
      expect(p.State).toBe('ENABLED');
      expect(p.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
      const fnId = functionIdOf(spec);
      const config = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig')).find(
        (c) => json(c.Properties?.FunctionName) === json({ Ref: fnId }),
      );
      expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
    });

    test('has its own role: assumable by Scheduler for this account only, invoking exactly this function', () => {
      const roleId = (schedule()[1].Properties!.Target.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const role = resourcesOf(t, 'AWS::IAM::Role')[roleId]!;
      const trust = role.Properties?.AssumeRolePolicyDocument.Statement as Array<Record<string, any>>;
      expect(trust).toEqual([
        expect.objectContaining({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
      ]);
      const statements = statementsOfRole(t, roleId);
      expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
        ['lambda:InvokeFunction', { 'Fn::GetAtt': [functionIdOf(spec), 'Arn'] }],
      ]);
    });
  },
);
