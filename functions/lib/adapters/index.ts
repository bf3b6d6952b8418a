import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { config, type Config } from '../config';
import { DynamoDbReferralRepository } from './dynamodb-repository';
import { PayerSimulator } from './payer-simulator';
import type { EligibilityChecker, Mailer, ReferralRepository, Workflow } from './ports';
import { SesMailer } from './ses-mailer';
import { SfnWorkflow } from './sfn-workflow';

// which adapter serves each port, chosen by config in this one place. SDK clients are built once
// per container; endpoints come from the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables.

export interface Deps {
  config: Config;
  repo: ReferralRepository;
  mailer: Mailer;
  workflow: Workflow;
  eligibility: EligibilityChecker;
  now: () => Date;
}

let deps: Deps | undefined;

export const getDeps = (): Deps => {
  if (deps) return deps;
  const cfg = config();
  deps = {
    config: cfg,
    repo: new DynamoDbReferralRepository(new DynamoDBClient({}), cfg.TABLE_NAME),
    mailer: new SesMailer(new SESv2Client({}), cfg.MAIL_FROM, process.env.SES_CONFIGURATION_SET || undefined),
    workflow: new SfnWorkflow(new SFNClient({}), cfg.STATE_MACHINE_ARN),
    eligibility: { 'payer-simulator': () => new PayerSimulator() }[cfg.ELIGIBILITY_ADAPTER](),
    now: () => new Date(),
  };
  return deps;
};
