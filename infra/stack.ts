import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { STATE_MACHINE_FILE, STATE_MACHINE_NAME } from '../functions/catalog';
import type { StageConfig } from './config';
import { Alarms } from './constructs/alarms';
import { Api } from './constructs/api';
import { Auth } from './constructs/auth';
import { Dashboard } from './constructs/dashboard';
import { Data } from './constructs/data';
import { Email } from './constructs/email';
import { Functions } from './constructs/functions';
import { Protection } from './constructs/protection';
import { Web } from './constructs/web';
import { Workflow } from './constructs/workflow';

/** the repository root (holds functions/, statemachines/, web/ and package-lock.json) */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface IopStackProps extends StackProps {
  config: StageConfig;
  /**
   * Where functions/<name>/handler.ts and package-lock.json are found; default the repo root.
   * Tests point it at a folder of placeholders while handlers are still being written.
   */
  projectRoot?: string;
  /** the built web app; default <repo>/web/dist */
  webDistDir?: string;
}

/**
 * The whole deployment in one stack: data, functions, workflow, API, web front door with WAF,
 * staff sign-in, email and alarms. Order matters only where one part needs another's name.
 */
export class IopStack extends Stack {
  readonly data: Data;
  readonly functions: Functions;
  readonly workflow: Workflow;
  readonly api: Api;
  readonly web: Web;
  readonly auth: Auth;
  readonly protection: Protection;
  readonly email: Email;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: IopStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('project', 'iop-intake-referral');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('data-classification', 'phi');

    // a fixed name lets every function know the ARN without depending on the state machine
    // (the state machine depends on the task functions)
    const stateMachineName = `${config.prefix}-${STATE_MACHINE_NAME}`;
    const stateMachineArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.data = new Data(this, 'Data', { config });
    this.email = new Email(this, 'Email', { config, opsKey: this.data.opsKey });

    this.functions = new Functions(this, 'Functions', {
      config,
      projectRoot: props.projectRoot ?? REPO_ROOT,
      table: this.data.table,
      indexArns: this.data.indexArns,
      dataKey: this.data.dataKey,
      opsKey: this.data.opsKey,
      stateMachineArn,
      stateMachineName,
      email: {
        identityArn: this.email.identityArn,
        configurationSetArn: this.email.configurationSetArn,
        configurationSetName: this.email.configurationSetName,
      },
    });

    this.workflow = new Workflow(this, 'Workflow', {
      config,
      definitionFile: join(REPO_ROOT, STATE_MACHINE_FILE),
      stateMachineName,
      functions: this.functions.byName,
      opsKey: this.data.opsKey,
    });

    this.api = new Api(this, 'Api', { config, opsKey: this.data.opsKey });
    this.protection = new Protection(this, 'Protection', { config, opsKey: this.data.opsKey });
    this.web = new Web(this, 'Web', {
      config,
      distDir: props.webDistDir ?? join(REPO_ROOT, 'web', 'dist'),
      apiOriginDomainName: this.api.originDomainName,
      webAclArn: this.protection.webAcl.attrArn,
      opsKey: this.data.opsKey,
    });
    this.auth = new Auth(this, 'Auth', { config, consoleUrl: this.web.consoleUrl });
    this.api.addCatalogRoutes({ functions: this.functions.byName, userPool: this.auth.userPool, userPoolClient: this.auth.client });
    this.web.deploy({ cognitoDomainUrl: this.auth.domainUrl, clientId: this.auth.client.userPoolClientId });

    this.alarms = new Alarms(this, 'Alarms', {
      config,
      opsKey: this.data.opsKey,
      stateMachine: this.workflow.stateMachine,
      functions: this.functions.byName,
      apiStage: this.api.stage,
      deadLetterQueues: this.functions.deadLetterQueues,
      streamConsumers: this.functions.streamConsumers,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      config,
      stateMachine: this.workflow.stateMachine,
      functions: this.functions.byName,
      apiStage: this.api.stage,
      webAclName: this.protection.webAcl.name!,
      deadLetterQueues: this.functions.deadLetterQueues,
      streamConsumers: this.functions.streamConsumers,
    });

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('ConsoleUrl', this.web.consoleUrl, 'Staff console');
    out('IntakeUrl', this.web.intakeUrl, 'Public intake form');
    out('ApiUrl', `${this.web.baseUrl}/api/`, 'HTTP API through CloudFront (WAF applies here)');
    out('UserPoolId', this.auth.userPool.userPoolId, 'Cognito user pool (add staff with admin-create-user)');
    out('UserPoolClientId', this.auth.client.userPoolClientId, 'Console app client (public, code + PKCE)');
    out('CognitoDomain', this.auth.domainUrl, 'Managed login domain');
    out('StateMachineArn', this.workflow.stateMachine.stateMachineArn, 'Referral workflow');
    out('TableName', this.data.table.tableName, 'DynamoDB table');
    out('EmailEventsTopicArn', this.email.eventsTopic.topicArn, 'Subscribe to receive SES bounces and complaints');
    out('AlarmTopicArn', this.alarms.topic.topicArn, 'Subscribe to receive alarms');
    out('DashboardName', this.dashboard.dashboard.dashboardName, 'CloudWatch dashboard: referrals, notices, workflow, API, functions');
    const eligibilityKey = this.functions.eligibilityKeySecret;
    if (eligibilityKey)
      out(
        'EligibilityApiKeySecretArn',
        eligibilityKey.secretArn,
        'Put the clearinghouse API key here (DEPLOY.md, "A real insurance check")',
      );
  }
}
