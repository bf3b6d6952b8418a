// the program's own facts, one place for their defaults: the handlers' environment
// (functions/lib/config.ts), the CDK context (infra/config.ts), the web build (web/build.ts writes
// the phone into the intake page; a deployment writes the configured one) and the console read these

export const PROGRAM_DEFAULTS = {
  name: 'Intensive Outpatient Program',
  /** shown for help on the intake page and in every email */
  phone: '(555) 010-0100',
  /** an IANA zone: cohorts default to it, dates in emails and the dashboard are in it */
  timeZone: 'America/New_York',
} as const;
