import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { functions as catalog } from '../../functions/catalog';
import type { StageConfig } from '../config';
import { acknowledge } from '../nag';

export interface WorkflowProps {
  config: StageConfig;
  /** statemachines/referral.asl.json: the one definition, also run by the local runtime */
  definitionFile: string;
  stateMachineName: string;
  /** catalog name → deployed function */
  functions: ReadonlyMap<string, lambda.IFunction>;
  opsKey: kms.IKey;
}

/**
 * The referral workflow: a Standard state machine deployed from the ASL file with every `${aslKey}`
 * of the catalog substituted by its function's ARN. CDK cannot see into the file, so the invoke
 * permission is granted here, explicitly, on exactly those functions.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const { config } = props;

    const tasks = catalog.filter((spec) => spec.aslKey !== undefined);
    const substitutions: Record<string, string> = {};
    const taskArns: string[] = [];
    for (const spec of tasks) {
      const fn = props.functions.get(spec.name);
      if (!fn || !spec.aslKey) throw new Error(`workflow task ${spec.name} has no deployed function`);
      substitutions[spec.aslKey] = fn.functionArn;
      taskArns.push(fn.functionArn);
    }

    // vended-logs prefix keeps the account's CloudWatch Logs resource policy small
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: config.logRetention,
      encryptionKey: props.opsKey,
      removalPolicy: config.removalPolicy,
    });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `${config.prefix} referral state machine: invokes the workflow task functions`,
    });
    new iam.ManagedPolicy(this, 'InvokeTasks', {
      description: `${config.prefix} referral state machine: invoke exactly the catalog's workflow task functions`,
      roles: [role],
      statements: [new iam.PolicyStatement({ sid: 'InvokeWorkflowTasks', actions: ['lambda:InvokeFunction'], resources: taskArns })],
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionFile),
      definitionSubstitutions: substitutions,
      role,
      // execution data may be logged: the workflow carries referral IDs and decision codes only,
      // never PHI (docs/ARCHITECTURE.md §2), so full history in the logs is safe and what on-call needs
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      removalPolicy: config.removalPolicy,
    });

    // the statements CDK itself adds for logging and tracing land in the role's default policy
    acknowledge(role, {
      'HIPAA.Security-IAMNoInlinePolicy':
        'The inline default policy holds only what CDK adds for the state machine logging ALL and X-Ray tracing; the function invoke grant is a customer-managed policy.',
      'AwsSolutions-IAM5[Resource::*]':
        'CloudWatch Logs delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level permissions; CDK adds exactly these for logging ALL and tracing.',
    });
  }
}
