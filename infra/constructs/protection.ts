import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEPLOY_REGION, type StageConfig } from '../config';

export interface ProtectionProps {
  config: StageConfig;
  opsKey: kms.IKey;
}

/**
 * Rules of the AWS common rule set that count instead of block (their labels and metrics stay):
 * - `SizeRestrictions_BODY` blocks bodies over 8 KB, but a valid intake can be far larger (2,000
 *   characters of notes, 20 co-occurring entries, names in any script: test/infra/waf.test.ts
 *   builds the largest); the API's own limit (MAX_BODY_BYTES, 32 KB, a JSON 413) is the rule.
 * - `CrossSiteScripting_BODY`: intake notes are free text that "may hold any characters" and are
 *   always escaped on output; blocking HTML-looking text would silently drop a patient's words.
 */
export const COMMON_RULES_COUNTED = ['SizeRestrictions_BODY', 'CrossSiteScripting_BODY'] as const;

/** the public intake route the rate rule watches */
export const INTAKE_METHOD = 'POST';
export const INTAKE_PATH = '/api/referrals';

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

const exactly = (searchString: string, fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty): wafv2.CfnWebACL.StatementProperty => ({
  byteMatchStatement: {
    searchString,
    fieldToMatch,
    positionalConstraint: 'EXACTLY',
    textTransformations: [{ priority: 0, type: 'NONE' }],
  },
});

/** the key of the WAF's JSON body for a rate-limited request */
const RATE_LIMITED_BODY = 'rate-limited';

/**
 * The WAF web ACL in front of everything (attached to the CloudFront distribution; an HTTP API
 * cannot take a web ACL itself). CLOUDFRONT scope exists only in us-east-1, which is why the stack
 * deploys there. Rules: a per-IP rate limit on the public intake (429 over the limit), the AWS
 * managed common rule set and known bad inputs. Logs go to a KMS-encrypted log group with the
 * Authorization header redacted.
 */
export class Protection extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ProtectionProps) {
    super(scope, id);
    const { config } = props;
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== DEPLOY_REGION) {
      throw new Error(`a CLOUDFRONT-scope web ACL must be created in ${DEPLOY_REGION}; this stack is in ${region}`);
    }

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `${config.prefix}-web`,
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${config.prefix}-web`),
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ error: 'TooManyRequests', message: 'Too many requests from this address; try again in a few minutes' }),
        },
      },
      rules: [
        {
          name: 'IntakeRateLimit',
          priority: 0,
          // the API's own error shape (docs/ARCHITECTURE.md §3) and when to come back, as the local gateway answers
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: RATE_LIMITED_BODY,
                responseHeaders: [{ name: 'retry-after', value: '300' }],
              },
            },
          },
          statement: {
            rateBasedStatement: {
              limit: config.intakeRateLimit,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
              scopeDownStatement: {
                andStatement: {
                  statements: [exactly(INTAKE_METHOD, { method: {} }), exactly(INTAKE_PATH, { uriPath: {} })],
                },
              },
            },
          },
          visibilityConfig: visibility('IntakeRateLimit'),
        },
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: COMMON_RULES_COUNTED.map((name) => ({ name, actionToUse: { count: {} } })),
            },
          },
          visibilityConfig: visibility('AWSManagedRulesCommonRuleSet'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: visibility('AWSManagedRulesKnownBadInputsRuleSet'),
        },
      ],
    });

    // WAF requires the aws-waf-logs- prefix for CloudWatch Logs destinations
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${config.prefix}`,
      retention: config.logRetention,
      encryptionKey: props.opsKey,
      removalPolicy: config.removalPolicy,
    });
    // the destination is the group's ARN without the trailing :* of its GetAtt Arn
    const destination = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: this.logGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [destination],
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
  }
}
