import { Logger } from '@aws-lambda-powertools/logger';

// the one structured logger: IDs and codes only — never names, dates of birth, contacts or free text
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'iop-referral' });
