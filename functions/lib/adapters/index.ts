import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { now } from '../clock';
import { ClearinghouseEligibility } from './clearinghouse';
import { config, type Config } from '../config';
import { traced } from '../observability';
import { DynamoDbReferralRepository } from './dynamodb-repository';
import { PayerSimulator } from './payer-simulator';
import type { EligibilityChecker, Mailer, ReferralRepository, Workflow } from './ports';
import { SfnWorkflow } from './sfn-workflow';

// which adapter serves each port, chosen by config in this one place. SDK clients are built once
// per container; endpoints come from the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables.
// The mailer is handed in by the handlers that send email (the catalog's `email:send`), so the
// others neither bundle the MIME library nor could send by mistake.

export interface Deps {
  config: Config;
  repo: ReferralRepository;
  mailer: Mailer;
  workflow: Workflow;
  eligibility: EligibilityChecker;
  now: () => Date;
}

let base: Omit<Deps, 'mailer'> | undefined;
const mailers = new Map<(cfg: Config) => Mailer, Mailer>();

const noMailer: Mailer = {
  send: async () => {
    throw Object.assign(new Error('this function does not send email'), { name: 'MailerNotConfigured' });
  },
};

/** the simulator, or the clearinghouse (config has refused a half configuration already) */
const eligibilityChecker = (cfg: Config): EligibilityChecker => {
  if (cfg.ELIGIBILITY_PROVIDER === 'simulator') return new PayerSimulator();
  return new ClearinghouseEligibility({
    url: cfg.ELIGIBILITY_URL!,
    apiKey: cfg.ELIGIBILITY_API_KEY ? { value: cfg.ELIGIBILITY_API_KEY } : { secretArn: cfg.ELIGIBILITY_API_KEY_SECRET_ARN! },
    provider: { organizationName: cfg.PROVIDER_NAME!, npi: cfg.PROVIDER_NPI! },
    retrySeconds: cfg.ELIGIBILITY_RETRY_SECONDS,
    requestTimeoutMs: cfg.ELIGIBILITY_TIMEOUT_SECONDS * 1000,
  });
};

/** the adapters, built once per container (the local runtime shares them across handlers) */
export const getDeps = (options: { mailer?: (cfg: Config) => Mailer } = {}): Deps => {
  if (!base) {
    const cfg = config();
    base = {
      config: cfg,
      repo: new DynamoDbReferralRepository(traced(new DynamoDBClient({})), cfg.TABLE_NAME),
      workflow: new SfnWorkflow(traced(new SFNClient({})), cfg.STATE_MACHINE_ARN),
      eligibility: eligibilityChecker(cfg),
      now,
    };
  }
  const factory = options.mailer;
  if (factory && !mailers.has(factory)) mailers.set(factory, factory(base.config));
  return { ...base, mailer: (factory && mailers.get(factory)) || noMailer };
};
