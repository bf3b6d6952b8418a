import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { DEPLOY_REGION, stageConfigFrom } from './config';
import { IopStack } from './stack';

export interface BuildAppOptions {
  /** extra context (tests pass cdk.json's context plus their own); the CLI passes it by env */
  context?: AppProps['context'];
  outdir?: string;
  /** cdk-nag AwsSolutions + HIPAA.Security as validation plugins (default true) */
  nag?: boolean;
  projectRoot?: string;
  webDistDir?: string;
  /** CDK's built-in CloudFormation schema validation on synth (default true, as in `cdk synth`) */
  cfnValidation?: boolean;
}

/** the CDK app: one stack per invocation, for the stage in context `stage` (dev unless given) */
export const buildApp = (options: BuildAppOptions = {}): { app: App; stack: IopStack } => {
  const app = new App({ context: options.context, outdir: options.outdir, builtinCloudFormationValidation: options.cfnValidation ?? true });
  const config = stageConfigFrom(app.node);
  const stack = new IopStack(app, `Iop-${config.stage}`, {
    config,
    description: `IOP intake and referral (${config.stage}): PHI under HIPAA and 42 CFR Part 2`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: DEPLOY_REGION },
    terminationProtection: config.isProd,
    projectRoot: options.projectRoot ?? stringContext(app, 'projectRoot'),
    webDistDir: options.webDistDir,
  });
  if (options.nag !== false) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  }
  return { app, stack };
};

const stringContext = (app: App, key: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return typeof v === 'string' && v !== '' ? v : undefined;
};
