import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tableDefinition } from '../../functions/lib/keys';
import type { StageConfig } from '../config';
import { acknowledge } from '../nag';

export interface DataProps {
  config: StageConfig;
}

/**
 * The one DynamoDB table (keys from functions/lib/keys.ts, the same definition the local runtime
 * uses), its customer-managed key, point-in-time recovery and an AWS Backup plan. Also the key for
 * operational data (logs, SNS topics), kept apart so reading logs never grants decrypting PHI.
 */
export class Data extends Construct {
  /** encrypts PHI at rest: the table and its backups */
  readonly dataKey: kms.Key;
  /** encrypts operational data: every log group and SNS topic */
  readonly opsKey: kms.Key;
  readonly table: dynamodb.Table;
  /** `<table arn>/index/<name>` for each GSI, for grants without wildcards */
  readonly indexArns: string[];

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `${config.prefix}: PHI at rest (DynamoDB table, AWS Backup vault)`,
      enableKeyRotation: true,
      alias: `alias/${config.prefix}-data`,
      removalPolicy: config.removalPolicy,
      pendingWindow: Duration.days(config.isProd ? 30 : 7),
    });

    this.opsKey = new kms.Key(this, 'OpsKey', {
      description: `${config.prefix}: operational data (CloudWatch log groups, SNS topics)`,
      enableKeyRotation: true,
      alias: `alias/${config.prefix}-ops`,
      removalPolicy: config.removalPolicy,
      pendingWindow: Duration.days(config.isProd ? 30 : 7),
    });
    // CloudWatch Logs encrypts each log group of this account and region with the key
    this.opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*` },
        },
      }),
    );
    // encrypted SNS topics: this stage's CloudWatch alarms (all named <prefix>-…, see alarms.ts)
    // and SES event destinations of this account publish to them
    this.opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisStage',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${stack.region}:${stack.account}:alarm:${config.prefix}-*` },
        },
      }),
    );
    this.opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesPublishersOfThisAccount',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    const gsis = tableDefinition.globalSecondaryIndexes;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableDefinition.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      // the outbox: send-notices reads new NOTICE items from the stream (functions/lib/keys.ts)
      stream: dynamodb.StreamViewType[tableDefinition.stream],
      deletionProtection: config.deletionProtection,
      removalPolicy: config.removalPolicy,
    });
    for (const gsi of gsis) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: { name: gsi.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: gsi.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    this.indexArns = gsis.map((gsi) => `${this.table.tableArn}/index/${gsi.indexName}`);

    // daily backups kept 35 days plus monthly kept a year, in a vault under the PHI key; PITR
    // covers the last 35 days to the second. The vault is retained in both stages once created:
    // recovery points of PHI outlive a deleted stack (and CloudFormation cannot delete a non-empty
    // vault anyway); a vault made by a create that rolls back is empty and goes with it.
    const vault = new backup.BackupVault(this, 'Vault', {
      encryptionKey: this.dataKey,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // cold storage for DynamoDB needs the account's advanced DynamoDB backup setting, which a
    // stack cannot turn on: without it the monthly job fails, so it is opt-in (DEPLOY.md)
    const monthly = new backup.BackupPlanRule({
      ruleName: 'Monthly1Year',
      scheduleExpression: Schedule.cron({ day: '1', hour: '5', minute: '0' }),
      deleteAfter: Duration.days(365),
      ...(config.backupColdStorage ? { moveToColdStorageAfter: Duration.days(30) } : {}),
    });
    const plan = new backup.BackupPlan(this, 'BackupPlan', {
      backupVault: vault,
      backupPlanRules: [backup.BackupPlanRule.daily(), monthly],
    });
    const selection = plan.addSelection('Table', { resources: [backup.BackupResource.fromDynamoDbTable(this.table)] });
    acknowledge(selection, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]':
        'AWS Backup selection role: the AWS-managed backup service policy is the documented role for AWS Backup jobs and tracks new resource types; it is assumable only by backup.amazonaws.com.',
    });
  }
}
