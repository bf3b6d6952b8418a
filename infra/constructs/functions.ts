import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functions as catalog, LAMBDA_MEMORY_MB, timeoutSecondsOf, type FunctionSpec, type Trigger } from '../../functions/catalog';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/lib/observability';
import { BUNDLE_AWS_SDK, ESBUILD_TARGET, ESM_REQUIRE_BANNER, LAMBDA_RUNTIME_NAME, MAIN_FIELDS, SDK_EXTERNALS, entryOf } from '../bundling';
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
  email: { identityArn: string; configurationSetArn: string; configurationSetName: string };
}

/** how often a table-stream trigger retries a failing batch before it goes to its failure queue */
export const STREAM_RETRY_ATTEMPTS = 3;

/** the deployed runtime: Lambda's runtime of NODE_MAJOR (infra/bundling.ts) */
const RUNTIME = lambda.Runtime.ALL.find((r) => r.name === LAMBDA_RUNTIME_NAME && r.family === lambda.RuntimeFamily.NODEJS);
if (!RUNTIME) throw new Error(`aws-cdk-lib knows no Lambda runtime ${LAMBDA_RUNTIME_NAME}`);

/** an on-failure destination without CDK's automatic (inline) grant: the send permission is in the function's managed policy */
const onFailureTo = (queue: sqs.IQueue): lambda.IEventSourceDlq => ({ bind: () => ({ destination: queue.queueArn }) });

/** an ARN of this stack as cdk-nag prints it in IAM5 findings (unresolved parts as <AWS::...>) */
const nagArn = (stack: Stack, service: string, resource: string): string => {
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
};

/** the entries that have a value (an unset setting is no environment variable) */
const definedOnly = (env: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

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
  /** failure queues of the table-stream triggers (their depth is alarmed) */
  readonly deadLetterQueues: sqs.Queue[] = [];
  /** catalog names of the functions that consume the table stream (their iterator age is alarmed) */
  readonly streamConsumers: string[] = [];
  /** HMAC key of the staff lists' page cursors (functions/lib/cursor.ts), one for every container */
  readonly cursorSecret: secretsmanager.Secret;
  /**
   * the clearinghouse API key's secret (eligibilityProvider=clearinghouse): created here, empty of
   * the real key until the deployer puts it (DEPLOY.md), or the existing one given by ARN
   */
  readonly eligibilityKeySecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    // without one shared key every container signs cursors with its own random key, and page 2
    // fails (400 InvalidCursor) whenever another container serves it. Not PHI: it only signs
    // table keys. CloudFormation resolves it into the functions' (encrypted) environment.
    this.cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: `${config.prefix}: HMAC key of staff list page cursors (CURSOR_SECRET)`,
      encryptionKey: props.opsKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(this.cursorSecret, {
      'AwsSolutions-SMG4':
        'An HMAC key for page cursors only (no PHI, no credential): rotating it merely invalidates the cursors handed out (clients start again from page 1), so a rotation Lambda would add cost and nothing to protect; replace the secret to rotate.',
      'HIPAA.Security-SecretsManagerRotationEnabled':
        'An HMAC key for page cursors only (no PHI, no credential): rotating it merely invalidates the cursors handed out; replace the secret to rotate.',
    });

    const eligibility = config.eligibility;
    if (eligibility.ELIGIBILITY_PROVIDER === 'clearinghouse') {
      if (eligibility.ELIGIBILITY_API_KEY_SECRET_ARN) {
        this.eligibilityKeySecret = secretsmanager.Secret.fromSecretCompleteArn(
          this,
          'EligibilityApiKey',
          eligibility.ELIGIBILITY_API_KEY_SECRET_ARN,
        );
      } else {
        // CloudFormation fills it with a random placeholder; the deployer replaces it with the
        // clearinghouse's key (aws secretsmanager put-secret-value, DEPLOY.md). Until then every
        // check comes back unclear (HTTP 401 from the clearinghouse) and goes to insurance review.
        const created = new secretsmanager.Secret(this, 'EligibilityApiKey', {
          description: `${config.prefix}: the clearinghouse API key of the eligibility check (put the real key with put-secret-value, DEPLOY.md)`,
          encryptionKey: props.opsKey,
          removalPolicy: config.removalPolicy,
        });
        acknowledge(created, {
          'AwsSolutions-SMG4':
            'The clearinghouse issues and rotates this API key in its own portal; no Lambda can obtain a new one. Rotate by putting the new key (put-secret-value, DEPLOY.md): containers read it at cold start, so new ones use it at once.',
          'HIPAA.Security-SecretsManagerRotationEnabled':
            'The clearinghouse issues and rotates this API key in its own portal; no Lambda can obtain a new one. Rotate by putting the new key (put-secret-value, DEPLOY.md).',
        });
        this.eligibilityKeySecret = created;
      }
    }

    const environment: Record<string, string> = {
      CURSOR_SECRET: this.cursorSecret.secretValue.unsafeUnwrap(),
      TABLE_NAME: props.table.tableName,
      STATE_MACHINE_ARN: props.stateMachineArn,
      MAIL_FROM: config.mailFrom,
      PROGRAM_EMAIL: config.programEmail,
      PROGRAM_NAME: config.programName,
      PROGRAM_PHONE: config.programPhone,
      PROGRAM_TIME_ZONE: config.programTimeZone,
      ...(config.gateTimeouts ? { GATE_TIMEOUTS: config.gateTimeouts } : {}),
      ...(config.detoxMaxDays ? { DETOX_MAX_DAYS: config.detoxMaxDays } : {}),
      ...config.programSettings,
      // the key's secret by ARN only: the handler that checks eligibility reads it (never the key in env)
      ...definedOnly({ ...eligibility, ELIGIBILITY_API_KEY_SECRET_ARN: this.eligibilityKeySecret?.secretArn }),
      SES_CONFIGURATION_SET: props.email.configurationSetName,
      IOP_STAGE: config.stage,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // traces keep timings and AWS calls only: a response or an error message may quote PHI
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
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
        new iam.PolicyStatement({
          sid: 'OwnLogGroup',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        // active tracing: the function's X-Ray segments (these actions have no resource type)
        new iam.PolicyStatement({ sid: 'XRayTraces', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      );
      const wildcardReasons = [
        'xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions (active X-Ray tracing of this function)',
      ];

      // off by default: a new account's concurrency limit is 10 and Lambda keeps 100 unreserved,
      // so any reservation fails there (DEPLOY.md, npm run preflight)
      const reserved = spec.name === 'submit-intake' && config.intakeConcurrency > 0 ? config.intakeConcurrency : undefined;
      const fn = new NodejsFunction(this, cid, {
        entry: entryOf(props.projectRoot, spec.name),
        projectRoot: props.projectRoot,
        depsLockFilePath: `${props.projectRoot}/package-lock.json`,
        handler: 'handler',
        description: spec.description,
        runtime: RUNTIME,
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
      // active X-Ray tracing, set on the resource itself: the `tracing` prop would add the X-Ray
      // grant as an inline policy, and every grant of this role lives in its managed policy
      (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
      this.byName.set(spec.name, fn);
      this.logGroups.set(spec.name, logGroup);

      for (const need of new Set(spec.needs)) wildcardReasons.push(...this.grant(policy, need, props, executionsArn));

      const invokers: string[] = [];
      if (spec.routes?.length) invokers.push('API Gateway (synchronous proxy integration: a failure is the HTTP error the caller sees)');
      if (isWorkflowTask)
        invokers.push(
          'Step Functions (synchronous RequestResponse invoke, also for .waitForTaskToken: the ASL retries, then catches into NEEDS_ATTENTION)',
        );
      (spec.triggers ?? []).forEach((trigger, i) => {
        const invoker = this.addTrigger(spec, trigger, i, fn, role, policy, props);
        invokers.push(invoker.how);
        wildcardReasons.push(...invoker.wildcardReasons);
      });
      if (invokers.length === 0)
        throw new Error(`catalog function ${spec.name} has no routes, aslKey or triggers: nothing would invoke it`);

      const findings: Record<string, string> = {
        'HIPAA.Security-LambdaDLQ': `${spec.name} is invoked by ${invokers.join('; and by ')}. A function DLQ only catches asynchronous invocations that exhausted their retries, which none of these leave behind.`,
        'HIPAA.Security-LambdaInsideVPC': `${spec.name} reaches only AWS regional endpoints (DynamoDB, Step Functions, SES) over TLS with SigV4-signed IAM calls and has no VPC-only dependency; a VPC would add NAT/endpoints without narrowing who can reach the data.`,
      };
      if (reserved === undefined) {
        findings['HIPAA.Security-LambdaConcurrency'] =
          spec.name === 'submit-intake'
            ? 'Off by default (context intakeConcurrency=0): a new account has a concurrency limit of 10 and Lambda keeps 100 unreserved, so any reservation fails the deploy. The WAF rate rule (per IP) and the intake route throttle (10 rps) cap the public entry point instead; set -c intakeConcurrency=N once npm run preflight shows room (DEPLOY.md).'
            : `${spec.name} is reachable only by authenticated staff, the state machine, the table stream or a once-a-minute schedule, all following the throttled public intake; reserving concurrency would only take capacity from the account pool, and new accounts cannot reserve any.`;
      }
      acknowledge(fn, findings);
      acknowledge(policy, {
        'AwsSolutions-IAM5[Resource::*]': `Only actions without resource-level permissions use *: ${[...new Set(wildcardReasons)].join('; ')}.`,
      });
    }
  }

  /**
   * The event source of one catalog trigger, with its permissions in the function's managed
   * policy. Returns how the function is then invoked (for the nag reasons) and its wildcard grants.
   */
  private addTrigger(
    spec: FunctionSpec,
    trigger: Trigger,
    index: number,
    fn: lambda.Function,
    role: iam.Role,
    policy: iam.ManagedPolicy,
    props: FunctionsProps,
  ): { how: string; wildcardReasons: string[] } {
    const { config } = props;
    const stack = Stack.of(this);
    const cid = `${pascal(spec.name)}${pascal(trigger.kind)}${index}`;
    switch (trigger.kind) {
      case 'table-stream': {
        const streamArn = props.table.tableStreamArn;
        if (!streamArn)
          throw new Error(`${spec.name} reads the table stream, but the table has none (functions/lib/keys.ts tableDefinition.stream)`);
        // what failed after every retry: the batch's shard and sequence numbers only (no record
        // data, so no PHI); the notices themselves stay due in the table for sweep to retry
        const failed = new sqs.Queue(this, `${cid}Failures`, {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        });
        acknowledge(failed, {
          'AwsSolutions-SQS3': `This queue is itself the dead-letter (on-failure) destination of the ${spec.name} table-stream mapping; a message in it raises an alarm.`,
        });
        this.deadLetterQueues.push(failed);
        this.streamConsumers.push(spec.name);
        policy.addStatements(
          new iam.PolicyStatement({
            sid: `StreamRead${index}`,
            actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            resources: [streamArn],
          }),
          new iam.PolicyStatement({ sid: `StreamList${index}`, actions: ['dynamodb:ListStreams'], resources: ['*'] }),
          new iam.PolicyStatement({
            sid: `StreamKey${index}`,
            actions: ['kms:Decrypt', 'kms:DescribeKey'],
            resources: [props.dataKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
          }),
          new iam.PolicyStatement({ sid: `StreamFailures${index}`, actions: ['sqs:SendMessage'], resources: [failed.queueArn] }),
        );
        const mapping = new lambda.EventSourceMapping(this, `${cid}Mapping`, {
          target: fn,
          eventSourceArn: streamArn,
          // a notice written while no mapping existed (first deploy, a replaced mapping) is still read
          startingPosition: lambda.StartingPosition.TRIM_HORIZON,
          batchSize: trigger.batchSize,
          filters: [lambda.FilterCriteria.filter(trigger.filter)],
          reportBatchItemFailures: true,
          bisectBatchOnError: true,
          retryAttempts: STREAM_RETRY_ATTEMPTS,
          onFailure: onFailureTo(failed),
        });
        // Lambda checks the role's stream permissions when the mapping is created
        mapping.node.addDependency(policy, role);
        return {
          how: `its table-stream event source mapping (synchronous batches of ${trigger.batchSize}; failed items are reported, the batch bisected and retried ${STREAM_RETRY_ATTEMPTS} times, then recorded in its own encrypted SQS failure queue, which alarms)`,
          wildcardReasons: [
            'dynamodb:ListStreams has no resource-level permission (the stream event source mapping lists the table streams)',
          ],
        };
      }
      case 'schedule': {
        if (trigger.everySeconds < 60 || trigger.everySeconds % 60 !== 0) {
          throw new Error(`${spec.name}: EventBridge Scheduler rates are whole minutes; everySeconds ${trigger.everySeconds} is not`);
        }
        // its own role, assumable by Scheduler for this account only, allowed to invoke this one function
        const schedulerRole = new iam.Role(this, `${cid}Role`, {
          assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
            conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
          }),
          description: `${config.prefix} schedule of ${spec.name}: invokes that function only`,
        });
        new iam.ManagedPolicy(this, `${cid}Policy`, {
          description: `${config.prefix} schedule of ${spec.name}: lambda:InvokeFunction on it`,
          roles: [schedulerRole],
          statements: [
            new iam.PolicyStatement({ sid: 'InvokeScheduledFunction', actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
          ],
        });
        const every = Duration.seconds(trigger.everySeconds);
        new scheduler.CfnSchedule(this, `${cid}Schedule`, {
          description: `${config.prefix}: ${spec.name} every ${trigger.everySeconds / 60} minute(s)`,
          scheduleExpression: scheduler.ScheduleExpression.rate(every).expressionString,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: fn.functionArn,
            roleArn: schedulerRole.roleArn,
            // a missed run is made up by the next one: no retries to pile up behind it
            retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
          },
        });
        // Scheduler invokes asynchronously; the next run redoes a failed one, so no Lambda retries either
        new lambda.EventInvokeConfig(this, `${cid}InvokeConfig`, { function: fn, retryAttempts: 0, maxEventAge: Duration.seconds(60) });
        return {
          how: `EventBridge Scheduler every ${trigger.everySeconds} s (asynchronous, retries off: the next run picks up what a failed one left, and errors alarm)`,
          wildcardReasons: [],
        };
      }
    }
  }

  /** turns one catalog `need` into least-privilege policy statements on the function's role (actions from infra/grants.ts) */
  private grant(managed: iam.ManagedPolicy, need: Need, props: FunctionsProps, executionsArn: string): string[] {
    const stack = Stack.of(this);
    const viaDynamo = { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } };
    const policy = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      managed.addStatements(new iam.PolicyStatement({ sid, actions, resources, conditions }));
    /** a statement on this state machine's executions, whose names (per referral) need a wildcard */
    const onExecutions = (sid: string, actions: string[]) => {
      policy(sid, actions, [executionsArn]);
      acknowledge(managed, {
        [`AwsSolutions-IAM5[Resource::${nagArn(stack, 'states', `execution:${props.stateMachineName}:*`)}]`]:
          'StopExecution and DescribeExecution are scoped to executions of this one state machine; execution names are per referral and unknown at deploy time, so the execution-name part must be a wildcard.',
      });
    };

    switch (need) {
      case 'table:read':
        policy('TableRead', GRANTS[need].TableRead, [props.table.tableArn]);
        policy('IndexRead', GRANTS[need].IndexRead, props.indexArns);
        policy('TableKeyRead', GRANTS[need].TableKeyRead, [props.dataKey.keyArn], viaDynamo);
        return [];
      case 'table:write':
        policy('TableWrite', GRANTS[need].TableWrite, [props.table.tableArn]);
        policy('TableKeyWrite', GRANTS[need].TableKeyWrite, [props.dataKey.keyArn], viaDynamo);
        return [];
      case 'workflow:start':
        policy('WorkflowStart', GRANTS[need].WorkflowStart, [props.stateMachineArn]);
        return [];
      case 'workflow:callback': {
        policy('WorkflowCallback', GRANTS[need].WorkflowCallback, ['*']);
        // acknowledged with the function's other Resource::* statements (returned reason)
        return [
          'states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat support no resource-level permissions (IAM lists no resource type for them); the task token itself is the capability and never leaves the backend',
        ];
      }
      case 'workflow:describe':
        policy('WorkflowDescribe', GRANTS[need].WorkflowDescribe, [props.stateMachineArn]);
        return [];
      case 'workflow:inspect':
        onExecutions('WorkflowInspect', GRANTS[need].WorkflowInspect);
        return [];
      case 'workflow:stop':
        onExecutions('WorkflowStop', GRANTS[need].WorkflowStop);
        return [];
      case 'email:send':
        policy('EmailSend', GRANTS[need].EmailSend, [props.email.identityArn, props.email.configurationSetArn]);
        return [];
      case 'eligibility:key': {
        // the simulator answers: no secret, nothing to read
        if (!this.eligibilityKeySecret) return [];
        policy('EligibilityKeyRead', GRANTS[need].EligibilityKeyRead, [this.eligibilityKeySecret.secretArn]);
        // a secret this stack created (no ARN given) is encrypted with its ops key
        if (!props.config.eligibility.ELIGIBILITY_API_KEY_SECRET_ARN)
          policy('EligibilityKeyDecrypt', GRANTS[need].EligibilityKeyDecrypt, [props.opsKey.keyArn], {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
          });
        return [];
      }
    }
  }
}
