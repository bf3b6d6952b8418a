import { beforeAll, describe, expect, test } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { functions as catalog } from '../../functions/catalog';
import { METRICS_NAMESPACE, metricDimensions, SERVICE_NAME } from '../../functions/lib/observability';
import { asList, resourcesOf, statementsOfRole, templateFor, type Resource } from './helpers';

// alarms reach someone, business metrics alarm, every function traces, one dashboard

let prod: Template;
let dev: Template;
beforeAll(() => {
  prod = templateFor('prod');
  dev = templateFor('dev');
});

type Statement = Record<string, any>;
const services = (s: Statement): string[] => asList<string>(s.Principal?.Service);
const json = (x: unknown) => JSON.stringify(x);

/** does a key or topic policy statement's aws:SourceArn condition admit this alarm? */
const sourceArnAdmits = (s: Statement, alarmId: string, alarmName: string): boolean => {
  const c = s.Condition ?? {};
  const exact = [...asList(c.ArnEquals?.['aws:SourceArn']), ...asList(c.StringEquals?.['aws:SourceArn'])];
  if (exact.some((a) => json(a) === json({ 'Fn::GetAtt': [alarmId, 'Arn'] }))) return true;
  // a pattern such as arn:…:alarm:iop-prod-* (rendered as a Fn::Join of literals and pseudo parameters)
  return asList(c.ArnLike?.['aws:SourceArn']).some((pattern) => {
    const literal = json(pattern).match(/:alarm:([^"]*)"/)?.[1];
    return literal !== undefined && new RegExp(`^${literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(alarmName);
  });
};
const scopedToAccount = (s: Statement) => json(s.Condition?.StringEquals?.['aws:SourceAccount']) === json({ Ref: 'AWS::AccountId' });

/**
 * For every alarm action: the topic it names, a topic policy that lets cloudwatch.amazonaws.com
 * publish for this alarm of this account (and no Deny that applies to it), and — for an encrypted
 * topic — a key policy that lets CloudWatch use the key for this alarm. Returns what is missing.
 */
const unreachableAlarmActions = (t: Template): string[] => {
  const problems: string[] = [];
  const topics = resourcesOf(t, 'AWS::SNS::Topic');
  const policies = Object.values(resourcesOf(t, 'AWS::SNS::TopicPolicy'));
  const keys = resourcesOf(t, 'AWS::KMS::Key');
  for (const [alarmId, alarm] of Object.entries(resourcesOf(t, 'AWS::CloudWatch::Alarm'))) {
    const name = String(alarm.Properties?.AlarmName);
    const targets = [
      ...asList(alarm.Properties?.AlarmActions),
      ...asList(alarm.Properties?.OKActions),
      ...asList(alarm.Properties?.InsufficientDataActions),
    ] as Array<{ Ref?: string }>;
    if (targets.length === 0) problems.push(`${name}: no action`);
    for (const target of targets) {
      const topicId = target.Ref;
      if (!topicId || !topics[topicId]) {
        problems.push(`${name}: action ${json(target)} is not a topic of this stack`);
        continue;
      }
      const statements: Statement[] = policies
        .filter((p) => asList(p.Properties?.Topics).some((x) => json(x) === json({ Ref: topicId })))
        .flatMap((p) => p.Properties?.PolicyDocument.Statement ?? []);
      const allows = statements.some(
        (s) =>
          s.Effect === 'Allow' &&
          services(s).includes('cloudwatch.amazonaws.com') &&
          asList<string>(s.Action).some((a) => a.toLowerCase() === 'sns:publish') &&
          asList(s.Resource).some((r) => json(r) === json({ Ref: topicId })) &&
          scopedToAccount(s) &&
          sourceArnAdmits(s, alarmId, name),
      );
      if (!allows) problems.push(`${name}: topic ${topicId} does not let CloudWatch publish for it`);
      // the only denies allowed are the TLS-only ones (CloudWatch publishes over TLS)
      for (const s of statements.filter((s) => s.Effect === 'Deny')) {
        if (json(s.Condition) !== json({ Bool: { 'aws:SecureTransport': 'false' } }))
          problems.push(`${name}: topic ${topicId} has a deny that may apply: ${json(s)}`);
      }
      const keyRef = topics[topicId]!.Properties?.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] } | undefined;
      if (keyRef) {
        const keyId = keyRef['Fn::GetAtt']?.[0];
        const keyStatements: Statement[] = (keyId && keys[keyId]?.Properties?.KeyPolicy.Statement) || [];
        const keyAllows = keyStatements.some(
          (s) =>
            s.Effect === 'Allow' &&
            services(s).includes('cloudwatch.amazonaws.com') &&
            ['kms:Decrypt', 'kms:GenerateDataKey'].every((a) => asList<string>(s.Action).includes(a)) &&
            scopedToAccount(s) &&
            sourceArnAdmits(s, alarmId, name),
        );
        if (!keyAllows) problems.push(`${name}: the key of topic ${topicId} does not let CloudWatch encrypt for it`);
      }
    }
  }
  return problems;
};

describe('alarms reach someone', () => {
  test.each(['dev', 'prod'] as const)(
    'every alarm action of %s is a topic whose policy and key let CloudWatch publish for that alarm',
    (stage) => {
      const t = stage === 'prod' ? prod : dev;
      expect(Object.keys(resourcesOf(t, 'AWS::CloudWatch::Alarm')).length).toBeGreaterThan(20);
      expect(unreachableAlarmActions(t)).toEqual([]);
    },
  );

  test('the check can fail: an encrypted, TLS-only topic without the CloudWatch statement is reported (the bug of issue 10)', () => {
    // Prepare: what the stack had before: enforceSSL replaces the default policy, nothing allows CloudWatch
    const stack = new Stack(new App(), 'Probe');
    const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true, masterKey: new kms.Key(stack, 'Key') });
    const metric = new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' });
    new cloudwatch.Alarm(stack, 'Alarm', { alarmName: 'probe-alarm', metric, threshold: 1, evaluationPeriods: 1 }).addAlarmAction(
      new actions.SnsAction(topic),
    );

    // Act / Assess
    expect(unreachableAlarmActions(Template.fromStack(stack))).toEqual([
      expect.stringMatching(/^probe-alarm: topic .* does not let CloudWatch publish for it$/),
      expect.stringMatching(/^probe-alarm: the key of topic .* does not let CloudWatch encrypt for it$/),
    ]);
  });
});

describe('business metrics', () => {
  test.each(['NeedsAttention', 'NoticeFailed'])(
    'an alarm fires on one %s (namespace, name and dimensions as observability.ts emits them)',
    (metricName) => {
      for (const [stage, t] of [
        ['dev', dev],
        ['prod', prod],
      ] as const) {
        const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter((a) => a.Properties?.MetricName === metricName);
        expect(alarms).toHaveLength(1);
        const p = alarms[0]!.Properties!;
        expect(p.Namespace).toBe(METRICS_NAMESPACE);
        expect(Object.fromEntries((p.Dimensions as Array<{ Name: string; Value: string }>).map((d) => [d.Name, d.Value]))).toEqual(
          metricDimensions(stage),
        );
        expect([p.Statistic, p.Threshold, p.ComparisonOperator, p.TreatMissingData]).toEqual([
          'Sum',
          1,
          'GreaterThanOrEqualToThreshold',
          'notBreaching',
        ]);
      }
    },
  );

  test('the functions emit to that namespace, as that service, with their stage', () => {
    for (const f of Object.values(resourcesOf(prod, 'AWS::Lambda::Function')).filter(
      (f) => f.Properties?.Environment?.Variables?.TABLE_NAME,
    )) {
      expect(f.Properties?.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        IOP_STAGE: 'prod',
      });
    }
  });

  test('one dashboard per stage shows the business metrics, the workflow, the API and every function', () => {
    const dashboards = Object.values(resourcesOf(prod, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties?.DashboardName).toBe('iop-prod-operations');
    const body = json(dashboards[0]!.Properties?.DashboardBody);
    for (const name of [
      'ReferralReceived',
      'ReferralUrgent',
      'SlaBreached',
      'NeedsAttention',
      'NoticeFailed',
      'NoticeSent',
      'MilestoneReached',
      'ExecutionsStarted',
      '5xx',
      'BlockedRequests',
      'IteratorAge',
    ]) {
      expect([name, body.includes(name)]).toEqual([name, true]);
    }
    const functionIds = Object.entries(resourcesOf(prod, 'AWS::Lambda::Function'))
      .filter(([, f]) => f.Properties?.Environment?.Variables?.TABLE_NAME)
      .map(([id]) => id);
    for (const id of functionIds) expect([id, body.includes(id)]).toEqual([id, true]);
  });
});

describe('tracing', () => {
  const catalogFunctions = (t: Template): Array<[string, Resource]> =>
    Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).filter(([, f]) =>
      catalog.some((s) => s.description === f.Properties?.Description),
    );

  test('every catalog function traces actively and its own managed policy may write the traces', () => {
    const fns = catalogFunctions(prod);
    expect(fns).toHaveLength(catalog.length);
    for (const [id, f] of fns) {
      expect([id, f.Properties?.TracingConfig]).toEqual([id, { Mode: 'Active' }]);
      const roleId = (f.Properties?.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const xray = statementsOfRole(prod, roleId).filter((s) => asList<string>(s.Action).includes('xray:PutTraceSegments'));
      expect([id, xray.length]).toEqual([id, 1]);
    }
    // no inline policy came with it: every function role has managed policies only
    for (const p of Object.values(resourcesOf(prod, 'AWS::IAM::Policy'))) {
      const roles = json(p.Properties?.Roles);
      for (const [, f] of fns) expect(roles.includes((f.Properties?.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0])).toBe(false);
    }
  });

  test('traces never carry responses or error messages (a staff read returns PHI)', () => {
    for (const [, f] of catalogFunctions(prod)) {
      expect(f.Properties?.Environment.Variables).toMatchObject({
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
      });
    }
  });

  test('the state machine traces too', () => {
    expect(Object.values(resourcesOf(prod, 'AWS::StepFunctions::StateMachine'))[0]?.Properties?.TracingConfiguration).toEqual({
      Enabled: true,
    });
  });
});
