import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functions as catalog, LAMBDA_MEMORY_MB, timeoutSecondsOf } from '../../functions/catalog';
import { BUNDLE_AWS_SDK, ESBUILD_TARGET, ESM_REQUIRE_BANNER, MAIN_FIELDS, SDK_EXTERNALS, entryOf } from '../bundling';
import type { StageConfig } from '../config';
import { GRANTS, type Need } from '../grants';
import { acknowledge } from '../nag';

export interface FunctionsProps {
  config: StageConfig;
  /** folder holding functions/<name>/handler.ts and package-lock.json (the repo root) */
  projectRoot: string;
  table: dynamodb.ITable;
  /** `<table arn>/index/<name>` of every GSI */
  indexArns: string[];
  dataKey: kms.IKey;
  opsKey: kms.IKey;
  /** built from the fixed state machine name, so task functions can have it without a cycle */
  stateMachineArn: string;
  stateMachineName: string;
  email: { identityArn: string; configurationSetArn: string };
}

/** an ARN of this stack as cdk-nag prints it in IAM5 findings (unresolved parts as <AWS::...>) */
const nagArn = (stack: Stack, service: string, resource: string): string => {
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
};

const pascal = (name: string): string => name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());

/**
 * One NodejsFunction per entry of functions/catalog.ts, each with its own role (least privilege
 * from the entry's `needs`), its own KMS-encrypted log group and the environment every handler
 * parses at cold start (functions/lib/config.ts).
 */
export class Functions extends Construct {
  /** by catalog name */
  readonly byName = new Map<string, NodejsFunction>();
  readonly logGroups = new Map<string, logs.LogGroup>();

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    const environment: Record<string, string> = {
      TABLE_NAME: props.table.tableName,
      STATE_MACHINE_ARN: props.stateMachineArn,
      MAIL_FROM: config.mailFrom,
      PROGRAM_EMAIL: config.programEmail,
      PROGRAM_NAME: config.programName,
      PROGRAM_PHONE: config.programPhone,
      PROGRAM_TIME_ZONE: config.programTimeZone,
      ...(config.gateTimeouts ? { GATE_TIMEOUTS: config.gateTimeouts } : {}),
      ...(config.detoxMaxDays ? { DETOX_MAX_DAYS: config.detoxMaxDays } : {}),
      POWERTOOLS_SERVICE_NAME: 'iop-referral',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // stack traces point at handler.ts lines, through the bundled source map
      NODE_OPTIONS: '--enable-source-maps',
    };

    const executionsArn = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    for (const spec of catalog) {
      const cid = pascal(spec.name);
      const isWorkflowTask = spec.aslKey !== undefined;

      const logGroup = new logs.LogGroup(this, `${cid}Logs`, {
        retention: config.logRetention,
        encryptionKey: props.opsKey,
        removalPolicy: config.removalPolicy,
      });
      // own role and customer-managed policy (no inline policy, no AWS-managed basic execution
      // policy): logs go to this function's group only, the rest follows the catalog's needs
      const role = new iam.Role(this, `${cid}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${config.prefix} ${spec.name}: ${spec.needs.join(', ')}`,
      });
      const policy = new iam.ManagedPolicy(this, `${cid}Policy`, {
        description: `${config.prefix} ${spec.name}: least privilege from functions/catalog.ts`,
        roles: [role],
      });
      policy.addStatements(
        new iam.PolicyStatement({ sid: 'OwnLogGroup', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      );

      const reserved = spec.name === 'submit-intake' && config.intakeConcurrency > 0 ? config.intakeConcurrency : undefined;
      const fn = new NodejsFunction(this, cid, {
        entry: entryOf(props.projectRoot, spec.name),
        projectRoot: props.projectRoot,
        depsLockFilePath: `${props.projectRoot}/package-lock.json`,
        handler: 'handler',
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: LAMBDA_MEMORY_MB,
        timeout: Duration.seconds(timeoutSecondsOf(spec)),
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment,
        // the public intake is the one entry point anyone can drive: cap it so a flood cannot
        // starve the account's concurrency or hammer the table and Step Functions
        reservedConcurrentExecutions: reserved,
        bundling: {
          format: OutputFormat.ESM,
          target: ESBUILD_TARGET,
          minify: true,
          sourceMap: true,
          sourceMapMode: SourceMapMode.DEFAULT,
          mainFields: MAIN_FIELDS,
          banner: ESM_REQUIRE_BANNER,
          bundleAwsSDK: BUNDLE_AWS_SDK,
          externalModules: BUNDLE_AWS_SDK ? [] : SDK_EXTERNALS,
          forceDockerBundling: false,
        },
      });
      this.byName.set(spec.name, fn);
      this.logGroups.set(spec.name, logGroup);

      for (const need of new Set(spec.needs)) this.grant(policy, need, props, executionsArn);

      const invokedBy = isWorkflowTask
        ? 'Step Functions (synchronous RequestResponse invoke, also for .waitForTaskToken)'
        : 'API Gateway HTTP API (synchronous proxy integration)';
      const findings: Record<string, string> = {
        'HIPAA.Security-LambdaDLQ': `${spec.name} is only invoked by ${invokedBy}; a DLQ applies to asynchronous invocations only. Failures return to the caller: the API answers with an error, the workflow retries then catches into NEEDS_ATTENTION.`,
        'HIPAA.Security-LambdaInsideVPC': `${spec.name} reaches only AWS regional endpoints (DynamoDB, Step Functions, SES) over TLS with SigV4-signed IAM calls and has no VPC-only dependency; a VPC would add NAT/endpoints without narrowing who can reach the data.`,
      };
      if (reserved === undefined) {
        findings['HIPAA.Security-LambdaConcurrency'] =
          `${spec.name} is reachable only by authenticated staff or by the state machine (whose rate follows the capped public intake); reserving concurrency here would only take capacity from the account pool, and new accounts cannot reserve any.`;
      }
      acknowledge(fn, findings);
    }
  }

  /** turns one catalog `need` into least-privilege policy statements on the function's role (actions from infra/grants.ts) */
  private grant(managed: iam.ManagedPolicy, need: Need, props: FunctionsProps, executionsArn: string): void {
    const stack = Stack.of(this);
    const viaDynamo = { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } };
    const policy = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      managed.addStatements(new iam.PolicyStatement({ sid, actions, resources, conditions }));

    switch (need) {
      case 'table:read':
        policy('TableRead', GRANTS[need].TableRead, [props.table.tableArn]);
        policy('IndexRead', GRANTS[need].IndexRead, props.indexArns);
        policy('TableKeyRead', GRANTS[need].TableKeyRead, [props.dataKey.keyArn], viaDynamo);
        return;
      case 'table:write':
        policy('TableWrite', GRANTS[need].TableWrite, [props.table.tableArn]);
        policy('TableKeyWrite', GRANTS[need].TableKeyWrite, [props.dataKey.keyArn], viaDynamo);
        return;
      case 'workflow:start':
        policy('WorkflowStart', GRANTS[need].WorkflowStart, [props.stateMachineArn]);
        return;
      case 'workflow:callback': {
        policy('WorkflowCallback', GRANTS[need].WorkflowCallback, ['*']);
        acknowledge(managed, {
          'AwsSolutions-IAM5[Resource::*]':
            'states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat support no resource-level permissions (IAM lists no resource type for them); the task token itself is the capability and never leaves the backend.',
        });
        return;
      }
      case 'workflow:describe':
        policy('WorkflowDescribe', GRANTS[need].WorkflowDescribe, [props.stateMachineArn]);
        return;
      case 'workflow:stop':
        policy('WorkflowStop', GRANTS[need].WorkflowStop, [executionsArn]);
        acknowledge(managed, {
          [`AwsSolutions-IAM5[Resource::${nagArn(stack, 'states', `execution:${props.stateMachineName}:*`)}]`]:
            'StopExecution is scoped to executions of this one state machine; execution names are per referral and unknown at deploy time, so the execution-name part must be a wildcard.',
        });
        return;
      case 'email:send':
        policy('EmailSend', GRANTS[need].EmailSend, [props.email.identityArn, props.email.configurationSetArn]);
        return;
    }
  }
}
