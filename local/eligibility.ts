import { eligibilitySettingsMissing } from '../functions/lib/config';

/**
 * The eligibility settings of issue 16 under the names the handlers and CDK use: taken from the
 * shell (or a test's env), so `ELIGIBILITY_PROVIDER=clearinghouse ELIGIBILITY_URL=… npm start` runs
 * the clearinghouse adapter. Half a configuration is refused before anything starts, by name and
 * never by value. The retry delay is divided by TIME_SCALE like every other wait.
 */
const ELIGIBILITY_SETTINGS = [
  'ELIGIBILITY_PROVIDER',
  'ELIGIBILITY_URL',
  'ELIGIBILITY_API_KEY',
  'ELIGIBILITY_API_KEY_SECRET_ARN',
  'PROVIDER_NPI',
  'PROVIDER_NAME',
  'ELIGIBILITY_TIMEOUT_SECONDS',
] as const;

export const localEligibilityEnv = (source: Record<string, string | undefined>, timeScale: number): Record<string, string> => {
  const given = Object.fromEntries(
    ELIGIBILITY_SETTINGS.flatMap((name) => (source[name] ? [[name, source[name]] as const] : [])),
  ) as Partial<Record<(typeof ELIGIBILITY_SETTINGS)[number], string>>;
  if (given.ELIGIBILITY_API_KEY_SECRET_ARN)
    throw new Error('ELIGIBILITY_API_KEY_SECRET_ARN is for AWS (Secrets Manager); locally give the key itself in ELIGIBILITY_API_KEY');
  const provider = given.ELIGIBILITY_PROVIDER ?? 'simulator';
  if (provider !== 'simulator' && provider !== 'clearinghouse') throw new Error('ELIGIBILITY_PROVIDER must be simulator or clearinghouse');
  const missing = eligibilitySettingsMissing(given);
  if (missing.length) {
    throw new Error(
      provider === 'simulator'
        ? 'half an eligibility configuration: ELIGIBILITY_URL or ELIGIBILITY_API_KEY is set but ELIGIBILITY_PROVIDER is not clearinghouse'
        : `half an eligibility configuration: ELIGIBILITY_PROVIDER=clearinghouse also needs ${missing.join(', ')}`,
    );
  }
  if (given.PROVIDER_NPI && !/^\d{10}$/.test(given.PROVIDER_NPI)) throw new Error('PROVIDER_NPI must be 10 digits');
  if (given.ELIGIBILITY_URL && !URL.canParse(given.ELIGIBILITY_URL)) throw new Error('ELIGIBILITY_URL must be a URL (https://…)');
  const retry = Number(source.ELIGIBILITY_RETRY_SECONDS ?? 30);
  if (!Number.isFinite(retry) || retry < 0) throw new Error('ELIGIBILITY_RETRY_SECONDS must be a number of seconds');
  return { ...given, ELIGIBILITY_PROVIDER: provider, ELIGIBILITY_RETRY_SECONDS: String(retry / timeScale) };
};
